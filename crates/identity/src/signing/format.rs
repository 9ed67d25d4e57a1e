//! The one signature format Bauhinia produces: a JWS (RFC 7515) in compact serialization,
//! ES256 (ECDSA P-256 with SHA-256, the signature as the 64 bytes `r ‖ s`, RFC 7518 §3.4), with
//! the signer's certificate chain in `x5c`. `docs/signing.md` describes it byte for byte.
//!
//! This module builds and parses that format and checks the ES256 signature. Parsing is strict
//! (it reads outside input): a bounded length, exactly three base64url parts, exactly the header
//! and payload members below and nothing else (so an unknown `crit` is refused too), values of
//! the documented shape. It never panics, whatever the input (a property test checks this).

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use openssl::error::ErrorStack;
use openssl::pkey::{PKey, Private, Public};
use openssl::x509::{X509Ref, X509};
use serde::{Deserialize, Serialize};

use crate::domain::signing::{decode_hex, DocumentName};
use crate::jose::{self, Alg, JoseError};

/// The `alg` of every Bauhinia signature.
pub const ALG: &str = "ES256";
/// The `typ` of every Bauhinia signature (a document signature, not a JWT).
pub const TYP: &str = "bauhinia-signature+jws";
/// The `hash_alg` of every signed payload.
pub const HASH_ALG: &str = "sha256";
/// Longest compact JWS accepted for verification, in bytes.
pub const SIGNATURE_LEN_MAX: usize = 16 * 1024;
/// Most certificates accepted in `x5c` (ours holds two: the signer's and the issuing CA's).
pub const X5C_CERTS_MAX: usize = 3;
/// An ES256 signature: `r` and `s`, 32 bytes each, big-endian.
pub const ES256_SIGNATURE_BYTES: usize = 64;
/// The last second of the year 9999: later times are no one's time of signing.
const SIGNED_AT_MAX: i64 = 253_402_300_799;

/// The protected header. Member order is the order of serialization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub alg: String,
    pub typ: String,
    /// Standard base64 (with padding) of each certificate's DER: the signer's first, then the
    /// issuing CA's. The root is distributed separately (`GET /api/signing/v1/ca.pem`).
    pub x5c: Vec<String>,
}

/// What is signed. Member order is the order of serialization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Payload {
    /// Always `sha256`.
    pub hash_alg: String,
    /// The document's SHA-256 digest, 64 lower-case hexadecimal digits.
    pub document_hash: String,
    pub document_name: String,
    /// When the resident approved, in seconds since the Unix epoch (UTC).
    pub signed_at: i64,
    /// The signing request (a UUID).
    pub request_id: String,
    /// The signer's opaque id: also the `serialNumber` attribute of the certificate's subject.
    pub signer: String,
    /// Anonymous signing only: an opaque value bound to the signer's HKID and to the requesting
    /// service (base64url, no padding, 32 bytes). Not the HKID and not derivable from it
    /// without Bauhinia's master key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hkid_hash: Option<String>,
}

