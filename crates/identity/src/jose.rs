//! JOSE as the OpenID Provider needs it: public JWKs (RFC 7517) with thumbprints (RFC 7638), and
//! compact JWS (RFC 7515) signed and verified with ES256, PS256 and RS256 (RFC 7518), on
//! OpenSSL. Nothing else is accepted: `none` and the HMAC algorithms are unknown here, so a
//! token cannot choose a weaker check than the one its verifier asks for, and a header with
//! `crit` is refused because this code understands no extension.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey, EcPoint};
use openssl::ecdsa::EcdsaSig;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{HasPublic, PKey, Private, Public};
use openssl::rsa::{Padding, Rsa};
use openssl::sign::{RsaPssSaltlen, Signer, Verifier};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Longest compact JWS accepted: client assertions, DPoP proofs and ID token hints are all far
/// smaller, so anything longer is refused before it is decoded.
pub const MAX_COMPACT_LEN: usize = 16 * 1024;
/// Smallest RSA modulus accepted, in bits.
const RSA_MIN_BITS: u32 = 2048;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Alg {
    ES256,
    PS256,
    RS256,
}

impl Alg {
    pub const fn as_str(self) -> &'static str {
        match self {
            Alg::ES256 => "ES256",
            Alg::PS256 => "PS256",
            Alg::RS256 => "RS256",
        }
    }

    pub fn parse(text: &str) -> Option<Alg> {
        match text {
            "ES256" => Some(Alg::ES256),
            "PS256" => Some(Alg::PS256),
            "RS256" => Some(Alg::RS256),
            _ => None,
        }
    }

    /// The JWK key type the algorithm needs.
    pub const fn kty(self) -> &'static str {
        match self {
            Alg::ES256 => "EC",
            Alg::PS256 | Alg::RS256 => "RSA",
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JoseError {
    #[error("malformed JWS: {0}")]
    Malformed(&'static str),
    #[error("unsupported algorithm {0:?}")]
    UnsupportedAlg(String),
    #[error("the key does not fit the algorithm: {0}")]
    KeyMismatch(&'static str),
    #[error("invalid key: {0}")]
    InvalidKey(String),
    #[error("signature does not verify")]
    BadSignature,
    #[error("cryptographic failure: {0}")]
    Crypto(String),
}

impl From<openssl::error::ErrorStack> for JoseError {
    fn from(error: openssl::error::ErrorStack) -> Self {
        JoseError::Crypto(error.to_string())
    }
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64(text: &str) -> Result<Vec<u8>, JoseError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| JoseError::Malformed("not base64url without padding"))
}

/// SHA-256, base64url: PKCE challenges, `ath`, `at_hash`, token hashes.
pub fn sha256_b64(bytes: &[u8]) -> String {
    b64(&Sha256::digest(bytes))
}

/// A public JWK. Private members are refused when parsing (a DPoP proof or client JWKS that
/// carries `d` is a leak, not a key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// Present only to be refused.
    #[serde(default, skip_serializing)]
    d: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    k: Option<serde_json::Value>,
}

/// A JWK Set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

impl Jwk {
    /// The public JWK of a P-256 or RSA key.
    pub fn from_key<T: HasPublic>(
        key: &PKey<T>,
        kid: Option<String>,
        alg: Option<Alg>,
    ) -> Result<Jwk, JoseError> {
        let mut jwk = Jwk {
            kty: String::new(),
            crv: None,
            x: None,
            y: None,
            n: None,
            e: None,
            kid,
            alg: alg.map(|a| a.as_str().to_owned()),
            use_: Some("sig".to_owned()),
            d: None,
            k: None,
        };
        if let Ok(ec) = key.ec_key() {
            let group = ec.group();
            if group.curve_name() != Some(Nid::X9_62_PRIME256V1) {
                return Err(JoseError::InvalidKey(
                    "only P-256 EC keys are supported".into(),
                ));
            }
            let mut ctx = BigNumContext::new()?;
            let mut x = BigNum::new()?;
            let mut y = BigNum::new()?;
            ec.public_key()
                .affine_coordinates(group, &mut x, &mut y, &mut ctx)?;
            jwk.kty = "EC".into();
            jwk.crv = Some("P-256".into());
            jwk.x = Some(b64(&x.to_vec_padded(32)?));
            jwk.y = Some(b64(&y.to_vec_padded(32)?));
        } else if let Ok(rsa) = key.rsa() {
            jwk.kty = "RSA".into();
            jwk.n = Some(b64(&rsa.n().to_vec()));
            jwk.e = Some(b64(&rsa.e().to_vec()));
        } else {
            return Err(JoseError::InvalidKey(
                "only EC and RSA keys are supported".into(),
            ));
        }
        Ok(jwk)
    }

    /// Whether the JWK carries private key material.
    pub fn has_private_parts(&self) -> bool {
        self.d.is_some() || self.k.is_some()
    }

    /// The OpenSSL public key, checked: P-256 points on the curve, RSA at least 2048 bits.
    pub fn to_key(&self) -> Result<PKey<Public>, JoseError> {
        if self.has_private_parts() {
            return Err(JoseError::InvalidKey(
                "the JWK contains private key material".into(),
            ));
        }
        match self.kty.as_str() {
            "EC" => {
                if self.crv.as_deref() != Some("P-256") {
                    return Err(JoseError::InvalidKey("EC keys must be on P-256".into()));
                }
                let x = unb64(self.x.as_deref().unwrap_or_default())?;
                let y = unb64(self.y.as_deref().unwrap_or_default())?;
                if x.len() != 32 || y.len() != 32 {
                    return Err(JoseError::InvalidKey(
                        "P-256 coordinates are 32 bytes".into(),
                    ));
                }
                // On the curve is all a valid P-256 public key needs (its cofactor is 1), so
                // the point is checked for that and not multiplied by the group order, which
                // `EC_KEY_check_key` would do at the cost of a signature verification. A DPoP
                // proof brings its key each time: this runs once per request.
                let group = p256()?;
                let mut encoded = Vec::with_capacity(65);
                encoded.push(0x04);
                encoded.extend_from_slice(&x);
                encoded.extend_from_slice(&y);
                let mut ctx = BigNumContext::new()?;
                let off_curve = || JoseError::InvalidKey("the point is not on P-256".into());
                let point =
                    EcPoint::from_bytes(group, &encoded, &mut ctx).map_err(|_| off_curve())?;
                if !point.is_on_curve(group, &mut ctx).unwrap_or(false) {
                    return Err(off_curve());
                }
                Ok(PKey::from_ec_key(EcKey::from_public_key(group, &point)?)?)
            }
            "RSA" => {
                let n = unb64(self.n.as_deref().unwrap_or_default())?;
                let e = unb64(self.e.as_deref().unwrap_or_default())?;
                if n.is_empty() || e.is_empty() {
                    return Err(JoseError::InvalidKey("RSA keys need n and e".into()));
                }
                let rsa =
                    Rsa::from_public_components(BigNum::from_slice(&n)?, BigNum::from_slice(&e)?)?;
                if rsa.n().num_bits() < i32::try_from(RSA_MIN_BITS).unwrap_or(i32::MAX) {
                    return Err(JoseError::InvalidKey(format!(
                        "RSA keys must have at least {RSA_MIN_BITS} bits"
                    )));
                }
                Ok(PKey::from_rsa(rsa)?)
            }
            other => Err(JoseError::InvalidKey(format!(
                "unsupported key type {other:?}"
            ))),
        }
    }

    /// The RFC 7638 SHA-256 thumbprint, base64url.
    pub fn thumbprint(&self) -> Result<String, JoseError> {
        // Members in lexicographic order, no white space (RFC 7638 section 3.2). Written out by
        // hand: whether serde_json sorts object members depends on a feature flag.
        let text = |v: &Option<String>| serde_json::Value::from(v.clone().unwrap_or_default());
        let canonical = match self.kty.as_str() {
            "EC" => format!(
                r#"{{"crv":{},"kty":"EC","x":{},"y":{}}}"#,
                text(&self.crv),
                text(&self.x),
                text(&self.y)
            ),
            "RSA" => format!(
                r#"{{"e":{},"kty":"RSA","n":{}}}"#,
                text(&self.e),
                text(&self.n)
            ),
            other => {
                return Err(JoseError::InvalidKey(format!(
                    "unsupported key type {other:?}"
                )))
            }
        };
        Ok(sha256_b64(canonical.as_bytes()))
    }
}

/// The protected header members this provider reads or writes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Header {
    pub alg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwk: Option<Jwk>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x5c: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crit: Option<Vec<String>>,
}

