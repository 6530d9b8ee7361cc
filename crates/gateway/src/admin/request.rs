//! One admin request: parsed from the words of a request line, written back in canonical form,
//! and resolved against the registry into the engine input it stands for.

use core::fmt;

use birzha_engine::{Admin, InlineText, Input, Phase, Registry};
use rust_decimal::Decimal;

/// The most decimal places of a deposit amount: deposits are kept in millionths.
pub const AMOUNT_SCALE_MAX: u32 = 6;

/// The largest deposit credit or debit, in whole currency units (10^18): far above any real
/// deposit and far below what the engine's `i128` millionths can hold.
pub const AMOUNT_UNITS_MAX: i128 = 1_000_000_000_000_000_000;

/// Millionths per currency unit.
const MICROS_PER_UNIT: i128 = 1_000_000;

const _: () = assert!(AMOUNT_UNITS_MAX.checked_mul(MICROS_PER_UNIT).is_some());
const _: () = assert!(10_i128.pow(AMOUNT_SCALE_MAX) == MICROS_PER_UNIT);

/// What an operator asks of the server. Names (symbols, firms, currencies) are kept as typed
/// and checked against the registry by [`AdminRequest::into_input`], on the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdminRequest {
    /// `halt SYMBOL`: only cancels are accepted until `resume`.
    Halt {
        /// The instrument.
        symbol: String,
    },
    /// `resume SYMBOL`: end a halt.
    Resume {
        /// The instrument.
        symbol: String,
    },
    /// `phase SYMBOL PHASE`: move an instrument to a phase (names as in [`Phase::name`], any
    /// case).
    Phase {
        /// The instrument.
        symbol: String,
        /// The phase to move it to.
        phase: Phase,
    },
    /// `deposit FIRM CURRENCY AMOUNT`: credit (a negative amount: debit) a firm's deposit.
    Deposit {
        /// The firm's code.
        firm: String,
        /// The ISO 4217 code.
        currency: String,
        /// The amount in currency units, at most [`AMOUNT_SCALE_MAX`] decimal places.
        amount: Decimal,
    },
    /// `suspend FIRM`: the firm may only cancel.
    Suspend {
        /// The firm's code.
        firm: String,
    },
    /// `reinstate FIRM`: end a suspension.
    Reinstate {
        /// The firm's code.
        firm: String,
    },
    /// `cancel-all [SYMBOL]`: cancel every order of an instrument, or of every instrument.
    CancelAll {
        /// The instrument; `None` for all.
        symbol: Option<String>,
    },
    /// `stats`: what the server can report cheaply (answered by the admin port itself, not
    /// the engine).
    Stats,
}

/// Why a request line or an [`AdminRequest`] was refused. The text of the reply is this
/// error's `Display`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The line holds no command after the token.
    #[error("no command; expected one of: {COMMANDS}")]
    Empty,
    /// The command is not one of [`COMMANDS`].
    #[error("unknown command `{command}`; expected one of: {COMMANDS}")]
    UnknownCommand {
        /// The command as sent.
        command: String,
    },
    /// The command has too few or too many arguments.
    #[error("`{command}` takes {expected}, got {count} argument(s)")]
    Arguments {
        /// The command.
        command: &'static str,
        /// Its arguments, in words.
        expected: &'static str,
        /// How many were sent.
        count: usize,
    },
    /// The phase name is not a phase.
    #[error("unknown phase `{phase}`; expected one of: {PHASES}")]
    UnknownPhase {
        /// The name as sent.
        phase: String,
    },
    /// The amount is not a decimal number, has too many decimal places, is zero or too large.
    #[error("amount `{amount}` is not allowed: {reason}")]
    Amount {
        /// The amount as sent.
        amount: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// No instrument has this symbol.
    #[error("unknown symbol `{symbol}`")]
    UnknownSymbol {
        /// The symbol as sent.
        symbol: String,
    },
    /// No firm has this code.
    #[error("unknown firm `{firm}`")]
    UnknownFirm {
        /// The code as sent.
        firm: String,
    },
    /// No instrument trades in this currency, so no shard holds deposits in it.
    #[error("unknown currency `{currency}`: no instrument trades in it")]
    UnknownCurrency {
        /// The code as sent.
        currency: String,
    },
    /// `stats` is not an engine input.
    #[error("`stats` is answered by the admin port, not the engine")]
    NotAnInput,
}

/// The commands, as listed in errors and help.
pub const COMMANDS: &str = "halt, resume, phase, deposit, suspend, reinstate, cancel-all, stats";

/// The phase names, as listed in errors.
const PHASES: &str =
    "Closed, PreOpen, Continuous, VolatilityAuction, ClosingCall, PostClose, Halted";