/// Why a text is not a Bauhinia signature. Safe to show to whoever sent the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("the signature is longer than {SIGNATURE_LEN_MAX} bytes")]
    TooLong,
    #[error("a compact JWS has exactly three parts separated by '.'")]
    NotCompact,
    #[error("the {0} is not base64url without padding")]
    Base64(&'static str),
    #[error("the {0} is not the documented JSON object: {1}")]
    Json(&'static str, String),
    #[error("unsupported header value: {0}")]
    Header(String),
    #[error("the payload member {0} is invalid: {1}")]
    Payload(&'static str, String),
    #[error("x5c must hold 1 to {X5C_CERTS_MAX} DER certificates in standard base64: {0}")]
    Chain(String),
    #[error("an ES256 signature is {ES256_SIGNATURE_BYTES} bytes (r ‖ s), not {0}")]
    SignatureLength(usize),
}

/// A parsed signature, not yet verified.
#[derive(Debug, Clone)]
pub struct ParsedSignature {
    pub header: Header,
    pub payload: Payload,
    /// The certificates of `x5c`, in order (the signer's first).
    pub chain: Vec<X509>,
    /// `BASE64URL(header) ‖ '.' ‖ BASE64URL(payload)`: the bytes that were signed.
    pub signing_input: String,
    pub signature: [u8; ES256_SIGNATURE_BYTES],
}

impl ParsedSignature {
    /// The signer's certificate (`x5c[0]`).
    pub fn leaf(&self) -> Option<&X509> {
        self.chain.first()
    }

    /// The certificates after the signer's.
    pub fn intermediates(&self) -> &[X509] {
        self.chain.get(1..).unwrap_or(&[])
    }
}

/// Builds and signs a compact JWS. The ES256 signature itself is [`crate::jose`]'s, the one JWS
/// signer of this crate.
pub fn sign(
    chain: &[&X509Ref],
    payload: &Payload,
    key: &PKey<Private>,
) -> Result<String, SignError> {
    let x5c = chain
        .iter()
        .map(|certificate| certificate.to_der().map(|der| STANDARD.encode(der)))
        .collect::<Result<Vec<_>, _>>()?;
    let header = Header {
        alg: ALG.to_owned(),
        typ: TYP.to_owned(),
        x5c,
    };
    let header = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(payload)?);
    let signing_input = format!("{header}.{payload}");
    let signature = jose::sign_raw(Alg::ES256, key, signing_input.as_bytes())?;
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    ))
}

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("OpenSSL: {0}")]
    OpenSsl(#[from] ErrorStack),
    #[error("JOSE: {0}")]
    Jose(#[from] JoseError),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl ParsedSignature {
    /// Whether the ES256 signature (`r ‖ s`) over the signing input verifies with `key`, which
    /// must be a P-256 key.
    pub fn signature_verifies(&self, key: &PKey<Public>) -> bool {
        jose::verify_raw(
            Alg::ES256,
            key,
            self.signing_input.as_bytes(),
            &self.signature,
        )
        .is_ok()
    }
}

/// Parses a compact JWS of the documented shape. Checks shapes only, not the signature.
pub fn parse(text: &str) -> Result<ParsedSignature, FormatError> {
    let text = text.trim();
    if text.len() > SIGNATURE_LEN_MAX {
        return Err(FormatError::TooLong);
    }
    let mut parts = text.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(FormatError::NotCompact);
    };
    let header: Header = json_part(header_b64, "header")?;
    let payload: Payload = json_part(payload_b64, "payload")?;
    check_header(&header)?;
    check_payload(&payload)?;
    let chain = decode_chain(&header.x5c)?;
    let signature = decode_signature(signature_b64)?;
    Ok(ParsedSignature {
        header,
        payload,
        chain,
        signing_input: format!("{header_b64}.{payload_b64}"),
        signature,
    })
}

/// An ES256 signature in base64url: exactly [`ES256_SIGNATURE_BYTES`] bytes.
pub fn decode_signature(text: &str) -> Result<[u8; ES256_SIGNATURE_BYTES], FormatError> {
    let signature = URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| FormatError::Base64("signature"))?;
    <[u8; ES256_SIGNATURE_BYTES]>::try_from(signature.as_slice())
        .map_err(|_| FormatError::SignatureLength(signature.len()))
}

/// A base64url part holding JSON of type `T` (`name` says which part, in errors).
pub fn json_part<T: serde::de::DeserializeOwned>(
    part: &str,
    name: &'static str,
) -> Result<T, FormatError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| FormatError::Base64(name))?;
    serde_json::from_slice(&bytes).map_err(|e| FormatError::Json(name, e.to_string()))
}

fn check_header(header: &Header) -> Result<(), FormatError> {
    if header.alg != ALG {
        return Err(FormatError::Header(format!("alg must be {ALG}")));
    }
    if header.typ != TYP {
        return Err(FormatError::Header(format!("typ must be {TYP}")));
    }
    Ok(())
}

fn check_payload(payload: &Payload) -> Result<(), FormatError> {
    check_document(&DocumentClaims {
        hash_alg: &payload.hash_alg,
        document_hash: &payload.document_hash,
        document_name: &payload.document_name,
        signed_at: payload.signed_at,
        request_id: &payload.request_id,
    })?;
    check_signer_id(&payload.signer, "signer")?;
    if let Some(hkid_hash) = &payload.hkid_hash {
        let ok = URL_SAFE_NO_PAD
            .decode(hkid_hash)
            .is_ok_and(|bytes| bytes.len() == 32);
        if !ok {
            return Err(FormatError::Payload(
                "hkid_hash",
                "must be 32 bytes in base64url".into(),
            ));
        }
    }
    Ok(())
}

/// The members every Bauhinia signature payload shares, as received.
#[derive(Debug, Clone, Copy)]
pub struct DocumentClaims<'a> {
    pub hash_alg: &'a str,
    pub document_hash: &'a str,
    pub document_name: &'a str,
    pub signed_at: i64,
    pub request_id: &'a str,
}

