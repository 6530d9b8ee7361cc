//! The Birzha engine: durable storage for the sequencer of one shard.
//!
//! So far the crate holds the storage layer the sequencer builds on:
//!
//! - [`journal`]: the append-only, checksummed, segmented log of sequenced inputs.
//!   [`journal::JournalWriter`] batches records and makes them durable with group commit;
//!   [`journal::JournalReader`] replays them on start, cutting a torn tail and refusing
//!   corruption.
//! - [`snapshot`]: atomically written, checksummed snapshot files of the engine state; recovery
//!   loads the newest valid one and replays the journal after its sequence number.
//!
//! Payloads are opaque bytes: the caller encodes inputs and state.
//!
//! # Example
//!
//! ```
//! use birzha_engine::journal::{JournalOptions, JournalReader, JournalWriter};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let options = JournalOptions::default();
//! let mut writer = JournalWriter::open(dir.path(), options.clone())?;
//! writer.append(1, 1_700_000_000_000_000_000, 7, b"new order")?;
//! writer.append(2, 1_700_000_000_000_000_100, 8, b"cancel")?;
//! assert_eq!(writer.commit()?, 2); // outputs for inputs 1 and 2 may now leave
//! drop(writer);
//!
//! let mut reader = JournalReader::open(dir.path(), &options, 2)?;
//! let record = reader.next_record()?.expect("record 2");
//! assert_eq!((record.seq, record.kind, record.payload), (2, 8, &b"cancel"[..]));
//! assert!(reader.next_record()?.is_none());
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod calendar;
mod codec;
mod config;
mod deposit;
mod directory;
mod engine;
mod input;
pub mod journal;
pub mod layout;
mod output;
mod phase;
mod recovery;
mod sequencer;
pub mod snapshot;
mod state;
mod text;

pub use calendar::{minsk_date, minsk_end_of};
pub use codec::DecodeError;
pub use config::{
    BATCH_INPUTS_MAX, CALL_SECONDS_MAX, CancelOnDisconnect, ConfigError, DEPOSIT_UNITS_MAX,
    ENTITIES_MAX, EngineConfig, FirmConfig, InstrumentConfig, InstrumentId,
    JOURNAL_SEGMENT_BYTES_DEFAULT, JOURNAL_SEGMENT_BYTES_MIN, PhaseConfig, Registry, SHARDS_MAX,
    Schedule, TraderConfig,
};
pub use deposit::Account as DepositAccount;
pub use engine::{
    BatchKind, Engine, EngineError, EngineHandle, OUTPUT_POOL_MAX, OutputBatch, Route, SubmitError,
};
pub use input::{
    Admin, CancelInput, Input, MassCancelInput, NewOrderInput, OrderKind, OrderRef, ReplaceInput,
    StatusInput, Tif,
};
pub use output::{
    CancelRejected, CancelRequestKind, DepositChange, ExecId, ExecType, Execution, Indicative,
    LastFill, Level, MassCancelDone, OrdStatus, Output, OutputEvent, PhaseChange, Reason,
    RejectReason, Trade, Uncross,
};
pub use phase::Phase;
pub use recovery::{Recovered, RecoveryReport, ShardDirs, recover};
pub use sequencer::{FAULT_RETRY, SNAPSHOTS_KEPT, ShardStats, TICK_INTERVAL};
pub use state::{CL_ORD_IDS_MAX, FINISHED_KEPT, RestoreError, ShardState};
pub use text::{Account, ClOrdId, InlineText, TextError};
