//! The codec's tests: known payloads, every error with its exact variant and message, and
//! properties (round trips; no input makes the decoder panic).

use bauhinia_core::Currency;
use proptest::prelude::*;

use super::*;

/// `id`, 2-digit length, value; for each pair.
fn tlv(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(id, value)| format!("{id}{:02}{value}", value.chars().count()))
        .collect()
}

/// `body` + `6304` + its CRC.
fn with_crc(body: &str) -> String {
    let mut payload = format!("{body}6304");
    let crc = checksum_hex(payload.as_bytes());
    payload.push_str(&crc);
    payload
}

fn fps_account() -> String {
    tlv(&[("00", "hk.com.hkicl"), ("01", "004"), ("02", "1234567")])
}

/// A valid static code's fields, in order (field 26 at position 12, 63 at 83).
fn standard() -> Vec<(&'static str, String)> {
    vec![
        ("00", "01".to_owned()),
        ("01", "11".to_owned()),
        ("26", fps_account()),
        ("52", "0000".to_owned()),
        ("53", "344".to_owned()),
        ("58", "HK".to_owned()),
        ("59", "NA".to_owned()),
        ("60", "HK".to_owned()),
    ]
}

fn build(fields: &[(&str, String)]) -> String {
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(id, v)| (*id, v.as_str())).collect();
    with_crc(&tlv(&pairs))
}

/// The standard fields with `id` set to `value` (replaced in place, or added in id order).
fn with(id: &'static str, value: &str) -> Vec<(&'static str, String)> {
    let mut fields = standard();
    match fields.iter_mut().find(|(i, _)| *i == id) {
        Some(field) => field.1 = value.to_owned(),
        None => {
            fields.push((id, value.to_owned()));
            fields.sort_by_key(|(i, _)| *i);
        }
    }
    fields
}

fn without(id: &str) -> Vec<(&'static str, String)> {
    standard().into_iter().filter(|(i, _)| *i != id).collect()
}

fn id(n: u8) -> FieldId {
    FieldId::new(n).unwrap()
}

/// Decoding `payload` fails with exactly `error`, whose message is exactly `message`.
#[track_caller]
fn check(payload: &str, error: QrError, message: &str) {
    let got = decode(payload).expect_err(payload);
    assert_eq!(got, error, "{payload}");
    assert_eq!(got.to_string(), message, "{payload}");
}

/// Position of the first `needle` in `payload`, in characters.
fn at(payload: &str, needle: &str) -> usize {
    let byte = payload.find(needle).unwrap();
    payload[..byte].chars().count()
}

#[test]
fn decodes_the_standard_payload() {
    let payload = build(&standard());
    assert_eq!(
        payload,
        "00020101021126340012hk.com.hkicl010300402071234567520400005303344\
         5802HK5902NA6002HK6304"
            .to_owned()
            + &payload[payload.len() - 4..]
    );
    let decoded = decode(&payload).unwrap();
    let qr = &decoded.qr;
    assert_eq!(qr.initiation, Some(Initiation::Static));
    assert_eq!(qr.account.participant.as_ref().unwrap().as_str(), "004");
    assert_eq!(
        qr.account.proxy,
        Proxy::FpsId(FpsId::parse("1234567").unwrap())
    );
    assert_eq!(qr.merchant_category_code.as_str(), "0000");
    assert_eq!(qr.currency, Currency::Hkd);
    assert_eq!(qr.amount, None);
    assert_eq!(qr.merchant_name.as_str(), "NA");
    assert_eq!(qr.merchant_city.as_str(), "HK");
    assert_eq!(decoded.fields.len(), 9);
    assert_eq!(decoded.fields[2].position, 12);
    assert_eq!(decoded.fields[2].sub_fields[2].position, 39);
    assert_eq!(decoded.fields[8].position, 83);
    assert_eq!(encode(qr).unwrap(), payload);
}

#[test]
fn decodes_the_api_example() {
    let payload = "00020101021226360012hk.com.hkicl01030040209123456789520400005303344540512.30\
                   5802HK5902NA6002HK62090505INV016304AD06";
    let decoded = decode(payload).unwrap();
    assert_eq!(
        decoded.qr.money(),
        Some(bauhinia_core::Money::hkd_cents(1230))
    );
    assert_eq!(decoded.qr.initiation, Some(Initiation::Dynamic));
    assert_eq!(decoded.qr.reference_label().unwrap().as_str(), "INV01");
    assert_eq!(encode(&decoded.qr).unwrap(), payload);
}