/// A compact JWS, decoded but not yet verified.
#[derive(Debug, Clone)]
pub struct Compact<'a> {
    pub header: Header,
    pub alg: Alg,
    pub claims: serde_json::Map<String, serde_json::Value>,
    signing_input: &'a str,
    signature: Vec<u8>,
}

/// Decodes a compact JWS whose payload is a JSON object. The algorithm must be one of ours.
pub fn decode(token: &str) -> Result<Compact<'_>, JoseError> {
    if token.len() > MAX_COMPACT_LEN {
        return Err(JoseError::Malformed("too long"));
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JoseError::Malformed("a compact JWS has three parts"));
    };
    let header: Header = serde_json::from_slice(&unb64(h)?)
        .map_err(|_| JoseError::Malformed("the header is not a JOSE header"))?;
    if header.crit.is_some() {
        return Err(JoseError::Malformed("no critical extension is understood"));
    }
    let alg =
        Alg::parse(&header.alg).ok_or_else(|| JoseError::UnsupportedAlg(header.alg.clone()))?;
    let claims: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&unb64(p)?)
        .map_err(|_| JoseError::Malformed("the payload is not a JSON object"))?;
    let signature = unb64(s)?;
    let signing_input = token
        .get(..h.len() + 1 + p.len())
        .ok_or(JoseError::Malformed("a compact JWS has three parts"))?;
    Ok(Compact {
        header,
        alg,
        claims,
        signing_input,
        signature,
    })
}

