//! A trader's FIX 4.4 client for the Birzha exchange: an async (tokio) initiator built on the
//! `birzha-fix` codec.
//!
//! - [`Client::connect`] connects, logs on (SenderCompID = the trader, TargetCompID `BIRZHA`,
//!   Password 554, HeartBtInt 108) and returns a [`Client`] and its [`Events`];
//! - typed requests ([`NewOrder`], [`CancelOrder`], [`ReplaceOrder`], [`MassCancel`],
//!   [`OrderStatus`], [`MarketDataRequest`], [`SecurityListRequest`]) are validated, encoded and
//!   numbered by [`Client::send`] or a cloned [`RequestSender`];
//! - what the exchange sends arrives decoded as [`Event`]s: ExecutionReport, OrderCancelReject,
//!   MassCancelReport, market data (W, X, Y), TradingSessionStatus, SecurityList, and rejects;
//! - the session task answers TestRequests, sends Heartbeats, detects sequence gaps and asks
//!   for a resend, answers the exchange's ResendRequest with a gap fill, and handles Logout
//!   both ways; [`Client::logout`] ends the session cleanly and returns the
//!   [`SequenceNumbers`] to log on with next time (the exchange keeps them across
//!   reconnects).
//!
//! Errors are typed: [`RequestError`] for a value that cannot go on the wire, [`ClientError`]
//! for a session that could not start or failed. Business outcomes (a reject, a refused
//! cancel) are events, never errors.
//!
//! # Example
//! ```no_run
//! use birzha_client::{Client, ClientConfig, Event, NewOrder, Side, TimeInForce};
//!
//! # async fn example() -> Result<(), birzha_client::ClientError> {
//! let config = ClientConfig::new("TRADER1", "demo");
//! let (client, mut events) = Client::connect("127.0.0.1:9878", config).await?;
//! let price = "6800".parse().expect("a decimal");
//! let order = NewOrder::limit("C-1", "BUT82-FCA-USD", Side::Buy, 3, price)
//!     .time_in_force(TimeInForce::ImmediateOrCancel);
//! client.send(order).await?;
//! while let Some(event) = events.recv().await {
//!     if let Event::Execution(report) = event {
//!         println!("{:?} {:?}: leaves {}", report.exec_type, report.status, report.leaves);
//!         if !report.status.is_working() {
//!             break;
//!         }
//!     }
//! }
//! let end = client.logout().await?;
//! println!("next time log on with {:?}", end.numbers);
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod client;
mod connection;
mod error;
mod event;
mod request;
mod session;

pub use client::{
    Client, ClientConfig, EndReason, Events, RequestSender, SequenceNumbers, SessionEnd,
};
pub use error::{ClientError, DecodeError, RequestError};
pub use event::{
    CancelReject, CancelRejectTo, EntryType, Event, ExecType, ExecutionReport, Fill, MarketData,
    MarketDataEntry, MassCancelReport, MessageReject, OrdStatus, Security, SecurityList,
    SessionStatus, UpdateAction,
};
pub use request::{
    ACCOUNT_LEN_MAX, CancelOrder, MarketDataRequest, MassCancel, NewOrder, OrderRef, OrderStatus,
    ReplaceOrder, Request, SecurityListRequest, SelfMatchMode, Side, Subscription, TEXT_LEN_MAX,
    TimeInForce,
};

/// Re-exported: prices are `rust_decimal::Decimal`s.
pub use rust_decimal::Decimal;
