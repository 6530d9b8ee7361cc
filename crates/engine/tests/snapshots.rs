//! Arbitrary snapshot directories: the shared driver of the `snapshot` fuzz target
//! (`fuzz/fuzz_targets/snapshot.rs`, which includes this file with `#[path]`) and of the
//! proptest below.
//!
//! Goal: [`snapshot::load_newest_valid`] never panics and picks exactly the snapshot a model
//! picks: the file with the highest sequence number in its name whose bytes are a well-formed
//! snapshot of that number; every newer snapshot file is reported as skipped, newest first.
//! [`snapshot::retain`] then keeps the newest `count` and removes temporary files, after which
//! loading picks the model's choice among what was kept.
//!
//! Method: up to six files, each written with [`snapshot::write`] and then, seldom, damaged (a
//! flipped byte, a cut, trailing bytes, or raw bytes instead), named as a snapshot, as a
//! temporary file left by an interrupted write, or as something else. A file is well formed in
//! the model if its bytes equal the encoding of its own payload at its name's number.

use std::fs;
use std::path::Path;

use arbitrary::{Arbitrary, Unstructured};
use birzha_engine::snapshot::{self, SNAPSHOT_HEADER_SIZE, SNAPSHOT_MAGIC, SNAPSHOT_VERSION};

const FILES_MAX: usize = 6;

#[derive(Debug)]
pub(crate) struct Case {
    files: Vec<File>,
    /// `1 + retain % 4` snapshots kept by `retain`.
    retain: u8,
}

impl<'a> Arbitrary<'a> for Case {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Case> {
        let retain = u.arbitrary()?;
        let count = usize::from(u.arbitrary::<u8>()?) % (FILES_MAX + 1);
        let files = (0..count).map(|_| u.arbitrary()).collect::<Result<_, _>>()?;
        Ok(Case { files, retain })
    }
}

#[derive(Arbitrary, Debug)]
struct File {
    /// The sequence number, `seq % 16` (collisions overwrite).
    seq: u8,
    name: Name,
    payload: Vec<u8>,
    /// Damage when at least 224 (one file in eight).
    damaged: u8,
    damage: Damage,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Name {
    Snapshot,
    Snapshot2,
    Snapshot3,
    /// Left by an interrupted write.
    Temporary,
    Foreign,
}

#[derive(Arbitrary, Debug, Clone)]
enum Damage {
    Flip { at: u16, mask: u8 },
    Cut { at: u16 },
    Append(Vec<u8>),
    Raw(Vec<u8>),
}

/// Runs one case in a fresh temporary directory.
pub(crate) fn run(case: &Case) {
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() };
    let dir = dir.expect("a temporary directory");
    let snapshots = dir.path().join("snapshots");
    fs::create_dir(&snapshots).expect("the snapshot directory");
    for file in &case.files {
        write_file(&snapshots, file);
    }
    let model = model(&snapshots);
    let loaded = snapshot::load_newest_valid(&snapshots).expect("a readable directory");
    check_loaded(&model, &loaded);
    if case.files.is_empty() {
        return;
    }
    let count = 1 + usize::from(case.retain % 4);
    let retention = snapshot::retain(&snapshots, count).expect("a writable directory");
    let mut kept = model.clone();
    let remove = kept.len().saturating_sub(count);
    kept.drain(..remove);
    assert_eq!(retention.seq_oldest_kept, kept.first().map(|(seq, _)| *seq), "oldest kept");
    let names: Vec<String> = fs::read_dir(&snapshots)
        .expect("the directory")
        .map(|entry| entry.expect("an entry").file_name().into_string().expect("UTF-8"))
        .collect();
    assert!(names.iter().all(|name| !name.ends_with(".tmp")), "temporaries removed: {names:?}");
    let loaded = snapshot::load_newest_valid(&snapshots).expect("a readable directory");
    check_loaded(&kept, &loaded);
}

