//! The consented data exchange's readers of outside input on arbitrary bytes. The first byte
//! names the reader (a letter, so a seed in `fuzz/seeds/exchange_parse/` shows what it feeds);
//! the rest is its input:
//!
//! - `k` key material and `e` an envelope (`crypto::blind`): what parses writes back with
//!   `to_json` to JSON that parses to the same value; key material reads the same through
//!   serde; an envelope from an all-zero key is refused as low-order when opened.
//! - `j` a detached JWS value, a newline, then the body (`crypto::jws::verify_detached`): a
//!   value from outside never verifies against the test key, whatever `kid` it names.
//! - `h` a JWS protected header: the binding letter (`q` a request, anything else a response),
//!   then the header JSON, which this target signs with the test key, so that the checks after
//!   the signature are reached: what verifies has ES256, the test key's `kid`, an `iat` within
//!   the skew, the binding asked for and no other member; another body does not verify.
//! - `c` a consent request (`consent::parse_request`): what parses passes `check_terms`, and
//!   written back as a request (and through serde) parses to the same terms; a refusal names
//!   at least one field.
//! - `p` a participant registration (`ParticipantDraft::from_json`): what parses, written back
//!   as a registration, parses to the same participant; a refusal names its fields.
//! - `w` a JWK Set (`directory::check_jwks` and `chain::keys_from_jwks`): an accepted set is 1
//!   to `KEYS_MAX` public keys with distinct ids, accepted again when written back, and in
//!   what is written back the checkpoint verifier's reader finds every one of its keys.
//! - `s` a sandbox request, one field a line: product, owner, provider, FPS code (empty: none),
//!   from and to (`YYYY-MM-DD`), then up to three known accounts as `number,currency,kind`
//!   (`sandbox::generate`): a refusal names a rule the request breaks; a document echoes the
//!   request and dates its bookings inside the range.
//! - `i` one word for every id and vocabulary parser: what parses writes back as the same word.
//!
//! Each input does one reader's work (at most three signature operations or one key agreement;
//! sandbox ranges of at most a month), so an iteration stays around a millisecond or less.
#![no_main]

use std::sync::OnceLock;

use bauhinia_exchange::chain::keys_from_jwks;
use bauhinia_exchange::consent::domain::{
    check_terms, parse_request, rfc3339, CompanyId, ConsentId, ConsentTerms, Owner,
    ParticipantId as ConsumerId, ProductId as TermsProductId, PurposeCode, ResidentId, TimeUnit,
};
use bauhinia_exchange::crypto::blind::{self, BlindError, Envelope, EphemeralKeys, KeyMaterial};
use bauhinia_exchange::crypto::jws::{self, Binding, JwsError};
use bauhinia_exchange::directory::{
    check_jwks, DirectoryError, Licence, NamesDraft, NewParticipant, ParticipantDraft,
    ParticipantId, Role, Roles, Status, KEYS_MAX,
};
use bauhinia_exchange::products::ProductId;
use bauhinia_exchange::sandbox::{self, KnownAccount, SandboxError, SandboxRequest};
use bauhinia_identity::jose::{b64, sign_raw, Alg};
use libfuzzer_sys::fuzz_target;
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey, EcPoint};
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private, Public};
use serde_json::{json, Value};
use time::macros::format_description;
use time::Date;

/// 2026-01-15T00:00:00Z: the verifier's clock and the consent request's "now".
const NOW: i64 = 1_768_435_200;
/// The test key's id: the only `kid` the `h` reader's key lookup knows.
const KID: &str = "fuzz-k1";
const METHOD: &str = "POST";
const PATH: &str = "/api/exchange/v1/fetch";
const REQUEST_JTI: &str = "jti-request-1";
const BODY: &[u8] = br#"{"consent_id":"c-1"}"#;
/// The consumer of every consent request.
const CONSUMER: &str = "bank-024";
/// The longest sandbox range generated: a year of bookings costs some 15 ms, a hundred times
/// any other input, and every day is made by the same code. Longer ranges the sandbox accepts
/// are skipped; the ones it refuses are still tried.
const SANDBOX_SPAN_DAYS_MAX: i64 = 31;

