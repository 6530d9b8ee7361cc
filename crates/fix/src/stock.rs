//! Locating the stock QuickFIX test data (feature `xml`): the FIX 4.4 dictionary and the
//! acceptance scripts live outside the repository, in `shared/fix44-acceptance`.
//!
//! The directory is, in order: the `BIRZHA_FIX44_DIR` environment variable; else
//! `<workspace root>/../shared/fix44-acceptance`; else `/work/shared/fix44-acceptance`. A test
//! that needs the data and finds none must fail with the returned message, never pass silently.

use std::path::{Path, PathBuf};

use crate::{Dictionary, DictionaryError};

/// The environment variable that names the acceptance-data directory.
pub const FIX44_DIR_VARIABLE: &str = "BIRZHA_FIX44_DIR";

/// Finds the acceptance-data directory (see the module documentation).
///
/// # Errors
/// Returns a message naming every place looked in when none holds `FIX44.xml`.
pub fn fix44_dir(workspace_root: &Path) -> Result<PathBuf, String> {
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::var_os(FIX44_DIR_VARIABLE) {
        candidates.push(PathBuf::from(dir));
    }
    candidates.push(workspace_root.join("../shared/fix44-acceptance"));
    candidates.push(PathBuf::from("/work/shared/fix44-acceptance"));
    candidates.iter().find(|dir| dir.join("FIX44.xml").is_file()).cloned().ok_or_else(|| {
        let looked: Vec<String> = candidates.iter().map(|dir| dir.display().to_string()).collect();
        format!(
            "FIX 4.4 acceptance data not found (set {FIX44_DIR_VARIABLE}); looked in: {}",
            looked.join(", ")
        )
    })
}

/// Loads the stock dictionary `FIX44.xml` from the acceptance-data directory.
///
/// # Errors
/// Returns a message if the file cannot be read or parsed.
pub fn stock_dictionary(dir: &Path) -> Result<Dictionary, String> {
    let path = dir.join("FIX44.xml");
    let text =
        std::fs::read_to_string(&path).map_err(|error| format!("{}: {error}", path.display()))?;
    Dictionary::from_quickfix_xml(&text).map_err(|error: DictionaryError| error.to_string())
}
