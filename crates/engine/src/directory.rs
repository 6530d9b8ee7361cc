//! Directories whose entries survive a crash: a file or directory created, renamed or removed is
//! durable only once its parent directory is synced.

use std::fs::{self, File};
use std::io;
use std::path::Path;

/// Creates `dir` and any missing parents, syncing the parent of each directory created, so that
/// a crash after the first commit into `dir` cannot lose the directory itself.
///
/// # Errors
///
/// Returns the first failed creation or sync.
pub(crate) fn create(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        create(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => {}
        // Made meanwhile by someone else, who syncs its parent.
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => return Ok(()),
        Err(error) => return Err(error),
    }
    match dir.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        Some(parent) => sync(parent),
        None => sync(Path::new(".")),
    }
}

/// Makes the entries of `dir` (files created, renamed or removed in it) durable.
///
/// # Errors
///
/// Returns a failed open or `fsync`.
pub(crate) fn sync(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_missing_parents_and_accepts_an_existing_directory() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("shard-0/journal");
        create(&dir).unwrap();
        assert!(dir.is_dir());
        create(&dir).unwrap();
        let file = root.path().join("file");
        fs::write(&file, b"x").unwrap();
        assert!(create(&file.join("below")).is_err(), "a file is not a directory");
    }
}