impl Compact<'_> {
    /// Verifies the signature with `key`, which must fit the header's algorithm.
    pub fn verify(&self, key: &PKey<Public>) -> Result<(), JoseError> {
        verify_raw(
            self.alg,
            key,
            self.signing_input.as_bytes(),
            &self.signature,
        )
    }

    pub fn str_claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(serde_json::Value::as_str)
    }

    pub fn int_claim(&self, name: &str) -> Option<i64> {
        self.claims.get(name).and_then(serde_json::Value::as_i64)
    }
}

fn check_key_fits<T: HasPublic>(alg: Alg, key: &PKey<T>) -> Result<(), JoseError> {
    match alg {
        Alg::ES256 => {
            let ec = key
                .ec_key()
                .map_err(|_| JoseError::KeyMismatch("ES256 needs an EC key"))?;
            if ec.group().curve_name() != Some(Nid::X9_62_PRIME256V1) {
                return Err(JoseError::KeyMismatch("ES256 needs a P-256 key"));
            }
        }
        Alg::PS256 | Alg::RS256 => {
            let rsa = key
                .rsa()
                .map_err(|_| JoseError::KeyMismatch("PS256/RS256 need an RSA key"))?;
            if rsa.n().num_bits() < i32::try_from(RSA_MIN_BITS).unwrap_or(i32::MAX) {
                return Err(JoseError::KeyMismatch("the RSA key is too short"));
            }
        }
    }
    Ok(())
}

/// The P-256 group, built once.
fn p256() -> Result<&'static EcGroup, JoseError> {
    static GROUP: std::sync::OnceLock<EcGroup> = std::sync::OnceLock::new();
    if let Some(group) = GROUP.get() {
        return Ok(group);
    }
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    Ok(GROUP.get_or_init(|| group))
}