#[test]
fn encodes_typed_input() {
    let mut qr = FpsQr::new(Proxy::Mobile(
        MobileNumber::parse_loose("9123 4567").unwrap(),
    ));
    qr.initiation = Some(Initiation::Dynamic);
    qr.amount = Some(Amount::from_minor(1230).unwrap());
    qr.currency = Currency::Cny;
    qr.set_reference_label(Some(ReferenceLabel::parse_common("INV-2026-0001").unwrap()));
    let payload = encode(&qr).unwrap();
    let body = tlv(&[
        ("00", "01"),
        ("01", "12"),
        (
            "26",
            &tlv(&[("00", "hk.com.hkicl"), ("03", "+852-91234567")]),
        ),
        ("52", "0000"),
        ("53", "156"),
        ("54", "12.30"),
        ("58", "HK"),
        ("59", "NA"),
        ("60", "HK"),
        ("62", &tlv(&[("05", "INV-2026-0001")])),
    ]);
    assert_eq!(payload, with_crc(&body));
    assert_eq!(decode(&payload).unwrap().qr, qr);
}

#[test]
fn a_foreign_payload_round_trips_exactly() {
    // Another scheme's account in 27, a tip indicator, a postal code, FPS sub-field 05, bill
    // number and terminal label in 62, an unreserved template 80: all kept, in order.
    let account = tlv(&[
        ("00", "hk.com.hkicl"),
        ("04", "shop@example.hk"),
        ("05", "20260101"),
    ]);
    let other_scheme = tlv(&[("00", "com.example.wallet"), ("01", "A1B2C3")]);
    let additional = tlv(&[("01", "B-77"), ("05", "REF 9"), ("07", "T1")]);
    let payload = with_crc(&tlv(&[
        ("00", "01"),
        ("01", "12"),
        ("26", &account),
        ("27", &other_scheme),
        ("52", "5812"),
        ("53", "344"),
        ("54", "88.8"),
        ("55", "01"),
        ("58", "HK"),
        ("59", "Lucky Tea House"),
        ("60", "Sai Kung"),
        ("61", "999077"),
        ("62", &additional),
        (
            "64",
            &tlv(&[("00", "ZH"), ("01", "幸運茶餐廳"), ("02", "西貢")]),
        ),
        ("80", &tlv(&[("00", "hk.example.loyalty"), ("01", "42")])),
    ]));
    let decoded = decode(&payload).unwrap();
    assert_eq!(decoded.qr.amount.as_ref().unwrap().minor(), 8880);
    assert_eq!(decoded.qr.account.other.len(), 1);
    assert_eq!(decoded.qr.other.len(), 4);
    assert_eq!(
        decoded
            .qr
            .alternate_language
            .as_ref()
            .unwrap()
            .merchant_name
            .as_str(),
        "幸運茶餐廳"
    );
    assert_eq!(encode(&decoded.qr).unwrap(), payload);
}

/// Found by the fuzzer: kept fields out of id order (74 before 73) must stay in their order,
/// or the re-encoded payload decodes to a different code.
#[test]
fn kept_fields_keep_their_order() {
    let mut fields = standard();
    fields.push(("74", "88.8".to_owned()));
    fields.push(("73", "A267".to_owned()));
    let payload = build(&fields);
    let decoded = decode(&payload).unwrap();
    let ids: Vec<u8> = decoded.qr.other.iter().map(|f| f.id.number()).collect();
    assert_eq!(ids, [74, 73]);
    assert_eq!(encode(&decoded.qr).unwrap(), payload);
    // Typed fields out of order are written in order: the payload changes, the code does not.
    let mut fields = standard();
    fields.swap(5, 6);
    let payload = build(&fields);
    let decoded = decode(&payload).unwrap();
    let again = encode(&decoded.qr).unwrap();
    assert_ne!(again, payload);
    assert_eq!(decode(&again).unwrap().qr, decoded.qr);
}

