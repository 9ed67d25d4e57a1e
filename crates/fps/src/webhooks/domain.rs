//! The rules of webhooks, pure: which addresses a participant may register, event-type filters,
//! the body formats, the signing secret and the Standard Webhooks signature, deterministic event
//! ids, and the retry schedule. No I/O.

use std::time::Duration;

pub use bauhinia_core::endpoint::{EndpointUrl, URL_BYTES_MAX};
pub use bauhinia_core::retry::Schedule;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The most subscriptions one participant may hold.
pub const SUBSCRIPTIONS_MAX: usize = 10;
/// The most event-type patterns one subscription may list.
pub const EVENT_TYPES_MAX: usize = 20;
/// The longest event-type pattern, in bytes.
const EVENT_TYPE_BYTES_MAX: usize = 64;
/// The signing secret's length, in bytes of randomness.
pub const SECRET_BYTES: usize = 32;
/// The prefix of a secret's text form (Standard Webhooks).
pub const SECRET_PREFIX: &str = "whsec_";
/// How long a rotated-out secret keeps signing beside the new one.
pub const ROTATION_OVERLAP_S: i64 = 24 * 3600;

/// One pattern of a subscription's filter: an exact type (`transfer.settled`), a prefix
/// (`transfer.*`), or `*` (everything).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPattern(String);

impl EventPattern {
    pub fn parse(text: &str) -> Result<EventPattern, &'static str> {
        let bad =
            "must be an event type such as transfer.settled, a prefix such as transfer.*, or *";
        if text == "*" {
            return Ok(EventPattern(text.to_owned()));
        }
        if text.is_empty() || text.len() > EVENT_TYPE_BYTES_MAX {
            return Err(bad);
        }
        let stem = text.strip_suffix(".*").unwrap_or(text);
        let word_ok = |w: &str| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        };
        if !stem.split('.').all(word_ok) {
            return Err(bad);
        }
        Ok(EventPattern(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn matches(&self, kind: &str) -> bool {
        if self.0 == "*" {
            return true;
        }
        match self.0.strip_suffix('*') {
            Some(prefix) => kind.starts_with(prefix),
            None => self.0 == kind,
        }
    }
}

/// Whether an event of `kind` goes to a subscription with `patterns` (none: every event).
/// The patterns of a subscription as stored (a JSON array of texts); an unreadable entry is
/// dropped, as it could never have been registered.
pub fn stored_patterns(types_json: &str) -> Vec<EventPattern> {
    let types: Vec<String> = serde_json::from_str(types_json).unwrap_or_default();
    types
        .iter()
        .filter_map(|t| EventPattern::parse(t).ok())
        .collect()
}

pub fn wanted(patterns: &[EventPattern], kind: &str) -> bool {
    patterns.is_empty() || patterns.iter().any(|p| p.matches(kind))
}

/// The body a subscription receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The JSON envelope (`application/json`).
    Json,
    /// ISO 20022 camt.054.001.08 for transfer and settlement events (`application/xml`); other
    /// events as JSON.
    Camt054,
}

impl Format {
    pub fn parse(text: &str) -> Option<Format> {
        match text {
            "json" => Some(Format::Json),
            "camt.054" => Some(Format::Camt054),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Camt054 => "camt.054",
        }
    }
}

/// Whether an event type is about money on a settlement account, so camt.054 can carry it.
pub fn is_account_event(kind: &str) -> bool {
    kind.starts_with("transfer.") || kind.starts_with("settlement.")
}

