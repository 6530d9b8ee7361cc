//! The order book and matching core of one Birzha instrument.
#![deny(missing_docs)]
