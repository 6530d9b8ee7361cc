//! The command line of `birzha trade`, also used to parse each line of the interactive mode.

use std::net::SocketAddr;
use std::path::PathBuf;

use birzha_client::{Decimal, SelfMatchMode, Side, TimeInForce};
use clap::{Args, Parser, Subcommand, ValueEnum};

/// `birzha trade`: the connection and the trader; without a command, the interactive mode.
#[derive(Debug, Args)]
pub(crate) struct TradeArgs {
    /// The trader's code (SenderCompID).
    #[arg(long, short = 'u', value_name = "TRADER")]
    pub(crate) user: String,
    /// The trader's password.
    #[arg(long, short = 'p', value_name = "PASSWORD")]
    pub(crate) password: String,
    /// The exchange's FIX address.
    #[arg(long, default_value = "127.0.0.1:9878", value_name = "ADDR")]
    pub(crate) server: SocketAddr,
    /// The exchange's CompID (TargetCompID).
    #[arg(long, default_value = "BIRZHA", value_name = "COMP_ID")]
    pub(crate) comp_id: String,
    /// Where sequence numbers are kept between runs [default: $XDG_STATE_HOME/birzha, else
    /// ~/.local/state/birzha].
    #[arg(long, value_name = "DIR")]
    pub(crate) state_dir: Option<PathBuf>,
    /// Start the session's sequence numbers again at 1 (141=Y); the exchange then forgets the
    /// messages it kept for this trader, so `orders` sees only later orders.
    #[arg(long)]
    pub(crate) reset_seq: bool,
    /// Seconds to wait for each answer.
    #[arg(long, default_value_t = 5, value_name = "SECS")]
    pub(crate) timeout: u64,
    /// What to do; nothing starts the interactive mode.
    #[command(subcommand)]
    pub(crate) command: Option<TradeCommand>,
}

/// One trading command, on the command line or typed in the interactive mode.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub(crate) enum TradeCommand {
    /// Buy: `buy SYMBOL QTY @ PRICE` (a limit order; lots at a price per unit).
    Buy(LimitArgs),
    /// Sell: `sell SYMBOL QTY @ PRICE`.
    Sell(LimitArgs),
    /// A market order: `market buy|sell SYMBOL QTY` (immediate-or-cancel unless --tif fok).
    Market(MarketArgs),
    /// Cancel one of the trader's working orders by its ClOrdID.
    Cancel {
        /// The order's ClOrdID (the original or the latest).
        cl_ord_id: String,
    },
    /// Cancel all working orders of the trader's firm, or those of one symbol.
    CancelAll {
        /// Only this instrument.
        symbol: Option<String>,
    },
    /// Modify a working limit order: `replace CLORDID QTY @ PRICE` (QTY is the new total).
    Replace {
        /// The order's ClOrdID (the original or the latest).
        cl_ord_id: String,
        /// The new total quantity in lots, filled lots included.
        #[arg(value_parser = clap::value_parser!(u64).range(1..))]
        quantity: u64,
        /// `@ PRICE` or `PRICE`.
        #[arg(num_args = 1..=2, value_name = "@ PRICE", required = true, value_parser = price_word)]
        price: Vec<String>,
    },
    /// Ask the exchange for one order's status.
    Status {
        /// The order's ClOrdID.
        cl_ord_id: String,
    },
    /// List the trader's working orders.
    Orders,
    /// Show the depth of a book, both sides.
    Book {
        /// The instrument.
        symbol: String,
    },
    /// Follow trades and book changes of instruments (until Ctrl-C; `unwatch` in the
    /// interactive mode).
    Watch {
        /// The instruments.
        #[arg(required = true)]
        symbols: Vec<String>,
    },
    /// Stop following an instrument (interactive mode).
    Unwatch {
        /// The instrument.
        symbol: String,
    },
    /// List the instruments.
    Symbols,
}

/// `buy`/`sell` arguments.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub(crate) struct LimitArgs {
    /// The instrument, e.g. BUT82-FCA-USD.
    pub(crate) symbol: String,
    /// Lots.
    #[arg(value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) quantity: u64,
    /// `@ PRICE` or `PRICE`.
    #[arg(num_args = 1..=2, value_name = "@ PRICE", required = true, value_parser = price_word)]
    pub(crate) price: Vec<String>,
    #[command(flatten)]
    pub(crate) options: OrderOptions,
}

/// `market` arguments.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub(crate) struct MarketArgs {
    /// buy or sell.
    pub(crate) side: SideArg,
    /// The instrument.
    pub(crate) symbol: String,
    /// Lots.
    #[arg(value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) quantity: u64,
    #[command(flatten)]
    pub(crate) options: OrderOptions,
}

