//! The `birzha` command: the exchange server and its tools.

fn main() {}
