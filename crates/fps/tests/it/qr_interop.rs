//! Bauhinia's FPS QR codec against independent implementations from npm, in both directions
//! (`tests/fps-qr`): `emv-qrcps` parses every payload Bauhinia writes — the fields it reads must
//! be the ones Bauhinia was given, and it must regenerate the very same payload — and builds
//! payloads that Bauhinia must decode to exactly the fields it was given; `emvco-qr-sdk`, sharing
//! no code with either, checks the CRC of every ASCII payload both ways.
//!
//! Needs `node` and `npm ci` in `tests/fps-qr`. Without them the test says "not run"; the test
//! command installs them and sets `BAUHINIA_TEST_REQUIRE_TOOLS=1`, which turns that into a
//! failure, and checks that the line below says "passed".

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use bauhinia_core::Currency;
use bauhinia_fps::qr::{
    decode, encode, AlternateLanguage, Amount, EmailAddress, Field, FieldId, FpsId, FpsQr,
    Initiation, LanguageCode, MerchantCategoryCode, MerchantCity, MerchantName, MobileNumber,
    ParticipantCode, Proxy, QrError, ReferenceLabel, Text, TlvFault,
};
use serde_json::{json, Map, Value};

type TestResult<T = ()> = Result<T, String>;

const LINE: &str = "independent interop: npm emv-qrcps + emvco-qr-sdk";

fn tools_required() -> bool {
    std::env::var("BAUHINIA_TEST_REQUIRE_TOOLS").is_ok_and(|v| v == "1")
}

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fps-qr")
}

/// Runs the node script with `request`; `None` (after saying why) when node or the npm
/// packages are missing and the test command did not ask for them.
fn run_node(request: &Value) -> TestResult<Option<Value>> {
    let dir = interop_dir();
    let missing = if !dir.join("node_modules/emv-qrcps").is_dir()
        || !dir.join("node_modules/emvco-qr-sdk").is_dir()
    {
        Some(format!(
            "the npm packages are not installed: run `npm ci` in {}",
            dir.display()
        ))
    } else {
        None
    };
    let child = match missing {
        Some(reason) => Err(reason),
        None => Command::new("node")
            .arg("interop.mjs")
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run node: {e}")),
    };
    let mut child = match child {
        Ok(child) => child,
        Err(reason) if !tools_required() => {
            println!("{LINE}: not run ({reason})");
            return Ok(None);
        }
        Err(reason) => return Err(format!("{LINE}: {reason} (BAUHINIA_TEST_REQUIRE_TOOLS=1)")),
    };
    let input = serde_json::to_vec(request).map_err(|e| e.to_string())?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(&input)
        .map_err(|e| e.to_string())?;
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(format!(
            "node interop.mjs failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    serde_json::from_slice(&output.stdout)
        .map(Some)
        .map_err(|e| format!("node's answer is not JSON: {e}"))
}

/// The fields a code must have, written straight from the typed values (not through
/// Bauhinia's encoder): id → value, or id → { sub-id → value } for templates.
fn field_map(qr: &FpsQr) -> Value {
    let mut fields = Map::new();
    let mut put = |id: &str, value: Value| {
        fields.insert(id.to_owned(), value);
    };
    put("00", json!("01"));
    if let Some(initiation) = qr.initiation {
        put("01", json!(initiation.code()));
    }
    let mut account = Map::new();
    account.insert("00".into(), json!("hk.com.hkicl"));
    if let Some(participant) = &qr.account.participant {
        account.insert("01".into(), json!(participant.as_str()));
    }
    account.insert(
        qr.account.proxy.field_id().to_string(),
        json!(qr.account.proxy.as_str()),
    );
    put("26", Value::Object(account));
    put("52", json!(qr.merchant_category_code.as_str()));
    put(
        "53",
        json!(match qr.currency {
            Currency::Hkd => "344",
            Currency::Cny => "156",
        }),
    );
    if let Some(amount) = &qr.amount {
        put("54", json!(amount.as_str()));
    }
    for field in &qr.other {
        put(&field.id.to_string(), json!(field.value));
    }
    put("58", json!("HK"));
    put("59", json!(qr.merchant_name.as_str()));
    put("60", json!(qr.merchant_city.as_str()));
    if let Some(reference) = qr.reference_label() {
        put("62", json!({ "05": reference.as_str() }));
    }
    if let Some(alternate) = &qr.alternate_language {
        let mut template = Map::new();
        template.insert("00".into(), json!(alternate.language.as_str()));
        template.insert("01".into(), json!(alternate.merchant_name.as_str()));
        if let Some(city) = &alternate.merchant_city {
            template.insert("02".into(), json!(city.as_str()));
        }
        put("64", Value::Object(template));
    }
    Value::Object(fields)
}

/// xorshift64: the same cases on every run.
struct Cases(u64);

impl Cases {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        usize::try_from(self.0 % n as u64).unwrap_or(0)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items
            .get(self.next(items.len()))
            .copied()
            .unwrap_or_default()
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.next(10) as u8))
            .collect()
    }

    fn code(&mut self) -> TestResult<FpsQr> {
        let e = |p: bauhinia_fps::qr::ValueProblem| p.to_string();
        let proxy = match self.next(3) {
            0 => {
                let len = if self.next(2) == 0 { 7 } else { 9 };
                Proxy::FpsId(FpsId::parse(&self.digits(len)).map_err(e)?)
            }
            1 => Proxy::Mobile(
                MobileNumber::parse(&format!(
                    "+852-{}{}",
                    self.pick(&["5", "6", "9"]),
                    self.digits(7)
                ))
                .map_err(e)?,
            ),
            _ => Proxy::Email(
                EmailAddress::parse(self.pick(&[
                    "shop@example.hk",
                    "chan.tai.man+fps@mail.example.com.hk",
                    "a_b-c@x-y.example",
                ]))
                .map_err(e)?,
            ),
        };
        let mut qr = FpsQr::new(proxy);
        if self.next(2) == 0 {
            let participant = self.pick(&["004", "012", "024", "948", "954"]);
            qr.account.participant = Some(ParticipantCode::parse(participant).map_err(e)?);
        }
        if self.next(3) > 0 {
            let amount = self.pick(&["12.3", "12.30", "100", "0.01", "8888.88", "1234567890.5"]);
            qr.amount = Some(Amount::parse(amount).map_err(e)?);
        }
        qr.initiation = Some(match (&qr.amount, self.next(2)) {
            (Some(_), 0) => Initiation::Dynamic,
            _ => Initiation::Static,
        });
        if self.next(3) == 0 {
            qr.currency = Currency::Cny;
        }
        let mcc = self.pick(&["0000", "5812", "5411"]);
        qr.merchant_category_code = MerchantCategoryCode::parse(mcc).map_err(e)?;
        let name = self.pick(&[
            "NA",
            "Lucky Tea House",
            "A&B Co.",
            "Mr. Wong's",
            "7-Eleven #12",
        ]);
        qr.merchant_name = MerchantName::parse_common(name).map_err(e)?;
        let city = self.pick(&["HK", "Hong Kong", "Sai Kung", "Mong Kok"]);
        qr.merchant_city = MerchantCity::parse_common(city).map_err(e)?;
        if self.next(2) == 0 {
            let reference = self.pick(&["INV01", "ORDER 2026-0042", "R/9~x"]);
            qr.set_reference_label(Some(ReferenceLabel::parse_common(reference).map_err(e)?));
        }
        if self.next(4) == 0 {
            let name = self.pick(&["幸運茶餐廳", "黃記士多", "東方小館"]);
            qr.alternate_language = Some(AlternateLanguage {
                language: LanguageCode::parse("ZH").map_err(e)?,
                merchant_name: Text::parse_any(name).map_err(e)?,
                merchant_city: (self.next(2) == 0)
                    .then(|| Text::parse_any("香港"))
                    .transpose()
                    .map_err(e)?,
                other: Vec::new(),
            });
        }
        if self.next(4) == 0 {
            let id = FieldId::new(55).ok_or("55")?;
            qr.other.push(Field {
                id,
                value: "01".to_owned(),
            });
        }
        Ok(qr)
    }
}