/// Verifies a JWS signature (raw `r ‖ s` for ES256) over `input`.
pub fn verify_raw(
    alg: Alg,
    key: &PKey<Public>,
    input: &[u8],
    signature: &[u8],
) -> Result<(), JoseError> {
    check_key_fits(alg, key)?;
    let ok = match alg {
        Alg::ES256 => {
            let (Some(r), Some(s)) = (signature.get(..32), signature.get(32..)) else {
                return Err(JoseError::BadSignature);
            };
            if s.len() != 32 {
                return Err(JoseError::BadSignature);
            }
            let sig =
                EcdsaSig::from_private_components(BigNum::from_slice(r)?, BigNum::from_slice(s)?)?;
            // ECDSA on the EC key itself: the EVP route costs an algorithm fetch per call.
            sig.verify(&openssl::sha::sha256(input), &*key.ec_key()?)
                .unwrap_or(false)
        }
        Alg::PS256 => {
            let mut verifier = Verifier::new(MessageDigest::sha256(), key)?;
            verifier.set_rsa_padding(Padding::PKCS1_PSS)?;
            verifier.set_rsa_mgf1_md(MessageDigest::sha256())?;
            verifier.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH)?;
            verifier.verify_oneshot(signature, input).unwrap_or(false)
        }
        Alg::RS256 => {
            let mut verifier = Verifier::new(MessageDigest::sha256(), key)?;
            verifier.set_rsa_padding(Padding::PKCS1)?;
            verifier.verify_oneshot(signature, input).unwrap_or(false)
        }
    };
    if ok {
        Ok(())
    } else {
        Err(JoseError::BadSignature)
    }
}

/// Signs `input` (raw `r ‖ s` for ES256).
pub fn sign_raw(alg: Alg, key: &PKey<Private>, input: &[u8]) -> Result<Vec<u8>, JoseError> {
    check_key_fits(alg, key)?;
    match alg {
        Alg::ES256 => {
            // ECDSA on the EC key itself: the EVP route costs an algorithm fetch per call.
            let sig = EcdsaSig::sign(&openssl::sha::sha256(input), &*key.ec_key()?)?;
            let mut raw = sig.r().to_vec_padded(32)?;
            raw.extend_from_slice(&sig.s().to_vec_padded(32)?);
            Ok(raw)
        }
        Alg::PS256 => {
            let mut signer = Signer::new(MessageDigest::sha256(), key)?;
            signer.set_rsa_padding(Padding::PKCS1_PSS)?;
            signer.set_rsa_mgf1_md(MessageDigest::sha256())?;
            signer.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH)?;
            Ok(signer.sign_oneshot_to_vec(input)?)
        }
        Alg::RS256 => {
            let mut signer = Signer::new(MessageDigest::sha256(), key)?;
            signer.set_rsa_padding(Padding::PKCS1)?;
            Ok(signer.sign_oneshot_to_vec(input)?)
        }
    }
}

