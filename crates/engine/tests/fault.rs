//! Disk faults: the journal cannot be written while orders arrive.
//!
//! `a_journal_fault_refuses_orders_and_clears_without_losing_or_inventing_any`: a real engine
//! with `fsync` and the smallest segments trades pairs of crossing orders; then its shard's
//! journal directory is replaced by a file, so the next segment cannot be created (as on a full
//! or failed disk) while the open one still takes the start of the failing batch. From then on new orders are refused `Unavailable` and the shard reports
//! itself faulted; once the directory is back, the shard recovers by itself and takes orders
//! again. Every order the engine took is answered exactly once, none it refused is, and the
//! outputs released live equal those a replay of the journal produces after shutdown: nothing
//! was acknowledged that the journal does not hold, and nothing the journal holds went
//! unreported.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use birzha_book::Side;
use birzha_engine::journal::{Durability, JournalOptions};
use birzha_engine::*;
use crossbeam::channel;

use crate::fixture::{BUTTER, T1, T3, config, limit};

/// The most orders sent while waiting for the fault (a bound, so the test cannot run on).
const ORDERS_MAX: u32 = 200_000;

/// Orders made durable before the fault.
const WARM_UP: u32 = 200;

/// The n-th order of the stream: T1 sells and T3 buys one lot at 6800, in turn.
fn order(n: u32) -> (String, Input) {
    let (trader, side, prefix) =
        if n.is_multiple_of(2) { (T1, Side::Sell, "S") } else { (T3, Side::Buy, "B") };
    let cl_ord_id = format!("{prefix}{n}");
    let input = limit(trader, &cl_ord_id, BUTTER, side, "6800", 1);
    (cl_ord_id, input)
}

/// Collects the outputs of every live batch, per shard, until the engine's senders are gone.
fn collect(receiver: channel::Receiver<OutputBatch>) -> Vec<Vec<Output>> {
    let mut per_shard = vec![Vec::new(), Vec::new()];
    for mut batch in receiver {
        if batch.kind == BatchKind::Live {
            per_shard[batch.shard].append(&mut batch.outputs);
        }
    }
    per_shard
}

/// How many first answers (New or Rejected) each ClOrdID got.
fn answers(outputs: &[Output]) -> BTreeMap<String, u32> {
    let mut answers = BTreeMap::new();
    for output in outputs {
        if let OutputEvent::Execution(execution) = &output.event
            && matches!(execution.exec_type, ExecType::New | ExecType::Rejected)
        {
            *answers.entry(execution.cl_ord_id.to_string()).or_default() += 1;
        }
    }
    answers
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("create the copy");
    for entry in std::fs::read_dir(from).expect("read the journal") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, to.join(path.file_name().expect("a file"))).expect("copy");
    }
}