fn codes(seed: u64, count: usize) -> TestResult<Vec<FpsQr>> {
    let mut cases = Cases(seed);
    (0..count).map(|_| cases.code()).collect()
}

fn get<'a>(value: &'a Value, pointer: &str) -> TestResult<&'a Value> {
    value
        .pointer(pointer)
        .ok_or_else(|| format!("no {pointer} in node's answer"))
}

/// emv-qrcps 0.0.7 writes a CRC below 0x1000 with 3 digits (`6303…`), which EMVCo does not
/// allow; Bauhinia must say so rather than accept it.
fn short_crc(payload: &str) -> bool {
    payload.len() > 7 && payload.get(payload.len() - 7..payload.len() - 3) == Some("6303")
}

#[test]
fn bauhinia_and_npm_agree_both_ways() -> TestResult {
    let ours = codes(0x00C0_FFEE_2026, 60)?;
    let payloads: Vec<String> = ours
        .iter()
        .map(|qr| encode(qr).map_err(|e| e.to_string()))
        .collect::<TestResult<_>>()?;
    let theirs = codes(0x0BAD_CAFE_0852, 60)?;
    let specs: Vec<Value> = theirs.iter().map(field_map).collect();
    let request = json!({ "parse": payloads, "build": specs });
    let Some(answer) = run_node(&request)? else {
        return Ok(());
    };

    // Bauhinia → npm.
    let mut sdk_checked = 0;
    for (i, (qr, payload)) in ours.iter().zip(&payloads).enumerate() {
        let parsed = get(&answer, &format!("/parsed/{i}"))?;
        let mut expected = field_map(qr);
        let crc = payload.get(payload.len() - 4..).ok_or("short payload")?;
        if let Value::Object(map) = &mut expected {
            map.insert("63".into(), json!(crc));
        }
        assert_eq!(
            get(parsed, "/fields")?,
            &expected,
            "emv-qrcps read {payload}"
        );
        if !short_crc(get(parsed, "/regenerated")?.as_str().unwrap_or_default()) {
            assert_eq!(
                get(parsed, "/regenerated")?,
                payload,
                "emv-qrcps regenerated"
            );
        }
        match get(parsed, "/sdkCrcValid")? {
            Value::Bool(valid) => {
                assert!(valid, "emvco-qr-sdk refused the CRC of {payload}");
                sdk_checked += 1;
            }
            Value::Null => assert!(!payload.is_ascii(), "{payload}"),
            other => return Err(format!("sdkCrcValid: {other}")),
        }
    }

    // npm → Bauhinia.
    let mut decoded_ok = 0;
    let mut short = 0;
    for (i, spec) in specs.iter().enumerate() {
        let built = get(&answer, &format!("/built/{i}"))?;
        let payload = get(built, "/payload")?.as_str().ok_or("payload")?;
        if short_crc(payload) {
            let error = decode(payload).err().ok_or(format!("accepted {payload}"))?;
            assert!(matches!(error, QrError::CrcMalformed { .. }), "{error:?}");
            short += 1;
            continue;
        }
        let decoded = decode(payload).map_err(|e| format!("Bauhinia refused {payload}: {e}"))?;
        assert_eq!(&field_map(&decoded.qr), spec, "Bauhinia read {payload}");
        assert_eq!(encode(&decoded.qr).map_err(|e| e.to_string())?, payload);
        if payload.is_ascii() {
            assert_eq!(get(built, "/sdkCrcValid")?, &json!(true), "{payload}");
        }
        decoded_ok += 1;
    }
    assert!(decoded_ok >= 50, "only {decoded_ok} npm payloads decoded");
    assert!(
        sdk_checked >= 30,
        "emvco-qr-sdk checked only {sdk_checked} CRCs"
    );

    // What an npm-made payload turns into when damaged: each rejected with the right message.
    let good = (0..specs.len())
        .filter_map(|i| answer.pointer(&format!("/built/{i}/payload"))?.as_str())
        .find(|p| !short_crc(p))
        .ok_or("no npm payload with a 4-digit CRC")?;
    let rejections = damaged(good)?;
    println!(
        "{LINE}: passed — emv-qrcps read and regenerated {} Bauhinia payloads, emvco-qr-sdk \
         checked {sdk_checked} of their CRCs; Bauhinia decoded {decoded_ok} emv-qrcps payloads \
         and refused {short} with a 3-digit CRC",
        payloads.len()
    );
    for message in rejections {
        println!("    rejected: {message}");
    }
    Ok(())
}

