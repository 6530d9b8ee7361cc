//! The binary's own checks, run before the engine's: each names the key, the value and what
//! is allowed. The engine then checks what only it knows (ticks, bands, deposit ratios) in
//! [`birzha_engine::EngineConfig::validate`].

use core::fmt;
use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::error::{ConfigError, quoted};
use super::password::check_hash;
use super::sections::{
    AdminSection, EngineSection, FirmEntry, FixSection, InstrumentEntry, ServerSection, TraderEntry,
};

/// The longest symbol, firm or trader code, and the exchange's CompID.
pub(crate) const CODE_LENGTH_MAX: usize = 32;

/// The shortest admin token.
pub(crate) const TOKEN_LENGTH_MIN: usize = 16;

/// The longest admin token.
pub(crate) const TOKEN_LENGTH_MAX: usize = 256;

/// Checks `[server]`.
pub(crate) fn validate_server(server: &ServerSection) -> Result<(), ConfigError> {
    check_code("server.comp_id", &server.comp_id)?;
    if server.data_dir.as_os_str().is_empty() {
        return Err(ConfigError::invalid("server.data_dir", "\"\"", "a directory path"));
    }
    Ok(())
}

/// Checks `[fix]`.
pub(crate) fn validate_fix(fix: &FixSection) -> Result<(), ConfigError> {
    check_range("fix.heartbeat_seconds_min", fix.heartbeat_seconds_min, 1, 3_600)?;
    check_range(
        "fix.heartbeat_seconds_max",
        fix.heartbeat_seconds_max,
        fix.heartbeat_seconds_min,
        3_600,
    )?;
    check_range("fix.message_size_max", fix.message_size_max, 256, 1 << 20)?;
    check_range("fix.sessions_max", fix.sessions_max, 1, 65_536)?;
    check_range("fix.outbound_queue_capacity", fix.outbound_queue_capacity, 16, 1 << 20)?;
    check_range("fix.resend_messages_max", fix.resend_messages_max, 1_000, 10_000_000)?;
    check_range("fix.logon_failure_delay_ms", fix.logon_failure_delay_ms, 0, 60_000)?;
    check_range("fix.logon_timeout_ms", fix.logon_timeout_ms, 100, 300_000)?;
    let throttle = &fix.throttle;
    check_range("fix.throttle.orders_per_second", throttle.orders_per_second, 1, 1_000_000)?;
    check_range("fix.throttle.cancels_per_second", throttle.cancels_per_second, 1, 1_000_000)?;
    Ok(())
}

/// Checks `[engine]`'s phase settings (the engine checks the rest of the section): calls of
/// 1 s to a day, and a volatility limit of 0 (off) to 100 % in whole basis points.
pub(crate) fn validate_engine(engine: &EngineSection) -> Result<(), ConfigError> {
    let (day, seconds) = (birzha_engine::CALL_SECONDS_MAX, engine.volatility_auction_seconds);
    check_range("engine.volatility_auction_seconds", seconds, 1, day)?;
    check_range("engine.resume_call_seconds", engine.resume_call_seconds, 1, day)?;
    let percent = engine.volatility_percent.0;
    let in_range = Decimal::ZERO <= percent && percent <= Decimal::ONE_HUNDRED;
    if !in_range || !(percent * Decimal::ONE_HUNDRED).fract().is_zero() {
        let allowed = "0 (off) to 100, with at most 2 decimal places";
        return Err(ConfigError::invalid(
            "engine.volatility_percent",
            quoted(&percent.to_string()),
            allowed,
        ));
    }
    Ok(())
}

/// Checks `[admin]`: a loopback address and a long enough printable token.
pub(crate) fn validate_admin(admin: &AdminSection) -> Result<(), ConfigError> {
    if !admin.listen.ip().is_loopback() {
        return Err(ConfigError::invalid(
            "admin.listen",
            quoted(&admin.listen.to_string()),
            "a loopback address (127.0.0.0/8 or [::1]): the admin port must not be reachable \
             from other machines",
        ));
    }
    let token = &admin.token;
    let printable = token.bytes().all(|byte| (0x21..=0x7e).contains(&byte));
    if !printable || token.len() < TOKEN_LENGTH_MIN || token.len() > TOKEN_LENGTH_MAX {
        return Err(ConfigError::invalid(
            "admin.token",
            format!("({} characters)", token.chars().count()),
            format!(
                "{TOKEN_LENGTH_MIN} to {TOKEN_LENGTH_MAX} printable ASCII characters without \
                 spaces"
            ),
        ));
    }
    Ok(())
}

/// Checks that the admin port is not the FIX port (`serve` would fail to bind it).
pub(crate) fn validate_ports(
    server: &ServerSection,
    admin: &AdminSection,
) -> Result<(), ConfigError> {
    let (fix, admin) = (server.listen, admin.listen);
    let same_port = fix.port() == admin.port() && fix.port() != 0;
    if same_port && (fix.ip() == admin.ip() || fix.ip().is_unspecified()) {
        return Err(ConfigError::invalid(
            "admin.listen",
            quoted(&admin.to_string()),
            format!("another port than server.listen ({fix})"),
        ));
    }
    Ok(())
}