#[test]
fn reads_chinese_in_field_59_counting_characters() {
    let payload = build(&with("59", "香港茶餐廳"));
    assert!(payload.contains("5905香港茶餐廳"));
    let decoded = decode(&payload).unwrap();
    assert_eq!(decoded.qr.merchant_name.as_str(), "香港茶餐廳");
    assert_eq!(decoded.fields[6].position, 71);
    // 5 characters of value (15 bytes of UTF-8) after 59's id and length.
    assert_eq!(decoded.fields[7].position, 80);
}

#[test]
fn reads_a_lower_case_crc() {
    let payload = build(&standard());
    let (body, crc) = payload.split_at(payload.len() - 4);
    assert!(decode(&format!("{body}{}", crc.to_ascii_lowercase())).is_ok());
}

// ---- every error, with its exact variant and message --------------------------------------

#[test]
fn wrong_crc() {
    let good = build(&standard());
    let crc = &good[good.len() - 4..];
    let wrong = if crc == "0000" { "FFFF" } else { "0000" };
    let payload = format!("{}{wrong}", &good[..good.len() - 4]);
    check(
        &payload,
        QrError::CrcMismatch {
            position: 83,
            expected: crc.to_owned(),
            found: wrong.to_owned(),
        },
        &format!(
            "wrong CRC: field 63 at position 83 says {wrong}, but the payload's \
             CRC-16/CCITT-FALSE is {crc}"
        ),
    );
    assert_eq!(decode(&payload).unwrap_err().code(), "crc_mismatch");
}

#[test]
fn truncated_field() {
    let good = build(&standard());
    // Cut in the middle of the merchant name's value: "5902N".
    let cut = &good[..76];
    check(
        cut,
        QrError::Malformed(TlvFault::TruncatedValue {
            id: id(59),
            position: 71,
            declared: 2,
            remaining: 1,
        }),
        "field 59 at position 71 declares 2 characters of value but the payload has only 1 left",
    );
    // Cut in the CRC.
    check(
        &good[..good.len() - 2],
        QrError::Malformed(TlvFault::TruncatedValue {
            id: id(63),
            position: 83,
            declared: 4,
            remaining: 2,
        }),
        "field 63 at position 83 declares 4 characters of value but the payload has only 2 left",
    );
    check(
        &good[..73],
        QrError::Malformed(TlvFault::TruncatedHeader {
            position: 71,
            remaining: 2,
        }),
        "the payload ends at position 71 with 2 characters where a field id and length \
         (4 characters) should be",
    );
}

#[test]
fn missing_fps_identifier() {
    let account = tlv(&[("01", "004"), ("02", "1234567")]);
    check(
        &build(&with("26", &account)),
        QrError::MissingFpsIdentifier {
            position: 12,
            found: None,
        },
        "field 26 (FPS merchant account information) at position 12 does not carry the FPS \
         identifier: it has no sub-field 00 (globally unique identifier); expected 'hk.com.hkicl'",
    );
    let account = tlv(&[("00", "com.example.pay"), ("02", "1234567")]);
    check(
        &build(&with("26", &account)),
        QrError::MissingFpsIdentifier {
            position: 12,
            found: Some("com.example.pay".to_owned()),
        },
        "field 26 (FPS merchant account information) at position 12 does not carry the FPS \
         identifier: its sub-field 00 (globally unique identifier) is 'com.example.pay', \
         expected 'hk.com.hkicl'",
    );
    assert_eq!(
        decode(&build(&with("26", &account))).unwrap_err().code(),
        "missing_fps_identifier"
    );
}

#[test]
fn not_utf8_empty_too_long() {
    assert_eq!(
        decode_bytes(b"000201\xff\xfe").unwrap_err(),
        QrError::NotUtf8 { byte_offset: 6 }
    );
    assert_eq!(
        decode_bytes(b"000201\xff\xfe").unwrap_err().to_string(),
        "the payload is not UTF-8 text: the bytes go wrong at byte 6"
    );
    check("", QrError::Empty, "the payload is empty");
    check(
        &"0".repeat(513),
        QrError::TooLong { chars: 513 },
        "the payload is 513 characters long; EMVCo allows at most 512",
    );
}