/// Signs a JSON payload into a compact JWS. `header.alg` is set from `alg`.
pub fn sign(
    mut header: Header,
    claims: &serde_json::Value,
    alg: Alg,
    key: &PKey<Private>,
) -> Result<String, JoseError> {
    header.alg = alg.as_str().to_owned();
    let header = serde_json::to_vec(&header).map_err(|e| JoseError::Crypto(e.to_string()))?;
    let payload = serde_json::to_vec(claims).map_err(|e| JoseError::Crypto(e.to_string()))?;
    let mut token = b64(&header);
    token.push('.');
    token.push_str(&b64(&payload));
    let signature = sign_raw(alg, key, token.as_bytes())?;
    token.push('.');
    token.push_str(&b64(&signature));
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn es256() -> PKey<Private> {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
    }

    fn rsa() -> PKey<Private> {
        PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap()
    }

    fn public(key: &PKey<Private>) -> PKey<Public> {
        PKey::public_key_from_der(&key.public_key_to_der().unwrap()).unwrap()
    }

    #[test]
    fn signs_and_verifies_each_algorithm_and_rejects_a_changed_payload() {
        let ec = es256();
        let rsa = rsa();
        for (alg, key) in [(Alg::ES256, &ec), (Alg::PS256, &rsa), (Alg::RS256, &rsa)] {
            let token = sign(
                Header::default(),
                &serde_json::json!({"sub": "a"}),
                alg,
                key,
            )
            .unwrap();
            let decoded = decode(&token).unwrap();
            assert_eq!(decoded.alg, alg);
            decoded.verify(&public(key)).unwrap();
            let parts: Vec<&str> = token.split('.').collect();
            let forged = format!("{}.{}.{}", parts[0], b64(br#"{"sub":"b"}"#), parts[2]);
            assert_eq!(
                decode(&forged).unwrap().verify(&public(key)),
                Err(JoseError::BadSignature)
            );
        }
    }

    #[test]
    fn refuses_none_hmac_crit_and_mismatched_keys() {
        let none = format!("{}.{}.", b64(br#"{"alg":"none"}"#), b64(b"{}"));
        assert_eq!(
            decode(&none).unwrap_err(),
            JoseError::UnsupportedAlg("none".into())
        );
        let hs = format!(
            "{}.{}.{}",
            b64(br#"{"alg":"HS256"}"#),
            b64(b"{}"),
            b64(b"x")
        );
        assert_eq!(
            decode(&hs).unwrap_err(),
            JoseError::UnsupportedAlg("HS256".into())
        );
        let crit = format!(
            "{}.{}.{}",
            b64(br#"{"alg":"ES256","crit":["b64"]}"#),
            b64(b"{}"),
            b64(b"x")
        );
        assert!(matches!(decode(&crit), Err(JoseError::Malformed(_))));
        let token = sign(
            Header::default(),
            &serde_json::json!({}),
            Alg::ES256,
            &es256(),
        )
        .unwrap();
        assert!(matches!(
            decode(&token).unwrap().verify(&public(&rsa())),
            Err(JoseError::KeyMismatch(_))
        ));
    }

    #[test]
    fn jwk_round_trips_and_thumbprint_matches_rfc_7638_example() {
        let ec = es256();
        let jwk = Jwk::from_key(&ec, Some("k1".into()), Some(Alg::ES256)).unwrap();
        let token = sign(Header::default(), &serde_json::json!({}), Alg::ES256, &ec).unwrap();
        decode(&token)
            .unwrap()
            .verify(&jwk.to_key().unwrap())
            .unwrap();
        // RFC 7638 section 3.1.
        let rfc: Jwk = serde_json::from_value(serde_json::json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"
        }))
        .unwrap();
        assert_eq!(
            rfc.thumbprint().unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn refuses_private_jwks_off_curve_points_and_short_rsa() {
        let mut value = serde_json::to_value(Jwk::from_key(&es256(), None, None).unwrap()).unwrap();
        value["d"] = serde_json::json!("AAAA");
        let private: Jwk = serde_json::from_value(value.clone()).unwrap();
        assert!(private.has_private_parts());
        assert!(private.to_key().is_err());
        value.as_object_mut().unwrap().remove("d");
        value["y"] = serde_json::json!(b64(&[1u8; 32]));
        assert!(serde_json::from_value::<Jwk>(value)
            .unwrap()
            .to_key()
            .is_err());
        let short = PKey::from_rsa(Rsa::generate(1024).unwrap()).unwrap();
        assert!(Jwk::from_key(&short, None, None).unwrap().to_key().is_err());
    }

    proptest! {
        #[test]
        fn decode_never_panics(token in ".{0,400}") {
            let _ = decode(&token);
        }

        #[test]
        fn decode_never_panics_on_three_base64_parts(h in "[A-Za-z0-9_-]{0,80}", p in "[A-Za-z0-9_-]{0,80}", s in "[A-Za-z0-9_-]{0,120}") {
            let token = format!("{h}.{p}.{s}");
            if let Ok(decoded) = decode(&token) {
                let _ = decoded.verify(&public(&es256()));
            }
        }

        #[test]
        fn jwk_parsing_never_panics(kty in "EC|RSA|oct|x", x in "[A-Za-z0-9_-]{0,60}", y in "[A-Za-z0-9_-]{0,60}") {
            let jwk: Jwk = serde_json::from_value(serde_json::json!({"kty": kty, "crv": "P-256", "x": x, "y": y, "n": x, "e": y})).unwrap();
            let _ = jwk.to_key();
            let _ = jwk.thumbprint();
        }
    }
}
