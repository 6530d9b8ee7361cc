//! The data directory's layout: what the numbers in its journals and snapshots stand for.
//!
//! Journals and snapshots name instruments, firms and traders by their position in the
//! config's lists, and each shard's files hold the currencies dealt to that shard. A config
//! that reorders or removes entries, changes `engine.shards` or changes the set of currencies
//! would make a restart read those files as something else: another instrument's orders,
//! another firm's deposit, or a shard that never sees its currency's journal (its acknowledged
//! orders silently gone). So the engine writes the layout beside the shards (`DATA_DIR/layout`,
//! a line per entry) and refuses to start on a directory whose layout the config does not
//! extend, naming the first difference. Appending instruments (of currencies already
//! listed), firms and traders extends it.
//!
//! The file is written, atomically, only after every shard has recovered, so a start that
//! fails leaves the previous layout in place.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::config::Registry;

/// The layout file's name in the data directory.
pub const LAYOUT_FILE: &str = "layout";

/// The first line of a layout file.
const MAGIC: &str = "birzha-layout 1";

/// Why the layout refuses a start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LayoutError {
    /// The file cannot be read or written.
    #[error("cannot {operation} {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        operation: &'static str,
        /// Why.
        source: io::Error,
    },
    /// The file is not a layout.
    #[error("{path} line {line} is not a layout entry: {text:?}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Its line number, from 1.
        line: usize,
        /// The line.
        text: String,
    },
    /// The config does not extend the layout the data directory was written with.
    #[error(
        "the config does not match the data directory's layout ({path}): {difference}; \
         its journals and snapshots were written with the old one"
    )]
    Changed {
        /// The file.
        path: PathBuf,
        /// The first difference.
        difference: String,
    },
}

/// The ids a data directory's files use, in config order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    /// `engine.shards`.
    pub shards: usize,
    /// Currencies, sorted, with the shard each is dealt to.
    pub currencies: Vec<(String, usize)>,
    /// Instrument symbols and currencies, by instrument id.
    pub instruments: Vec<(String, String)>,
    /// Firm codes, by firm id.
    pub firms: Vec<String>,
    /// Trader codes, by trader id.
    pub traders: Vec<String>,
}

impl Layout {
    /// The layout of a validated config.
    #[must_use]
    pub fn of(registry: &Registry) -> Layout {
        let config = &registry.config;
        Layout {
            shards: config.shards,
            currencies: registry.currencies.iter().map(|(c, s)| (c.clone(), *s)).collect(),
            instruments: (0..registry.instruments.len())
                .map(|index| {
                    let instrument = &registry.instruments[index];
                    (instrument.symbol().to_owned(), instrument.spec().currency.clone())
                })
                .collect(),
            firms: config.firms.iter().map(|firm| firm.code.clone()).collect(),
            traders: config.traders.iter().map(|trader| trader.code.clone()).collect(),
        }
    }

    /// Returns the first way `current` fails to extend `self` (the recorded layout), if any.
    #[must_use]
    pub fn difference(&self, current: &Layout) -> Option<String> {
        if self.shards != current.shards {
            return Some(format!(
                "engine.shards is {} but was {} (each shard's journal holds its currencies' \
                 inputs)",
                current.shards, self.shards
            ));
        }
        if self.currencies != current.currencies {
            return Some(format!(
                "the currencies are {} but were {} (currencies are dealt to shards in order, and \
                 deposits are kept per currency)",
                names(&current.currencies),
                names(&self.currencies)
            ));
        }
        prefix("instrument", &self.instruments, &current.instruments)
            .or_else(|| prefix("firm", &self.firms, &current.firms))
            .or_else(|| prefix("trader", &self.traders, &current.traders))
    }

    /// The file's text: a line per entry, words separated by a space; a code's bytes other
    /// than printable ASCII, and `%`, are written `%XX`.
    #[must_use]
    pub fn encode(&self) -> String {
        let mut text = format!("{MAGIC}\nshards {}\n", self.shards);
        for (currency, shard) in &self.currencies {
            text.push_str(&format!("currency {} {shard}\n", escape(currency)));
        }
        for (symbol, currency) in &self.instruments {
            text.push_str(&format!("instrument {} {}\n", escape(symbol), escape(currency)));
        }
        for firm in &self.firms {
            text.push_str(&format!("firm {}\n", escape(firm)));
        }
        for trader in &self.traders {
            text.push_str(&format!("trader {}\n", escape(trader)));
        }
        text
    }

    /// Reads a layout file's text.
    ///
    /// # Errors
    /// Returns `Malformed` naming the first line that is not an entry.
    pub fn decode(path: &Path, text: &str) -> Result<Layout, LayoutError> {
        let malformed = |index: usize, line: &str| LayoutError::Malformed {
            path: path.into(),
            line: index + 1,
            text: line.chars().take(80).collect(),
        };
        let mut lines = text.lines().enumerate();
        match lines.next() {
            Some((_, MAGIC)) => {}
            Some((index, line)) => return Err(malformed(index, line)),
            None => return Err(malformed(0, "")),
        }
        let mut layout = Layout::default();
        for (index, line) in lines {
            let words: Option<Vec<String>> = line.split(' ').map(unescape).collect();
            let words = words.ok_or_else(|| malformed(index, line))?;
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            match words.as_slice() {
                ["shards", count] => {
                    layout.shards = count.parse().map_err(|_| malformed(index, line))?;
                }
                ["currency", code, shard] => {
                    let shard = shard.parse().map_err(|_| malformed(index, line))?;
                    layout.currencies.push(((*code).to_owned(), shard));
                }
                ["instrument", symbol, currency] => {
                    layout.instruments.push(((*symbol).to_owned(), (*currency).to_owned()));
                }
                ["firm", code] => layout.firms.push((*code).to_owned()),
                ["trader", code] => layout.traders.push((*code).to_owned()),
                _ => return Err(malformed(index, line)),
            }
        }
        Ok(layout)
    }
}

