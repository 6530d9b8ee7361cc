//! Snapshot files.