/// A wrong CRC, a truncated field and a field 26 without the FPS identifier, made from an npm
/// payload, each refused with the right error. Returns the messages.
fn damaged(good: &str) -> TestResult<Vec<String>> {
    let mut messages = Vec::new();
    let (body, crc) = good.split_at(good.len() - 4);
    let wrong = if crc == "0000" { "FFFF" } else { "0000" };
    let position = good.chars().count() - 8;
    let error = decode(&format!("{body}{wrong}"))
        .err()
        .ok_or("accepted a wrong CRC")?;
    assert_eq!(
        error,
        QrError::CrcMismatch {
            position,
            expected: crc.to_owned(),
            found: wrong.to_owned(),
        }
    );
    messages.push(error.to_string());

    let cut: String = good.chars().take(position + 6).collect();
    let error = decode(&cut).err().ok_or("accepted a truncated payload")?;
    assert_eq!(
        error,
        QrError::Malformed(TlvFault::TruncatedValue {
            id: FieldId::CRC,
            position,
            declared: 4,
            remaining: 2,
        })
    );
    messages.push(error.to_string());

    // Built by npm with another scheme's identifier in field 26: a valid EMVCo payload, but not
    // an FPS one.
    let spec = json!({
        "00": "01", "01": "11",
        "26": { "00": "com.example.wallet", "02": "1234567" },
        "52": "0000", "53": "344", "58": "HK", "59": "NA", "60": "HK",
    });
    let Some(built) = run_node(&json!({ "build": [spec] }))? else {
        return Err("node vanished".to_owned());
    };
    let payload = get(&built, "/built/0/payload")?.as_str().ok_or("payload")?;
    let error = decode(payload).err().ok_or("accepted a foreign field 26")?;
    assert_eq!(
        error,
        QrError::MissingFpsIdentifier {
            position: 12,
            found: Some("com.example.wallet".to_owned()),
        }
    );
    assert_eq!(
        error.to_string(),
        "field 26 (FPS merchant account information) at position 12 does not carry the FPS \
         identifier: its sub-field 00 (globally unique identifier) is 'com.example.wallet', \
         expected 'hk.com.hkicl'"
    );
    messages.push(error.to_string());
    Ok(messages)
}
