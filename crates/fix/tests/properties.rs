//! Property tests of the codec: generated messages round-trip through encode → check → parse,
//! and arbitrary or corrupted bytes never make `check`, `parse` or `validate` panic.

use birzha_fix::{Dictionary, Fields, MessageWriter, WriteFields, check, parse};
use proptest::prelude::*;

const SIZE_MAX: usize = 8192;

/// A field value: printable bytes without SOH, possibly empty, including `=`.
fn value() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(0x20u8..0x7f, 0..40)
}

/// Body fields: small and large tags, avoiding the framing tags and data-length tags.
fn fields() -> impl Strategy<Value = Vec<(u32, Vec<u8>)>> {
    let tag = (1u32..100_000).prop_filter("not framing or length", |tag| {
        ![8, 9, 10, 35, 90, 93, 95, 212, 348, 350, 352, 354, 356, 358, 360, 362, 364, 445, 618, 621]
            .contains(tag)
    });
    proptest::collection::vec((tag, value()), 0..30)
}

fn msg_type() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(prop_oneof![b'0'..=b'9', b'A'..=b'Z', b'a'..=b'z'], 1..3)
}

proptest! {
    #[test]
    fn prop_encode_check_parse_round_trips(msg_type in msg_type(), body in fields()) {
        let mut out = b"junk-before".to_vec();
        let mut writer = MessageWriter::begin(&mut out, b"FIX.4.4", &msg_type);
        for (tag, value) in &body {
            writer.str(*tag, value);
        }
        let range = writer.finish();
        let frame = &out[range.clone()];
        prop_assert_eq!(check(frame, SIZE_MAX), Ok(Some(frame.len())));
        let mut fields_buffer = Fields::with_capacity(64);
        let view = parse(frame, &mut fields_buffer).unwrap();
        prop_assert_eq!(view.msg_type(), &msg_type[..]);
        prop_assert_eq!(view.fields().len(), body.len() + 4);
        for (field, (tag, value)) in view.fields()[3..].iter().zip(&body) {
            prop_assert_eq!(field.tag, *tag);
            prop_assert_eq!(view.value(field), &value[..]);
        }
    }

    #[test]
    fn prop_check_and_parse_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = check(&bytes, 512);
        let mut fields = Fields::with_capacity(64);
        if let Ok(view) = parse(&bytes, &mut fields) {
            let _ = Dictionary::profile().validate(&view);
        }
    }

    #[test]
    fn prop_corrupted_frames_are_rejected_or_resynchronised(
        body in fields(),
        position in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let mut out = Vec::new();
        let mut writer = MessageWriter::begin(&mut out, b"FIX.4.4", b"D");
        for (tag, value) in &body {
            writer.str(*tag, value);
        }
        writer.finish();
        let index = position.index(out.len());
        let original = out[index];
        out[index] = byte;
        match check(&out, SIZE_MAX) {
            Ok(Some(length)) => {
                prop_assert!(length <= out.len());
                let mut fields = Fields::with_capacity(64);
                if let Ok(view) = parse(&out[..length], &mut fields) {
                    let _ = Dictionary::profile().validate(&view);
                }
            }
            Ok(None) => {}
            Err(error) => prop_assert!(error.discard > 0 || byte == original || error.discard == 0),
        }
    }
}
