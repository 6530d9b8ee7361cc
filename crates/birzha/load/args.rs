//! The command line of `birzha load`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

/// `birzha load`: sessions, rate, duration, order mix, output.
#[derive(Debug, Clone, Args)]
pub(crate) struct LoadArgs {
    /// The exchange's FIX address.
    #[arg(long, default_value = "127.0.0.1:9878", value_name = "ADDR")]
    pub(crate) server: SocketAddr,
    /// The exchange's CompID (TargetCompID).
    #[arg(long, default_value = "BIRZHA", value_name = "COMP_ID")]
    pub(crate) comp_id: String,
    /// The traders to log on as, comma-separated [default: TRADER1..TRADER4, or
    /// LOAD0001..LOADnnnn with --sessions]. The exchange refuses a second Logon of a trader,
    /// so each session needs its own.
    #[arg(long, value_delimiter = ',', value_name = "TRADERS")]
    pub(crate) users: Vec<String>,
    /// The number of sessions: the first N of --users, or LOAD0001..LOADnnnn (see
    /// --print-config).
    #[arg(long, value_name = "N")]
    pub(crate) sessions: Option<usize>,
    /// The traders' password.
    #[arg(long, default_value = "demo")]
    pub(crate) password: String,
    /// New requests per second over all sessions, sent on schedule whatever the replies
    /// (open loop).
    #[arg(long, default_value_t = 1000, value_name = "R", conflicts_with = "flat_out")]
    pub(crate) rate: u32,
    /// With --rate: send each millisecond's requests together on tokio's 1 ms timer instead of
    /// releasing each at its due time from a thread of its own (cheaper for the generator;
    /// the pacing of runs before 2026-11-29).
    #[arg(long, conflicts_with = "flat_out")]
    pub(crate) bursts: bool,
    /// Send as fast as replies allow instead: each session keeps --window requests in flight.
    #[arg(long)]
    pub(crate) flat_out: bool,
    /// Requests in flight per session with --flat-out.
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub(crate) window: usize,
    /// Seconds of sending.
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub(crate) duration: u64,
    /// Request mix in percent: add (passive limit), cancel (of a resting order), aggressive
    /// (IOC limit across the book).
    #[arg(long, default_value = "add=60,cancel=30,aggressive=10", value_parser = parse_mix)]
    pub(crate) mix: Mix,
    /// Instruments to trade, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "BUT82-FCA-USD", value_name = "SYMBOLS")]
    pub(crate) symbols: Vec<String>,
    /// The config file the exchange runs (for the instruments' ticks, reference prices and
    /// bands) [default: the embedded default config].
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub(crate) json: bool,
    /// No progress bar.
    #[arg(long)]
    pub(crate) quiet: bool,
    /// Print the embedded default config with N load traders LOAD0001.. (password `demo`,
    /// one firm each) added, and exit.
    #[arg(long, value_name = "N")]
    pub(crate) print_config: Option<usize>,
    /// Random seed for the request stream.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
}

/// Percentages of each request kind; they add up to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mix {
    /// Passive limit orders, resting away from the touch.
    pub(crate) add: u32,
    /// Cancels of the session's oldest resting order.
    pub(crate) cancel: u32,
    /// IOC limit orders priced across the book.
    pub(crate) aggressive: u32,
}

/// Parses `add=60,cancel=30,aggressive=10` (any order; missing kinds are 0; sum 100).
pub(crate) fn parse_mix(text: &str) -> Result<Mix, String> {
    let mut mix = Mix { add: 0, cancel: 0, aggressive: 0 };
    for part in text.split(',').filter(|part| !part.is_empty()) {
        let (name, value) =
            part.split_once('=').ok_or_else(|| format!("`{part}`: NAME=PERCENT"))?;
        let value: u32 = value.trim().parse().map_err(|_| format!("`{value}` is not a percent"))?;
        match name.trim() {
            "add" => mix.add = value,
            "cancel" => mix.cancel = value,
            "aggressive" => mix.aggressive = value,
            other => return Err(format!("`{other}`: expected add, cancel or aggressive")),
        }
    }
    if mix.add + mix.cancel + mix.aggressive != 100 {
        return Err(format!("`{text}`: the percentages must add up to 100"));
    }
    Ok(mix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixes_parse_and_must_add_up() {
        assert_eq!(
            parse_mix("add=60,cancel=30,aggressive=10"),
            Ok(Mix { add: 60, cancel: 30, aggressive: 10 })
        );
        assert_eq!(parse_mix("aggressive=100"), Ok(Mix { add: 0, cancel: 0, aggressive: 100 }));
        assert!(parse_mix("add=60,cancel=30").is_err());
        assert!(parse_mix("add=sixty").is_err());
        assert!(parse_mix("modify=100").is_err());
    }
}