fn is_lower_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A signer id (32 lower-case hexadecimal digits) in the payload member `member`.
pub fn check_signer_id(signer: &str, member: &'static str) -> Result<(), FormatError> {
    if is_lower_hex(signer, 32) {
        Ok(())
    } else {
        Err(FormatError::Payload(
            member,
            "must be 32 lower-case hexadecimal digits".into(),
        ))
    }
}

/// Checks the shared members: the documented shapes, exactly.
pub fn check_document(payload: &DocumentClaims<'_>) -> Result<(), FormatError> {
    let invalid = |member: &'static str, why: &str| FormatError::Payload(member, why.to_owned());
    if payload.hash_alg != HASH_ALG {
        return Err(invalid("hash_alg", "must be sha256"));
    }
    if !is_lower_hex(payload.document_hash, 64) || decode_hex(payload.document_hash).is_none() {
        return Err(invalid(
            "document_hash",
            "must be 64 lower-case hexadecimal digits",
        ));
    }
    match DocumentName::parse(payload.document_name) {
        Ok(name) if name.as_str() == payload.document_name => {}
        _ => return Err(invalid("document_name", "not a valid document name")),
    }
    if !(1..=SIGNED_AT_MAX).contains(&payload.signed_at) {
        return Err(invalid(
            "signed_at",
            "must be a Unix time between 1970 and 9999",
        ));
    }
    if uuid::Uuid::try_parse(payload.request_id).is_err() {
        return Err(invalid("request_id", "must be a UUID"));
    }
    Ok(())
}

