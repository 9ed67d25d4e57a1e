//! Data-blind encryption between a data consumer and a data provider, after India's Account
//! Aggregator reference design: the gateway relays the envelope and can read none of it.
//!
//! The consumer sends an ephemeral X25519 public key and a 32-byte random nonce with its data
//! request ([`KeyMaterial`]); the provider answers with its own ephemeral key and nonce and the
//! ciphertext ([`Envelope`]). Both sides compute the X25519 shared secret, XOR the two nonces,
//! and derive the AES-256-GCM key with HKDF-SHA256 (salt: the first 20 bytes of the XOR) and the
//! IV (the last 12). The associated data binds the ciphertext to its consent and fetch session
//! ([`canonical_aad`]). `docs/exchange-encryption.md` gives the format byte for byte with a test
//! vector. Every key is used once: [`seal`] consumes the provider's keys. Secrets are zeroed on
//! drop and never formatted.

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use bauhinia_identity::jose::{b64, unb64};
use hkdf::Hkdf;
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::{Zeroize, Zeroizing};

/// The envelope format's version; the only one there is.
pub const VERSION: u64 = 1;
/// The name of the scheme, carried in every key material and envelope.
pub const SCHEME: &str = "X25519-HKDF-SHA256-A256GCM";
/// HKDF's `info`: names this protocol and version, so the key can serve nothing else.
pub const HKDF_INFO: &[u8] = b"bauhinia-exchange/v1 aes-256-gcm key";
/// The first bytes of the canonical associated data.
pub const AAD_LABEL: &[u8] = b"bauhinia-exchange/v1 aad";
pub const KEY_BYTES: usize = 32;
pub const NONCE_BYTES: usize = 32;
const SALT_BYTES: usize = 20;
const IV_BYTES: usize = 12;
pub const TAG_BYTES: usize = 16;
/// The largest plaintext sealed or opened (a month of an account's transactions is far less).
pub const PLAINTEXT_MAX_BYTES: usize = 4 * 1024 * 1024;
/// The largest envelope JSON parsed: the base64url ciphertext of the largest plaintext, plus
/// room for the other members.
pub const ENVELOPE_MAX_BYTES: usize = (PLAINTEXT_MAX_BYTES + TAG_BYTES) / 3 * 4 + 4 + 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BlindError {
    #[error("malformed {what}: {reason}")]
    Malformed { what: &'static str, reason: String },
    #[error("the key agreement gave an all-zero secret (a low-order public key)")]
    LowOrderKey,
    #[error("the plaintext is larger than {PLAINTEXT_MAX_BYTES} bytes")]
    TooLarge,
    #[error("the envelope does not decrypt with this key, nonce and associated data")]
    Decrypt,
    #[error("the random number generator failed")]
    Random,
}

impl BlindError {
    /// The stable error code the gateway answers with.
    pub fn code(&self) -> bauhinia_core::ErrorCode {
        use bauhinia_core::ErrorCode;
        match self {
            // A low-order key is a key no honest party sends: the material is malformed.
            BlindError::Malformed { .. } | BlindError::LowOrderKey => {
                ErrorCode::ExchangeEnvelopeMalformed
            }
            BlindError::Decrypt => ErrorCode::ExchangeDecryptionFailed,
            BlindError::TooLarge => ErrorCode::BodyTooLarge,
            BlindError::Random => ErrorCode::Internal,
        }
    }
}

fn malformed(what: &'static str, reason: impl Into<String>) -> BlindError {
    BlindError::Malformed {
        what,
        reason: reason.into(),
    }
}

/// One side's ephemeral X25519 secret and nonce. Zeroed on drop; `Debug` shows the public key.
pub struct EphemeralKeys {
    secret: StaticSecret,
    nonce: Zeroizing<[u8; NONCE_BYTES]>,
}

impl fmt::Debug for EphemeralKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EphemeralKeys")
            .field("public", &b64(PublicKey::from(&self.secret).as_bytes()))
            .field("secret", &"***")
            .finish()
    }
}

fn random_bytes<const N: usize>() -> Result<Zeroizing<[u8; N]>, BlindError> {
    let mut bytes = Zeroizing::new([0u8; N]);
    openssl::rand::rand_bytes(bytes.as_mut_slice()).map_err(|_| BlindError::Random)?;
    Ok(bytes)
}

