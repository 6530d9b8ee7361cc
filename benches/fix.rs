//! FIX codec benchmarks: the two per-message costs on the gateway's hot path.
//!
//! - `fix/parse_new_order_single`: frame check (BodyLength, CheckSum) plus the zero-copy parse of
//!   a typical NewOrderSingle (18 fields, ~190 bytes) into a reused field buffer, and reading the
//!   fields the exchange needs;
//! - `fix/encode_execution_report`: writing a fill ExecutionReport (header, 17 body fields,
//!   timestamps, decimals) into a reused buffer, with BodyLength and CheckSum. The text values
//!   pass through `black_box`, so their SOH checks run as they do on runtime values.
//!
//! Targets: ≤ 250 ns each, no allocation per message (proved separately by
//! `crates/fix/tests/allocations.rs`). Run with `cargo bench --bench fix`.
use std::hint::black_box;

use birzha_fix::{Fields, MessageWriter, UtcTimestamp, WriteFields, check, checksum, parse};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn new_order_single() -> Vec<u8> {
    let body = "35=D\x0134=1024\x0149=TRADER01\x0152=20240315-10:30:00.123\x0156=BIRZHA\x01\
                11=ORD-000123\x011=ACC-7\x0155=BUTTER-82\x0154=1\x0138=25\x0140=2\x01\
                44=6800.50\x0159=0\x0160=20240315-10:30:00.120\x012964=1\x01";
    let mut frame = format!("8=FIX.4.4\x019={}\x01{body}", body.len()).into_bytes();
    let sum = checksum(&frame);
    frame.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
    frame
}

fn parse_new_order_single(criterion: &mut Criterion) {
    let frame = new_order_single();
    let mut fields = Fields::with_capacity(256);
    let mut group = criterion.benchmark_group("fix");
    group.throughput(Throughput::Elements(1));
    group.bench_function("parse_new_order_single", |bencher| {
        bencher.iter(|| {
            let bytes = black_box(&frame[..]);
            let length = check(bytes, 16 * 1024).unwrap().unwrap();
            let view = parse(&bytes[..length], &mut fields).unwrap();
            black_box((view.msg_seq_num(), view.get(11), view.get(44), view.get(38)));
        });
    });
    group.finish();
}

fn encode_execution_report(criterion: &mut Criterion) {
    let mut out = Vec::with_capacity(1024);
    let now = UtcTimestamp(1_710_498_600_123);
    let mut group = criterion.benchmark_group("fix");
    group.throughput(Throughput::Elements(1));
    let mut sequence = 0u64;
    group.bench_function("encode_execution_report", |bencher| {
        bencher.iter(|| {
            sequence += 1;
            out.clear();
            let mut writer = MessageWriter::begin(&mut out, b"FIX.4.4", b"8");
            writer.uint(34, black_box(sequence)).str(49, black_box(b"BIRZHA")).timestamp(52, now);
            writer
                .str(56, black_box(b"TRADER01"))
                .str(37, black_box(b"O-000000042"))
                .str(11, black_box(b"ORD-000123"));
            writer
                .str(17, black_box(b"E-000000777"))
                .char(150, b'F')
                .char(39, b'2')
                .str(1, black_box(b"ACC-7"));
            writer.str(55, black_box(b"BUTTER-82")).char(54, b'1').uint(38, 25).char(40, b'2');
            writer.decimal(44, 680_050, 2).uint(32, 25).decimal(31, 680_050, 2).char(851, b'2');
            writer.uint(151, 0).uint(14, 25).decimal(6, 680_050, 2).timestamp(60, now);
            black_box(writer.finish());
        });
    });
    group.finish();
}

criterion_group!(benches, parse_new_order_single, encode_execution_report);
criterion_main!(benches);
