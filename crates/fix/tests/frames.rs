//! Arbitrary bytes through the codec: the shared driver of the `fix_frame` and `fix_message`
//! fuzz targets (`fuzz/fuzz_targets/`, which include this file with `#[path]`) and of the
//! proptests below, which run it on stable.
//!
//! Goal: [`check`], [`parse`] and [`Dictionary::validate`] never panic, whatever the bytes, and
//! framing is a property of the byte stream alone, not of how TCP happens to cut it.
//!
//! Method, [`run_stream`]: the bytes are read the way the gateway's `Connection` reads them, once
//! as one buffer and once in chunks of pseudo-random sizes; both readings must yield the same
//! frames and end the same way (a frame too large ends the connection). `check` must never ask to
//! discard zero bytes (the gateway would spin) nor more than it was given. Every frame is then
//! inspected: its fields tile it exactly, the dictionaries validate it without panicking, and
//! re-encoding its fields with [`MessageWriter`] gives a frame that `check` accepts and that
//! parses to the same tags and values.
//!
//! [`run_message`] wraps arbitrary bytes as the body of a correctly framed message (BodyLength
//! and CheckSum computed), so that the fuzzer spends its time in `parse` and `validate` rather
//! than on checksums; `check` must accept it whole.

use std::path::Path;
use std::sync::OnceLock;

use birzha_fix::{
    Dictionary, FIELDS_MAX_DEFAULT, Fields, FrameErrorKind, MessageWriter, SOH, WriteFields, check,
    checksum, parse,
};

/// How one reading of a stream ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Reading {
    /// The frames `check` accepted, in order.
    pub(crate) frames: Vec<Vec<u8>>,
    /// Whether a frame too large ended the reading.
    pub(crate) too_large: bool,
}

/// Reads `stream` in chunks whose sizes come from `chunk_size`, as the gateway does: check the
/// buffer; a frame is consumed, garbage discarded, "need more" reads the next chunk.
pub(crate) fn read(
    stream: &[u8],
    size_max: usize,
    mut chunk_size: impl FnMut() -> usize,
) -> Reading {
    let mut reading = Reading { frames: Vec::new(), too_large: false };
    let mut buffer: Vec<u8> = Vec::new();
    let mut rest = stream;
    loop {
        match check(&buffer, size_max) {
            Ok(Some(length)) => {
                assert!(length > 0 && length <= buffer.len(), "frame of {length} bytes");
                assert!(length <= size_max, "a frame of {length} bytes exceeds {size_max}");
                reading.frames.push(buffer.drain(..length).collect());
            }
            Ok(None) => {
                if rest.is_empty() {
                    return reading;
                }
                let take = chunk_size().clamp(1, rest.len());
                buffer.extend_from_slice(&rest[..take]);
                rest = &rest[take..];
            }
            Err(error) if matches!(error.kind, FrameErrorKind::TooLarge { .. }) => {
                assert_eq!(error.discard, 0, "TooLarge ends the connection");
                reading.too_large = true;
                return reading;
            }
            Err(error) => {
                assert!(error.discard > 0, "{error:?}: discarding nothing would spin");
                assert!(error.discard <= buffer.len(), "{error:?} beyond {} bytes", buffer.len());
                buffer.drain(..error.discard);
            }
        }
    }
}

/// The fuzz driver for byte streams: `data` is a two-byte header (the size limit and the chunk
/// seed) and the stream.
pub(crate) fn run_stream(data: &[u8]) {
    let (head, stream) = data.split_at(data.len().min(2));
    let size_max = 64 + usize::from(head.first().copied().unwrap_or(0)) * 8;
    let mut seed = u64::from(head.get(1).copied().unwrap_or(0)) | 0x100;
    let whole = read(stream, size_max, || usize::MAX);
    let chunked = read(stream, size_max, || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        1 + (seed >> 59) as usize * (seed >> 62) as usize
    });
    assert_eq!(chunked, whole, "framing depends on how the stream is cut");
    for frame in &whole.frames {
        inspect(frame);
    }
}

/// The fuzz driver for message bodies: `data` (made to start with `35=` and end with SOH) is
/// framed correctly, accepted by `check` and inspected.
pub(crate) fn run_message(data: &[u8]) {
    let mut body = Vec::with_capacity(data.len() + 4);
    if !data.starts_with(b"35=") {
        body.extend_from_slice(b"35=");
    }
    body.extend_from_slice(data);
    if !body.ends_with(&[SOH]) {
        body.push(SOH);
    }
    let frame = frame_of(b"FIX.4.4", &body);
    let size_max = frame.len().max(64);
    assert_eq!(check(&frame, size_max), Ok(Some(frame.len())), "a well-framed message");
    inspect(&frame);
}

/// `8=<begin>|9=<length>|<body>10=<checksum>|` with the right length and checksum.
pub(crate) fn frame_of(begin_string: &[u8], body: &[u8]) -> Vec<u8> {
    let mut frame = b"8=".to_vec();
    frame.extend_from_slice(begin_string);
    frame.extend_from_slice(format!("\x019={}\x01", body.len()).as_bytes());
    frame.extend_from_slice(body);
    let sum = checksum(&frame);
    frame.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
    frame
}

/// The dictionaries frames are validated with: the profile, and the stock `FIX44.xml` when the
/// acceptance data is present (the fuzz targets run without it too).
fn dictionaries() -> &'static [Dictionary] {
    static DICTIONARIES: OnceLock<Vec<Dictionary>> = OnceLock::new();
    DICTIONARIES.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let stock = birzha_fix::stock::fix44_dir(&root)
            .ok()
            .and_then(|dir| birzha_fix::stock::stock_dictionary(&dir).ok());
        std::iter::once(Dictionary::profile()).chain(stock).collect()
    })
}