/// Writes one file as the case says.
fn write_file(dir: &Path, file: &File) {
    let seq = u64::from(file.seq % 16);
    let payload: Vec<u8> = file.payload.iter().copied().take(256).collect();
    let path = snapshot::write(dir, seq, &payload).expect("write a snapshot");
    let mut bytes = fs::read(&path).expect("read it back");
    if file.damaged >= 224 {
        match &file.damage {
            Damage::Flip { at, mask } => {
                let index = usize::from(*at) % bytes.len();
                bytes[index] ^= mask;
            }
            Damage::Cut { at } => bytes.truncate(usize::from(*at) % (bytes.len() + 1)),
            Damage::Append(tail) => bytes.extend(tail.iter().take(64)),
            Damage::Raw(raw) => bytes = raw.iter().copied().take(128).collect(),
        }
    }
    fs::remove_file(&path).expect("remove the original");
    let name = path.file_name().expect("a name").to_str().expect("UTF-8").to_owned();
    let name = match file.name {
        Name::Snapshot | Name::Snapshot2 | Name::Snapshot3 => name,
        Name::Temporary => format!("{name}.tmp"),
        Name::Foreign => format!("x{name}"),
    };
    fs::write(dir.join(name), bytes).expect("write the file");
}

/// The snapshot files in `dir` as (seq, well formed), oldest first.
fn model(dir: &Path) -> Vec<(u64, Option<Vec<u8>>)> {
    let mut files: Vec<(u64, Option<Vec<u8>>)> = fs::read_dir(dir)
        .expect("the directory")
        .filter_map(|entry| {
            let entry = entry.expect("an entry");
            let name = entry.file_name().into_string().ok()?;
            let digits = name.strip_prefix("snapshot-")?.strip_suffix(".bsn")?;
            let seq: u64 = digits.parse().ok().filter(|_| digits.len() == 20)?;
            let bytes = fs::read(entry.path()).expect("read a snapshot");
            Some((seq, well_formed(seq, &bytes)))
        })
        .collect();
    files.sort_by_key(|(seq, _)| *seq);
    files
}

/// The payload of `bytes` if they are exactly the snapshot of that payload at `seq`.
fn well_formed(seq: u64, bytes: &[u8]) -> Option<Vec<u8>> {
    let payload = bytes.get(SNAPSHOT_HEADER_SIZE..)?;
    let mut header = SNAPSHOT_MAGIC.to_vec();
    header.extend_from_slice(&SNAPSHOT_VERSION.to_le_bytes());
    header.extend_from_slice(&[0; 2]);
    header.extend_from_slice(&crc32c::crc32c(payload).to_le_bytes());
    header.extend_from_slice(&seq.to_le_bytes());
    header.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    header.extend_from_slice(&[0; 4]);
    let checksum = crc32c::crc32c(&header);
    header.extend_from_slice(&checksum.to_le_bytes());
    (bytes[..SNAPSHOT_HEADER_SIZE] == header[..]).then(|| payload.to_vec())
}

fn check_loaded(model: &[(u64, Option<Vec<u8>>)], loaded: &snapshot::Loaded) {
    let newest = model.iter().rev().find_map(|(seq, payload)| Some((*seq, payload.clone()?)));
    let found = loaded.snapshot.as_ref().map(|snapshot| (snapshot.seq, snapshot.payload.clone()));
    assert_eq!(found, newest, "the newest well-formed snapshot");
    let skipped: Vec<u64> = loaded.skipped.iter().map(|skipped| skipped.seq).collect();
    let newer: Vec<u64> = model
        .iter()
        .rev()
        .take_while(|(seq, _)| newest.as_ref().is_none_or(|(newest, _)| seq > newest))
        .map(|(seq, _)| *seq)
        .collect();
    assert_eq!(skipped, newer, "every newer file is reported as skipped, newest first");
}

/// The stable-toolchain equivalent of the `snapshot` fuzz target.
#[cfg(test)]
mod property_tests {
    use arbitrary::{Arbitrary, Unstructured};
    use proptest::prelude::*;

    use super::{Case, run};

    /// `default` cases, or `PROPTEST_CASES` for a longer run.
    fn cases(default: u32) -> u32 {
        std::env::var("PROPTEST_CASES").ok().and_then(|cases| cases.parse().ok()).unwrap_or(default)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(cases(128)))]

        #[test]
        fn prop_arbitrary_snapshot_directories_load_the_newest_valid(
            bytes in proptest::collection::vec(any::<u8>(), 0..1024),
        ) {
            let case = Case::arbitrary(&mut Unstructured::new(&bytes)).expect("any bytes");
            run(&case);
        }
    }
}