/// The certificates of an `x5c` header: 1 to [`X5C_CERTS_MAX`] DER certificates in standard
/// base64.
pub fn decode_chain(x5c: &[String]) -> Result<Vec<X509>, FormatError> {
    if x5c.is_empty() || x5c.len() > X5C_CERTS_MAX {
        return Err(FormatError::Chain(format!("{} certificates", x5c.len())));
    }
    x5c.iter()
        .enumerate()
        .map(|(i, text)| {
            let der = STANDARD
                .decode(text)
                .map_err(|_| FormatError::Chain(format!("x5c[{i}] is not standard base64")))?;
            X509::from_der(&der)
                .map_err(|_| FormatError::Chain(format!("x5c[{i}] is not a DER certificate")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use crate::signing::ca;

    const NOW: i64 = 1_790_000_000;

    fn payload() -> Payload {
        Payload {
            hash_alg: HASH_ALG.into(),
            document_hash: "ab".repeat(32),
            document_name: "Tenancy agreement 租約.pdf".into(),
            signed_at: NOW,
            request_id: "0b8e3f3e-4a55-4a0c-9d1c-5f0f9f3a2b11".into(),
            signer: "0123456789abcdef0123456789abcdef".into(),
            hkid_hash: None,
        }
    }

    fn signed() -> (String, PKey<Private>) {
        let (root, root_key) = ca::new_root(NOW).expect("root");
        let key = ca::new_key().expect("key");
        (sign(&[&root], &payload(), &key).expect("signs"), root_key)
    }

    #[test]
    fn sign_then_parse_then_verify() {
        let (jws, _) = signed();
        let parsed = parse(&jws).expect("parses");
        assert_eq!(parsed.payload, payload());
        assert_eq!(parsed.header.alg, "ES256");
        assert_eq!(parsed.chain.len(), 1);
        assert_eq!(
            parsed.signing_input,
            jws.rsplit_once('.').map(|(input, _)| input).expect("dot")
        );
        // The signature is raw r ‖ s: exactly 64 bytes, 86 base64url characters.
        assert_eq!(jws.rsplit('.').next().map(str::len), Some(86));
    }

    #[test]
    fn the_signature_verifies_only_with_its_key_and_input() {
        let public = |key: &PKey<Private>| {
            PKey::public_key_from_der(&key.public_key_to_der().expect("der")).expect("public")
        };
        let key = ca::new_key().expect("key");
        let (root, _) = ca::new_root(NOW).expect("root");
        let mut parsed = parse(&sign(&[&root], &payload(), &key).expect("signs")).expect("parses");
        assert!(parsed.signature_verifies(&public(&key)));
        assert!(!parsed.signature_verifies(&public(&ca::new_key().expect("key"))));
        let mut flipped = parsed.clone();
        flipped.signature[10] ^= 1;
        assert!(!flipped.signature_verifies(&public(&key)));
        parsed.signing_input.push('x');
        assert!(!parsed.signature_verifies(&public(&key)));
    }

    #[test]
    fn strict_parsing_names_what_is_wrong() {
        let (jws, _) = signed();
        let parts: Vec<&str> = jws.split('.').collect();
        let reencode = |json: serde_json::Value| URL_SAFE_NO_PAD.encode(json.to_string());
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).expect("b64")).expect("json");
        let body: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
        let with_header = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut h = header.clone();
            f(&mut h);
            format!("{}.{}.{}", reencode(h), parts[1], parts[2])
        };
        let with_payload = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut p = body.clone();
            f(&mut p);
            format!("{}.{}.{}", parts[0], reencode(p), parts[2])
        };
        let cases: Vec<(String, &str)> = vec![
            ("".into(), "three parts"),
            ("a.b".into(), "three parts"),
            (format!("{jws}.x"), "three parts"),
            ("a".repeat(SIGNATURE_LEN_MAX + 1), "longer"),
            (
                format!("!!.{}.{}", parts[1], parts[2]),
                "header is not base64url",
            ),
            (
                format!("{}.{}.{}=", parts[0], parts[1], parts[2]),
                "signature is not base64url",
            ),
            (
                format!("{}.{}.{}", parts[0], parts[1], &parts[2][..40]),
                "64 bytes",
            ),
            (
                with_header(&|h| h["alg"] = "none".into()),
                "alg must be ES256",
            ),
            (
                with_header(&|h| h["alg"] = "HS256".into()),
                "alg must be ES256",
            ),
            (with_header(&|h| h["typ"] = "JWT".into()), "typ must be"),
            (
                with_header(&|h| h["crit"] = serde_json::json!(["exp"])),
                "unknown field `crit`",
            ),
            (
                with_header(&|h| h["x5c"] = serde_json::json!([])),
                "0 certificates",
            ),
            (
                with_header(&|h| h["x5c"] = serde_json::json!(["AAAA"])),
                "not a DER certificate",
            ),
            (
                with_header(&|h| h["x5c"] = serde_json::json!(["%%"])),
                "not standard base64",
            ),
            (with_payload(&|p| p["hash_alg"] = "sha1".into()), "hash_alg"),
            (
                with_payload(&|p| p["document_hash"] = "AB".repeat(32).into()),
                "document_hash",
            ),
            (
                with_payload(&|p| p["document_hash"] = "ab".into()),
                "document_hash",
            ),
            (
                with_payload(&|p| p["document_name"] = "a\nb".into()),
                "document_name",
            ),
            (
                with_payload(&|p| p["document_name"] = " padded".into()),
                "document_name",
            ),
            (with_payload(&|p| p["signed_at"] = 0.into()), "signed_at"),
            (
                with_payload(&|p| p["signed_at"] = i64::MAX.into()),
                "signed_at",
            ),
            (
                with_payload(&|p| p["signed_at"] = "soon".into()),
                "payload is not the documented",
            ),
            (
                with_payload(&|p| p["request_id"] = "r1".into()),
                "request_id",
            ),
            (
                with_payload(&|p| p["signer"] = "A123456(3)".into()),
                "signer",
            ),
            (
                with_payload(&|p| p["hkid_hash"] = "short".into()),
                "hkid_hash",
            ),
            (
                with_payload(&|p| p["extra"] = 1.into()),
                "unknown field `extra`",
            ),
        ];
        for (text, expected) in cases {
            let error = parse(&text).expect_err(expected).to_string();
            assert!(error.contains(expected), "{expected:?} not in {error:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn parse_never_panics_on_any_text(text in ".{0,600}") {
            let _ = parse(&text);
        }

        #[test]
        fn parse_never_panics_on_jws_shaped_text(
            a in "[A-Za-z0-9_-]{0,200}",
            b in "[A-Za-z0-9_-]{0,200}",
            c in "[A-Za-z0-9_-]{0,120}",
        ) {
            let _ = parse(&format!("{a}.{b}.{c}"));
        }

        #[test]
        fn parse_never_panics_on_json_shaped_parts(
            header in proptest::collection::btree_map("[a-z5]{1,4}", "[ -~]{0,20}", 0..5),
            payload in proptest::collection::btree_map("[a-z_]{1,14}", any::<i64>(), 0..8),
            signature in proptest::collection::vec(any::<u8>(), 0..80),
        ) {
            let text = format!(
                "{}.{}.{}",
                URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap_or_default()),
                URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap_or_default()),
                URL_SAFE_NO_PAD.encode(signature),
            );
            prop_assert!(parse(&text).is_err());
        }
    }
}
