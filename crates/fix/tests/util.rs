//! Shared helpers: locating the stock dictionary.

use std::path::Path;

use birzha_fix::Dictionary;

/// The stock FIX44.xml, loaded; panics with a clear message when the test data is missing.
pub(crate) fn stock() -> Dictionary {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = birzha_fix::stock::fix44_dir(&root).unwrap_or_else(|message| panic!("{message}"));
    birzha_fix::stock::stock_dictionary(&dir).unwrap_or_else(|message| panic!("{message}"))
}
