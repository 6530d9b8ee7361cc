//! Config errors that name the key, the value and what is allowed.
//!
//! Three kinds: the file cannot be read ([`ConfigError::Read`]); it is not valid TOML or does
//! not fit the schema ([`ConfigError::Syntax`], with line and column); or a value breaks a
//! rule ([`ConfigError::Invalid`]). The engine's own [`birzha_engine::ConfigError`] is mapped
//! to [`ConfigError::Invalid`] with the key it concerns, so the operator always sees a key such
//! as `instruments[3].tick`.

use core::fmt;
use std::io;
use std::path::PathBuf;

use birzha_book::InstrumentError;
use birzha_engine::ConfigError as EngineError;

use super::sections::{InstrumentEntry, TraderEntry};

/// Why a config cannot be used.
#[derive(Debug)]
#[non_exhaustive]
pub(crate) enum ConfigError {
    /// The config file could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's reason; [`std::error::Error::source`] returns it.
        source: io::Error,
    },
    /// The text is not TOML, or a key is unknown, missing or of the wrong type.
    Syntax {
        /// Where the text came from: a file name or `embedded default config`.
        origin: String,
        /// The key path, e.g. `engine.durability`; empty at the top level.
        key: String,
        /// The line and column (both from 1) of the offending text, when known.
        position: Option<(usize, usize)>,
        /// The parser's explanation, which names what is allowed.
        message: String,
        /// The offending line with a caret under the column, when known.
        snippet: String,
    },
    /// A value breaks a rule.
    Invalid {
        /// The key path, e.g. `instruments[3].tick`.
        key: String,
        /// The value as written.
        value: String,
        /// What is allowed instead.
        allowed: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Read { path, .. } => {
                write!(f, "cannot read config file {}", path.display())
            }
            ConfigError::Syntax { origin, key, position, message, snippet } => {
                write!(f, "{origin}")?;
                if let Some((line, column)) = position {
                    write!(f, ", line {line}, column {column}")?;
                }
                if !key.is_empty() {
                    write!(f, ", key `{key}`")?;
                }
                write!(f, ": {message}")?;
                if !snippet.is_empty() {
                    write!(f, "\n{snippet}")?;
                }
                Ok(())
            }
            ConfigError::Invalid { key, value, allowed } => {
                write!(f, "{key} = {value} is not allowed: expected {allowed}")
            }
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::Read { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl ConfigError {
    /// Returns an [`ConfigError::Invalid`] for `key = value`.
    pub(crate) fn invalid(
        key: impl Into<String>,
        value: impl fmt::Display,
        allowed: impl Into<String>,
    ) -> ConfigError {
        ConfigError::Invalid { key: key.into(), value: value.to_string(), allowed: allowed.into() }
    }

    /// Builds a [`ConfigError::Syntax`] from a TOML error and the key path serde reached.
    pub(crate) fn syntax(origin: &str, text: &str, key: String, error: &toml::de::Error) -> Self {
        let (position, snippet) = match error.span() {
            Some(span) => {
                let (line, column, content) = locate(text, span.start);
                let rest = content.chars().count().saturating_sub(column - 1);
                let width = text.get(span).map_or(1, |spanned| spanned.chars().count());
                let caret = format!(
                    "{}{}",
                    " ".repeat(column - 1),
                    "^".repeat(width.clamp(1, rest.max(1)))
                );
                let gutter = " ".repeat(line.to_string().len());
                (Some((line, column)), format!("  {line} | {content}\n  {gutter} | {caret}"))
            }
            None => (None, String::new()),
        };
        let key = if key == "." { String::new() } else { key };
        let message = error.message().trim_end().to_owned();
        ConfigError::Syntax { origin: origin.to_owned(), key, position, message, snippet }
    }

    /// Maps an error of the engine's validation to the key it concerns.
    pub(crate) fn from_engine(
        error: EngineError,
        instruments: &[InstrumentEntry],
        traders: &[TraderEntry],
    ) -> ConfigError {
        match error {
            EngineError::Instrument { symbol, source } => {
                let index = instruments.iter().position(|entry| entry.symbol == symbol);
                from_instrument(&format!("instruments[{}]", index.unwrap_or(0)), source)
            }
            EngineError::Duplicate { what, code } => ConfigError::invalid(
                format!("{what}s"),
                format!("\"{code}\" (twice)"),
                format!("every {what} code to be unique"),
            ),
            EngineError::UnknownFirm { trader, firm } => {
                let index = traders.iter().position(|entry| entry.code == trader).unwrap_or(0);
                ConfigError::invalid(format!("traders[{index}].firm"), quoted(&firm), "a firm code")
            }
            EngineError::Range { field, value, allowed } => {
                ConfigError::invalid(engine_key(&field, instruments), value, allowed)
            }
            other => ConfigError::invalid("config", "(engine check)", other.to_string()),
        }
    }
}

/// Maps an instrument error to the instrument's key (`instruments[3]`) and field.
fn from_instrument(prefix: &str, error: InstrumentError) -> ConfigError {
    match error {
        InstrumentError::NotPositive { field, value } => {
            ConfigError::invalid(format!("{prefix}.{field}"), value, "a positive decimal")
        }
        InstrumentError::OffTick { field, value, tick } => ConfigError::invalid(
            format!("{prefix}.{field}"),
            value,
            format!("a positive whole multiple of the tick {tick}"),
        ),
        InstrumentError::BandPercent { percent } => ConfigError::invalid(
            format!("{prefix}.band_percent"),
            percent,
            "a percentage above 0 and below 100",
        ),
        InstrumentError::EmptyBand { low, high } => ConfigError::invalid(
            format!("{prefix}.price_floor/price_cap"),
            "(floor and cap)",
            format!("a floor and cap that leave some price of the band [{low}, {high}]"),
        ),
        InstrumentError::BandTooWide { width, max } => ConfigError::invalid(
            format!("{prefix}.band_percent"),
            format!("(a band of {width} ticks)"),
            format!("a band of at most {max} ticks: raise the tick or narrow the band"),
        ),
        InstrumentError::Limit { field, value, max } => {
            ConfigError::invalid(format!("{prefix}.{field}"), value, format!("1 to {max}"))
        }
        other => ConfigError::invalid(prefix, "(instrument)", other.to_string()),
    }
}

/// Turns the engine's `instruments.SYMBOL.field` into `instruments[index].field`.
fn engine_key(field: &str, instruments: &[InstrumentEntry]) -> String {
    let Some(rest) = field.strip_prefix("instruments.") else {
        return field.to_owned();
    };
    let found = instruments.iter().enumerate().find_map(|(index, entry)| {
        let tail = rest.strip_prefix(entry.symbol.as_str())?.strip_prefix('.')?;
        Some(format!("instruments[{index}].{tail}"))
    });
    found.unwrap_or_else(|| field.to_owned())
}

/// Returns a string value as TOML writes it.
pub(crate) fn quoted(text: &str) -> String {
    format!("{text:?}")
}

/// Returns the 1-based line and column (in characters) of byte `offset`, and the line's text.
fn locate(text: &str, offset: usize) -> (usize, usize, &str) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let line = before.matches('\n').count() + 1;
    let column = before.get(line_start..).map_or(0, |head| head.chars().count()) + 1;
    let content = text.get(line_start..).unwrap_or("").lines().next().unwrap_or("");
    (line, column, content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_counts_lines_and_columns_from_one() {
        let text = "a = 1\nbb = \"x\"\n";
        assert_eq!(locate(text, 0), (1, 1, "a = 1"));
        assert_eq!(locate(text, 11), (2, 6, "bb = \"x\""));
        assert_eq!(locate(text, 999), (3, 1, ""));
    }

    #[test]
    fn invalid_names_key_value_and_what_is_allowed() {
        let error = ConfigError::invalid("instruments[3].tick", "0", "a positive decimal");
        assert_eq!(
            error.to_string(),
            "instruments[3].tick = 0 is not allowed: expected a positive decimal"
        );
    }
}
