//! Crash test: SIGKILL a process that is committing to the journal, several times over.
//!
//! Method: the parent re-executes this test binary, running only `crash_child` (ignored in
//! normal runs), with the journal directory in an environment variable. The child opens the
//! journal (repairing any torn tail), then appends and commits batches of records of random
//! sizes with `Durability::Fsync`, printing `durable <seq>` after each commit. The parent waits
//! for a random number of commits, kills it a random few milliseconds later, drains what it printed, and checks that every record the child
//! reported durable is readable with the right contents, that the reader hands out nothing past
//! a torn tail, and that the writer cuts that tail. The next child continues the same journal.
//! The seed is printed; rerun with `BIRZHA_CRASH_SEED=<seed>`.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use birzha_engine::journal::{Durability, JournalOptions, JournalWriter};

use crate::util::{self, Rng};

/// The variable that tells a re-executed binary it is the child, and where the journal is.
const CHILD_DIR_VARIABLE: &str = "BIRZHA_CRASH_CHILD_DIR";
/// The variable that seeds the child's batch sizes.
const CHILD_SEED_VARIABLE: &str = "BIRZHA_CRASH_CHILD_SEED";
/// The largest payload the child writes.
const PAYLOAD_SIZE_MAX: usize = 120;
/// How many times the parent kills a child.
const KILLS: u32 = 8;
/// The most records one child appends (a bound, so a child never runs forever).
const CHILD_RECORDS_MAX: u64 = 1_000_000;

/// Small segments, so that kills also land around rotations; batches of up to a few hundred
/// kilobytes, so that some kills land inside a `write` and leave a torn tail; fsync on every
/// commit.
fn options() -> JournalOptions {
    JournalOptions {
        durability: Durability::Fsync,
        segment_size_max: 256 * 1024,
        batch_size_max: 1024 * 1024,
        ..util::options_small()
    }
}

#[test]
fn crash_sigkill_keeps_every_durable_record() {
    let seed = std::env::var("BIRZHA_CRASH_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(util::seed_fresh);
    eprintln!("crash test seed: {seed} (rerun with BIRZHA_CRASH_SEED={seed})");
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let mut durable_max = 0;
    for kill in 0..KILLS {
        let durable =
            child_run_and_kill(dir.path(), rng.next(), rng.range(1, 20), rng.range(0, 40));
        let reported = durable.iter().copied().max().unwrap_or(durable_max);
        assert!(reported >= durable_max, "seed {seed}: durability went back");
        durable_max = reported;
        let replay = util::replay(dir.path(), &options(), 1, PAYLOAD_SIZE_MAX).unwrap();
        let read_last = replay.seqs.last().copied().unwrap_or(0);
        assert_eq!(replay.seqs, (1..=read_last).collect::<Vec<u64>>(), "seed {seed}");
        assert!(read_last >= durable_max, "seed {seed}, kill {kill}: {read_last} < {durable_max}");
        if let Some(torn) = &replay.torn_tail {
            eprintln!("kill {kill}: {torn}");
            assert_eq!(torn.seq_next, read_last + 1, "nothing is handed out past a torn tail");
        }
        let writer = JournalWriter::open(dir.path(), options()).unwrap();
        assert_eq!(writer.torn_tail(), replay.torn_tail.as_ref(), "the writer cuts the same tail");
        assert_eq!(writer.seq_next(), Some(read_last + 1).filter(|&next| next > 1));
        drop(writer);
        let replay = util::replay(dir.path(), &options(), 1, PAYLOAD_SIZE_MAX).unwrap();
        assert!(replay.torn_tail.is_none(), "seed {seed}: the tail was cut");
        assert_eq!(replay.seqs.len() as u64, read_last);
        eprintln!("kill {kill}: {} durable reported, {read_last} records read", durable.len());
    }
    assert!(durable_max > 0, "seed {seed}: no child ever committed");
}

/// Starts a child on `dir`, waits until it has reported `commits` durable commits, lets it run
/// `delay_ms` more, kills it with SIGKILL, and returns the sequence numbers it reported durable.
fn child_run_and_kill(dir: &Path, child_seed: u64, commits: u64, delay_ms: u64) -> Vec<u64> {
    let executable = std::env::current_exe().unwrap();
    let mut child = Command::new(executable)
        .args(["--exact", "crash::crash_child", "--ignored", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR_VARIABLE, dir)
        .env(CHILD_SEED_VARIABLE, child_seed.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // Read concurrently, so that the child never blocks on a full pipe before the kill.
    let (sender, receiver) = mpsc::channel();
    let reading = thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if let Some(seq) = line.unwrap().strip_prefix("durable ") {
                sender.send(seq.parse::<u64>().unwrap()).unwrap();
            }
        }
    });
    let mut durable = Vec::new();
    while (durable.len() as u64) < commits {
        match receiver.recv_timeout(Duration::from_secs(60)) {
            Ok(seq) => durable.push(seq),
            Err(error) => panic!("the child stopped reporting: {error}"),
        }
    }
    thread::sleep(Duration::from_millis(delay_ms));
    child.kill().unwrap();
    child.wait().unwrap();
    reading.join().unwrap();
    durable.extend(receiver.try_iter());
    assert!(durable.windows(2).all(|pair| pair[0] < pair[1]), "durable seqs increase");
    durable
}

/// The child: appends and commits until killed. Does nothing unless run by the parent.
#[test]
#[ignore = "the child process of crash_sigkill_keeps_every_durable_record"]
fn crash_child() {
    let Some(dir) = std::env::var_os(CHILD_DIR_VARIABLE) else {
        return;
    };
    let seed: u64 = std::env::var(CHILD_SEED_VARIABLE).unwrap().parse().unwrap();
    let mut rng = Rng::new(seed);
    let mut writer = JournalWriter::open(&dir, options()).unwrap();
    let seq_first = writer.seq_next().unwrap_or(1);
    let mut stdout = std::io::stdout().lock();
    let mut seq = seq_first;
    while seq < seq_first + CHILD_RECORDS_MAX {
        let batch = if rng.range(0, 1) == 0 { rng.range(1, 40) } else { rng.range(1, 3_000) };
        for _ in 0..batch {
            let payload = util::payload(seq, PAYLOAD_SIZE_MAX);
            writer.append(seq, util::timestamp(seq), util::kind(seq), &payload).unwrap();
            seq += 1;
        }
        let durable = writer.commit().unwrap();
        assert_eq!(durable, seq - 1);
        writeln!(stdout, "durable {durable}").unwrap();
        stdout.flush().unwrap();
    }
}