impl AdminRequest {
    /// Parses a command and its arguments: the words of a request line after the token.
    ///
    /// # Errors
    /// Returns a [`RequestError`] naming the unknown command, the wrong number of arguments,
    /// the unknown phase or the bad amount. Names are not checked here.
    pub fn parse(words: &[&str]) -> Result<AdminRequest, RequestError> {
        let Some((command, arguments)) = words.split_first() else {
            return Err(RequestError::Empty);
        };
        let one = |name: &'static str| match arguments {
            [argument] => Ok((*argument).to_owned()),
            _ => Err(arguments_error(name, "1 argument", arguments)),
        };
        let request = match command.to_ascii_lowercase().as_str() {
            "halt" => AdminRequest::Halt { symbol: one("halt")? },
            "resume" => AdminRequest::Resume { symbol: one("resume")? },
            "suspend" => AdminRequest::Suspend { firm: one("suspend")? },
            "reinstate" => AdminRequest::Reinstate { firm: one("reinstate")? },
            "phase" => match arguments {
                [symbol, phase] => AdminRequest::Phase {
                    symbol: (*symbol).to_owned(),
                    phase: Phase::from_name(phase)
                        .ok_or_else(|| RequestError::UnknownPhase { phase: (*phase).to_owned() })?,
                },
                _ => return Err(arguments_error("phase", "2 arguments (SYMBOL PHASE)", arguments)),
            },
            "deposit" => match arguments {
                [firm, currency, amount] => AdminRequest::Deposit {
                    firm: (*firm).to_owned(),
                    currency: (*currency).to_owned(),
                    amount: parse_amount(amount)?,
                },
                _ => {
                    let expected = "3 arguments (FIRM CURRENCY AMOUNT)";
                    return Err(arguments_error("deposit", expected, arguments));
                }
            },
            "cancel-all" => match arguments {
                [] => AdminRequest::CancelAll { symbol: None },
                [symbol] => AdminRequest::CancelAll { symbol: Some((*symbol).to_owned()) },
                _ => return Err(arguments_error("cancel-all", "0 or 1 argument", arguments)),
            },
            "stats" => match arguments {
                [] => AdminRequest::Stats,
                _ => return Err(arguments_error("stats", "no arguments", arguments)),
            },
            _ => return Err(RequestError::UnknownCommand { command: (*command).to_owned() }),
        };
        Ok(request)
    }

    /// Returns the engine input this request stands for, with names resolved.
    ///
    /// # Errors
    /// Returns [`RequestError::UnknownSymbol`], `UnknownFirm` or `UnknownCurrency` for a name
    /// the registry does not know, and `NotAnInput` for `stats`.
    pub fn into_input(&self, registry: &Registry) -> Result<Input, RequestError> {
        let instrument = |symbol: &str| {
            registry
                .instrument(symbol)
                .ok_or_else(|| RequestError::UnknownSymbol { symbol: symbol.to_owned() })
        };
        let firm = |code: &str| {
            registry.firm(code).ok_or_else(|| RequestError::UnknownFirm { firm: code.to_owned() })
        };
        let admin = match self {
            AdminRequest::Halt { symbol } => Admin::Halt(instrument(symbol)?),
            AdminRequest::Resume { symbol } => Admin::Resume(instrument(symbol)?),
            AdminRequest::Phase { symbol, phase } => Admin::SetPhase(instrument(symbol)?, *phase),
            AdminRequest::Deposit { firm: code, currency, amount } => {
                let firm = firm(code)?;
                let unknown = || RequestError::UnknownCurrency { currency: currency.clone() };
                registry.shard_of_currency(currency).ok_or_else(unknown)?;
                let currency = InlineText::new(currency).map_err(|_| unknown())?;
                let amount_micros = amount_micros(*amount).ok_or(RequestError::Amount {
                    amount: amount.to_string(),
                    reason: "out of range",
                })?;
                Admin::Deposit { firm, currency, amount_micros }
            }
            AdminRequest::Suspend { firm: code } => Admin::SuspendFirm(firm(code)?),
            AdminRequest::Reinstate { firm: code } => Admin::ReinstateFirm(firm(code)?),
            AdminRequest::CancelAll { symbol } => {
                Admin::MassCancel(symbol.as_deref().map(instrument).transpose()?)
            }
            AdminRequest::Stats => return Err(RequestError::NotAnInput),
        };
        Ok(Input::Admin(admin))
    }
}

/// The canonical request text, without the token: what the client sends after it, and what
/// the server logs.
impl fmt::Display for AdminRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdminRequest::Halt { symbol } => write!(f, "halt {symbol}"),
            AdminRequest::Resume { symbol } => write!(f, "resume {symbol}"),
            AdminRequest::Phase { symbol, phase } => write!(f, "phase {symbol} {}", phase.name()),
            AdminRequest::Deposit { firm, currency, amount } => {
                write!(f, "deposit {firm} {currency} {amount}")
            }
            AdminRequest::Suspend { firm } => write!(f, "suspend {firm}"),
            AdminRequest::Reinstate { firm } => write!(f, "reinstate {firm}"),
            AdminRequest::CancelAll { symbol: Some(symbol) } => write!(f, "cancel-all {symbol}"),
            AdminRequest::CancelAll { symbol: None } => write!(f, "cancel-all"),
            AdminRequest::Stats => write!(f, "stats"),
        }
    }
}

