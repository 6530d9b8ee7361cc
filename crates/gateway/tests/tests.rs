//! Integration tests of the acceptor over real TCP on 127.0.0.1.
//!
//! - `acceptance`: plays every QuickFIX FIX 4.4 server acceptance script against the acceptor
//!   with the echo application, comparing as QuickFIX's test runner does;
//! - `gateway`: the gateway's own guarantees (pushing messages, slow readers, refused Logons,
//!   persistence across reconnects, graceful shutdown, outbound validity under the stock
//!   dictionary);
//! - `exchange`: end to end with the real engine: orders, fills, market data, resend after a
//!   reconnect, cancel-on-disconnect, throttles, every outbound message checked against the
//!   stock dictionary;
//! - `outbound`: what traders receive, end to end: execution reports of a seeded random order
//!   stream held to FIX 4.4's rules, a subscriber's book from W + X (full and depth-limited)
//!   equal to the real one, one-sided subscriptions, status of finished orders, group order,
//!   BusinessMessageRejects (for unhandled types, and resent, not gap-filled);
//! - `security`: another firm's orders are unknown to every order-handling message (F, G, H,
//!   q, D), untouched, and never reported to the wrong trader; colleagues of one firm cancel
//!   by OrderID only;
//! - `limits`: parallel Logons from a refused address, a shutdown during a Logon's delay or a
//!   blocked write, sustained throttle abuse;
//! - `admin`: the admin port with the real engine: commands become inputs, wrong tokens,
//!   over-long lines, surplus and idle connections are refused, shutdown ends the port.

mod acceptance;
mod admin;
mod exchange;
mod gateway;
mod inbound;
mod limits;
mod outbound;
mod security;
mod util;
