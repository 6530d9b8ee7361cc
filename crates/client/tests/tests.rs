//! Integration tests of the client against the real exchange over 127.0.0.1.
//!
//! - `exchange`: the engine, the exchange application and the FIX acceptor run in-process on a
//!   temporary directory (as `crates/gateway/tests/exchange.rs` starts them); traders log on
//!   with `birzha_client::Client` and every request type is sent and its answer checked as a
//!   typed event: fills on both sides, replace, cancel, rejects with their reasons, mass cancel,
//!   order status, market data, the security list, refused logons, and the recovery of missed
//!   fills through a ResendRequest after a reconnect.

mod exchange;
mod util;