/// A subscription's signing secret. Never printed: `Debug` is redacted; wiped on drop.
#[derive(Clone, PartialEq, Eq, zeroize::ZeroizeOnDrop)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Secret {
    pub fn generate() -> Secret {
        let mut bytes = vec![0u8; SECRET_BYTES];
        bauhinia_core::crypto::random_bytes(&mut bytes);
        Secret(bytes)
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Secret {
        Secret(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// `whsec_` and the standard base64 of the key (with padding), as Standard Webhooks
    /// libraries take it.
    pub fn to_text(&self) -> String {
        format!(
            "{SECRET_PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(&self.0)
        )
    }

    /// Reads the text form back (for verifiers).
    pub fn from_text(text: &str) -> Option<Secret> {
        let b64 = text.strip_prefix(SECRET_PREFIX).unwrap_or(text);
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .ok()
            .filter(|b| !b.is_empty())
            .map(Secret)
    }
}

/// The `webhook-signature` header with one signature per secret, space-separated (during a
/// rotation, the new secret's and the previous one's).
pub fn sign_all(secrets: &[Secret], id: &str, timestamp_s: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .map(|s| sign(s, id, timestamp_s, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `webhook-signature` value: `v1,` and the standard base64 of
/// HMAC-SHA256(secret, `{id}.{timestamp}.{body}`).
pub fn sign(secret: &Secret, id: &str, timestamp_s: i64, body: &[u8]) -> String {
    let mac = signed_content_mac(secret, id, timestamp_s, body);
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac)
    )
}

fn signed_content_mac(secret: &Secret, id: &str, timestamp_s: i64, body: &[u8]) -> [u8; 32] {
    // HMAC takes a key of any length.
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(&secret.0) else {
        return [0; 32];
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp_s.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// Why a signature did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyError {
    /// The timestamp is more than the tolerance away from now (a replay, or a wrong clock).
    Timestamp,
    /// No `v1` signature in the header matches.
    Signature,
}

/// Checks a delivery as a receiver would: one of the space-separated `v1,` signatures must
/// match (compared in constant time) and the timestamp be within `tolerance_s` of `now_s`.
pub fn verify(
    secret: &Secret,
    id: &str,
    timestamp_s: i64,
    signatures: &str,
    body: &[u8],
    now_s: i64,
    tolerance_s: i64,
) -> Result<(), VerifyError> {
    if (now_s - timestamp_s).abs() > tolerance_s {
        return Err(VerifyError::Timestamp);
    }
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(&secret.0) else {
        return Err(VerifyError::Signature);
    };
    mac.update(format!("{id}.{timestamp_s}.").as_bytes());
    mac.update(body);
    for candidate in signatures.split(' ') {
        let Some(b64) = candidate.strip_prefix("v1,") else {
            continue;
        };
        let Ok(given) = base64::engine::general_purpose::STANDARD.decode(b64) else {
            continue;
        };
        if mac.clone().verify_slice(&given).is_ok() {
            return Ok(());
        }
    }
    Err(VerifyError::Signature)
}

/// The id of the event that tells `participant` of `kind` about ledger transfer `transfer`:
/// the same inputs always give the same id (a UUIDv8 of SHA-256 over them), so an event made
/// twice is the same event, and a receiver can de-duplicate on `webhook-id`.
pub fn ledger_event_id(transfer: u128, participant: &str, kind: &str) -> uuid::Uuid {
    let digest = Sha256::new()
        .chain_update(b"bauhinia.fps.event.v1\0")
        .chain_update(transfer.to_be_bytes())
        .chain_update(participant.as_bytes())
        .chain_update([0])
        .chain_update(kind.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    for (b, d) in bytes.iter_mut().zip(digest.iter()) {
        *b = *d;
    }
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, then hourly until 24 hours have passed since the
/// first attempt: 28 retries, 29 attempts.
pub const RETRY_SCHEDULE: Schedule = Schedule {
    delays: &[
        Duration::from_secs(5),
        Duration::from_secs(30),
        Duration::from_secs(120),
        Duration::from_secs(600),
        Duration::from_secs(1800),
        Duration::from_secs(3600),
    ],
    repeat: Duration::from_secs(3600),
    total: Duration::from_secs(86_400),
    jitter_per_mille: 100,
};

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Any text: an answer, never a panic; what is accepted keeps to the rules.
        #[test]
        fn parsers_take_any_text(text in "\\PC{0,80}", scheme in "(https?|ftp)://", host in "[a-z0-9.:\\[\\]]{0,20}") {
            let url = format!("{scheme}{host}/{text}");
            if let Ok(parsed) = EndpointUrl::parse(&url) {
                let s = parsed.as_str();
                proptest::prop_assert!(s.starts_with("https://") || s.starts_with("http://"));
                proptest::prop_assert!(!parsed.redacted().contains('?'));
            }
            let _ = EndpointUrl::parse(&text);
            if let Ok(p) = EventPattern::parse(&text) {
                let allowed = |b: u8| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b"._*".contains(&b)
                };
                proptest::prop_assert!(p.as_str().bytes().all(allowed), "{}", p.as_str());
            }
            let _ = Secret::from_text(&text);
        }
    }

    #[test]
    fn patterns() {
        let p = |s| EventPattern::parse(s).expect("valid");
        assert!(p("transfer.*").matches("transfer.settled"));
        assert!(!p("transfer.*").matches("transfers.settled"));
        assert!(p("transfer.settled").matches("transfer.settled"));
        assert!(!p("transfer.settled").matches("transfer.refused"));
        assert!(p("*").matches("mandate.activated"));
        assert!(wanted(&[], "anything"));
        for bad in [
            "",
            "Transfer.*",
            "transfer.",
            "transfer*",
            ".x",
            "a..b",
            "a b",
        ] {
            assert!(EventPattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn signature_matches_the_standard_webhooks_example() {
        // The specification's example (standard-webhooks, spec/standard-webhooks.md).
        let secret = Secret::from_text("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("secret");
        let body = br#"{"test": 2432232314}"#;
        let signature = sign(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert_eq!(
            verify(
                &secret,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                &format!("v0,xx {signature}"),
                body,
                1614265331,
                300
            ),
            Ok(())
        );
        assert_eq!(
            verify(
                &secret,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                &signature,
                b"{}",
                1614265331,
                300
            ),
            Err(VerifyError::Signature)
        );
        assert_eq!(
            verify(
                &secret,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                &signature,
                body,
                1614265930,
                300
            ),
            Err(VerifyError::Timestamp)
        );
    }

    #[test]
    fn secrets_round_trip_and_never_print() {
        let s = Secret::generate();
        assert_eq!(s.as_bytes().len(), SECRET_BYTES);
        assert!(s.to_text().starts_with("whsec_"));
        assert_eq!(Secret::from_text(&s.to_text()), Some(s.clone()));
        assert_eq!(format!("{s:?}"), "Secret(***)");
    }

    #[test]
    fn event_ids_are_deterministic() {
        let a = ledger_event_id(7, "004", "transfer.settled");
        assert_eq!(a, ledger_event_id(7, "004", "transfer.settled"));
        assert_ne!(a, ledger_event_id(7, "012", "transfer.settled"));
        assert_ne!(a, ledger_event_id(7, "004", "transfer.refused"));
        assert_ne!(a, ledger_event_id(8, "004", "transfer.settled"));
        assert_eq!(a.get_version_num(), 8);
    }

    #[test]
    fn the_schedule_spans_a_day() {
        let s = RETRY_SCHEDULE;
        assert_eq!(s.delay_after(0), None);
        assert_eq!(s.delay_after(1), Some(Duration::from_secs(5)));
        assert_eq!(s.delay_after(6), Some(Duration::from_secs(3600)));
        assert_eq!(s.delay_after(7), Some(Duration::from_secs(3600)));
        let retries = (1..100).take_while(|n| s.delay_after(*n).is_some()).count();
        assert_eq!(retries, 28);
        let total: Duration = (1..=28).filter_map(|n| s.delay_after(n)).sum();
        assert!(total <= Duration::from_secs(86_400));
        assert!(total + Duration::from_secs(3600) > Duration::from_secs(86_400));
        for _ in 0..100 {
            let d = s.jittered(Duration::from_secs(100));
            assert!(d >= Duration::from_secs(90) && d <= Duration::from_secs(110));
        }
    }
}