fuzz_target!(|data: &[u8]| {
    let Some((&reader, input)) = data.split_first() else {
        return;
    };
    match reader {
        b'k' => key_material(input),
        b'e' => envelope(input),
        b'j' => jws_value(input),
        b'h' => jws_header(input),
        b'c' => consent_request(input),
        b'p' => participant(input),
        b'w' => jwks(input),
        b's' => sandbox_request(input),
        b'i' => words(input),
        _ => {}
    }
});

// ---- crypto::blind ---------------------------------------------------------------------------

fn key_material(input: &[u8]) {
    let parsed = KeyMaterial::from_json(input);
    if input.len() <= 1024 {
        // The same member of a data request, read through serde, is read as strictly.
        let through_serde = serde_json::from_slice::<KeyMaterial>(input).ok();
        assert_eq!(through_serde, parsed.as_ref().ok().copied());
    }
    if let Ok(material) = parsed {
        let text = material.to_json();
        assert_eq!(
            KeyMaterial::from_json(text.as_bytes()),
            Ok(material),
            "{text}"
        );
    }
}

fn envelope(input: &[u8]) {
    let Ok(envelope) = Envelope::from_json(input) else {
        return;
    };
    let again = Envelope::from_json(&envelope.to_json());
    assert_eq!(again.as_ref(), Ok(&envelope));
    let opened = blind::open(
        consumer_keys(),
        &envelope,
        &blind::canonical_aad("c-1", "s-1"),
    );
    if envelope.sender.key == [0; blind::KEY_BYTES] {
        assert_eq!(opened.err(), Some(BlindError::LowOrderKey));
    }
}

/// The consumer's ephemeral keys, fixed so that a crash reproduces.
fn consumer_keys() -> &'static EphemeralKeys {
    static KEYS: OnceLock<EphemeralKeys> = OnceLock::new();
    KEYS.get_or_init(|| EphemeralKeys::from_bytes([0x42; 32], [0x24; 32]))
}

// ---- crypto::jws -----------------------------------------------------------------------------

/// A P-256 key from a fixed scalar (so that a crash reproduces) and its public half.
fn test_key() -> &'static (PKey<Private>, PKey<Public>) {
    static KEY: OnceLock<(PKey<Private>, PKey<Public>)> = OnceLock::new();
    KEY.get_or_init(|| {
        let make = || -> Result<_, openssl::error::ErrorStack> {
            let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
            let scalar = BigNum::from_slice(&[0x11; 32])?;
            let mut context = BigNumContext::new()?;
            let mut point = EcPoint::new(&group)?;
            point.mul_generator2(&group, &scalar, &mut context)?;
            let private = EcKey::from_private_components(&group, &scalar, &point)?;
            let public = EcKey::from_public_key(&group, &point)?;
            Ok((PKey::from_ec_key(private)?, PKey::from_ec_key(public)?))
        };
        match make() {
            Ok(keys) => keys,
            Err(e) => panic!("the test key: {e}"),
        }
    })
}

fn binding(letter: u8) -> Binding {
    if letter == b'q' {
        Binding::request(METHOD, PATH)
    } else {
        Binding::response(REQUEST_JTI)
    }
}

fn jws_value(input: &[u8]) {
    let (value, body) = match input.iter().position(|b| *b == b'\n') {
        Some(i) => input.split_at(i),
        None => (input, &b"\n"[..]),
    };
    let (Ok(value), Some(body)) = (std::str::from_utf8(value), body.get(1..)) else {
        return;
    };
    let public = &test_key().1;
    for binding in [binding(b'q'), binding(b's')] {
        // Every kid finds the test key, so that the signature itself is checked.
        let verified = jws::verify_detached(value, body, &binding, |_| Some(public.clone()), NOW);
        assert!(verified.is_err(), "{value:?} verified: {verified:?}");
    }
}

