//! Trader passwords: argon2 hashes in PHC string form (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`).
//!
//! The config holds only hashes. `birzha passwd` makes one with argon2's recommended
//! parameters (argon2id, 19 MiB, 2 passes) and a random salt; the gateway verifies logons with
//! the parameters stored in each hash.

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier};

/// The password of every demo trader in the default config.
pub(crate) const DEMO_PASSWORD: &str = "demo";

/// The most memory (KiB) a hash may make a verification take: a logon verifies with the
/// hash's own costs, and a config must not make each logon (or the start-up's check for demo
/// passwords) take minutes or gigabytes.
const MEMORY_KIB_MAX: u32 = 256 * 1024;

/// The most passes a hash may ask for.
const PASSES_MAX: u32 = 16;

/// The most lanes a hash may ask for.
const LANES_MAX: u32 = 8;

/// Hashes `password` with a fresh random salt.
///
/// # Errors
/// Returns the hasher's reason when the system's random source fails or the password is
/// longer than argon2 accepts.
pub(crate) fn hash_password(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|error| format!("cannot hash the password: {error}"))
}

/// Returns whether `password` matches `hash`; a malformed hash matches nothing.
pub(crate) fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Checks that `hash` is an argon2 PHC string whose parameters argon2 accepts.
///
/// # Errors
/// Returns what is wrong: not a PHC string, another algorithm, bad parameters, or no salt or
/// hash output.
pub(crate) fn check_hash(hash: &str) -> Result<(), String> {
    let parsed = PasswordHash::new(hash).map_err(|error| format!("not a PHC string: {error}"))?;
    Algorithm::try_from(parsed.algorithm.as_str())
        .map_err(|_| format!("algorithm `{}` is not argon2", parsed.algorithm.as_str()))?;
    let params =
        Params::try_from(&parsed).map_err(|error| format!("bad argon2 parameters: {error}"))?;
    let (memory, passes, lanes) = (params.m_cost(), params.t_cost(), params.p_cost());
    if memory > MEMORY_KIB_MAX || passes > PASSES_MAX || lanes > LANES_MAX {
        return Err(format!(
            "argon2 costs m={memory} t={passes} p={lanes} are above the limits \
             m={MEMORY_KIB_MAX} t={PASSES_MAX} p={LANES_MAX}: every logon of the trader is \
             verified with them (`birzha passwd` makes m=19456 t=2 p=1)"
        ));
    }
    if parsed.salt.is_none() || parsed.hash.is_none() {
        return Err("the salt or the hash output is missing".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = hash_password("s3cret").expect("hashes");
        assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        assert!(check_hash(&hash).is_ok());
        assert!(verify_password("s3cret", &hash));
        assert!(!verify_password("demo", &hash));
        // Two hashes of one password differ by their salts.
        assert_ne!(hash, hash_password("s3cret").expect("hashes"));
    }

    #[test]
    fn malformed_hashes_are_refused_and_match_nothing() {
        for bad in
            ["", "demo", "$argon2id$v=19$m=19456,t=2,p=1", "$pbkdf2-sha256$i=1000$c2FsdA$aGFzaA"]
        {
            assert!(check_hash(bad).is_err(), "{bad:?} must be refused");
            assert!(!verify_password("demo", bad));
        }
    }

    #[test]
    fn hashes_costing_more_than_the_limits_are_refused() {
        let hash = hash_password("s3cret").expect("hashes");
        for (from, to) in [("m=19456", "m=1048576"), ("t=2", "t=4294967295"), ("p=1", "p=16")] {
            let costly = hash.replacen(from, to, 1);
            let error = check_hash(&costly).expect_err("refused");
            assert!(error.contains("above the limits"), "{error}");
            assert!(error.contains(to), "{error}");
        }
    }
}