/// A code as one word of a line: bytes outside printable ASCII, and `%`, as `%XX`.
fn escape(code: &str) -> String {
    let mut word = String::with_capacity(code.len());
    for byte in code.bytes() {
        if (0x21..=0x7e).contains(&byte) && byte != b'%' {
            word.push(char::from(byte));
        } else {
            word.push_str(&format!("%{byte:02X}"));
        }
    }
    word
}

/// The code a word of a line stands for, or `None` if it is not one [`escape`] writes.
fn unescape(word: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(word.len());
    let mut rest = word.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(byte);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok()
}

/// `currency` names, comma-separated.
fn names(currencies: &[(String, usize)]) -> String {
    let names: Vec<&str> = currencies.iter().map(|(name, _)| name.as_str()).collect();
    names.join(", ")
}

/// Returns how `current` fails to start with every entry of `recorded`, if it does.
fn prefix<T: PartialEq + fmt::Debug>(kind: &str, recorded: &[T], current: &[T]) -> Option<String> {
    let changed = recorded.iter().zip(current).position(|(was, is)| was != is);
    if let Some(index) = changed {
        return Some(format!(
            "{kind} {index} is {:?} but was {:?} ({kind}s may only be appended)",
            current[index], recorded[index]
        ));
    }
    (current.len() < recorded.len()).then(|| {
        format!(
            "{kind} {} ({:?}) and those after it were removed ({kind}s may only be appended)",
            current.len(),
            recorded[current.len()]
        )
    })
}

/// Checks the config's layout against the one recorded in `data_dir`, if any.
///
/// # Errors
/// Returns `Changed` if the config does not extend the recorded layout, `Malformed` or `Io`
/// if the file cannot be read.
pub fn check(data_dir: &Path, current: &Layout) -> Result<(), LayoutError> {
    let path = data_dir.join(LAYOUT_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(LayoutError::Io { path, operation: "read", source }),
    };
    let recorded = Layout::decode(&path, &text)?;
    match recorded.difference(current) {
        Some(difference) => Err(LayoutError::Changed { path, difference }),
        None => Ok(()),
    }
}

/// Writes `layout` to `data_dir` atomically (a temporary file, synced, then renamed over the
/// old one, and the directory synced).
///
/// # Errors
/// Returns `Io` if a step fails; the previous file, if any, is then still whole.
pub fn record(data_dir: &Path, layout: &Layout) -> Result<(), LayoutError> {
    let path = data_dir.join(LAYOUT_FILE);
    let temporary = data_dir.join(format!("{LAYOUT_FILE}.tmp"));
    let io = |path: &Path, operation| {
        let path = path.to_path_buf();
        move |source| LayoutError::Io { path, operation, source }
    };
    let mut file = fs::File::create(&temporary).map_err(io(&temporary, "create"))?;
    file.write_all(layout.encode().as_bytes()).map_err(io(&temporary, "write"))?;
    file.sync_all().map_err(io(&temporary, "fsync"))?;
    fs::rename(&temporary, &path).map_err(io(&path, "rename"))?;
    fs::File::open(data_dir).and_then(|dir| dir.sync_all()).map_err(io(data_dir, "fsync"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> Layout {
        Layout {
            shards: 2,
            currencies: vec![("BYN".into(), 0), ("USD".into(), 1)],
            instruments: vec![("MILK".into(), "BYN".into()), ("BUTTER".into(), "USD".into())],
            firms: vec!["FIRM-A".into(), "FIRM B 100%".into(), "Фирма\r\n".into()],
            traders: vec!["T1".into(), "T2".into()],
        }
    }

    #[test]
    fn round_trips_and_refuses_other_text() {
        let path = Path::new("layout");
        let decoded = Layout::decode(path, &layout().encode()).expect("decodes");
        assert_eq!(decoded, layout());
        let bad = ["shards 2\n", "birzha-layout 1\nshards two\n", "birzha-layout 1\nfirm\n"];
        for bad in
            bad.into_iter().chain(["birzha-layout 1\nfirm A%G1\n", "birzha-layout 1\nfirm %4"])
        {
            assert!(Layout::decode(path, bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn appending_extends_and_anything_else_is_named() {
        let recorded = layout();
        let mut appended = layout();
        appended.instruments.push(("CHEESE".into(), "USD".into()));
        appended.firms.push("FIRM-B".into());
        appended.traders.push("T3".into());
        assert_eq!(recorded.difference(&appended), None);
        type Change = fn(&mut Layout);
        let cases: [(Change, &str); 5] = [
            (|l| l.shards = 1, "engine.shards is 1 but was 2"),
            (|l| l.currencies.insert(0, ("AUD".into(), 0)), "the currencies are AUD, BYN, USD"),
            (|l| l.instruments.swap(0, 1), "instrument 0 is (\"BUTTER\""),
            (|l| l.firms.clear(), "firm 0 (\"FIRM-A\") and those after it were removed"),
            (|l| l.traders[1] = "T9".into(), "trader 1 is \"T9\" but was \"T2\""),
        ];
        for (change, expected) in cases {
            let mut current = layout();
            change(&mut current);
            let difference = recorded.difference(&current).expect("refused");
            assert!(difference.starts_with(expected), "{difference}");
        }
    }
}