#[test]
fn broken_structure() {
    check(
        "000201A1020X",
        QrError::Malformed(TlvFault::IdNotDigits {
            position: 6,
            found: "A1".to_owned(),
        }),
        "the field id at position 6 is 'A1', not two digits",
    );
    check(
        "00020101x111",
        QrError::Malformed(TlvFault::LengthNotDigits {
            id: id(1),
            position: 6,
            found: "x1".to_owned(),
        }),
        "field 01 at position 6 has length 'x1', not two digits",
    );
    check(
        "00020159005802HK",
        QrError::Malformed(TlvFault::EmptyValue {
            id: id(59),
            position: 6,
        }),
        "field 59 at position 6 has length 00; a value is 1 to 99 characters",
    );
}

#[test]
fn broken_template() {
    let account = "0012hk.com.hkicl0209123";
    check(
        &build(&with("26", account)),
        QrError::TemplateMalformed {
            template: id(26),
            template_position: 12,
            fault: TlvFault::TruncatedValue {
                id: id(2),
                position: 32,
                declared: 9,
                remaining: 3,
            },
        },
        "field 26 (a template) at position 12 is malformed: sub-field 02 at position 32 \
         declares 9 characters of value but field 26's value has only 3 left",
    );
    check(
        &build(&with("62", "05")),
        QrError::TemplateMalformed {
            template: id(62),
            template_position: 83,
            fault: TlvFault::TruncatedHeader {
                position: 87,
                remaining: 2,
            },
        },
        "field 62 (a template) at position 83 is malformed: field 62's value ends at position \
         87 with 2 characters where a sub-field id and length (4 characters) should be",
    );
    let error = decode(&build(&with("62", "AB01x"))).unwrap_err();
    assert_eq!(error.code(), "template_malformed");
    assert_eq!(error.field().unwrap().to_string(), "62");
    assert_eq!(error.position(), Some(87));
}

#[test]
fn format_indicator_not_first() {
    let mut fields = standard();
    fields.swap(0, 1);
    check(
        &build(&fields),
        QrError::FormatIndicatorNotFirst { found: id(1) },
        "the payload must start with field 00 (payload format indicator), but starts with field 01",
    );
}

#[test]
fn duplicate_fields() {
    let mut fields = with("54", "10");
    fields.push(("54", "20".to_owned()));
    let payload = build(&fields);
    check(
        &payload,
        QrError::DuplicateField {
            field: FieldPath::top(id(54)),
            first_position: 65,
            position: 89,
        },
        "field 54 (transaction amount) appears twice: at position 65 and at position 89",
    );
    let payload = build(&with("62", &tlv(&[("05", "A"), ("05", "B")])));
    check(
        &payload,
        QrError::DuplicateField {
            field: FieldPath::sub(id(62), id(5)),
            first_position: 87,
            position: 92,
        },
        "sub-field 05 (reference label) of field 62 appears twice: at position 87 and at \
         position 92",
    );
}

#[test]
fn missing_fields() {
    check(
        &build(&without("59")),
        QrError::MissingField {
            field: FieldPath::top(id(59)),
        },
        "mandatory field 59 (merchant name) is missing",
    );
    check(
        &build(&without("26")),
        QrError::MissingField {
            field: FieldPath::top(id(26)),
        },
        "mandatory field 26 (FPS merchant account information) is missing",
    );
    let no_crc: String = tlv(&standard()
        .iter()
        .map(|(i, v)| (*i, v.as_str()))
        .collect::<Vec<_>>());
    check(
        &no_crc,
        QrError::MissingField {
            field: FieldPath::top(id(63)),
        },
        "mandatory field 63 (CRC) is missing",
    );
    check(
        &build(&with("64", &tlv(&[("00", "ZH")]))),
        QrError::MissingField {
            field: FieldPath::sub(id(64), id(1)),
        },
        "mandatory sub-field 01 (merchant name in another language) of field 64 is missing",
    );
}

#[test]
fn crc_not_last_or_malformed() {
    let body = tlv(&[("00", "01"), ("26", &fps_account())]);
    let payload = format!("{body}6304ABCD5802HK");
    check(
        &payload,
        QrError::CrcNotLast {
            position: 44,
            next: id(58),
            next_position: 52,
        },
        "field 63 (CRC) at position 44 must be the last field, but field 58 follows it at \
         position 52",
    );
    let payload = format!("{body}6304ABCG");
    check(
        &payload,
        QrError::CrcMalformed {
            position: 44,
            found: "ABCG".to_owned(),
        },
        "field 63 (CRC) at position 44 is 'ABCG'; it must be 4 hexadecimal digits",
    );
    let payload = format!("{body}6303ABC");
    assert_eq!(
        decode(&payload).unwrap_err(),
        QrError::CrcMalformed {
            position: 44,
            found: "ABC".to_owned()
        }
    );
}