impl EphemeralKeys {
    /// A fresh secret and nonce from the operating system's generator (through OpenSSL).
    pub fn generate() -> Result<EphemeralKeys, BlindError> {
        let secret = random_bytes::<KEY_BYTES>()?;
        let nonce = random_bytes::<NONCE_BYTES>()?;
        Ok(EphemeralKeys::from_bytes(*secret, *nonce))
    }

    /// Keys from given bytes: for test vectors and for independent implementations' tests.
    /// The secret is clamped by X25519 itself.
    pub fn from_bytes(mut secret: [u8; KEY_BYTES], nonce: [u8; NONCE_BYTES]) -> EphemeralKeys {
        let keys = EphemeralKeys {
            secret: StaticSecret::from(secret),
            nonce: Zeroizing::new(nonce),
        };
        secret.zeroize();
        keys
    }

    /// What the other side needs: the public key and the nonce.
    pub fn material(&self) -> KeyMaterial {
        KeyMaterial {
            key: PublicKey::from(&self.secret).to_bytes(),
            nonce: *self.nonce,
        }
    }

    /// The AES-256-GCM cipher and IV shared with `other`.
    fn agree(&self, other: &KeyMaterial) -> Result<(Aes256Gcm, [u8; IV_BYTES]), BlindError> {
        let shared = self.secret.diffie_hellman(&PublicKey::from(other.key));
        if !shared.was_contributory() || shared.as_bytes().iter().all(|b| *b == 0) {
            return Err(BlindError::LowOrderKey);
        }
        let mut xor = Zeroizing::new([0u8; NONCE_BYTES]);
        for ((x, a), b) in xor
            .iter_mut()
            .zip(self.nonce.iter())
            .zip(other.nonce.iter())
        {
            *x = a ^ b;
        }
        let (salt, iv) = xor.split_at(SALT_BYTES);
        let mut key = Zeroizing::new([0u8; KEY_BYTES]);
        Hkdf::<Sha256>::new(Some(salt), shared.as_bytes())
            .expand(HKDF_INFO, key.as_mut_slice())
            .map_err(|_| BlindError::Random)?;
        let cipher = Aes256Gcm::new_from_slice(key.as_slice()).map_err(|_| BlindError::Random)?;
        let iv = <[u8; IV_BYTES]>::try_from(iv).map_err(|_| BlindError::Random)?;
        Ok((cipher, iv))
    }
}

/// A public key and nonce: the consumer's, sent with the data request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyMaterial {
    pub key: [u8; KEY_BYTES],
    pub nonce: [u8; NONCE_BYTES],
}

/// The provider's answer: its public key and nonce, and `ciphertext ‖ tag`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub sender: KeyMaterial,
    pub ciphertext: Vec<u8>,
}

/// The associated data for a fetch: the label, then each of the consent id and the fetch
/// session id as a 4-byte big-endian length and its UTF-8 bytes. Unambiguous for any ids.
pub fn canonical_aad(consent_id: &str, session_id: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(AAD_LABEL.len() + 8 + consent_id.len() + session_id.len());
    aad.extend_from_slice(AAD_LABEL);
    for part in [consent_id, session_id] {
        let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
        aad.extend_from_slice(&len.to_be_bytes());
        aad.extend_from_slice(part.as_bytes());
    }
    aad
}