/// Polls `condition` every 20 ms, for at most 30 s.
fn wait_until(what: &str, condition: impl Fn() -> bool) {
    for _ in 0..1_500 {
        if condition() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting until {what}");
}

/// Sends orders from `WARM_UP` on until one is refused `Unavailable` (returns `true`) or
/// `ORDERS_MAX` is reached (`false`), filing each as accepted or refused.
fn stream_until_refused(
    handle: &EngineHandle,
    accepted: &mut Vec<String>,
    refused: &mut Vec<String>,
) -> bool {
    for n in WARM_UP..ORDERS_MAX {
        let (cl_ord_id, input) = order(n);
        match handle.submit_timeout(input, Duration::from_millis(10)) {
            Ok(()) => accepted.push(cl_ord_id),
            Err(SubmitError::Busy) => refused.push(cl_ord_id),
            Err(SubmitError::Unavailable) => {
                refused.push(cl_ord_id);
                return true;
            }
            Err(error) => panic!("order {n}: {error}"),
        }
    }
    false
}

/// Checks that every accepted order was answered once, no refused one was, and that `live`
/// equals the outputs of a replay of the journal in `dirs`.
fn check_outputs(
    registry: &Arc<Registry>,
    dirs: &ShardDirs,
    live: &[Output],
    accepted: &[String],
    refused: &[String],
) {
    let shard = registry.shard_of(BUTTER);
    let answered = answers(live);
    for cl_ord_id in accepted {
        assert_eq!(answered.get(cl_ord_id), Some(&1), "{cl_ord_id}: taken, answered once");
    }
    for cl_ord_id in refused {
        assert_eq!(answered.get(cl_ord_id), None, "{cl_ord_id}: refused, never answered");
    }
    assert_eq!(answered.len(), accepted.len(), "no answer to an order never sent");
    let options = JournalOptions {
        shard_id: shard as u32,
        segment_size_max: JOURNAL_SEGMENT_BYTES_MIN,
        ..JournalOptions::default()
    };
    let mut replayed = Vec::new();
    recover(registry, shard, dirs, &options, 0, &mut |outputs| replayed.extend(outputs))
        .expect("recovers from the journal");
    assert!(replayed == live, "the live outputs are exactly the journal's");
}

#[test]
fn a_journal_fault_refuses_orders_and_clears_without_losing_or_inventing_any() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = config();
    config.durability = Durability::Fsync;
    config.journal_segment_bytes = JOURNAL_SEGMENT_BYTES_MIN;
    let registry = Arc::new(config.validate().expect("valid"));
    let shard = registry.shard_of(BUTTER);
    let journal = ShardDirs::new(dir.path(), shard).journal;
    let (sender, receiver) = channel::bounded(1024);
    let collector = std::thread::spawn(move || collect(receiver));
    let (engine, _) = Engine::start(Arc::clone(&registry), dir.path(), sender, &[u64::MAX; 2])
        .expect("engine starts");
    let handle = engine.handle();

    // Trading starts: the first segment exists and holds durable records.
    let mut accepted = Vec::new();
    let mut refused = Vec::new();
    for n in 0..WARM_UP {
        let (cl_ord_id, input) = order(n);
        handle.submit(input).expect("taken");
        accepted.push(cl_ord_id);
    }
    wait_until("the first orders are durable", || {
        handle.seq_durable()[shard] >= u64::from(WARM_UP)
    });
    // The fault: the directory goes away; the open segment takes writes until it is full and
    // the next cannot be created. Orders queued while the shard is faulted wait; once the queue
    // is full they are refused `Busy` (never queued, never answered), as the gateway's are.
    let away = journal.with_extension("away");
    std::fs::rename(&journal, &away).expect("move the journal away");
    std::fs::write(&journal, b"not a directory").expect("a file in its place");
    let unavailable = stream_until_refused(&handle, &mut accepted, &mut refused);
    assert!(unavailable, "the segment filled and the fault was reached");
    assert!(handle.faulted()[shard] && !handle.faulted()[1 - shard]);
    std::thread::sleep(FAULT_RETRY * 2);
    let (cl_ord_id, input) = order(ORDERS_MAX);
    assert_eq!(handle.submit(input), Err(SubmitError::Unavailable), "still faulted");
    refused.push(cl_ord_id);

    // The fault clears: the shard recovers by itself and takes orders again.
    std::fs::remove_file(&journal).expect("remove the file");
    std::fs::rename(&away, &journal).expect("the journal is back");
    wait_until("the shard recovers", || !handle.faulted()[shard]);
    for n in ORDERS_MAX + 1..ORDERS_MAX + 101 {
        let (cl_ord_id, input) = order(n);
        handle.submit(input).expect("taken after the fault cleared");
        accepted.push(cl_ord_id);
    }
    // The journal as it stands once every input is durable (shutdown's snapshot lets
    // retention remove the segments it covers).
    let sequenced = accepted.len() as u64;
    wait_until("every order is durable", || {
        handle.queued()[shard] == 0 && handle.seq_durable()[shard] >= sequenced
    });
    std::thread::sleep(Duration::from_millis(300));
    let copy = tempfile::tempdir().expect("temp dir");
    let dirs = ShardDirs::new(copy.path(), shard);
    copy_dir(&journal, &dirs.journal);
    engine.shutdown().expect("clean shutdown");
    drop(handle);
    let live = collector.join().expect("collector");

    check_outputs(&registry, &dirs, &live[shard], &accepted, &refused);
}