/// Checks the `[[instruments]]` entries' codes and texts; prices are the engine's check.
pub(crate) fn validate_instruments(instruments: &[InstrumentEntry]) -> Result<(), ConfigError> {
    let mut seen = BTreeMap::new();
    for (index, entry) in instruments.iter().enumerate() {
        let key = |field: &str| format!("instruments[{index}].{field}");
        check_code(&key("symbol"), &entry.symbol)?;
        check_unique(&mut seen, "instruments", index, &key("symbol"), &entry.symbol)?;
        check_text(&key("description"), &entry.description)?;
        check_text(&key("unit"), &entry.unit)?;
        check_currency(&key("currency"), &entry.currency)?;
    }
    Ok(())
}

/// Checks the `[[firms]]` entries: unique codes, names, and non-negative deposits.
pub(crate) fn validate_firms(firms: &[FirmEntry]) -> Result<(), ConfigError> {
    let mut seen = BTreeMap::new();
    for (index, firm) in firms.iter().enumerate() {
        let key = |field: &str| format!("firms[{index}].{field}");
        check_code(&key("code"), &firm.code)?;
        check_unique(&mut seen, "firms", index, &key("code"), &firm.code)?;
        check_text(&key("name"), &firm.name)?;
        for (currency, amount) in &firm.deposits {
            let deposit_key = key(&format!("deposits.{currency}"));
            check_currency(&format!("{deposit_key} (currency)"), currency)?;
            let micros = amount.0.checked_mul(Decimal::from(1_000_000));
            let most = Decimal::from(birzha_engine::DEPOSIT_UNITS_MAX);
            let whole_micros = micros.is_some_and(|micros| micros.fract().is_zero());
            if amount.0 < Decimal::ZERO || amount.0 > most || !whole_micros {
                let allowed = "an amount of 0 to 10^18, with at most 6 decimal places";
                return Err(ConfigError::invalid(deposit_key, amount.0, allowed));
            }
        }
    }
    Ok(())
}

/// Checks the `[[traders]]` entries: unique codes, known firms, argon2 password hashes.
pub(crate) fn validate_traders(
    traders: &[TraderEntry],
    firms: &[FirmEntry],
) -> Result<(), ConfigError> {
    let mut seen = BTreeMap::new();
    for (index, trader) in traders.iter().enumerate() {
        let key = |field: &str| format!("traders[{index}].{field}");
        check_code(&key("code"), &trader.code)?;
        check_unique(&mut seen, "traders", index, &key("code"), &trader.code)?;
        if !firms.iter().any(|firm| firm.code == trader.firm) {
            let codes: Vec<String> = firms.iter().map(|firm| quoted(&firm.code)).collect();
            let allowed = format!("the code of a firm in [[firms]]: {}", codes.join(", "));
            return Err(ConfigError::invalid(key("firm"), quoted(&trader.firm), allowed));
        }
        if let Err(reason) = check_hash(&trader.password_hash) {
            return Err(ConfigError::invalid(
                key("password_hash"),
                format!("({reason})"),
                "an argon2 PHC string such as \"$argon2id$v=19$m=19456,t=2,p=1$…$…\"; \
                 `birzha passwd` makes one",
            ));
        }
    }
    Ok(())
}

/// Checks a symbol, firm or trader code: it travels in FIX fields and log lines.
fn check_code(key: &str, code: &str) -> Result<(), ConfigError> {
    let allowed_byte =
        |byte: u8| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.');
    if code.is_empty() || code.len() > CODE_LENGTH_MAX || !code.bytes().all(allowed_byte) {
        return Err(ConfigError::invalid(
            key,
            quoted(code),
            format!("1 to {CODE_LENGTH_MAX} characters of A-Z, a-z, 0-9, '-', '_' and '.'"),
        ));
    }
    Ok(())
}

/// Checks that a code was not used by an earlier entry of the same list.
fn check_unique(
    seen: &mut BTreeMap<String, usize>,
    list: &str,
    index: usize,
    key: &str,
    code: &str,
) -> Result<(), ConfigError> {
    if let Some(first) = seen.insert(code.to_owned(), index) {
        let allowed = format!("a code not already used by {list}[{first}]");
        return Err(ConfigError::invalid(key, quoted(code), allowed));
    }
    Ok(())
}

/// Checks a human text: not blank, one line.
fn check_text(key: &str, text: &str) -> Result<(), ConfigError> {
    if text.trim().is_empty() || text.chars().count() > 256 || text.chars().any(char::is_control) {
        return Err(ConfigError::invalid(key, quoted(text), "1 to 256 characters on one line"));
    }
    Ok(())
}

/// Checks an ISO 4217 currency code.
fn check_currency(key: &str, currency: &str) -> Result<(), ConfigError> {
    if currency.len() != 3 || !currency.bytes().all(|byte| byte.is_ascii_uppercase()) {
        return Err(ConfigError::invalid(
            key,
            quoted(currency),
            "an ISO 4217 code of three capital letters, such as \"USD\"",
        ));
    }
    Ok(())
}

/// Checks `min <= value <= max`.
fn check_range<T: PartialOrd + fmt::Display>(
    key: &str,
    value: T,
    min: T,
    max: T,
) -> Result<(), ConfigError> {
    if value < min || value > max {
        return Err(ConfigError::invalid(key, &value, format!("{min} to {max}")));
    }
    Ok(())
}