/// Options of a new order.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub(crate) struct OrderOptions {
    /// Time in force: day, gtc, ioc, fok or gtd:YYYYMMDD [default: day; ioc for market].
    #[arg(long, value_parser = parse_tif, value_name = "TIF")]
    pub(crate) tif: Option<TimeInForce>,
    /// Show only this many lots (an iceberg order).
    #[arg(long, value_name = "LOTS")]
    pub(crate) display: Option<u64>,
    /// Rest only: the order is rejected rather than trade on arrival.
    #[arg(long)]
    pub(crate) post_only: bool,
    /// Self-match prevention for this order [default: the trader's configured mode].
    #[arg(long, value_enum, value_name = "MODE")]
    pub(crate) self_match: Option<SelfMatchArg>,
    /// Account (1), echoed on reports.
    #[arg(long)]
    pub(crate) account: Option<String>,
    /// The ClOrdID to use [default: generated, e.g. C36000123-1].
    #[arg(long, value_name = "CLORDID")]
    pub(crate) id: Option<String>,
}

/// A side on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SideArg {
    /// Buy.
    Buy,
    /// Sell.
    Sell,
}

impl From<SideArg> for Side {
    fn from(side: SideArg) -> Side {
        match side {
            SideArg::Buy => Side::Buy,
            SideArg::Sell => Side::Sell,
        }
    }
}

/// A self-match prevention mode on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SelfMatchArg {
    /// Cancel the incoming order.
    CancelIncoming,
    /// Cancel the resting order.
    CancelResting,
    /// Cancel both.
    CancelBoth,
    /// Reduce both.
    Decrement,
}

impl From<SelfMatchArg> for SelfMatchMode {
    fn from(mode: SelfMatchArg) -> SelfMatchMode {
        match mode {
            SelfMatchArg::CancelIncoming => SelfMatchMode::CancelIncoming,
            SelfMatchArg::CancelResting => SelfMatchMode::CancelResting,
            SelfMatchArg::CancelBoth => SelfMatchMode::CancelBoth,
            SelfMatchArg::Decrement => SelfMatchMode::Decrement,
        }
    }
}

/// Parses `day`, `gtc`, `ioc`, `fok` or `gtd:YYYYMMDD` (a real date: the exchange refuses
/// any other with a session Reject, which a one-shot command would only see as no answer).
fn parse_tif(text: &str) -> Result<TimeInForce, String> {
    match text.to_ascii_lowercase().as_str() {
        "day" => Ok(TimeInForce::Day),
        "gtc" => Ok(TimeInForce::GoodTillCancel),
        "ioc" => Ok(TimeInForce::ImmediateOrCancel),
        "fok" => Ok(TimeInForce::FillOrKill),
        other => {
            let date = other.strip_prefix("gtd:").filter(|date| date.len() == 8);
            date.and_then(|date| date.parse().ok())
                .filter(|&date| birzha_engine::minsk_end_of(date).is_some())
                .map(TimeInForce::GoodTillDate)
                .ok_or_else(|| {
                    format!(
                        "`{text}`: expected day, gtc, ioc, fok or gtd:YYYYMMDD (a date before 2554)"
                    )
                })
        }
    }
}

/// Parses `["@", "6800"]`, `["6800"]` or `["@6800"]` into a price.
///
/// # Errors
/// Returns a message naming what was given.
pub(crate) fn parse_price(words: &[String]) -> Result<Decimal, String> {
    let text = match words {
        [at, price] if at == "@" => price.as_str(),
        [price] => price.strip_prefix('@').unwrap_or(price),
        _ => return Err(format!("expected `@ PRICE`, got `{}`", words.join(" "))),
    };
    plain_price(text)
}

/// One word of `@ PRICE` as clap checks it before anything is sent: `@`, a price, or both
/// together (`@6800`). A command with a bad price is a usage error (exit code 2), not an
/// error after logging on.
fn price_word(text: &str) -> Result<String, String> {
    if text != "@" {
        plain_price(text.strip_prefix('@').unwrap_or(text))?;
    }
    Ok(text.to_owned())
}

/// A price as the FIX profile writes one: a plain decimal above zero (`6800`, `0.95`,
/// `290.5`), no sign, no exponent, no more digits than a decimal holds.
fn plain_price(text: &str) -> Result<Decimal, String> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(fraction) {
        return Err(format!("`{text}` is not a price (e.g. 6800 or 0.95)"));
    }
    let price: Decimal =
        text.parse().map_err(|_| format!("`{text}` has more digits than a price may have"))?;
    if price.is_zero() {
        return Err(format!("a price must be above 0, got `{text}`"));
    }
    Ok(price)
}

/// The interactive mode's line parser: the same subcommands, plus `help` and `quit`.
#[derive(Debug, Parser)]
#[command(name = "", no_binary_name = true, disable_version_flag = true)]
pub(crate) struct Line {
    /// The command.
    #[command(subcommand)]
    pub(crate) command: LineCommand,
}