fn jws_header(input: &[u8]) {
    let Some((&letter, header)) = input.split_first() else {
        return;
    };
    let (private, public) = test_key();
    let header_b64 = b64(header);
    let signature = match sign_raw(
        Alg::ES256,
        private,
        format!("{header_b64}.{}", b64(BODY)).as_bytes(),
    ) {
        Ok(signature) => signature,
        Err(e) => panic!("signing with the test key: {e}"),
    };
    let value = format!("{header_b64}..{}", b64(&signature));
    let binding = binding(letter);
    let lookup = |kid: &str| (kid == KID).then(|| public.clone());
    let Ok(verified) = jws::verify_detached(&value, BODY, &binding, lookup, NOW) else {
        return;
    };
    let header: Value = match serde_json::from_slice(header) {
        Ok(header) => header,
        Err(e) => panic!("a header that is not JSON verified: {e}"),
    };
    let Some(members) = header.as_object() else {
        panic!("a header that is not an object verified: {header}");
    };
    let allowed = ["alg", "kid", "iat", "jti", "htm", "htu", "irt"];
    assert!(
        members.keys().all(|k| allowed.contains(&k.as_str())),
        "{header}"
    );
    assert_eq!(header["alg"], "ES256", "{header}");
    assert_eq!(verified.kid, KID);
    assert_eq!(header["kid"], KID);
    assert_eq!(header["jti"], verified.jti.as_str());
    assert_eq!(header["iat"], verified.iat);
    assert!(verified.iat.abs_diff(NOW) <= jws::MAX_SKEW_S.unsigned_abs());
    match binding {
        Binding::Request { .. } => {
            assert_eq!(header["htm"], METHOD, "{header}");
            assert_eq!(header["htu"], PATH, "{header}");
            assert!(header.get("irt").is_none(), "{header}");
        }
        Binding::Response { .. } => {
            assert_eq!(header["irt"], REQUEST_JTI, "{header}");
            assert!(header.get("htm").is_none() && header.get("htu").is_none());
        }
    }
    let other_body = jws::verify_detached(&value, b"{}", &binding, lookup, NOW);
    assert_eq!(other_body, Err(JwsError::BadSignature));
}

// ---- consent::parse_request ------------------------------------------------------------------

fn consent_request(input: &[u8]) {
    let Ok(json) = serde_json::from_slice::<Value>(input) else {
        return;
    };
    let Some(consumer) = ConsumerId::parse(CONSUMER) else {
        panic!("{CONSUMER} is not a participant id");
    };
    let products: Vec<&str> = ProductId::ALL.iter().map(|p| p.as_str()).collect();
    let terms = match parse_request(&json, &consumer, &products, NOW) {
        Ok(terms) => terms,
        Err(errors) => {
            assert!(!errors.is_empty(), "refused without a reason: {json}");
            return;
        }
    };
    let rules = check_terms(&terms, &products, NOW);
    assert!(rules.is_empty(), "{rules:?}");
    let request = request_json(&terms);
    let again = parse_request(&request, &consumer, &products, NOW);
    assert_eq!(again.as_ref(), Ok(&terms), "{request}");
    let stored = match serde_json::to_string(&terms) {
        Ok(stored) => stored,
        Err(e) => panic!("terms do not serialise: {e}"),
    };
    let restored = serde_json::from_str::<ConsentTerms>(&stored).ok();
    assert_eq!(restored.as_ref(), Some(&terms), "{stored}");
}