/// Decoding the standard payload with `id` set to `value` fails on that value.
#[track_caller]
fn check_value(id_text: &'static str, value: &str, problem: ValueProblem, message: &str) {
    let payload = build(&with(id_text, value));
    let position = at(
        &payload,
        &format!("{id_text}{:02}{value}", value.chars().count()),
    );
    let field = FieldPath::top(FieldId::parse(id_text).unwrap());
    check(
        &payload,
        QrError::InvalidValue {
            field,
            position,
            found: value.to_owned(),
            problem,
        },
        &format!(
            "{} at position {position} is '{value}': it {message}",
            field.describe()
        ),
    );
}

#[test]
fn bad_top_level_values() {
    check_value("00", "02", ValueProblem::PayloadFormat, "must be 01");
    check_value(
        "01",
        "13",
        ValueProblem::Initiation,
        "must be 11 (static) or 12 (dynamic)",
    );
    check_value(
        "52",
        "58a2",
        ValueProblem::MerchantCategoryCode,
        "must be 4 digits (0000 when there is none)",
    );
    check_value(
        "53",
        "840",
        ValueProblem::Currency,
        "must be 344 (HKD) or 156 (CNY)",
    );
    check_value("58", "CN", ValueProblem::Country, "must be HK");
    check_value(
        "59",
        "The Incredibly Long Name Ltd",
        ValueProblem::AnyText { max_chars: 25 },
        "must be 1 to 25 characters, none of them a control character",
    );
    check_value(
        "60",
        "Tsim Sha Tsui East",
        ValueProblem::AnyText { max_chars: 15 },
        "must be 1 to 15 characters, none of them a control character",
    );
    let payload = build(&with("54", "12.345"));
    assert_eq!(
        decode(&payload).unwrap_err().to_string(),
        "field 54 (transaction amount) at position 65 is '12.345': it has more than 2 decimal \
         places; HKD and CNY amounts have at most 2"
    );
    assert_eq!(decode(&payload).unwrap_err().code(), "invalid_amount");
    for (amount, problem) in [
        ("12.345", AmountProblem::TooManyDecimals),
        ("1,000", AmountProblem::NotDecimal),
        ("-5", AmountProblem::NotDecimal),
        ("0.00", AmountProblem::Zero),
        ("123456789012.5", AmountProblem::TooLong),
    ] {
        let message = problem.to_string();
        check_value("54", amount, ValueProblem::Amount(problem), &message);
    }
}

#[test]
fn bad_sub_field_values() {
    let cases = [
        (
            tlv(&[("00", "hk.com.hkicl"), ("01", "04"), ("02", "1234567")]),
            "01",
            "04",
            ValueProblem::ParticipantCode,
            "sub-field 01 (participant code) of field 26 at position 32 is '04': it must be a \
             participant code of 3 digits, e.g. 004",
        ),
        (
            tlv(&[("00", "hk.com.hkicl"), ("02", "12345678")]),
            "02",
            "12345678",
            ValueProblem::FpsId,
            "sub-field 02 (FPS ID) of field 26 at position 32 is '12345678': it must be an FPS \
             ID of 7 or 9 digits",
        ),
        (
            tlv(&[("00", "hk.com.hkicl"), ("03", "91234567")]),
            "03",
            "91234567",
            ValueProblem::Mobile,
            "sub-field 03 (mobile number) of field 26 at position 32 is '91234567': it must be \
             a Hong Kong mobile number written +852-XXXXXXXX (8 digits)",
        ),
        (
            tlv(&[("00", "hk.com.hkicl"), ("04", "nobody")]),
            "04",
            "nobody",
            ValueProblem::Email("it has no '@'"),
            "sub-field 04 (email address) of field 26 at position 32 is 'nobody': it must be an \
             email address: it has no '@'",
        ),
    ];
    for (account, sub, value, problem, message) in cases {
        check(
            &build(&with("26", &account)),
            QrError::InvalidValue {
                field: FieldPath::sub(id(26), FieldId::parse(sub).unwrap()),
                position: 32,
                found: value.to_owned(),
                problem,
            },
            message,
        );
    }
    let label = "R".repeat(26);
    let payload = build(&with("62", &tlv(&[("05", &label)])));
    let error = decode(&payload).unwrap_err();
    assert_eq!(
        error,
        QrError::InvalidValue {
            field: FieldPath::sub(id(62), id(5)),
            position: 87,
            found: label.clone(),
            problem: ValueProblem::AnyText { max_chars: 25 },
        }
    );
    assert_eq!(error.code(), "invalid_text");
    let payload = build(&with("64", &tlv(&[("00", "Z1"), ("01", "店")])));
    assert_eq!(
        decode(&payload).unwrap_err().to_string(),
        "sub-field 00 (language preference) of field 64 at position 87 is 'Z1': it must be a \
         language code of 2 letters (ISO 639-1), e.g. ZH"
    );
}