/// Parses a frame `check` accepted and checks what can be said of any such frame.
pub(crate) fn inspect(frame: &[u8]) {
    let mut fields = Fields::with_capacity(FIELDS_MAX_DEFAULT);
    let Ok(view) = parse(frame, &mut fields) else { return };
    assert_eq!(view.bytes(), frame);
    let mut position = 0;
    for field in view.fields() {
        assert_eq!(field.start as usize, position, "fields tile the frame");
        assert!(field.value_start > field.start && field.value_end >= field.value_start);
        assert_eq!(frame[field.value_end as usize], SOH, "a value ends at an SOH");
        assert!(!view.raw_tag(field).is_empty());
        position = field.value_end as usize + 1;
    }
    assert_eq!(position, frame.len(), "fields tile the frame");
    let tags: Vec<u32> = view.fields().iter().map(|field| field.tag).collect();
    assert_eq!(tags[..3], [8, 9, 35], "check guarantees 8, 9, 35");
    let _ = (view.msg_seq_num(), view.poss_dup(), view.begin_string());
    for dictionary in dictionaries() {
        let _ = dictionary.validate(&view);
    }
    if tags.last() != Some(&10) {
        return; // a data field swallowed the trailer: there is nothing to re-encode
    }
    let mut out = Vec::new();
    let mut writer = MessageWriter::begin(&mut out, view.begin_string(), view.msg_type());
    for field in &view.fields()[3..view.fields().len() - 1] {
        let mut bytes = format!("{}=", field.tag).into_bytes();
        bytes.extend_from_slice(view.value(field));
        bytes.push(SOH);
        writer.raw(&bytes);
    }
    writer.finish();
    assert_eq!(check(&out, usize::MAX), Ok(Some(out.len())), "re-encoded frame");
    let mut again = Fields::with_capacity(FIELDS_MAX_DEFAULT);
    let reparsed = parse(&out, &mut again).expect("a re-encoded frame parses");
    assert_eq!(reparsed.fields().len(), view.fields().len(), "re-encoded field count");
    for (index, (before, after)) in view.fields().iter().zip(reparsed.fields()).enumerate() {
        assert_eq!(after.tag, before.tag, "field {index}: tag");
        // BodyLength and CheckSum are recomputed; every other value is copied.
        if index != 1 && index + 1 != view.fields().len() {
            assert_eq!(reparsed.value(after), view.value(before), "field {index}: value");
        }
    }
}

/// The stable-toolchain equivalents of the `fix_frame` and `fix_message` fuzz targets: streams
/// of valid, damaged and garbage frames, and bodies from a FIX-like alphabet.
#[cfg(test)]
mod property_tests {
    use proptest::prelude::*;

    use super::{frame_of, run_message, run_stream};

    /// Bytes that make FIX: digits, `=`, SOH, a few letters and anything else, rarely.
    fn fix_byte() -> impl Strategy<Value = u8> {
        prop_oneof![
            6 => b'0'..=b'9',
            2 => Just(b'='),
            2 => Just(1u8),
            2 => b'A'..=b'Z',
            1 => any::<u8>(),
        ]
    }

    /// Body fields `tag=value|` with common and rare tags, data-length pairs included.
    fn body() -> impl Strategy<Value = Vec<u8>> {
        let tag = prop_oneof![
            4 => prop::sample::select(vec![
                11, 34, 35, 38, 40, 44, 49, 52, 54, 55, 56, 58, 59, 60, 95, 96, 97, 43, 122, 9, 10,
            ]),
            1 => 0u32..2000,
        ];
        let value = prop::collection::vec(fix_byte(), 0..12);
        prop::collection::vec((tag, value), 0..12).prop_map(|fields| {
            let mut body = b"35=D\x01".to_vec();
            for (tag, value) in fields {
                body.extend_from_slice(format!("{tag}=").as_bytes());
                body.extend(value.into_iter().filter(|&byte| byte != 1));
                body.push(1);
            }
            body
        })
    }

    /// One piece of a stream: a valid frame, a damaged one, or garbage.
    fn piece() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            4 => body().prop_map(|body| frame_of(b"FIX.4.4", &body)),
            2 => (body(), any::<prop::sample::Index>(), any::<u8>()).prop_map(
                |(body, index, byte)| {
                    let mut frame = frame_of(b"FIX.4.4", &body);
                    let at = index.index(frame.len());
                    frame[at] = byte;
                    frame
                }
            ),
            1 => (body(), any::<prop::sample::Index>()).prop_map(|(body, index)| {
                let frame = frame_of(b"FIX.4.4", &body);
                frame[..index.index(frame.len())].to_vec()
            }),
            1 => prop::collection::vec(fix_byte(), 0..16),
        ]
    }

    /// `default` cases, or `PROPTEST_CASES` for a longer run.
    fn cases(default: u32) -> u32 {
        std::env::var("PROPTEST_CASES").ok().and_then(|cases| cases.parse().ok()).unwrap_or(default)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(cases(512)))]

        #[test]
        fn prop_framing_does_not_depend_on_chunking(
            size_max in any::<u8>(),
            seed in any::<u8>(),
            pieces in prop::collection::vec(piece(), 0..8),
        ) {
            let mut data = vec![size_max, seed];
            data.extend(pieces.concat());
            run_stream(&data);
        }

        #[test]
        fn prop_arbitrary_streams(data in prop::collection::vec(any::<u8>(), 0..512)) {
            run_stream(&data);
        }

        #[test]
        fn prop_framed_arbitrary_bodies(data in prop::collection::vec(fix_byte(), 0..256)) {
            run_message(&data);
        }
    }
}
