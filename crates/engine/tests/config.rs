//! What `EngineConfig::validate` refuses: values that would overflow the engine's arithmetic
//! later (a shard's panic, or a deadline that wraps), each named by its field.

use birzha_engine::*;
use rust_decimal::Decimal;

use crate::fixture::config;

/// The field a refused config names.
fn refused(config: EngineConfig) -> String {
    match config.validate() {
        Err(ConfigError::Range { field, .. }) => field,
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("accepted"),
    }
}

#[test]
fn deposits_beyond_the_bound_or_finer_than_a_millionth_are_refused() {
    for amount in ["10000000000000000000000", "-1", "0.0000001"] {
        let mut bad = config();
        bad.firms[0].deposits.insert("USD".into(), amount.parse::<Decimal>().expect("decimal"));
        assert_eq!(refused(bad), "firms.FIRM-A.deposits.USD", "{amount}");
    }
    let mut most = config();
    most.firms[0].deposits.insert("USD".into(), Decimal::from(DEPOSIT_UNITS_MAX));
    assert!(most.validate().is_ok(), "10^18 is allowed");
}

#[test]
fn call_lengths_and_the_volatility_limit_are_bounded() {
    let mut long = config();
    long.phases.resume_call_seconds = 100_000_000_000;
    assert_eq!(refused(long), "engine.resume_call_seconds");
    let mut none = config();
    none.phases.volatility_auction_seconds = 0;
    assert_eq!(refused(none), "engine.volatility_auction_seconds");
    let mut wide = config();
    wide.phases.volatility_limit_bp = Some(10_001);
    assert_eq!(refused(wide), "engine.volatility_limit_bp");
    let mut day = config();
    day.phases.resume_call_seconds = CALL_SECONDS_MAX;
    assert!(day.validate().is_ok(), "a day is allowed");
}

#[test]
fn a_tick_and_lot_whose_value_in_millionths_overflows_is_refused() {
    let mut bad = config();
    bad.instruments[0].spec.tick = Decimal::from(1_000_000_000_000i64);
    bad.instruments[0].spec.lot_size = Decimal::from(1_000_000_000_000i64);
    assert_eq!(refused(bad), "instruments.BUT82-FCA-USD.tick");
}