fn arguments_error(command: &'static str, expected: &'static str, got: &[&str]) -> RequestError {
    RequestError::Arguments { command, expected, count: got.len() }
}

/// Parses a deposit amount: a non-zero decimal of at most [`AMOUNT_SCALE_MAX`] places and at
/// most [`AMOUNT_UNITS_MAX`] in size.
fn parse_amount(text: &str) -> Result<Decimal, RequestError> {
    let refuse = |reason| RequestError::Amount { amount: text.to_owned(), reason };
    // Plain digits, as in the config: no exponent (`1e5`), no separators.
    let plain = text.bytes().all(|byte| byte.is_ascii_digit() || matches!(byte, b'.' | b'-'));
    let amount = Decimal::from_str_exact(text)
        .ok()
        .filter(|_| plain)
        .ok_or_else(|| refuse("expected a decimal number such as 1000.25"))?;
    if amount.scale() > AMOUNT_SCALE_MAX {
        return Err(refuse("at most 6 decimal places (deposits are kept in millionths)"));
    }
    if amount.is_zero() {
        return Err(refuse("must not be zero"));
    }
    if amount_micros(amount).is_none() {
        return Err(refuse("larger than 10^18 currency units"));
    }
    Ok(amount)
}

/// Returns `amount` in millionths, exactly, or `None` if it has more than
/// [`AMOUNT_SCALE_MAX`] places or exceeds [`AMOUNT_UNITS_MAX`] units.
#[must_use]
pub fn amount_micros(amount: Decimal) -> Option<i128> {
    let scale = amount.scale();
    if scale > AMOUNT_SCALE_MAX {
        return None;
    }
    let micros = amount.mantissa().checked_mul(10_i128.pow(AMOUNT_SCALE_MAX - scale))?;
    (micros.unsigned_abs() <= (AMOUNT_UNITS_MAX * MICROS_PER_UNIT).unsigned_abs()).then_some(micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<AdminRequest, RequestError> {
        AdminRequest::parse(&line.split_whitespace().collect::<Vec<_>>())
    }

    #[test]
    fn every_command_parses_and_prints_back() {
        for line in [
            "halt BUT82-FCA-USD",
            "resume BUT82-FCA-USD",
            "phase BUT82-FCA-USD PreOpen",
            "deposit FIRM-A USD 1000.25",
            "deposit FIRM-A USD -5",
            "suspend FIRM-B",
            "reinstate FIRM-B",
            "cancel-all",
            "cancel-all MILK-RAW-BYN",
            "stats",
        ] {
            let request = parse(line).unwrap_or_else(|error| panic!("{line}: {error}"));
            assert_eq!(request.to_string(), line);
        }
        assert_eq!(
            parse("PHASE X closingcall"),
            Ok(AdminRequest::Phase { symbol: "X".into(), phase: Phase::ClosingCall })
        );
    }

    #[test]
    fn bad_requests_are_named() {
        let cases = [
            ("", "no command; expected one of: halt, resume"),
            ("reboot", "unknown command `reboot`"),
            ("halt", "`halt` takes 1 argument, got 0 argument(s)"),
            ("halt A B", "`halt` takes 1 argument, got 2"),
            ("phase A", "`phase` takes 2 arguments (SYMBOL PHASE), got 1"),
            ("phase A Lunch", "unknown phase `Lunch`; expected one of: Closed,"),
            ("deposit F USD", "`deposit` takes 3 arguments (FIRM CURRENCY AMOUNT), got 2"),
            ("deposit F USD ten", "amount `ten` is not allowed: expected a decimal number"),
            // Regression (a review's): exponents were taken (the config refuses them).
            ("deposit F USD 1e5", "amount `1e5` is not allowed: expected a decimal number"),
            ("deposit F USD 1_000", "amount `1_000` is not allowed: expected a decimal number"),
            ("deposit F USD 1.0000001", "amount `1.0000001` is not allowed: at most 6 decimal"),
            ("deposit F USD 0.00", "amount `0.00` is not allowed: must not be zero"),
            ("deposit F USD 1000000000000000001", "larger than 10^18 currency units"),
            ("cancel-all A B", "`cancel-all` takes 0 or 1 argument, got 2"),
            ("stats now", "`stats` takes no arguments, got 1"),
        ];
        for (line, expected) in cases {
            let error = parse(line).expect_err(line).to_string();
            assert!(error.starts_with(expected) || error.contains(expected), "{line}: {error}");
        }
    }

    #[test]
    fn amounts_convert_to_millionths_exactly() {
        let micros = |text: &str| amount_micros(text.parse().expect("decimal"));
        assert_eq!(micros("1000.25"), Some(1_000_250_000));
        assert_eq!(micros("-0.000001"), Some(-1));
        assert_eq!(micros("12"), Some(12_000_000));
        assert_eq!(micros("1.5000000"), None, "seven places, even if the last is zero");
        assert_eq!(micros("1000000000000000000"), Some(AMOUNT_UNITS_MAX * MICROS_PER_UNIT));
        assert_eq!(micros("-1000000000000000000.000001"), None);
    }
}