/// Encrypts `plaintext` to `consumer` with the provider's one-time `provider` keys.
pub fn seal(
    provider: EphemeralKeys,
    consumer: &KeyMaterial,
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Envelope, BlindError> {
    if plaintext.len() > PLAINTEXT_MAX_BYTES {
        return Err(BlindError::TooLarge);
    }
    let (cipher, iv) = provider.agree(consumer)?;
    let ciphertext = cipher
        .encrypt(
            &Nonce::from(iv),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| BlindError::TooLarge)?;
    Ok(Envelope {
        sender: provider.material(),
        ciphertext,
    })
}

/// Encrypts `plaintext` to `consumer` with fresh provider keys.
pub fn seal_fresh(
    consumer: &KeyMaterial,
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Envelope, BlindError> {
    seal(EphemeralKeys::generate()?, consumer, aad, plaintext)
}

/// Decrypts `envelope` with the consumer's keys (the ones whose material went with the request).
pub fn open(
    consumer: &EphemeralKeys,
    envelope: &Envelope,
    aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>, BlindError> {
    if envelope.ciphertext.len() > PLAINTEXT_MAX_BYTES + TAG_BYTES {
        return Err(BlindError::TooLarge);
    }
    let (cipher, iv) = consumer.agree(&envelope.sender)?;
    cipher
        .decrypt(
            &Nonce::from(iv),
            Payload {
                msg: &envelope.ciphertext,
                aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| BlindError::Decrypt)
}

// ---- the JSON forms ------------------------------------------------------------------------

const KEY_MATERIAL_FIELDS: [&str; 4] = ["version", "scheme", "key", "nonce"];
const ENVELOPE_FIELDS: [&str; 5] = ["version", "scheme", "key", "nonce", "ciphertext"];

/// The JSON form, members in the documented order.
#[derive(serde::Serialize)]
struct Wire<'a> {
    version: u64,
    scheme: &'a str,
    key: String,
    nonce: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ciphertext: Option<String>,
}

impl Wire<'_> {
    fn new(material: &KeyMaterial, ciphertext: Option<&[u8]>) -> Wire<'static> {
        Wire {
            version: VERSION,
            scheme: SCHEME,
            key: b64(&material.key),
            nonce: b64(&material.nonce),
            ciphertext: ciphertext.map(b64),
        }
    }

    fn text(material: &KeyMaterial, ciphertext: Option<&[u8]>) -> String {
        // Strings and a number only: serialising cannot fail.
        serde_json::to_string(&Wire::new(material, ciphertext)).unwrap_or_default()
    }
}

impl KeyMaterial {
    /// `{"version":1,"scheme":"X25519-HKDF-SHA256-A256GCM","key":"…","nonce":"…"}`.
    pub fn to_json(&self) -> String {
        Wire::text(self, None)
    }

    /// Parses the JSON form strictly: every member present, no other, exact lengths.
    pub fn from_json(json: &[u8]) -> Result<KeyMaterial, BlindError> {
        let object = parse_object("key material", json, &KEY_MATERIAL_FIELDS, 1024)?;
        read_material("key material", &object)
    }

    /// The same, for key material already parsed as part of a larger JSON request.
    pub fn from_value(value: serde_json::Value) -> Result<KeyMaterial, BlindError> {
        let object = check_object("key material", value, &KEY_MATERIAL_FIELDS)?;
        read_material("key material", &object)
    }
}

/// Key material is a member of the consumer's data request: it (de)serialises in the JSON form,
/// parsed as strictly as [`KeyMaterial::from_json`], with the same messages.
impl serde::Serialize for KeyMaterial {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Wire::new(self, None).serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for KeyMaterial {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = <serde_json::Value as serde::Deserialize>::deserialize(deserializer)?;
        KeyMaterial::from_value(value).map_err(serde::de::Error::custom)
    }
}

impl Envelope {
    /// `{"version":1,"scheme":"…","key":"…","nonce":"…","ciphertext":"…"}`, as bytes.
    pub fn to_json(&self) -> Vec<u8> {
        Wire::text(&self.sender, Some(&self.ciphertext)).into_bytes()
    }

    /// Parses the JSON form strictly: every member present, no other, exact lengths.
    pub fn from_json(json: &[u8]) -> Result<Envelope, BlindError> {
        const WHAT: &str = "envelope";
        let object = parse_object(WHAT, json, &ENVELOPE_FIELDS, ENVELOPE_MAX_BYTES)?;
        let sender = read_material(WHAT, &object)?;
        let ciphertext = read_b64(WHAT, &object, "ciphertext")?;
        if ciphertext.len() < TAG_BYTES {
            return Err(malformed(
                WHAT,
                format!("`ciphertext` is shorter than the {TAG_BYTES}-byte tag"),
            ));
        }
        if ciphertext.len() > PLAINTEXT_MAX_BYTES + TAG_BYTES {
            return Err(malformed(WHAT, "`ciphertext` is too long"));
        }
        Ok(Envelope { sender, ciphertext })
    }
}

type Object = serde_json::Map<String, serde_json::Value>;

fn parse_object(
    what: &'static str,
    json: &[u8],
    fields: &[&str],
    max_bytes: usize,
) -> Result<Object, BlindError> {
    if json.len() > max_bytes {
        return Err(malformed(what, format!("longer than {max_bytes} bytes")));
    }
    let value: serde_json::Value =
        serde_json::from_slice(json).map_err(|e| malformed(what, format!("not JSON: {e}")))?;
    check_object(what, value, fields)
}

fn check_object(
    what: &'static str,
    value: serde_json::Value,
    fields: &[&str],
) -> Result<Object, BlindError> {
    let serde_json::Value::Object(object) = value else {
        return Err(malformed(what, "not a JSON object"));
    };
    if let Some(unknown) = object.keys().find(|k| !fields.contains(&k.as_str())) {
        return Err(malformed(what, format!("unknown member `{unknown}`")));
    }
    if let Some(missing) = fields.iter().find(|f| !object.contains_key(**f)) {
        return Err(malformed(what, format!("missing member `{missing}`")));
    }
    if object.get("version").and_then(serde_json::Value::as_u64) != Some(VERSION) {
        return Err(malformed(what, format!("`version` is not {VERSION}")));
    }
    if object.get("scheme").and_then(serde_json::Value::as_str) != Some(SCHEME) {
        return Err(malformed(what, format!("`scheme` is not {SCHEME:?}")));
    }
    Ok(object)
}

fn read_b64(what: &'static str, object: &Object, field: &str) -> Result<Vec<u8>, BlindError> {
    let text = object
        .get(field)
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| malformed(what, format!("`{field}` is not a string")))?;
    unb64(text).map_err(|_| malformed(what, format!("`{field}` is not base64url without padding")))
}

