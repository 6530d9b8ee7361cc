//! `birzha journal inspect DIR` and `birzha journal verify DIR`: read-only tools over a data
//! directory's `shard-N/journal` and `shard-N/snapshots`, built on the engine's own readers
//! (`JournalReader`, `snapshot::list` and `snapshot::read`, `Input::decode`), so they accept
//! and refuse exactly what start-up accepts and refuses.
//!
//! Neither tool writes: a torn tail is reported, not cut (the server cuts it when it starts).
//! Run them on a stopped server's directory, or on a copy: a running server appends while they
//! read, and the tail they see may be a batch being written.

use std::fmt::Write as _;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use birzha_engine::journal::{
    JournalError, JournalOptions, JournalReader, RECORD_HEADER_SIZE, Record, SEGMENT_HEADER_SIZE,
    TornTail,
};
use birzha_engine::{Admin, Input, Registry, ShardDirs, snapshot};
use birzha_fix::UtcTimestamp;

use crate::config::Config;

/// The most shard directories a data directory may hold (the engine's limit).
const SHARDS_MAX: usize = birzha_engine::SHARDS_MAX;

/// `birzha journal inspect`: prints each shard's snapshots, segments and records, one line
/// each; with `config`, records also name their instrument, trader and firm.
///
/// # Errors
/// Returns an error if the config is invalid, the directory holds no shard, a file cannot be
/// read, or the journal is damaged (after printing the records before the damage).
pub(crate) fn inspect(
    data_dir: &Path,
    shard: Option<usize>,
    from: Option<u64>,
    config: Option<&Path>,
) -> anyhow::Result<()> {
    let registry = match config {
        Some(path) => Some(Config::load(path)?.validate()?),
        None => None,
    };
    let shards = shards_of(data_dir)?;
    if let Some(shard) = shard
        && !shards.iter().any(|(index, _)| *index == shard)
    {
        bail!("{} has no shard-{shard} directory", data_dir.display());
    }
    let mut out = BufWriter::new(io::stdout().lock());
    for (index, dirs) in shards.iter().filter(|(index, _)| shard.is_none_or(|s| s == *index)) {
        let printed = inspect_shard(&mut out, *index, dirs, from.unwrap_or(1), registry.as_ref());
        match printed {
            Ok(()) => {}
            Err(error) if is_broken_pipe(&error) => return Ok(()),
            Err(error) => {
                let _ = out.flush();
                return Err(error);
            }
        }
    }
    match out.flush() {
        Err(error) if error.kind() != io::ErrorKind::BrokenPipe => {
            Err(error).context("cannot write output")
        }
        _ => Ok(()),
    }
}

fn inspect_shard(
    out: &mut impl Write,
    shard: usize,
    dirs: &ShardDirs,
    from: u64,
    registry: Option<&Registry>,
) -> anyhow::Result<()> {
    writeln!(out, "shard {shard}: {}", dirs.journal.parent().unwrap_or(&dirs.journal).display())?;
    for (seq, path) in snapshot::list(&dirs.snapshots)? {
        let size = file_size(&path)?;
        let state = match snapshot::read(&path, seq)? {
            Ok(_) => "valid".to_owned(),
            Err(defect) => format!("INVALID: {defect}"),
        };
        writeln!(out, "  snapshot seq={seq} bytes={size} {state} {}", path.display())?;
    }
    for segment in segments_of(&dirs.journal)? {
        writeln!(
            out,
            "  segment seq_first={} bytes={} {}",
            segment.seq_first,
            segment.size,
            segment.path.display()
        )?;
    }
    let walked = walk(shard, dirs, &mut |record, _| {
        if record.seq >= from {
            writeln!(out, "  {}", record_line(record, registry))?;
        }
        Ok(())
    });
    let walked = walked?;
    if let Some(torn) = &walked.torn_tail {
        writeln!(out, "  {torn} (the server cuts it when it starts)")?;
    }
    Ok(())
}

