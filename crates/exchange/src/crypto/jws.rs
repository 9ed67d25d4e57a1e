//! Detached JWS (RFC 7515 Appendix F) on every request and response between participants and
//! the gateway. ES256 only: `none`, HMAC and every other algorithm are refused, and so is any
//! `crit` extension. The protected header carries `kid` (a key registered for the participant),
//! `iat` (accepted within ±[`MAX_SKEW_S`]), `jti` (unique per key within that window: see
//! [`super::replay`]) and what ties the signature to its exchange ([`Binding`]): the HTTP method
//! and path of a request, or the `jti` of the request a response answers. The signing input is
//! the standard `BASE64URL(header) '.' BASE64URL(body)`; the value sent is `header..signature`.

use bauhinia_identity::jose::{b64, sign_raw, unb64, verify_raw, Alg, JoseError};
use openssl::pkey::{PKey, Private, Public};
use serde::{Deserialize, Serialize};

/// How far `iat` may be from the verifier's clock, either way.
pub const MAX_SKEW_S: i64 = 300;
/// The longest detached value accepted (headers are small; this refuses junk before decoding).
pub const VALUE_MAX_LEN: usize = 2048;
/// The longest `kid` and `jti`.
pub const ID_MAX_LEN: usize = 128;
/// The HTTP header that carries the value.
pub const HEADER_NAME: &str = "x-jws-signature";

/// What a signature is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    /// A request: its HTTP method (upper case) and path (without the query).
    Request { method: String, path: String },
    /// A response: the `jti` of the request it answers.
    Response { request_jti: String },
}

impl Binding {
    pub fn request(method: &str, path: &str) -> Binding {
        Binding::Request {
            method: method.to_owned(),
            path: path.to_owned(),
        }
    }

    pub fn response(request_jti: &str) -> Binding {
        Binding::Response {
            request_jti: request_jti.to_owned(),
        }
    }
}

/// What a good signature establishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub kid: String,
    pub jti: String,
    pub iat: i64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwsError {
    #[error("the detached signature is malformed: {0}")]
    Malformed(&'static str),
    #[error("the algorithm {0:?} is not accepted (ES256 only)")]
    BadAlgorithm(String),
    #[error("no registered key has id {0:?}")]
    UnknownKey(String),
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the signature's iat {iat} is more than {MAX_SKEW_S} s from now ({now})")]
    Stale { iat: i64, now: i64 },
    #[error("the signature is bound to another {0}")]
    BindingMismatch(&'static str),
    #[error("the signature could not be made: {0}")]
    Sign(String),
}

impl JwsError {
    /// The stable error code the gateway answers with.
    pub fn code(&self) -> bauhinia_core::ErrorCode {
        use bauhinia_core::ErrorCode;
        match self {
            JwsError::Malformed(_) => ErrorCode::ExchangeSignatureMalformed,
            JwsError::BadAlgorithm(_) => ErrorCode::ExchangeSignatureAlgorithm,
            JwsError::UnknownKey(_) => ErrorCode::ExchangeSignatureUnknownKey,
            JwsError::BadSignature => ErrorCode::ExchangeSignatureInvalid,
            JwsError::Stale { .. } => ErrorCode::ExchangeRequestStale,
            JwsError::BindingMismatch(_) => ErrorCode::ExchangeSignatureBinding,
            JwsError::Sign(_) => ErrorCode::Internal,
        }
    }
}

/// The protected header. Unknown members are refused, so nothing unsigned-for can ride along.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    alg: String,
    kid: String,
    iat: i64,
    jti: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    htm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    htu: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    irt: Option<String>,
    #[serde(default, skip_serializing)]
    crit: Option<serde_json::Value>,
}

fn id_ok(id: &str) -> bool {
    !id.is_empty() && id.len() <= ID_MAX_LEN && id.bytes().all(|b| b.is_ascii_graphic())
}

/// Signs `body` for `binding` with a fresh `jti` and the current time.
pub fn sign_detached(
    kid: &str,
    key: &PKey<Private>,
    binding: &Binding,
    body: &[u8],
) -> Result<String, JwsError> {
    let jti = uuid::Uuid::new_v4().simple().to_string();
    sign_detached_at(kid, key, binding, body, &jti, now_s())
}

/// Signs `body` for `binding` with the given `jti` and `iat`.
pub fn sign_detached_at(
    kid: &str,
    key: &PKey<Private>,
    binding: &Binding,
    body: &[u8],
    jti: &str,
    iat: i64,
) -> Result<String, JwsError> {
    if !id_ok(kid) || !id_ok(jti) {
        return Err(JwsError::Sign(
            "kid and jti are 1 to 128 visible ASCII characters".into(),
        ));
    }
    let (htm, htu, irt) = match binding {
        Binding::Request { method, path } => (Some(method.clone()), Some(path.clone()), None),
        Binding::Response { request_jti } => (None, None, Some(request_jti.clone())),
    };
    let header = Header {
        alg: Alg::ES256.as_str().to_owned(),
        kid: kid.to_owned(),
        iat,
        jti: jti.to_owned(),
        htm,
        htu,
        irt,
        crit: None,
    };
    let header = serde_json::to_vec(&header).map_err(|e| JwsError::Sign(e.to_string()))?;
    let header = b64(&header);
    let input = format!("{header}.{}", b64(body));
    let signature = sign_raw(Alg::ES256, key, input.as_bytes()).map_err(|e| match e {
        JoseError::KeyMismatch(why) => JwsError::Sign(why.to_owned()),
        other => JwsError::Sign(other.to_string()),
    })?;
    Ok(format!("{header}..{}", b64(&signature)))
}

/// A detached value split and its header decoded, before any key is looked up.
#[derive(Debug)]
struct Parsed<'a> {
    header: Header,
    header_b64: &'a str,
    signature: Vec<u8>,
}

