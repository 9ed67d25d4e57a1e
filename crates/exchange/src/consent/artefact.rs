//! The consent artefact: the claims of an approved consent — everything the gateway checks —
//! signed by the gateway's key as a compact JWS when the consent becomes ACTIVE, and stored
//! with it. The artefact is immutable: it proves what the owner approved and when; whether
//! the consent is still ACTIVE is always read from the store, never from the artefact.
//!
//! Signing goes through [`ArtefactSigner`] so the key can live wherever the gateway keeps it.

use bauhinia_identity::jose;
use openssl::pkey::{PKey, Private, Public};
use serde_json::{json, Value};

use super::domain::Consent;

/// The version of the claims set below; bumped when a claim changes meaning.
pub const ARTEFACT_VERSION: &str = "1";
/// The JWS `typ` of an artefact.
pub const ARTEFACT_TYP: &str = "bauhinia-consent+jwt";

/// Signs and verifies artefacts (compact JWS over a JSON object).
pub trait ArtefactSigner: Send + Sync {
    fn sign(&self, claims: &Value) -> Result<String, String>;
    /// The claims, if the signature verifies with the gateway's key.
    fn verify(&self, jws: &str) -> Result<Value, String>;
}

/// The claims set of `consent` approved at `approved_at_s`.
pub fn claims(consent: &Consent, approved_at_s: i64) -> Value {
    let t = &consent.terms;
    json!({
        "ver": ARTEFACT_VERSION,
        "consent_id": consent.id,
        "status": "ACTIVE",
        "iat": approved_at_s,
        "owner": t.owner.to_json(),
        "consumer": t.consumer,
        "providers": t.providers,
        "products": t.products,
        "purpose": { "code": t.purpose.code.code(), "text": t.purpose.text },
        "data_range": { "from": t.data_range.from_s, "to": t.data_range.to_s },
        "frequency": { "unit": t.frequency.unit.as_str(), "value": t.frequency.value },
        "validity": { "from": t.validity.from_s, "until": t.validity.to_s },
        "mode": t.mode,
        "fetch_type": t.fetch_type,
        "data_life": t.data_life.map(|l| json!({ "unit": l.unit.as_str(), "value": l.value })),
    })
}

/// Whether `jws` is a valid artefact for `consent`: the signature verifies and its claims are
/// exactly the consent's terms (so an artefact altered, or moved to another consent, fails).
pub fn check(signer: &dyn ArtefactSigner, jws: &str, consent: &Consent) -> Result<(), String> {
    let signed = signer.verify(jws)?;
    let approved_at = signed.get("iat").and_then(Value::as_i64).ok_or("no iat")?;
    if signed == claims(consent, approved_at) {
        Ok(())
    } else {
        Err("the artefact does not match the consent".into())
    }
}

/// An [`ArtefactSigner`] with an ES256 (P-256) key, on identity's JOSE helpers: the gateway's
/// real signer once given its key.
pub struct Es256Signer {
    key: PKey<Private>,
    public: PKey<Public>,
    kid: Option<String>,
}

impl std::fmt::Debug for Es256Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Es256Signer")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl Es256Signer {
    /// A signer with `key` (a P-256 private key); `kid` goes in every artefact's header.
    pub fn new(key: PKey<Private>, kid: Option<String>) -> Result<Es256Signer, String> {
        let public =
            PKey::public_key_from_der(&key.public_key_to_der().map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
        Ok(Es256Signer { key, public, kid })
    }
}

impl ArtefactSigner for Es256Signer {
    fn sign(&self, claims: &Value) -> Result<String, String> {
        let header = jose::Header {
            typ: Some(ARTEFACT_TYP.into()),
            kid: self.kid.clone(),
            ..jose::Header::default()
        };
        jose::sign(header, claims, jose::Alg::ES256, &self.key).map_err(|e| e.to_string())
    }

    fn verify(&self, jws: &str) -> Result<Value, String> {
        let compact = jose::decode(jws).map_err(|e| e.to_string())?;
        if compact.alg != jose::Alg::ES256 || compact.header.typ.as_deref() != Some(ARTEFACT_TYP) {
            return Err("not a consent artefact".into());
        }
        compact.verify(&self.public).map_err(|e| e.to_string())?;
        Ok(Value::Object(compact.claims))
    }
}