/// `birzha journal verify`: checks every snapshot file and every journal record of every
/// shard, and that the journal continues the newest valid snapshot; prints what it found and a
/// summary.
///
/// # Errors
/// Returns an error if the directory holds no shard, output fails, or anything is damaged.
pub(crate) fn verify(data_dir: &Path) -> anyhow::Result<()> {
    let shards = shards_of(data_dir)?;
    let mut report = String::new();
    let mut problems = 0;
    let mut records = 0;
    for (shard, dirs) in &shards {
        let verified = verify_shard(*shard, dirs)?;
        for problem in &verified.problems {
            let _ = writeln!(report, "error: shard {shard}: {problem}");
        }
        for note in &verified.notes {
            let _ = writeln!(report, "note: shard {shard}: {note}");
        }
        let _ = writeln!(report, "{}", verified.summary);
        problems += verified.problems.len();
        records += verified.records;
    }
    let verdict = if problems == 0 { "OK" } else { "FAILED" };
    let _ = writeln!(
        report,
        "verify {}: {verdict}: {} shard(s), {records} record(s), {problems} problem(s)",
        data_dir.display(),
        shards.len()
    );
    let mut stdout = io::stdout().lock();
    stdout.write_all(report.as_bytes()).and_then(|()| stdout.flush()).context("cannot write")?;
    if problems > 0 {
        bail!("{problems} problem(s) found in {}", data_dir.display());
    }
    Ok(())
}

/// What `verify` found in one shard.
struct Verified {
    /// Damage: each makes `verify` fail.
    problems: Vec<String>,
    /// Findings that are not damage (a torn tail).
    notes: Vec<String>,
    /// One line: snapshots, journal range, records.
    summary: String,
    /// Records decoded.
    records: u64,
}

fn verify_shard(shard: usize, dirs: &ShardDirs) -> anyhow::Result<Verified> {
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let mut seq_snapshot = 0;
    let snapshots = snapshot::list(&dirs.snapshots)?;
    for (seq, path) in &snapshots {
        match snapshot::read(path, *seq)? {
            Ok(_) => seq_snapshot = seq_snapshot.max(*seq),
            Err(defect) => {
                problems.push(format!("snapshot {} (seq {seq}): {defect}", path.display()))
            }
        }
    }
    let mut records = 0;
    let walked = walk(shard, dirs, &mut |record, position| {
        records += 1;
        if let Err(error) = Input::decode(record.kind, record.payload) {
            problems.push(format!(
                "record seq {} in {} at offset {} does not decode (kind {}): {error}",
                record.seq,
                position.path.display(),
                position.offset,
                record.kind
            ));
        }
        Ok(())
    });
    let walked = match walked {
        Ok(walked) => Some(walked),
        Err(error) => {
            problems.push(format!("{error:#}"));
            None
        }
    };
    if let Some(walked) = &walked {
        problems.extend(coverage_problem(seq_snapshot, walked));
        if let Some(torn) = &walked.torn_tail {
            notes.push(format!("{torn}: never acknowledged; the server cuts it when it starts"));
        }
    }
    let journal = match &walked {
        Some(Walked { seq_first: Some(first), seq_next: Some(next), segments, .. })
            if next > first =>
        {
            format!("journal seq {first}..={} in {segments} segment(s)", next - 1)
        }
        Some(walked) => format!("journal empty ({} segment(s))", walked.segments),
        None => "journal unreadable".to_owned(),
    };
    let snapshot = if seq_snapshot > 0 {
        format!("newest valid snapshot seq {seq_snapshot}")
    } else {
        "no valid snapshot".to_owned()
    };
    let summary = format!(
        "shard {shard}: {} snapshot(s), {snapshot}; {journal}; {records} record(s) checked",
        snapshots.len()
    );
    Ok(Verified { problems, notes, summary, records })
}

/// Returns the problem, if any, with replaying the journal after the newest valid snapshot
/// (what start-up does): the journal must hold every record after it.
fn coverage_problem(seq_snapshot: u64, walked: &Walked) -> Option<String> {
    let seq_next = walked.seq_next.unwrap_or(1);
    if seq_next <= seq_snapshot {
        return Some(format!(
            "the newest valid snapshot (seq {seq_snapshot}) is ahead of the journal, which ends \
             before seq {seq_next}"
        ));
    }
    match walked.seq_first {
        Some(first) if first > seq_snapshot + 1 && seq_next > first => Some(format!(
            "the journal starts at seq {first} but the newest valid snapshot is at seq \
             {seq_snapshot}: records {}..{first} are missing",
            seq_snapshot + 1
        )),
        _ => None,
    }
}

/// A shard's journal after a walk.
struct Walked {
    /// The first sequence number the journal holds, if it holds a segment.
    seq_first: Option<u64>,
    /// The sequence number after the last valid record.
    seq_next: Option<u64>,
    /// Segment files.
    segments: usize,
    /// The torn tail that ended it, if any.
    torn_tail: Option<TornTail>,
}