fn read_array<const N: usize>(
    what: &'static str,
    object: &Object,
    field: &str,
) -> Result<[u8; N], BlindError> {
    let bytes = read_b64(what, object, field)?;
    <[u8; N]>::try_from(bytes.as_slice())
        .map_err(|_| malformed(what, format!("`{field}` is {} bytes, not {N}", bytes.len())))
}

fn read_material(what: &'static str, object: &Object) -> Result<KeyMaterial, BlindError> {
    Ok(KeyMaterial {
        key: read_array::<KEY_BYTES>(what, object, "key")?,
        nonce: read_array::<NONCE_BYTES>(what, object, "nonce")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn unhex<const N: usize>(text: &str) -> [u8; N] {
        let bytes: Vec<u8> = (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect();
        bytes.try_into().unwrap()
    }

    /// The vector of `docs/exchange-encryption.md`: change one and change the other.
    struct Vector {
        consumer_secret: [u8; 32],
        consumer_nonce: [u8; 32],
        provider_secret: [u8; 32],
        provider_nonce: [u8; 32],
    }

    fn vector() -> Vector {
        Vector {
            consumer_secret: unhex(
                "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
            ),
            consumer_nonce: unhex(
                "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
            ),
            provider_secret: unhex(
                "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
            ),
            provider_nonce: unhex(
                "f0e1d2c3b4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff",
            ),
        }
    }

    const VECTOR_PLAINTEXT: &[u8] = br#"{"balance":{"amount":"12345.67","currency":"HKD"}}"#;

    #[test]
    fn the_documented_test_vector() {
        let v = vector();
        let consumer = EphemeralKeys::from_bytes(v.consumer_secret, v.consumer_nonce);
        let provider = EphemeralKeys::from_bytes(v.provider_secret, v.provider_nonce);
        // RFC 7748 section 6.1's keys: the public keys and shared secret are its own.
        assert_eq!(
            hex(&consumer.material().key),
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
        );
        assert_eq!(
            hex(&provider.material().key),
            "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
        );
        let aad = canonical_aad("consent-0001", "session-0001");
        assert_eq!(
            hex(&aad),
            "62617568696e69612d65786368616e67652f7631206161640000000c636f6e73656e742d30303031\
             0000000c73657373696f6e2d30303031"
        );
        let envelope = seal(provider, &consumer.material(), &aad, VECTOR_PLAINTEXT).unwrap();
        assert_eq!(hex(&envelope.ciphertext), EXPECTED_CIPHERTEXT);
        assert_eq!(
            String::from_utf8(envelope.to_json()).unwrap(),
            EXPECTED_ENVELOPE
        );
        assert_eq!(
            &*open(&consumer, &envelope, &aad).unwrap(),
            VECTOR_PLAINTEXT
        );
    }

    const EXPECTED_ENVELOPE: &str = r#"{"version":1,"scheme":"X25519-HKDF-SHA256-A256GCM","key":"3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08","nonce":"8OHSw7Sllod4aVpLPC0eDwARIjNEVWZ3iJmqu8zd7v8","ciphertext":"1XYTmFw0-HHRBpZP7hqGNVXh59Iuql-WMFmxr6ER_1JgmuUR7_lHp755QVEcfKvH1aCmkxp2gpwkfRW6nWIEGSG-"}"#;

    /// Computed independently with Python's `cryptography` when the format was written.
    const EXPECTED_CIPHERTEXT: &str =
        "d57613985c34f871d106964fee1a863555e1e7d22eaa5f963059b1afa111ff52\
        609ae511eff947a7be7941511c7cabc7d5a0a6931a76829c247d15ba9d62041921be";

    #[test]
    fn round_trips_through_json() {
        let consumer = EphemeralKeys::generate().unwrap();
        let offer = KeyMaterial::from_json(consumer.material().to_json().as_bytes()).unwrap();
        assert_eq!(offer, consumer.material());
        let aad = canonical_aad("c", "s");
        let envelope = seal_fresh(&offer, &aad, b"hello").unwrap();
        let parsed = Envelope::from_json(&envelope.to_json()).unwrap();
        assert_eq!(parsed, envelope);
        assert_eq!(&*open(&consumer, &parsed, &aad).unwrap(), b"hello");
        assert_eq!(
            &*open(&consumer, &seal_fresh(&offer, &aad, b"").unwrap(), &aad).unwrap(),
            b""
        );
    }

    #[test]
    fn nothing_else_decrypts() {
        let consumer = EphemeralKeys::generate().unwrap();
        let aad = canonical_aad("consent-1", "session-1");
        let envelope = seal_fresh(&consumer.material(), &aad, b"secret data").unwrap();
        for _ in 0..16 {
            let other = EphemeralKeys::generate().unwrap();
            assert_eq!(open(&other, &envelope, &aad), Err(BlindError::Decrypt));
            // Another key with the right nonce still fails.
            let other = EphemeralKeys::from_bytes(*random_bytes::<32>().unwrap(), *consumer.nonce);
            assert_eq!(open(&other, &envelope, &aad), Err(BlindError::Decrypt));
        }
        for other_aad in [
            canonical_aad("consent-2", "session-1"),
            canonical_aad("consent-1", "session-2"),
            canonical_aad("consent-1session-1", ""),
            Vec::new(),
        ] {
            assert_eq!(
                open(&consumer, &envelope, &other_aad),
                Err(BlindError::Decrypt)
            );
        }
        let mut changed = envelope.clone();
        changed.sender.nonce[0] ^= 1;
        assert_eq!(open(&consumer, &changed, &aad), Err(BlindError::Decrypt));
        let wrong_nonce = EphemeralKeys::from_bytes(consumer.secret.to_bytes(), [7; 32]);
        assert_eq!(
            open(&wrong_nonce, &envelope, &aad),
            Err(BlindError::Decrypt)
        );
        for i in 0..envelope.ciphertext.len() {
            let mut changed = envelope.clone();
            changed.ciphertext[i] ^= 0x80;
            assert_eq!(
                open(&consumer, &changed, &aad),
                Err(BlindError::Decrypt),
                "byte {i}"
            );
        }
        let mut cut = envelope.clone();
        cut.ciphertext.pop();
        assert_eq!(open(&consumer, &cut, &aad), Err(BlindError::Decrypt));
    }

    #[test]
    fn refuses_low_order_keys() {
        let consumer = EphemeralKeys::generate().unwrap();
        // The identity and a point of order 8 (RFC 7748's small-subgroup points).
        for key in [
            [0u8; 32],
            unhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
        ] {
            let evil = KeyMaterial {
                key,
                nonce: [0; 32],
            };
            assert_eq!(seal_fresh(&evil, b"", b"x"), Err(BlindError::LowOrderKey));
            let envelope = Envelope {
                sender: evil,
                ciphertext: vec![0; 32],
            };
            assert_eq!(
                open(&consumer, &envelope, b""),
                Err(BlindError::LowOrderKey)
            );
        }
    }

    #[test]
    fn the_parser_names_what_is_wrong() {
        let good = Envelope {
            sender: EphemeralKeys::generate().unwrap().material(),
            ciphertext: vec![1; 20],
        };
        let json: serde_json::Value = serde_json::from_slice(&good.to_json()).unwrap();
        let check = |change: &dyn Fn(&mut serde_json::Value), expected: &str| {
            let mut value = json.clone();
            change(&mut value);
            let err = Envelope::from_json(value.to_string().as_bytes()).unwrap_err();
            assert_eq!(err.to_string(), format!("malformed envelope: {expected}"));
        };
        check(&|v| v["extra"] = 1.into(), "unknown member `extra`");
        check(
            &|v| drop(v.as_object_mut().unwrap().remove("nonce")),
            "missing member `nonce`",
        );
        check(&|v| v["version"] = 2.into(), "`version` is not 1");
        check(
            &|v| v["scheme"] = "X25519".into(),
            "`scheme` is not \"X25519-HKDF-SHA256-A256GCM\"",
        );
        check(&|v| v["key"] = 5.into(), "`key` is not a string");
        check(&|v| v["key"] = "AAAA".into(), "`key` is 3 bytes, not 32");
        check(
            &|v| v["nonce"] = "a+b/".into(),
            "`nonce` is not base64url without padding",
        );
        check(
            &|v| v["ciphertext"] = b64(&[0; 15]).into(),
            "`ciphertext` is shorter than the 16-byte tag",
        );
        assert_eq!(
            Envelope::from_json(b"[1]").unwrap_err().to_string(),
            "malformed envelope: not a JSON object"
        );
        assert!(Envelope::from_json(b"{")
            .unwrap_err()
            .to_string()
            .contains("not JSON"));
        assert!(
            KeyMaterial::from_json(&good.to_json()).is_err(),
            "an envelope is not an offer"
        );
    }

    #[test]
    fn key_material_is_a_strict_serde_member() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Request {
            consent_id: String,
            key_material: KeyMaterial,
        }
        let request = Request {
            consent_id: "c-1".into(),
            key_material: EphemeralKeys::generate().unwrap().material(),
        };
        let text = serde_json::to_string(&request).unwrap();
        assert!(text.contains(&request.key_material.to_json()), "{text}");
        assert_eq!(serde_json::from_str::<Request>(&text).unwrap(), request);
        let short = text.replace(&b64(&request.key_material.nonce), "AAAA");
        let err = serde_json::from_str::<Request>(&short)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("malformed key material: `nonce` is 3 bytes, not 32"),
            "{err}"
        );
    }

    #[test]
    fn debug_hides_the_secret() {
        let keys = EphemeralKeys::from_bytes([0x42; 32], [0; 32]);
        let text = format!("{keys:?}");
        assert!(text.contains("***"));
        assert!(!text.contains(&hex(&[0x42; 32])) && !text.contains(&b64(&[0x42; 32])));
    }

    proptest! {
        #[test]
        fn parsing_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = Envelope::from_json(&bytes);
            let _ = KeyMaterial::from_json(&bytes);
        }

        #[test]
        fn parsing_near_envelopes_never_panics(
            key in "[A-Za-z0-9_=+/-]{0,50}",
            nonce in "[A-Za-z0-9_-]{0,50}",
            ct in "[A-Za-z0-9_-]{0,50}",
            version in any::<i64>(),
        ) {
            let json = serde_json::json!({
                "version": version, "scheme": SCHEME, "key": key, "nonce": nonce, "ciphertext": ct,
            });
            let _ = Envelope::from_json(json.to_string().as_bytes());
        }

        #[test]
        fn seal_open_round_trips(
            plaintext in proptest::collection::vec(any::<u8>(), 0..512),
            aad in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let consumer = EphemeralKeys::generate().unwrap();
            let envelope = seal_fresh(&consumer.material(), &aad, &plaintext).unwrap();
            let parsed = Envelope::from_json(&envelope.to_json()).unwrap();
            let opened = open(&consumer, &parsed, &aad).unwrap();
            prop_assert_eq!(opened.as_slice(), plaintext.as_slice());
        }
    }
}
