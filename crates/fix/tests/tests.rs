//! Integration tests of `birzha-fix` over its public interface.
//!
//! - `agreement`: the profile dictionary agrees with the stock QuickFIX `FIX44.xml` on every tag,
//!   type, enumeration, message and required flag it defines (the stock file is test data read
//!   from `shared/fix44-acceptance`, never copied into the project);
//! - `properties`: encode → check → parse round-trips, and `check`, `parse` and `validate`
//!   never panic on arbitrary bytes;
//! - `session`: the session layer as a pure state machine with scripted time.
//! - `frames`: arbitrary bytes through `check`, `parse` and `validate` (the `fix_frame` and
//!   `fix_message` fuzz targets' driver): framing does not depend on how the stream is cut, and
//!   every accepted frame re-encodes to the same fields.
//! - `sequences`: arbitrary message sequences through the session layer (the `fix_session` fuzz
//!   target's driver): outbound numbering, resends, deliveries and timers keep their rules.

mod agreement;
mod frames;
mod properties;
mod sequences;
mod session;
mod util;