/// The request a consumer would send for `terms`.
fn request_json(terms: &ConsentTerms) -> Value {
    let ids = |ids: Vec<&str>| Value::from(ids);
    let owner = match &terms.owner {
        Owner::Resident(resident) => json!({ "resident": resident.as_str() }),
        Owner::Company {
            company,
            representative,
        } => json!({ "company": company.as_str(), "representative": representative.as_str() }),
    };
    let mut request = json!({
        "purpose": { "code": terms.purpose.code.code(), "text": terms.purpose.text },
        "products": ids(terms.products.iter().map(TermsProductId::as_str).collect()),
        "owner": owner,
        "providers": ids(terms.providers.iter().map(ConsumerId::as_str).collect()),
        "data_range": { "from": rfc3339(terms.data_range.from_s), "to": rfc3339(terms.data_range.to_s) },
        "frequency": { "unit": terms.frequency.unit.as_str(), "value": terms.frequency.value },
        "validity": { "from": rfc3339(terms.validity.from_s), "until": rfc3339(terms.validity.to_s) },
        "mode": terms.mode,
        "fetch_type": terms.fetch_type,
    });
    if let Some(life) = terms.data_life {
        request["data_life"] = json!({ "unit": life.unit.as_str(), "value": life.value });
    }
    if let Some(url) = &terms.return_url {
        request["return_url"] = json!(url);
    }
    request
}

// ---- directory -------------------------------------------------------------------------------

fn participant(input: &[u8]) {
    let new = match ParticipantDraft::from_json(input) {
        Ok(new) => new,
        Err(DirectoryError::Invalid(errors)) => {
            assert!(!errors.is_empty(), "refused without a reason");
            for e in errors {
                assert!(e.pointer.starts_with('/'), "{e:?}");
            }
            return;
        }
        Err(e) => panic!("a registration is refused as invalid and only so, not: {e}"),
    };
    let draft = draft_of(&new);
    let text = match serde_json::to_vec(&draft) {
        Ok(text) => text,
        Err(e) => panic!("a draft does not serialise: {e}"),
    };
    let again = ParticipantDraft::from_json(&text);
    assert!(
        matches!(&again, Ok(again) if *again == new),
        "{new:?} written as {} reads as {again:?}",
        String::from_utf8_lossy(&text)
    );
}

/// The registration that `new` came from, written as its submitter would.
fn draft_of(new: &NewParticipant) -> ParticipantDraft {
    ParticipantDraft {
        id: new.id.as_str().to_owned(),
        name: NamesDraft {
            en: new.name.en.clone(),
            zh_hant: new.name.zh_hant.clone(),
            zh_hans: new.name.zh_hans.clone(),
        },
        roles: new.roles.as_str().to_owned(),
        licence: new.licence.as_str().to_owned(),
        fps_code: new.fps_code.clone(),
        jwks: json!({ "keys": new.keys }),
        provides: new.provides.iter().map(|p| p.as_str().to_owned()).collect(),
    }
}

fn jwks(input: &[u8]) {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    // The checkpoint verifier's reader, on any text: it answers without panicking.
    let _ = keys_from_jwks(text);
    let Ok(json) = serde_json::from_str::<Value>(text) else {
        return;
    };
    let keys = match check_jwks(&json, "/jwks") {
        Ok(keys) => keys,
        Err(errors) => {
            assert!(!errors.is_empty(), "refused without a reason: {json}");
            for e in errors {
                assert!(e.pointer.starts_with("/jwks"), "{e:?}");
            }
            return;
        }
    };
    assert!((1..=KEYS_MAX).contains(&keys.len()), "{json}");
    let mut kids: Vec<&str> = keys.iter().filter_map(|k| k.kid.as_deref()).collect();
    kids.sort_unstable();
    kids.dedup();
    assert_eq!(kids.len(), keys.len(), "every key has its own kid: {json}");
    for key in &keys {
        assert!(!key.has_private_parts() && key.to_key().is_ok(), "{key:?}");
    }
    let written = json!({ "keys": keys });
    assert_eq!(
        check_jwks(&written, "/jwks").as_ref(),
        Ok(&keys),
        "{written}"
    );
    // Read as written back, not as sent: the text may repeat a member, which the directory
    // reads as its last value (as RFC 7515 allows) and the checkpoint reader refuses.
    let found = match keys_from_jwks(&written.to_string()) {
        Ok(found) => found,
        Err(e) => panic!("an accepted JWK Set is not read for checkpoints: {e}: {written}"),
    };
    assert!(kids.iter().all(|kid| found.contains_key(*kid)), "{written}");
}

// ---- sandbox ---------------------------------------------------------------------------------