/// A line of the interactive mode.
#[derive(Debug, Subcommand)]
pub(crate) enum LineCommand {
    /// A trading command.
    #[command(flatten)]
    Trade(TradeCommand),
    /// Log out and leave.
    #[command(alias = "exit")]
    Quit,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> Result<LineCommand, clap::Error> {
        Line::try_parse_from(text.split_whitespace()).map(|line| line.command)
    }

    #[test]
    fn orders_parse_with_or_without_the_at_sign() {
        for text in ["buy BUT82-FCA-USD 3 @ 6800", "buy BUT82-FCA-USD 3 6800"] {
            let Ok(LineCommand::Trade(TradeCommand::Buy(args))) = line(text) else {
                panic!("{text}")
            };
            assert_eq!((args.symbol.as_str(), args.quantity), ("BUT82-FCA-USD", 3));
            assert_eq!(parse_price(&args.price), Ok(Decimal::from(6800)));
        }
        let text = "sell MILK-RAW-BYN 2 @0.95 --tif gtd:20261231 --display 1 --post-only";
        let Ok(LineCommand::Trade(TradeCommand::Sell(args))) = line(text) else { panic!() };
        assert_eq!(parse_price(&args.price), Ok("0.95".parse().expect("decimal")));
        assert_eq!(args.options.tif, Some(TimeInForce::GoodTillDate(20261231)));
        assert_eq!((args.options.display, args.options.post_only), (Some(1), true));
        let Ok(LineCommand::Trade(TradeCommand::Market(args))) =
            line("market sell BUT82-FCA-USD 2 --tif fok")
        else {
            panic!()
        };
        assert_eq!((args.side, args.options.tif), (SideArg::Sell, Some(TimeInForce::FillOrKill)));
    }

    #[test]
    fn bad_input_is_refused_with_a_reason() {
        assert!(line("buy BUT82-FCA-USD three @ 6800").is_err());
        assert!(line("buy BUT82-FCA-USD 3 --tif gtd:2026").is_err());
        // Regression (a review of 2026-11-29): a bad price or 0 lots was found after logging
        // on (exit code 1, not the usage error's 2), and `68.05e2` or `+6805` passed as 6805.
        for text in [
            "buy BUT82-FCA-USD 1 @ abc",
            "buy BUT82-FCA-USD 1 @ 68.05e2",
            "buy BUT82-FCA-USD 1 @ +6805",
            "buy BUT82-FCA-USD 1 @6805e0",
            "buy BUT82-FCA-USD 1 @ 0",
            "buy BUT82-FCA-USD 1 @ 6800.",
            "buy BUT82-FCA-USD 0 @ 6800",
            "market buy BUT82-FCA-USD 0",
            "replace A1 0 @ 6800",
            "replace A1 2 @ -6800",
        ] {
            let error = line(text).expect_err(text);
            assert_eq!(error.exit_code(), 2, "{text}: {error}");
        }
        assert!(line("buy BUT82-FCA-USD 1 @0.95").is_ok());
        assert!(line("replace A1 2 290.5").is_ok());
        // Regression (a review of 2026-11-29): any eight digits passed, and the exchange's
        // session Reject of the 13th month looked like no answer.
        for date in ["20261399", "20260230", "19691231"] {
            let error = line(&format!("buy BUT82-FCA-USD 3 --tif gtd:{date}")).expect_err(date);
            assert!(error.to_string().contains("gtd:YYYYMMDD"), "{error}");
        }
        assert!(line("bogus").is_err());
        let words = ["@".to_string(), "abc".to_string()];
        assert_eq!(parse_price(&words), Err("`abc` is not a price (e.g. 6800 or 0.95)".into()));
        assert!(parse_price(&["6800".into(), "7000".into()]).is_err());
        assert!(matches!(line("quit"), Ok(LineCommand::Quit)));
        assert!(matches!(line("exit"), Ok(LineCommand::Quit)));
    }

    #[test]
    fn the_other_commands_parse() {
        let Ok(LineCommand::Trade(TradeCommand::Replace { cl_ord_id, quantity, price })) =
            line("replace C1 4 @ 6795")
        else {
            panic!()
        };
        assert_eq!((cl_ord_id.as_str(), quantity), ("C1", 4));
        assert_eq!(parse_price(&price), Ok(Decimal::from(6795)));
        assert!(matches!(line("cancel C1"), Ok(LineCommand::Trade(TradeCommand::Cancel { .. }))));
        assert!(matches!(
            line("cancel-all"),
            Ok(LineCommand::Trade(TradeCommand::CancelAll { symbol: None }))
        ));
        assert!(matches!(line("orders"), Ok(LineCommand::Trade(TradeCommand::Orders))));
        assert!(matches!(line("watch A B"), Ok(LineCommand::Trade(TradeCommand::Watch { .. }))));
        assert!(line("watch").is_err());
    }
}
