//! Integration tests of the `birzha` binary, in one test binary.
//!
//! Goal: check what an operator and a trader see, through the binary and nothing else. Method:
//! every test runs the debug `birzha` (`CARGO_BIN_EXE_birzha`) as a child process on the
//! embedded default config, with ephemeral ports (`--listen 127.0.0.1:0 --admin-listen
//! 127.0.0.1:0`, the bound addresses read from the JSON log) and a temporary data directory;
//! it talks FIX 4.4 over TCP as the demo traders, runs `birzha admin` and `birzha journal`, and
//! reads the JSON log lines on the server's standard output.
//!
//! - `restart`: a restart with more reports to deliver again than the output channel holds
//!   opens its port (it hung once).
//! - `serve`: the default config starts and logs a JSON start-up summary; SIGTERM stops it
//!   cleanly; config errors name the key and exit with code 3.
//! - `trading`: demo traders of two firms trade, both get fills, the log has the trade; a
//!   restart on the same data directory recovers a resting order, which then fills.
//! - `admin`: halt rejects orders with a PHASE reason until resume; a deposit is logged; a
//!   wrong token is refused and logged; `stats` answers; every command is in the journal
//!   (`birzha journal inspect`).
//! - `battery`: hostile and broken clients (garbage, half and huge frames, refused Logons,
//!   sequence games, a Logon flood, a slow reader, thousands of idle connections) are turned
//!   away with a reason while a steady trader keeps its acknowledgements; secrets stay out of
//!   the log.
//! - `operations`: what operators do to a data directory: a second server on it is refused;
//!   a graceful restart keeps every session's orders.
//! - `quickfix`: two traders on QuickFIX (a third-party engine with the stock FIX44.xml and its
//!   default validation) trade, replace, cancel, ask status, mass cancel, follow market data
//!   and phase changes, and take a fill missed while logged out through a resend; neither side
//!   rejects a message.
//! - `journal`: `birzha journal verify` passes on a clean data directory and fails, naming the
//!   file and offset, after a byte in the middle of a journal is flipped; the server refuses to
//!   start on it.
//! - `crash`: crash consistency under load: three traders trade while the server is killed
//!   with SIGKILL ten times; after each restart they resume their sessions, get what they
//!   missed through ResendRequest, and their acknowledgements must equal the recovered state
//!   and a reference replay.

mod admin;
mod battery;
mod crash;
mod journal;
mod operations;
mod quickfix;
mod restart;
mod serve;
mod trading;
mod util;