#[test]
fn payee_rules() {
    check(
        &build(&with("26", &tlv(&[("00", "hk.com.hkicl"), ("01", "004")]))),
        QrError::ProxyMissing { position: 12 },
        "field 26 (FPS merchant account information) at position 12 names no payee: it needs \
         one of sub-fields 02 (FPS ID), 03 (mobile number) or 04 (email address)",
    );
    let two = tlv(&[
        ("00", "hk.com.hkicl"),
        ("02", "1234567"),
        ("03", "+852-91234567"),
    ]);
    check(
        &build(&with("26", &two)),
        QrError::ProxyAmbiguous {
            position: 12,
            found: vec![id(2), id(3)],
        },
        "field 26 (FPS merchant account information) at position 12 names more than one payee \
         (sub-fields 02, 03); exactly one of 02 (FPS ID), 03 (mobile number) or 04 (email \
         address) is allowed",
    );
}

#[test]
fn dynamic_needs_an_amount() {
    check(
        &build(&with("01", "12")),
        QrError::DynamicWithoutAmount { position: 6 },
        "field 01 (point of initiation method) at position 6 says the code is dynamic (12), \
         which needs field 54 (transaction amount), and there is none",
    );
    let mut qr = FpsQr::new(Proxy::FpsId(FpsId::parse("1234567").unwrap()));
    qr.initiation = Some(Initiation::Dynamic);
    assert_eq!(encode(&qr), Err(EncodeError::DynamicWithoutAmount));
}

#[test]
fn every_error_has_a_distinct_code_field_and_position() {
    let payload = build(&with("53", "840"));
    let error = decode(&payload).unwrap_err();
    assert_eq!(error.code(), "invalid_currency");
    assert_eq!(error.field().unwrap().to_string(), "53");
    assert_eq!(error.position(), Some(58));
}

#[test]
fn encoding_refuses_what_would_not_decode_back() {
    let mut qr = FpsQr::new(Proxy::FpsId(FpsId::parse("1234567").unwrap()));
    qr.other.push(Field {
        id: id(53),
        value: "840".to_owned(),
    });
    assert_eq!(
        encode(&qr),
        Err(EncodeError::ExtraFieldNotAllowed {
            field: FieldPath::top(id(53))
        })
    );
    qr.other = vec![Field {
        id: id(80),
        value: "0005ab".to_owned(),
    }];
    assert!(matches!(
        encode(&qr),
        Err(EncodeError::ExtraTemplateMalformed { .. })
    ));
    qr.other = vec![Field {
        id: id(70),
        value: "x".repeat(100),
    }];
    assert_eq!(
        encode(&qr),
        Err(EncodeError::FieldTooLong {
            field: FieldPath::top(id(70)),
            chars: 100
        })
    );
    qr.other = (65..=79)
        .map(|n| Field {
            id: id(n),
            value: "x".repeat(40),
        })
        .collect();
    assert!(matches!(
        encode(&qr),
        Err(EncodeError::PayloadTooLong { .. })
    ));
}

// ---- properties ----------------------------------------------------------------------------

fn printable(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[ -~]{{1,{max}}}")).unwrap()
}

fn proxy() -> impl Strategy<Value = Proxy> {
    prop_oneof![
        "([0-9]{7}|[0-9]{9})".prop_map(|s| Proxy::FpsId(FpsId::parse(&s).unwrap())),
        "[0-9]{8}".prop_map(|s| Proxy::Mobile(MobileNumber::parse(&format!("+852-{s}")).unwrap())),
        "[a-z0-9._+-]{0,20}[a-z0-9]@[a-z0-9]{1,15}\\.(hk|com|org\\.hk)"
            .prop_filter_map("valid email", |s| EmailAddress::parse(&s)
                .ok()
                .map(Proxy::Email)),
    ]
}

