//! The Birzha FIX 4.4 acceptor: a tokio TCP server that runs the `birzha-fix` session layer for
//! every trader connection, in the shape of mini-redis.
//!
//! - [`run`] (the `Listener`) accepts connections with exponential backoff on errors, at most
//!   [`GatewayConfig::sessions_max`] at once (a semaphore; a connection beyond it is closed at
//!   once and the refusal logged), and spawns one handler task each;
//! - the handler (`Handler`) runs the Logon phase (first message must be a valid Logon the
//!   application authenticates; refusals get a Logout with the reason, and repeated refusals
//!   from one address are delayed) and then the session loop;
//! - `Connection` is the only code that touches bytes: a reused `BytesMut`, two-phase decode,
//!   batched writes;
//! - `Shutdown` carries the shutdown broadcast: on shutdown every session is logged out and the
//!   server waits briefly for the Logout exchanges;
//! - [`Sessions`] is the registry through which the application pushes messages to a trader
//!   at any time, from any thread, into a bounded per-session queue (a full queue disconnects
//!   the slow reader; its messages stay in its store for the resend after it reconnects).
//!
//! [`admin`] is the operators' port beside it: a loopback-only line protocol whose commands
//! become engine inputs (and so are journaled), with its blocking client for `birzha admin`.
//!
//! The application is a [`birzha_fix::session::Application`]: it authenticates Logons and
//! receives validated application messages. [`EchoApplication`] echoes orders back, as the
//! QuickFIX acceptance tests expect.
//!
//! # Logging
//! Events are emitted with `tracing`, in a span per connection with the connection id, peer
//! address and (after Logon) the CompID. The library installs no subscriber.
//!
//! # Example
//! ```no_run
//! use std::sync::Arc;
//! use birzha_gateway::{EchoApplication, GatewayConfig, Sessions, run};
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let config = GatewayConfig::new("BIRZHA");
//! let sessions = Sessions::new(&config);
//! let application = Arc::new(EchoApplication::new(sessions.clone(), ["TRADER1"]));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9878").await?;
//! // Any future ends the server: in the binary, Ctrl-C or SIGTERM.
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! run(listener, config, application, sessions, stopped).await?;
//! # drop(stop);
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

pub mod admin;
mod backoff;
mod clock;
mod config;
mod connection;
mod echo;
mod error;
pub mod exchange;
mod handler;
mod registry;
mod server;
mod shutdown;

pub use config::{GatewayConfig, StoreConfig};
pub use echo::EchoApplication;
pub use error::GatewayError;
pub use registry::{OutboundMessage, SendBuffers, SendError, Sessions};
pub use server::run;
