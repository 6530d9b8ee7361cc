//! Load traders: their names and a config that lets them log on.
//!
//! The exchange refuses a second Logon of a logged-on trader, so N sessions need N traders.
//! `birzha load --print-config N` prints the embedded default config with traders
//! `LOAD0001`..`LOADnnnn` added, each in its own firm (so their orders trade with each other
//! rather than being stopped by self-match prevention), all with the demo password; run the
//! server on it and `birzha load --sessions N` logs on as them.

use std::fmt::Write as _;

use crate::config::DEFAULT_TOML;

/// The name of load trader `index` (from 1).
pub(crate) fn load_trader(index: usize) -> String {
    format!("LOAD{index:04}")
}

/// The argon2 hash of `demo` the default config's first demo trader has.
fn demo_hash() -> Option<&'static str> {
    let line = DEFAULT_TOML.lines().find(|line| line.starts_with("password_hash = \""))?;
    line.strip_prefix("password_hash = \"")?.strip_suffix('"')
}

/// The default config plus `count` load traders, each with its own firm.
pub(crate) fn config_with_load_traders(count: usize) -> String {
    let hash = demo_hash().unwrap_or_default();
    let mut text = DEFAULT_TOML.to_owned();
    let _ = write!(
        text,
        "\n# {count} load traders for `birzha load --sessions {count}`: password `demo`, \
         one firm each.\n"
    );
    for index in 1..=count {
        let trader = load_trader(index);
        let _ = write!(
            text,
            "\n[[firms]]\ncode = \"{trader}-FIRM\"\nname = \"Load firm {index}\"\n\
             [firms.deposits]\nUSD = 1_000_000_000_000\nCNY = 1_000_000_000_000\n\
             BYN = 1_000_000_000_000\nRUB = 1_000_000_000_000\nEUR = 1_000_000_000_000\n\
             \n[[traders]]\ncode = \"{trader}\"\nfirm = \"{trader}-FIRM\"\n\
             password_hash = \"{hash}\"\n"
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn the_load_config_is_valid_and_names_the_traders() {
        let text = config_with_load_traders(3);
        let config = Config::from_toml(&text, "load config").unwrap_or_else(|e| panic!("{e}"));
        let codes: Vec<&str> = config.traders.iter().map(|t| t.code.as_str()).collect();
        assert_eq!(codes[4..], ["LOAD0001", "LOAD0002", "LOAD0003"]);
        assert_eq!(config.firms.len(), 3 + 3);
        assert_eq!(config.demo_traders().len(), 4 + 3, "every load trader logs on with `demo`");
    }

    /// Regression (issue 7): the demo-password check verified every trader's hash, and a
    /// config with 1,000 load traders took 26 s to start on the 2-core build machine.
    #[test]
    fn a_thousand_load_traders_are_checked_for_the_demo_password_in_a_moment() {
        let text = config_with_load_traders(1_000);
        let config = Config::from_toml(&text, "load config").unwrap_or_else(|e| panic!("{e}"));
        let started = std::time::Instant::now();
        assert_eq!(config.demo_traders().len(), 4 + 1_000);
        let took = started.elapsed();
        assert!(took < std::time::Duration::from_secs(5), "{took:?}");
    }
}