/// Where a record lies.
struct Position<'a> {
    /// The segment file.
    path: &'a Path,
    /// The record's byte offset in it.
    offset: u64,
}

/// One segment file.
struct Segment {
    /// The sequence number in its name (its first record's).
    seq_first: u64,
    /// The file.
    path: PathBuf,
    /// Its size in bytes.
    size: u64,
}

/// Reads every record of shard `shard`'s journal in order, from the first it holds, handing
/// each to `each` with its position.
fn walk(
    shard: usize,
    dirs: &ShardDirs,
    each: &mut dyn FnMut(&Record<'_>, Position<'_>) -> io::Result<()>,
) -> anyhow::Result<Walked> {
    let options = JournalOptions { shard_id: shard as u32, ..JournalOptions::default() };
    let segments = segments_of(&dirs.journal)?;
    let mut reader = match JournalReader::open(&dirs.journal, &options, 1) {
        Err(JournalError::SeqBeforeJournal { seq_first, .. }) => {
            JournalReader::open(&dirs.journal, &options, seq_first)?
        }
        opened => opened?,
    };
    let mut seq_first = None;
    let mut offset = SEGMENT_HEADER_SIZE as u64;
    let mut segment_index = 0;
    while let Some(record) = reader.next_record()? {
        seq_first.get_or_insert(record.seq);
        // The record lies in the last segment whose first sequence number is at most its own.
        let index = segments.partition_point(|segment| segment.seq_first <= record.seq);
        let index = index.saturating_sub(1);
        if index != segment_index || seq_first == Some(record.seq) {
            segment_index = index;
            offset = SEGMENT_HEADER_SIZE as u64;
        }
        let path = segments.get(index).map_or(dirs.journal.as_path(), |segment| &segment.path);
        each(&record, Position { path, offset })?;
        offset += (RECORD_HEADER_SIZE + record.payload.len()) as u64;
    }
    let seq_first = seq_first.or_else(|| segments.first().map(|segment| segment.seq_first));
    Ok(Walked {
        seq_first,
        seq_next: reader.seq_next(),
        segments: segments.len(),
        torn_tail: reader.torn_tail().cloned(),
    })
}

/// Returns one line for a record: sequence number, time (UTC), kind and the decoded input,
/// then, given the registry, the names of the ids it holds.
fn record_line(record: &Record<'_>, registry: Option<&Registry>) -> String {
    // A u64 of nanoseconds is at most year 2554: inside what `format` accepts.
    let millis = i64::try_from(record.timestamp_ns / 1_000_000).unwrap_or(i64::MAX);
    let time = UtcTimestamp(millis).format();
    let time = String::from_utf8_lossy(&time);
    match Input::decode(record.kind, record.payload) {
        Ok(input) => {
            let mut line =
                format!("seq={} time={time} kind={} {input:?}", record.seq, kind_name(&input));
            if let Some(registry) = registry {
                names(&input, registry, &mut line);
            }
            line
        }
        Err(error) => {
            format!("seq={} time={time} kind={} UNDECODABLE: {error}", record.seq, record.kind)
        }
    }
}

/// Appends ` [instrument trader firm]` for the ids `input` holds (`?` for an id the config
/// does not have: the journal was written with another config).
fn names(input: &Input, registry: &Registry, line: &mut String) {
    let (instrument, trader, firm) = match input {
        Input::NewOrder(order) => (Some(order.instrument), Some(order.trader), None),
        Input::Cancel(cancel) => (Some(cancel.instrument), Some(cancel.trader), None),
        Input::Replace(replace) => (Some(replace.instrument), Some(replace.trader), None),
        Input::MassCancel(mass) => (mass.instrument, Some(mass.trader), None),
        Input::OrderStatus(status) => (Some(status.instrument), Some(status.trader), None),
        Input::Disconnect { trader } => (None, Some(*trader), None),
        Input::Tick => (None, None, None),
        Input::Admin(admin) => match *admin {
            Admin::Halt(id) | Admin::Resume(id) | Admin::SetPhase(id, _) => (Some(id), None, None),
            Admin::MassCancel(id) => (id, None, None),
            Admin::Deposit { firm, .. } | Admin::SuspendFirm(firm) | Admin::ReinstateFirm(firm) => {
                (None, None, Some(firm))
            }
        },
    };
    let unknown = || "?".to_owned();
    let mut words = Vec::new();
    if let Some(id) = instrument {
        let instrument = registry.instruments.get(id.0 as usize);
        words.push(instrument.map_or_else(unknown, |instrument| instrument.symbol().to_owned()));
    }
    let traders = &registry.config.traders;
    let trader = trader.map(|id| traders.get(id.0 as usize));
    if let Some(trader) = trader {
        words.push(trader.map_or_else(unknown, |trader| trader.code.clone()));
    }
    let firm = match (firm, trader) {
        (Some(id), _) => Some(registry.config.firms.get(id.0 as usize).map(|firm| &firm.code)),
        (None, Some(trader)) => Some(trader.map(|trader| &trader.firm)),
        (None, None) => None,
    };
    if let Some(firm) = firm {
        words.push(firm.map_or_else(unknown, Clone::clone));
    }
    if !words.is_empty() {
        let _ = write!(line, " [{}]", words.join(" "));
    }
}