fn parse(value: &str) -> Result<Parsed<'_>, JwsError> {
    if value.len() > VALUE_MAX_LEN {
        return Err(JwsError::Malformed("too long"));
    }
    let mut parts = value.split('.');
    let (Some(header_b64), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwsError::Malformed("a detached JWS is header..signature"));
    };
    if !payload.is_empty() {
        return Err(JwsError::Malformed(
            "the payload part of a detached JWS is empty",
        ));
    }
    let header_json =
        unb64(header_b64).map_err(|_| JwsError::Malformed("the header is not base64url"))?;
    // The algorithm is read first, so that `none` or HS256 is named as such even when the
    // rest of the header is not ours.
    let alg = serde_json::from_slice::<serde_json::Value>(&header_json)
        .map_err(|_| JwsError::Malformed("the header is not JSON"))?
        .get("alg")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
        .ok_or(JwsError::Malformed("the header has no alg"))?;
    if Alg::parse(&alg) != Some(Alg::ES256) {
        return Err(JwsError::BadAlgorithm(alg));
    }
    let header: Header = serde_json::from_slice(&header_json)
        .map_err(|_| JwsError::Malformed("the header has a missing, unknown or mistyped member"))?;
    if header.crit.is_some() {
        return Err(JwsError::Malformed("no critical extension is understood"));
    }
    if !id_ok(&header.kid) || !id_ok(&header.jti) {
        return Err(JwsError::Malformed(
            "kid and jti are 1 to 128 visible ASCII characters",
        ));
    }
    let signature =
        unb64(signature).map_err(|_| JwsError::Malformed("the signature is not base64url"))?;
    Ok(Parsed {
        header,
        header_b64,
        signature,
    })
}

/// Verifies a detached signature over `body`: the algorithm, the key (looked up by `kid` among
/// the caller's registered keys), the signature, the time, then the binding. Replay is the
/// caller's next step ([`super::replay::record`]).
pub fn verify_detached(
    value: &str,
    body: &[u8],
    binding: &Binding,
    key_lookup: impl Fn(&str) -> Option<PKey<Public>>,
    now_s: i64,
) -> Result<Verified, JwsError> {
    let parsed = parse(value)?;
    let header = parsed.header;
    let key = key_lookup(&header.kid).ok_or_else(|| JwsError::UnknownKey(header.kid.clone()))?;
    let input = format!("{}.{}", parsed.header_b64, b64(body));
    verify_raw(Alg::ES256, &key, input.as_bytes(), &parsed.signature)
        .map_err(|_| JwsError::BadSignature)?;
    if header.iat.abs_diff(now_s) > MAX_SKEW_S.unsigned_abs() {
        return Err(JwsError::Stale {
            iat: header.iat,
            now: now_s,
        });
    }
    let bound = match binding {
        Binding::Request { method, path } => {
            if header.irt.is_some() || header.htm.as_deref() != Some(method.as_str()) {
                Err(JwsError::BindingMismatch("HTTP method"))
            } else if header.htu.as_deref() != Some(path.as_str()) {
                Err(JwsError::BindingMismatch("path"))
            } else {
                Ok(())
            }
        }
        Binding::Response { request_jti } => {
            if header.htm.is_some()
                || header.htu.is_some()
                || header.irt.as_deref() != Some(request_jti.as_str())
            {
                Err(JwsError::BindingMismatch("request"))
            } else {
                Ok(())
            }
        }
    };
    bound?;
    Ok(Verified {
        kid: header.kid,
        jti: header.jti,
        iat: header.iat,
    })
}

