//! A data consumer's side of the gateway, for a bank's own Rust code (and this repository's
//! tests, benchmark and walk-through): sign a request, make a data request with fresh one-time
//! key material, and check and open the provider's answer. No HTTP client is chosen for you:
//! each call gives the headers and body to send, or takes the status, headers and body
//! received.
//!
//! ```no_run
//! # fn demo(key: openssl::pkey::PKey<openssl::pkey::Private>) -> Result<(), Box<dyn std::error::Error>> {
//! use bauhinia_exchange::client::Consumer;
//! let bank = Consumer::new("bank-024", "my-key-1", key);
//! let (body, keys) = Consumer::data_request(
//!     "bank-004",
//!     &["iads.balance", "iads.transactions"],
//!     "2026-01-01T00:00:00+08:00",
//!     "2026-03-31T23:59:59+08:00",
//! )?;
//! let path = "/api/v1/exchange/consents/CONSENT-ID/fetch";
//! let signed = bank.sign("POST", path, &body)?;
//! // POST `body` to the gateway with `signed.headers()`; then, with the answer:
//! # let (answer_body, answer_signature, provider_key) = (Vec::new(), String::new(), None);
//! let data = Consumer::open_answer(&keys, "CONSENT-ID", &answer_body, &answer_signature,
//!     &signed.jti, |_kid| provider_key.clone())?;
//! # Ok(()) }
//! ```

use openssl::pkey::{PKey, Private, Public};
use serde_json::{json, Value};
use zeroize::Zeroizing;

use crate::crypto::blind::{self, BlindError, Envelope, EphemeralKeys};
use crate::crypto::jws::{self, Binding, JwsError};
use crate::gateway::auth::PARTICIPANT_HEADER;

/// A data consumer: its directory id and one of its registered signing keys.
#[derive(Clone)]
pub struct Consumer {
    participant: String,
    kid: String,
    key: PKey<Private>,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("participant", &self.participant)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// A signed request: the headers to send with its body.
#[derive(Debug, Clone)]
pub struct Signed {
    pub participant: String,
    pub signature: String,
    /// The request's id: the provider's answer is bound to it.
    pub jti: String,
}

impl Signed {
    /// `x-participant-id` and `x-jws-signature`.
    pub fn headers(&self) -> [(&'static str, &str); 2] {
        [
            (PARTICIPANT_HEADER, self.participant.as_str()),
            (jws::HEADER_NAME, self.signature.as_str()),
        ]
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("the provider's signature: {0}")]
    Signature(#[from] JwsError),
    #[error("the envelope: {0}")]
    Envelope(#[from] BlindError),
    #[error("the answer is not what was asked for: {0}")]
    Answer(String),
}

impl Consumer {
    pub fn new(participant: &str, kid: &str, key: PKey<Private>) -> Consumer {
        Consumer {
            participant: participant.to_owned(),
            kid: kid.to_owned(),
            key,
        }
    }

    pub fn participant(&self) -> &str {
        &self.participant
    }

    /// Signs `body` for `method` and `path` (the path only, without the query), now, with a
    /// fresh `jti`.
    pub fn sign(&self, method: &str, path: &str, body: &[u8]) -> Result<Signed, JwsError> {
        self.sign_at(method, path, body, jws::now_s())
    }

    /// [`Consumer::sign`] at a given time (for a request prepared ahead).
    pub fn sign_at(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        iat: i64,
    ) -> Result<Signed, JwsError> {
        let jti = uuid::Uuid::new_v4().simple().to_string();
        let signature = jws::sign_detached_at(
            &self.kid,
            &self.key,
            &Binding::request(method, path),
            body,
            &jti,
            iat,
        )?;
        Ok(Signed {
            participant: self.participant.clone(),
            signature,
            jti,
        })
    }

    /// A data request's body, with fresh one-time key material; keep the keys to open the
    /// answer (they are good for that one answer only).
    pub fn data_request(
        provider: &str,
        products: &[&str],
        from: &str,
        to: &str,
    ) -> Result<(Vec<u8>, EphemeralKeys), BlindError> {
        let keys = EphemeralKeys::generate()?;
        let body = json!({
            "provider": provider,
            "products": products,
            "from": from,
            "to": to,
            "key_material": keys.material(),
        });
        Ok((body.to_string().into_bytes(), keys))
    }

    /// Checks the provider's answer — its signature (a key of the provider, looked up by
    /// `kid` in the directory's JWKS), its binding to the request `request_jti`, its consent —
    /// and opens the envelope: the data, by product id.
    pub fn open_answer(
        keys: &EphemeralKeys,
        consent: &str,
        body: &[u8],
        signature: &str,
        request_jti: &str,
        provider_key: impl Fn(&str) -> Option<PKey<Public>>,
    ) -> Result<Value, ClientError> {
        jws::verify_detached(
            signature,
            body,
            &Binding::response(request_jti),
            provider_key,
            jws::now_s(),
        )?;
        let answer: Value = serde_json::from_slice(body)
            .map_err(|_| ClientError::Answer("the answer is not JSON".into()))?;
        if answer.get("consent").and_then(Value::as_str) != Some(consent) {
            return Err(ClientError::Answer("it names another consent".into()));
        }
        let session = answer
            .get("session")
            .and_then(Value::as_str)
            .ok_or_else(|| ClientError::Answer("it has no session".into()))?;
        let envelope_json = answer
            .get("envelope")
            .and_then(|e| serde_json::to_vec(e).ok())
            .ok_or_else(|| ClientError::Answer("it has no envelope".into()))?;
        let envelope = Envelope::from_json(&envelope_json)?;
        let plaintext: Zeroizing<Vec<u8>> =
            blind::open(keys, &envelope, &blind::canonical_aad(consent, session))?;
        let data: Value = serde_json::from_slice(&plaintext)
            .map_err(|_| ClientError::Answer("the plaintext is not JSON".into()))?;
        if data.get("session").and_then(Value::as_str) != Some(session)
            || data.get("consent").and_then(Value::as_str) != Some(consent)
        {
            return Err(ClientError::Answer(
                "the sealed data names another session or consent".into(),
            ));
        }
        Ok(data)
    }
}
