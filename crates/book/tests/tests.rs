//! Integration tests of the book over its public interface.
//!
//! - `auction`: call auctions (tie-break tables, properties) and volatility interruptions.
//! - `rules`: one test per rule of the market model's order, matching and validation tables.
//! - `properties`: proptest of the replace (modify) semantics.
//! - `simulation`: seeded random streams checked against the naive `reference` book.
//! - `commands`: arbitrary command streams (the `book` fuzz target's driver) checked against the
//!   reference book event for event, including a rebuild from the book's own snapshot.

mod auction;
mod commands;
mod properties;
mod reference;
mod rules;
mod simulation;
mod uncross_model;
mod util;