/// The current Unix time in seconds.
pub fn now_s() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::nid::Nid;
    use proptest::prelude::*;

    fn es256() -> PKey<Private> {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
    }

    fn public(key: &PKey<Private>) -> PKey<Public> {
        PKey::public_key_from_der(&key.public_key_to_der().unwrap()).unwrap()
    }

    const NOW: i64 = 1_790_000_000;
    const BODY: &[u8] = br#"{"consent_id":"c-1","key_material":{}}"#;

    struct Fixture {
        key: PKey<Private>,
        binding: Binding,
    }

    impl Fixture {
        fn new() -> Fixture {
            Fixture {
                key: es256(),
                binding: Binding::request("POST", "/api/exchange/v1/fetch"),
            }
        }

        fn sign(&self) -> String {
            sign_detached_at("bank-004-k1", &self.key, &self.binding, BODY, "jti-1", NOW).unwrap()
        }

        fn verify(&self, value: &str) -> Result<Verified, JwsError> {
            let public = public(&self.key);
            verify_detached(
                value,
                BODY,
                &self.binding,
                |kid| (kid == "bank-004-k1").then(|| public.clone()),
                NOW,
            )
        }

        /// A value with a hand-made header, signed with the fixture's key.
        fn forge(&self, header: serde_json::Value) -> String {
            let h = b64(header.to_string().as_bytes());
            let sig = sign_raw(
                Alg::ES256,
                &self.key,
                format!("{h}.{}", b64(BODY)).as_bytes(),
            );
            format!("{h}..{}", b64(&sig.unwrap()))
        }
    }

    fn header() -> serde_json::Value {
        serde_json::json!({"alg": "ES256", "kid": "bank-004-k1", "iat": NOW, "jti": "j",
            "htm": "POST", "htu": "/api/exchange/v1/fetch"})
    }

    #[test]
    fn signs_and_verifies_requests_and_responses() {
        let f = Fixture::new();
        let value = f.sign();
        assert!(value.contains(".."), "{value}");
        assert_eq!(
            f.verify(&value).unwrap(),
            Verified {
                kid: "bank-004-k1".into(),
                jti: "jti-1".into(),
                iat: NOW
            }
        );
        let forged = f.forge(header());
        assert_eq!(f.verify(&forged).unwrap().jti, "j");
        let response = Fixture {
            key: f.key.clone(),
            binding: Binding::response("jti-1"),
        };
        assert_eq!(
            response.verify(&response.sign()).unwrap().kid,
            "bank-004-k1"
        );
        // The fresh-jti form uses the wall clock.
        let live = sign_detached("bank-004-k1", &f.key, &f.binding, BODY).unwrap();
        let public = public(&f.key);
        let v =
            verify_detached(&live, BODY, &f.binding, |_| Some(public.clone()), now_s()).unwrap();
        assert_eq!(v.jti.len(), 32);
    }

    #[test]
    fn each_error_has_its_input() {
        let f = Fixture::new();
        let good = f.sign();
        let (h, sig) = good.split_once("..").unwrap();
        let check = |value: &str, expected: JwsError| assert_eq!(f.verify(value), Err(expected));

        // Malformed.
        for bad in [
            "",
            "abc",
            "a.b.c",
            "a..b..c",
            &format!("{h}.e30.{sig}"),
            &format!("{h}..!!"),
        ] {
            assert!(
                matches!(f.verify(bad), Err(JwsError::Malformed(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            f.verify(&"a".repeat(3000)),
            Err(JwsError::Malformed("too long"))
        ));
        let mut extra = header();
        extra["b64"] = false.into();
        assert!(matches!(
            f.verify(&f.forge(extra)),
            Err(JwsError::Malformed(_))
        ));
        let mut crit = header();
        crit["crit"] = serde_json::json!(["exp"]);
        check(
            &f.forge(crit),
            JwsError::Malformed("no critical extension is understood"),
        );
        let mut no_jti = header();
        no_jti.as_object_mut().unwrap().remove("jti");
        assert!(matches!(
            f.verify(&f.forge(no_jti)),
            Err(JwsError::Malformed(_))
        ));

        // Algorithms other than ES256.
        for alg in ["none", "HS256", "RS256", "PS256", "ES384"] {
            let mut h = header();
            h["alg"] = alg.into();
            let unsigned = format!("{}..", b64(h.to_string().as_bytes()));
            check(&unsigned, JwsError::BadAlgorithm(alg.into()));
        }

        // An unregistered key.
        let mut other = header();
        other["kid"] = "bank-004-k2".into();
        check(&f.forge(other), JwsError::UnknownKey("bank-004-k2".into()));

        // Tampered: the body, the header, the signature; or signed by another key.
        let public = public(&f.key);
        let lookup = |_: &str| Some(public.clone());
        assert_eq!(
            verify_detached(&good, b"{}", &f.binding, lookup, NOW),
            Err(JwsError::BadSignature)
        );
        let mut flipped = unb64(sig).unwrap();
        flipped[10] ^= 1;
        check(&format!("{h}..{}", b64(&flipped)), JwsError::BadSignature);
        check(
            &format!("{h}..{}", b64(&flipped[..63])),
            JwsError::BadSignature,
        );
        let mut later = header();
        later["iat"] = (NOW + 1).into();
        let later_h = b64(later.to_string().as_bytes());
        check(&format!("{later_h}..{sig}"), JwsError::BadSignature);
        let stranger = Fixture {
            key: es256(),
            binding: f.binding.clone(),
        };
        check(&stranger.sign(), JwsError::BadSignature);

        // Stale and future.
        for iat in [
            NOW - MAX_SKEW_S - 1,
            NOW + MAX_SKEW_S + 1,
            0,
            i64::MIN,
            i64::MAX,
        ] {
            let mut h = header();
            h["iat"] = iat.into();
            check(&f.forge(h), JwsError::Stale { iat, now: NOW });
        }
        for iat in [NOW - MAX_SKEW_S, NOW + MAX_SKEW_S] {
            let mut h = header();
            h["iat"] = iat.into();
            assert!(f.verify(&f.forge(h)).is_ok());
        }

        // Bound to something else.
        let mut get = header();
        get["htm"] = "GET".into();
        check(&f.forge(get), JwsError::BindingMismatch("HTTP method"));
        let mut path = header();
        path["htu"] = "/api/exchange/v1/consents".into();
        check(&f.forge(path), JwsError::BindingMismatch("path"));
        let response = Fixture {
            key: f.key.clone(),
            binding: Binding::response("jti-1"),
        };
        check(&response.sign(), JwsError::BindingMismatch("HTTP method"));
        assert_eq!(
            response.verify(&good),
            Err(JwsError::BindingMismatch("request"))
        );
        let other_request = Fixture {
            key: f.key.clone(),
            binding: Binding::response("jti-2"),
        };
        assert_eq!(
            other_request.verify(&response.sign()),
            Err(JwsError::BindingMismatch("request"))
        );
    }

    #[test]
    fn errors_map_to_distinct_codes() {
        let errors = [
            JwsError::Malformed("x"),
            JwsError::BadAlgorithm("none".into()),
            JwsError::UnknownKey("k".into()),
            JwsError::BadSignature,
            JwsError::Stale { iat: 0, now: 0 },
            JwsError::BindingMismatch("path"),
        ];
        let codes: std::collections::HashSet<_> = errors.iter().map(|e| e.code().code()).collect();
        assert_eq!(codes.len(), errors.len());
        assert!(codes.iter().all(|c| c.starts_with("exchange.")));
    }

    proptest! {
        #[test]
        fn parsing_arbitrary_values_never_panics(value in ".{0,300}") {
            let f = Fixture::new();
            let _ = f.verify(&value);
        }

        #[test]
        fn parsing_arbitrary_headers_never_panics(
            alg in "ES256|none|HS256|x",
            kid in ".{0,20}",
            iat in any::<i64>(),
            jti in ".{0,20}",
            htm in proptest::option::of(".{0,8}"),
            sig in "[A-Za-z0-9_-]{0,100}",
        ) {
            let h = serde_json::json!({"alg": alg, "kid": kid, "iat": iat, "jti": jti, "htm": htm});
            let f = Fixture::new();
            let _ = f.verify(&format!("{}..{sig}", b64(h.to_string().as_bytes())));
        }

        #[test]
        fn round_trips(
            method in "GET|POST|PUT|DELETE",
            path in "/[a-z0-9/._~-]{0,60}",
            jti in "[A-Za-z0-9._~-]{1,64}",
            body in proptest::collection::vec(any::<u8>(), 0..256),
            skew in -MAX_SKEW_S..=MAX_SKEW_S,
        ) {
            let key = es256();
            let public = public(&key);
            let binding = Binding::request(&method, &path);
            let value = sign_detached_at("k", &key, &binding, &body, &jti, NOW + skew).unwrap();
            let verified = verify_detached(&value, &body, &binding, |_| Some(public.clone()), NOW).unwrap();
            prop_assert_eq!(verified, Verified { kid: "k".into(), jti, iat: NOW + skew });
        }
    }
}