fn kind_name(input: &Input) -> &'static str {
    match input {
        Input::NewOrder(_) => "new-order",
        Input::Cancel(_) => "cancel",
        Input::Replace(_) => "replace",
        Input::MassCancel(_) => "mass-cancel",
        Input::OrderStatus(_) => "order-status",
        Input::Disconnect { .. } => "disconnect",
        Input::Tick => "tick",
        Input::Admin(_) => "admin",
    }
}

/// Returns the shard directories (`shard-N`) of a data directory, by shard number.
fn shards_of(data_dir: &Path) -> anyhow::Result<Vec<(usize, ShardDirs)>> {
    let entries = std::fs::read_dir(data_dir)
        .with_context(|| format!("cannot read the data directory {}", data_dir.display()))?;
    let mut shards = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", data_dir.display()))?;
        let name = entry.file_name();
        let Some(shard) = name.to_str().and_then(|name| name.strip_prefix("shard-")) else {
            continue;
        };
        let Ok(shard) = shard.parse::<usize>() else { continue };
        if shard < SHARDS_MAX && entry.path().is_dir() {
            shards.push((shard, ShardDirs::new(data_dir, shard)));
        }
    }
    if shards.is_empty() {
        bail!(
            "{} holds no shard-N directory: not a Birzha data directory (server.data_dir)",
            data_dir.display()
        );
    }
    shards.sort_by_key(|(shard, _)| *shard);
    Ok(shards)
}

/// Returns the journal segment files of `dir` (`journal-<seq, 20 digits>.bjl`) in sequence
/// order; a missing directory holds none.
fn segments_of(dir: &Path) -> anyhow::Result<Vec<Segment>> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    let mut segments = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        let name = entry.file_name();
        let seq_first = name
            .to_str()
            .and_then(|name| name.strip_prefix("journal-"))
            .and_then(|name| name.strip_suffix(".bjl"))
            .filter(|digits| digits.len() == 20)
            .and_then(|digits| digits.parse::<u64>().ok());
        if let Some(seq_first) = seq_first {
            let path = entry.path();
            segments.push(Segment { seq_first, size: file_size(&path)?, path });
        }
    }
    segments.sort_by_key(|segment| segment.seq_first);
    Ok(segments)
}

