//! Determinism, snapshots and deposit accounting over long seeded streams.
//!
//! - A stream is applied to a shard state while every input is also encoded as the journal
//!   would hold it; a second state that only sees the decoded journal payloads must produce the
//!   same outputs and end in the same state (equal state hashes).
//! - A fourth state applies the first half of the inputs quietly, without outputs (as recovery
//!   replays inputs whose outputs were delivered before a restart), then must produce the same
//!   outputs as the live state and end in the same state.
//! - Halfway, the state is snapshotted and restored into a third state, which must continue to
//!   the same end.
//! - After every input, each firm's deposit in each currency is conserved
//!   (`free + reserved + consumed` = what was credited) and nothing is negative.
//!
//! A failure names its seed; rerun with `BIRZHA_ENGINE_SEED=<seed>`.

use birzha_book::FirmId;
use birzha_engine::*;

use crate::fixture::{Driver, registry};
use crate::stream::Stream;

const INPUTS: usize = 20_000;

fn seeds() -> Vec<u64> {
    match std::env::var("BIRZHA_ENGINE_SEED").ok().and_then(|seed| seed.parse().ok()) {
        Some(seed) => vec![seed],
        None => vec![1, 2, 3],
    }
}

/// What each firm holds per currency: free + reserved + consumed.
fn totals(driver: &Driver) -> Vec<i128> {
    let mut totals = Vec::new();
    for firm in 0..3 {
        for currency in ["BYN", "RUB", "USD"] {
            let account = driver.state.deposit(FirmId(firm), currency).expect("account");
            assert!(account.free >= 0 && account.reserved >= 0 && account.consumed >= 0);
            totals.push(account.free + account.reserved + account.consumed);
        }
    }
    totals
}

fn credited(input: &Input, shard: u16) -> Option<(usize, i128)> {
    let Input::Admin(Admin::Deposit { firm, currency, amount_micros }) = input else {
        return None;
    };
    let currency_index = ["BYN", "RUB", "USD"].iter().position(|c| *c == currency.as_str())?;
    let owner = registry().shard_of_currency(currency.as_str())?;
    (owner == usize::from(shard)).then_some((firm.0 as usize * 3 + currency_index, *amount_micros))
}

fn run(seed: u64, shard: u16, outcomes: &mut std::collections::BTreeSet<String>) {
    let mut live = Driver::new(shard);
    let mut journaled = Driver::new(shard);
    let mut quiet = Driver::new(shard);
    let mut restored: Option<Driver> = None;
    let mut stream = Stream::new(seed);
    let mut expected_totals = totals(&live);
    let mut payload = Vec::new();
    let mut working_max = 0;
    for step in 0..INPUTS {
        let (time, input) = stream.next();
        payload.clear();
        input.encode(&mut payload);
        let decoded = Input::decode(input.kind(), &payload).expect("own encoding decodes");
        assert_eq!(decoded, input, "seed {seed} step {step}: codec round trip");
        let outputs = live.apply_at(time, input);
        if step < INPUTS / 2 {
            quiet.apply_quietly_at(time, input);
        } else {
            assert_eq!(quiet.apply_at(time, input), outputs, "seed {seed} step {step}: quiet");
        }
        assert_eq!(journaled.apply_at(time, decoded), outputs, "seed {seed} step {step}: replay");
        if let Some(restored) = restored.as_mut() {
            assert_eq!(restored.apply_at(time, input), outputs, "seed {seed} step {step}: restore");
        }
        if let Some((index, amount)) = credited(&input, shard) {
            let before =
                live.state.deposit(FirmId((index / 3) as u32), ["BYN", "RUB", "USD"][index % 3]);
            let applied = outputs.iter().any(
                |o| matches!(o, OutputEvent::Deposit(d) if d.amount_micros == amount && d.applied),
            );
            if applied && before.is_some() {
                expected_totals[index] += amount;
            }
        }
        assert_eq!(totals(&live), expected_totals, "seed {seed} step {step}: deposits conserved");
        working_max = working_max.max(live.state.orders_working());
        outcomes.extend(outputs.iter().map(outcome));
        if step == INPUTS / 2 {
            let mut bytes = Vec::new();
            live.state.encode_snapshot(&mut bytes);
            let state = ShardState::restore(registry(), &bytes).expect("own snapshot restores");
            assert_eq!(state.state_hash(), live.state.state_hash(), "seed {seed}: snapshot");
            restored = Some(Driver { state, seq: live.seq });
        }
    }
    let hash = live.state.state_hash();
    assert_eq!(journaled.state.state_hash(), hash, "seed {seed}: replayed state differs");
    assert_eq!(quiet.state.state_hash(), hash, "seed {seed}: quietly replayed state differs");
    let restored = restored.expect("restored halfway");
    assert_eq!(restored.state.state_hash(), hash, "seed {seed}: restored state differs");
    assert!(working_max > 20, "seed {seed}: the stream must build a book: {working_max}");
}

/// Names an output's kind of outcome, for the coverage check.
fn outcome(output: &OutputEvent) -> String {
    match output {
        OutputEvent::Execution(execution) => match execution.reason {
            Some(Reason::Reject(reason)) => format!("reject {}", reason.code()),
            Some(Reason::Cancel(reason)) => format!("cancel {reason:?}"),
            _ => format!("{:?}", execution.exec_type),
        },
        OutputEvent::CancelRejected(rejected) => {
            format!("cancel reject {}", rejected.reason.code())
        }
        other => format!("{other:?}").split('(').next().unwrap_or_default().to_string(),
    }
}

/// Outcomes every stream must have produced on every shard, or the generator has gone blind.
const OUTCOMES: &[&str] = &[
    "New",
    "Trade",
    "Replaced",
    "Restated",
    "Expired",
    "cancel Request",
    "cancel ImmediateOrCancel",
    "cancel SelfMatch",
    "cancel Disconnect",
    "reject DUPLICATE_CLORDID",
    "reject INSUFFICIENT_DEPOSIT",
    "reject PRICE_OUTSIDE_BAND",
    "cancel reject UNKNOWN_ORDER",
    "cancel reject TOO_LATE",
    "Level",
    "Indicative",
    "Uncross",
];

#[test]
fn replay_and_restore_reproduce_outputs_and_state_and_deposits_are_conserved() {
    let mut outcomes = std::collections::BTreeSet::new();
    for seed in seeds() {
        run(seed, 0, &mut outcomes);
        run(seed, 1, &mut outcomes);
    }
    for wanted in OUTCOMES {
        assert!(outcomes.contains(*wanted), "no {wanted} in the run: {outcomes:?}");
    }
}