fn alternate() -> impl Strategy<Value = Option<AlternateLanguage>> {
    proptest::option::of(
        ("[A-Z]{2}", "\\PC{1,25}", proptest::option::of("\\PC{1,15}")).prop_map(
            |(language, name, city)| AlternateLanguage {
                language: LanguageCode::parse(&language).unwrap(),
                merchant_name: Text::parse_any(&name).unwrap(),
                merchant_city: city.map(|c| Text::parse_any(&c).unwrap()),
                other: Vec::new(),
            },
        ),
    )
}

prop_compose! {
    fn valid_qr()(
        proxy in proxy(),
        participant in proptest::option::of("[0-9]{3}"),
        dynamic in any::<bool>(),
        minor in proptest::option::of(1i64..=99_999_999_999),
        cny in any::<bool>(),
        mcc in "[0-9]{4}",
        name in printable(25),
        city in printable(15),
        reference in proptest::option::of(printable(25)),
        alternate in alternate(),
        tip in proptest::option::of("0[1-3]"),
    ) -> FpsQr {
        let mut qr = FpsQr::new(proxy);
        qr.account.participant = participant.map(|p| ParticipantCode::parse(&p).unwrap());
        qr.amount = minor.map(|m| Amount::from_minor(m).unwrap());
        qr.initiation = Some(if dynamic && qr.amount.is_some() {
            Initiation::Dynamic
        } else {
            Initiation::Static
        });
        qr.currency = if cny { Currency::Cny } else { Currency::Hkd };
        qr.merchant_category_code = MerchantCategoryCode::parse(&mcc).unwrap();
        qr.merchant_name = MerchantName::parse_common(&name).unwrap();
        qr.merchant_city = MerchantCity::parse_common(&city).unwrap();
        qr.set_reference_label(reference.map(|r| ReferenceLabel::parse_common(&r).unwrap()));
        qr.alternate_language = alternate;
        qr.other = tip.into_iter().map(|t| Field { id: id(55), value: t }).collect();
        qr
    }
}

/// Strings made of the characters payloads are made of, so that the decoder gets deep.
fn payload_like() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            8 => proptest::char::range('0', '9'),
            2 => proptest::char::range('A', 'F'),
            1 => Just('.'),
            1 => Just('香'),
        ],
        0..200,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encode_then_decode_is_the_identity(qr in valid_qr()) {
        let payload = encode(&qr).unwrap();
        let decoded = decode(&payload).unwrap();
        prop_assert_eq!(&decoded.qr, &qr);
        prop_assert_eq!(encode(&decoded.qr).unwrap(), payload);
    }

    #[test]
    fn decode_never_panics_on_text(text in "\\PC{0,600}") {
        let _ = decode(&text);
    }

    #[test]
    fn decode_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = decode_bytes(&bytes);
    }

    #[test]
    fn payload_like_text_decodes_stably(body in payload_like()) {
        // With a valid CRC appended, the decoder gets past the checksum; whatever it accepts
        // must encode and decode back to the same code.
        for text in [body.clone(), with_crc(&body)] {
            if let Ok(decoded) = decode(&text) {
                let again = encode(&decoded.qr).unwrap();
                prop_assert_eq!(&decode(&again).unwrap().qr, &decoded.qr);
            }
        }
    }

    #[test]
    fn a_mutated_payload_is_rejected(
        qr in valid_qr(),
        at in any::<prop::sample::Index>(),
        c in proptest::char::range(' ', '~'),
    ) {
        let payload = encode(&qr).unwrap();
        let mut chars: Vec<char> = payload.chars().collect();
        let i = at.index(chars.len());
        chars[i] = c;
        let mutated: String = chars.into_iter().collect();
        if let Ok(decoded) = decode(&mutated) {
            // CRC-16 catches every change of one byte; what passes is no change at all, or a
            // change of case in the CRC's own hex digits.
            prop_assert!(mutated.eq_ignore_ascii_case(&payload), "{} → {:?}", mutated, decoded.qr);
        }
    }
}