fn file_size(path: &Path) -> anyhow::Result<u64> {
    let metadata =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(metadata.len())
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<io::Error>().is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use birzha_book::{FirmId, TraderId};
    use birzha_engine::InstrumentId;
    use birzha_engine::journal::{Durability, JournalWriter};

    /// Options that rotate segments every few records.
    fn small(shard: usize) -> JournalOptions {
        JournalOptions {
            shard_id: shard as u32,
            durability: Durability::None,
            record_size_max: 256,
            segment_size_max: 400,
            batch_size_max: 4096,
            ..JournalOptions::default()
        }
    }

    /// Writes `count` inputs (ticks and halts) to shard 0 of `data_dir`, then `extra` as raw
    /// records of the given kind.
    fn journal(data_dir: &Path, count: u64, extra: &[(u16, &[u8])]) -> ShardDirs {
        let dirs = ShardDirs::new(data_dir, 0);
        let mut writer = JournalWriter::open(&dirs.journal, small(0)).expect("open");
        let mut payload = Vec::new();
        for seq in 1..=count {
            let input = if seq % 2 == 0 {
                Input::Tick
            } else {
                Input::Admin(Admin::Halt(InstrumentId(seq as u32)))
            };
            payload.clear();
            input.encode(&mut payload);
            writer.append(seq, seq * 1_000_000_000, input.kind(), &payload).expect("append");
        }
        for (index, (kind, payload)) in extra.iter().enumerate() {
            writer.append(count + 1 + index as u64, 0, *kind, payload).expect("append");
        }
        writer.commit().expect("commit");
        dirs
    }

    #[test]
    fn positions_name_each_records_segment_and_offset() {
        let dir = tempfile::tempdir().expect("temp dir");
        let dirs = journal(dir.path(), 40, &[]);
        let mut seen = Vec::new();
        let walked = walk(0, &dirs, &mut |record, position| {
            let bytes = std::fs::read(position.path)?;
            let offset = position.offset as usize;
            let seq = u64::from_le_bytes(bytes[offset + 8..offset + 16].try_into().expect("8"));
            assert_eq!(seq, record.seq, "the record header at the reported offset");
            seen.push((record.seq, position.path.to_owned()));
            Ok(())
        })
        .expect("walk");
        assert_eq!(seen.len(), 40);
        assert!(walked.segments > 2, "the journal rotated: {}", walked.segments);
        assert_eq!((walked.seq_first, walked.seq_next), (Some(1), Some(41)));
        assert!(walked.torn_tail.is_none());
        assert_eq!(coverage_problem(40, &walked), None);
        assert_eq!(coverage_problem(0, &walked), None);
        let ahead = coverage_problem(41, &walked).expect("a snapshot past the journal");
        assert!(ahead.contains("ahead of the journal"), "{ahead}");
    }

    #[test]
    fn verify_names_an_undecodable_record_and_a_gap_after_the_snapshot() {
        let dir = tempfile::tempdir().expect("temp dir");
        let dirs = journal(dir.path(), 3, &[(99, b"not an input")]);
        let verified = verify_shard(0, &dirs).expect("readable");
        assert_eq!(verified.records, 4);
        assert_eq!(verified.problems.len(), 1, "{:?}", verified.problems);
        let problem = &verified.problems[0];
        assert!(problem.starts_with("record seq 4 in "), "{problem}");
        assert!(problem.contains("journal-00000000000000000001.bjl at offset "), "{problem}");
        assert!(problem.contains("does not decode (kind 99)"), "{problem}");
        let walked =
            Walked { seq_first: Some(10), seq_next: Some(20), segments: 1, torn_tail: None };
        let gap = coverage_problem(5, &walked).expect("records 6..10 are missing");
        assert!(gap.contains("records 6..10 are missing"), "{gap}");
    }

    #[test]
    fn record_lines_show_seq_time_kind_and_input() {
        let mut payload = Vec::new();
        Input::Admin(Admin::Resume(InstrumentId(2))).encode(&mut payload);
        let record =
            Record { seq: 7, timestamp_ns: 1_700_000_000_123_456_789, kind: 8, payload: &payload };
        assert_eq!(
            record_line(&record, None),
            "seq=7 time=20231114-22:13:20.123 kind=admin Admin(Resume(InstrumentId(2)))"
        );
        let registry = Config::embedded().and_then(|config| config.validate()).expect("valid");
        let named = record_line(&record, Some(&registry));
        assert!(named.ends_with("Admin(Resume(InstrumentId(2))) [SMP-FCA-USD]"), "{named}");
        let mut payload = Vec::new();
        Input::Disconnect { trader: TraderId(2) }.encode(&mut payload);
        let disconnect = Record { kind: 6, payload: &payload, ..record };
        assert!(record_line(&disconnect, Some(&registry)).ends_with(" [TRADER3 FIRM-B]"));
        let mut payload = Vec::new();
        Input::Admin(Admin::SuspendFirm(FirmId(7))).encode(&mut payload);
        let suspend = Record { kind: 8, payload: &payload, ..record };
        let line = record_line(&suspend, Some(&registry));
        assert!(line.ends_with(" [?]"), "a firm the config does not have: {line}");
        let bad = Record { payload: b"", ..record };
        assert!(
            record_line(&bad, None)
                .starts_with("seq=7 time=20231114-22:13:20.123 kind=8 UNDECODABLE")
        );
    }
}