fn sandbox_request(input: &[u8]) {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    let mut lines = text.split('\n');
    let mut next = || lines.next().unwrap_or_default();
    let day = format_description!("[year]-[month]-[day]");
    let (Some(product), owner, provider, bank_code, Ok(from), Ok(to)) = (
        ProductId::parse(next()),
        next(),
        next(),
        next(),
        Date::parse(next(), day),
        Date::parse(next(), day),
    ) else {
        return;
    };
    let span_days = (to - from).whole_days();
    if span_days > SANDBOX_SPAN_DAYS_MAX && span_days < sandbox::RANGE_DAYS_MAX {
        return;
    }
    let accounts: Vec<KnownAccount> = lines
        .take(3)
        .filter_map(|line| {
            let mut parts = line.splitn(3, ',');
            Some(KnownAccount {
                number: parts.next()?.to_owned(),
                currency: parts.next()?.to_owned(),
                kind: parts.next()?.to_owned(),
            })
        })
        .collect();
    let req = SandboxRequest {
        product,
        owner,
        provider,
        bank_code: Some(bank_code).filter(|c| !c.is_empty()),
        from,
        to,
        accounts: &accounts,
    };
    let doc = match sandbox::generate(&req) {
        Ok(doc) => doc,
        Err(e) => {
            let broken = match e {
                SandboxError::Owner => {
                    owner.is_empty() || owner.chars().count() > sandbox::OWNER_LEN_MAX
                }
                SandboxError::Provider => provider.is_empty() || provider.len() > 64,
                SandboxError::RangeInverted => to < from,
                SandboxError::RangeTooLong => (to - from).whole_days() >= sandbox::RANGE_DAYS_MAX,
            };
            assert!(broken, "{e} for {req:?}");
            return;
        }
    };
    let (Ok(from_text), Ok(to_text)) = (from.format(day), to.format(day)) else {
        panic!("a date of the request does not format");
    };
    assert_eq!(doc["product"], product.as_str());
    assert_eq!(doc["owner"], owner);
    assert_eq!(doc["provider"], provider);
    assert_eq!(doc["from"], from_text.as_str());
    assert_eq!(doc["to"], to_text.as_str());
    let mut dates = Vec::new();
    dated(&doc, &mut dates);
    for date in dates {
        // Four-digit years (the format above reads no other): text order is date order.
        assert!(
            from_text.as_str() <= date && date <= to_text.as_str(),
            "{product}: {date} outside {from_text}..{to_text}"
        );
    }
}

/// Every date of a booking or receipt under `value` (as the sandbox's own tests collect them).
fn dated<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("booking_date" | "date", Value::String(s)) => out.push(s),
                    ("received_at", Value::String(s)) => out.push(s.get(..10).unwrap_or(s)),
                    _ => dated(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| dated(v, out)),
        _ => {}
    }
}

// ---- ids and vocabularies --------------------------------------------------------------------

fn words(input: &[u8]) {
    let Ok(word) = std::str::from_utf8(input) else {
        return;
    };
    fn same<T>(word: &str, parsed: Option<T>, write: impl Fn(&T) -> &str) {
        if let Some(value) = parsed {
            assert_eq!(write(&value), word);
        }
    }
    same(word, Role::parse(word), |v| v.as_str());
    same(word, Roles::parse(word), |v| v.as_str());
    same(word, Licence::parse(word), |v| v.as_str());
    same(word, Status::parse(word), |v| v.as_str());
    same(word, ParticipantId::parse(word), ParticipantId::as_str);
    same(word, ProductId::parse(word), |v| v.as_str());
    same(word, PurposeCode::parse(word), |v| v.code());
    same(word, TimeUnit::parse(word), |v| v.as_str());
    same(word, ConsentId::parse(word), ConsentId::as_str);
    same(word, ResidentId::parse(word), ResidentId::as_str);
    same(word, CompanyId::parse(word), CompanyId::as_str);
    same(word, ConsumerId::parse(word), ConsumerId::as_str);
    same(word, TermsProductId::parse(word), TermsProductId::as_str);
}
