//! Decimals read from the config exactly.
//!
//! A TOML float such as `0.95` is binary floating point: the parser turns it into the `f64`
//! nearest to 0.95, which is not 0.95. Prices, ticks and ratios must be the decimals the
//! operator wrote, so the config takes decimals as strings (`tick = "0.01"`) or integers
//! (`lot_size = 5`) and refuses TOML floats with a message saying how to write them.

use core::fmt;

use rust_decimal::Decimal;
use serde::de::{self, Deserialize, Deserializer, Visitor};

/// A decimal written in the config as a string (`"0.95"`) or an integer (`5`), never as a
/// TOML float.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ExactDecimal(pub(crate) Decimal);

impl<'de> Deserialize<'de> for ExactDecimal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ExactDecimalVisitor)
    }
}

/// Accepts strings and integers; explains the refusal of floats.
struct ExactDecimalVisitor;

impl Visitor<'_> for ExactDecimalVisitor {
    type Value = ExactDecimal;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a decimal written as a string, such as \"0.95\", or an integer")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<ExactDecimal, E> {
        parse_exact(text).map(ExactDecimal).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<ExactDecimal, E> {
        Ok(ExactDecimal(Decimal::from(value)))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<ExactDecimal, E> {
        Ok(ExactDecimal(Decimal::from(value)))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<ExactDecimal, E> {
        Err(E::custom(format!(
            "{value:?} is a TOML float, which is binary floating point and not exact; \
             write the decimal as a string, e.g. \"{value:?}\""
        )))
    }
}

/// Parses a plain decimal (`-12.50`), refusing anything that would lose digits.
///
/// # Errors
/// Returns a message naming the text when it is not a plain decimal number (no exponent, no
/// spaces) or has more digits than a 96-bit decimal holds.
pub(crate) fn parse_exact(text: &str) -> Result<Decimal, String> {
    let plain = !text.is_empty()
        && text.bytes().all(|byte| byte.is_ascii_digit() || matches!(byte, b'.' | b'-' | b'+'));
    if !plain {
        return Err(format!("\"{text}\" is not a decimal number such as \"0.95\""));
    }
    Decimal::from_str_exact(text)
        .map_err(|error| format!("\"{text}\" is not an exact decimal number: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Holder {
        value: ExactDecimal,
    }

    fn read(toml_text: &str) -> Result<Decimal, String> {
        toml::from_str::<Holder>(toml_text).map(|holder| holder.value.0).map_err(|e| e.to_string())
    }

    #[test]
    fn strings_keep_every_digit_and_the_scale() {
        let price = read(r#"value = "0.95""#).expect("valid");
        assert_eq!((price.mantissa(), price.scale()), (95, 2));
        let timber = read(r#"value = "290.0""#).expect("valid");
        assert_eq!((timber.mantissa(), timber.scale()), (2900, 1));
        assert_eq!(timber.to_string(), "290.0");
        let tick = read(r#"value = "0.01""#).expect("valid");
        assert_eq!(tick, Decimal::new(1, 2));
        assert_eq!(read(r#"value = "60.00""#).expect("valid").to_string(), "60.00");
    }

    #[test]
    fn integers_are_exact() {
        assert_eq!(read("value = 20000").expect("valid"), Decimal::from(20000));
        let large = read("value = 1000000000000").expect("valid");
        assert_eq!(large, Decimal::from(1_000_000_000_000_i64));
    }

    #[test]
    fn floats_are_refused_with_advice() {
        let error = read("value = 0.95").expect_err("a float is refused");
        assert!(error.contains("TOML float"), "{error}");
        assert!(error.contains("\"0.95\""), "{error}");
        assert!(error.contains("line 1"), "{error}");
    }

    #[test]
    fn malformed_or_lossy_text_is_refused() {
        for bad in ["", "abc", "1e5", " 1", "1,5", "0.1.2"] {
            let text = format!("value = \"{bad}\"");
            assert!(read(&text).is_err(), "{bad:?} must be refused");
        }
        // 30 significant digits do not fit 96 bits: refused rather than rounded.
        assert!(read(r#"value = "0.123456789012345678901234567890""#).is_err());
    }
}
