//! Integration tests of the engine, in one binary.
//!
//! - `config`: what `EngineConfig::validate` refuses (values that would overflow later).
//! - `day`: a scheduled trading day driven by ticks, phases in order, replayed exactly.
//! - `exchange`: the shard state machine's rules, input by input, on a small exchange
//!   (`fixture`).
//! - `payloads`: arbitrary journal payloads through `Input::decode` and arbitrary (and damaged
//!   genuine) snapshot payloads through `ShardState::restore` (the `engine_payload` fuzz target's
//!   driver): no panic, and what decodes re-encodes to the same bytes.
//! - `replay`: seeded streams (`stream`) replayed from their journal encoding and restored from
//!   a snapshot give the same outputs and state; deposits are conserved.
//! - `phases`: operator halts and resumes against the day schedule; what Closed takes.
//! - `reservations`: a firm's reserved deposit equals what its working orders reserve, after
//!   every input of random streams through every order type, phase and operator command.
//! - `restart`: a real engine on disk: restart from snapshot or journal, and SIGKILL of a
//!   child process that loses no acknowledged order.
//!
//! Each module drives the public API against real files in a temporary directory, then damages
//! those files the way crashes and bad disks do and checks what recovery reports:
//!
//! - `journal`: round trips across segment rotations, reopen-and-continue, a torn tail cut at
//!   every byte offset of the last record, flipped bytes in the middle and at the end, sequence
//!   gaps, segment removal, a property test over random record streams and one over random
//!   damage (never a panic, never a damaged record handed out);
//! - `segments`: arbitrary segment files (the `journal` fuzz target's driver): the reader and the
//!   writer never panic, hand out only whole records, and agree on where the journal continues;
//! - `snapshot`: fallback from a missing, truncated or corrupt newest snapshot to an older one;
//! - `snapshots`: arbitrary snapshot directories (the `snapshot` fuzz target's driver): loading
//!   picks exactly the newest well-formed snapshot and reports every newer one, before and after
//!   retention;
//! - `allocation`: a counting global allocator shows that `append`, `commit` and replay
//!   within a segment allocate nothing;
//! - `crash`: a child process (this binary, re-executed) appends and commits records while the
//!   parent kills it with SIGKILL at random moments; every record the child reported durable
//!   must be readable afterwards.

mod allocation;
mod config;
mod crash;
mod day;
mod day_edges;
mod exchange;
mod fault;
mod fixture;
mod journal;
mod operator;
mod payloads;
mod phases;
mod replay;
mod reservations;
mod restart;
mod segments;
mod snapshot;
mod snapshots;
mod stream;
mod util;
