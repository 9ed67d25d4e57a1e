//! The FPS QR decoder on arbitrary input. Whatever the bytes, `decode_bytes` answers without
//! panicking; whatever decodes is stable: it encodes, the encoding decodes to the same code,
//! and — when its fields were in ascending order with an upper-case CRC, as writers put them —
//! the encoding is the very same text. The input is also tried as a payload without its CRC,
//! with the right CRC appended, so that the fuzzer gets past the checksum into the fields.
#![no_main]

use bauhinia_fps::qr::{self, Decoded, RawField};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(decoded) = qr::decode_bytes(data) {
        check_stable(data, &decoded);
    }
    if let Ok(body) = std::str::from_utf8(data) {
        let mut payload = format!("{body}6304");
        payload.push_str(&qr::checksum_hex(payload.as_bytes()));
        if let Ok(decoded) = qr::decode(&payload) {
            check_stable(payload.as_bytes(), &decoded);
        }
    }
});

fn check_stable(original: &[u8], decoded: &Decoded) {
    let payload = match qr::encode(&decoded.qr) {
        Ok(payload) => payload,
        Err(e) => panic!("a decoded code does not encode: {e}"),
    };
    let again = match qr::decode(&payload) {
        Ok(again) => again,
        Err(e) => panic!("an encoded code does not decode: {e}: {payload}"),
    };
    assert_eq!(again.qr, decoded.qr, "{payload}");
    let canonical = ascending(&decoded.fields)
        && decoded.fields.iter().all(|f| ascending(&f.sub_fields))
        && !decoded.crc.bytes().any(|b| b.is_ascii_lowercase());
    if canonical {
        assert_eq!(payload.as_bytes(), original, "{payload}");
    }
}

fn ascending(fields: &[RawField]) -> bool {
    fields.windows(2).all(|pair| match pair {
        [a, b] => a.id < b.id,
        _ => true,
    })
}
