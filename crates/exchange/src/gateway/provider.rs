//! The data providers behind the gateway. The gateway hands a provider what the consent allows
//! (the products, the dates, whose data) and the consumer's one-time key material; the
//! provider answers with the data sealed to that key ([`crate::crypto::blind`]) and signed
//! with its own registered key (a detached JWS bound to the consumer's request). The gateway
//! relays the answer's bytes unchanged: it can read none of the data and keeps none of it.
//!
//! The built-in simulated providers ([`SandboxProviders`]: every demo participant registered
//! with a sandbox key) answer in process with the sandbox's deterministic synthetic data, so a
//! bank's developer integrates end to end on a laptop. The one exception is the Companies
//! Registry's company particulars once the binary has given the exchange the business
//! directory ([`crate::registry`]): those are the register's, read at the fetch, sealed and
//! signed the same way.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use bauhinia_core::crypto::Vault;
use openssl::pkey::{PKey, Private};
use serde_json::{json, Value};
use time::{Date, OffsetDateTime, UtcOffset};

use crate::crypto::blind::{self, BlindError, KeyMaterial};
use crate::crypto::jws::{self, Binding, JwsError};
use crate::directory::store::DirectoryStore;
use crate::directory::{demo, DirectoryError, Participant};
use crate::products::ProductId;
use crate::registry::{Registry, RegistryError};
use crate::sandbox::{self, SandboxError, SandboxRequest};

/// The answer's format version.
pub const ANSWER_VERSION: u64 = 1;

/// What the gateway asks a provider for, under a consent it has checked.
#[derive(Debug, Clone)]
pub struct ProviderRequest<'a> {
    /// The fetch session's id (also in the envelope's associated data).
    pub session: &'a str,
    pub consent: &'a str,
    /// Whose data: the resident's id, or the company's.
    pub owner: &'a str,
    pub consumer: &'a str,
    pub provider: &'a Participant,
    pub products: &'a [ProductId],
    /// The dates of the data (Hong Kong calendar days, inclusive).
    pub from: Date,
    pub to: Date,
    pub key_material: &'a KeyMaterial,
    /// The `jti` of the consumer's signed request: the provider's signature answers it.
    pub request_jti: &'a str,
}

/// A provider's answer: the JSON body (with the envelope) and its detached signature.
#[derive(Debug, Clone)]
pub struct ProviderAnswer {
    pub body: Vec<u8>,
    pub signature: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The provider has no way to be reached from this gateway.
    #[error("the provider {0} cannot be reached from this gateway")]
    Unreachable(String),
    #[error("the provider refused the request: {0}")]
    Refused(#[from] SandboxError),
    #[error("the Companies Registry: {0}")]
    Registry(#[from] RegistryError),
    #[error("the provider could not seal the data: {0}")]
    Seal(#[from] BlindError),
    #[error("the provider could not sign its answer: {0}")]
    Sign(#[from] JwsError),
    #[error("the provider's key: {0}")]
    Key(#[from] DirectoryError),
    #[error("the provider's answer: {0}")]
    Encode(#[from] serde_json::Error),
}

/// The calendar day (Hong Kong Time) holding `at_s`.
pub fn hk_date(at_s: i64) -> Date {
    let offset = UtcOffset::from_whole_seconds(8 * 3600).unwrap_or(UtcOffset::UTC);
    OffsetDateTime::from_unix_timestamp(at_s)
        .map(|t| t.to_offset(offset).date())
        .unwrap_or(Date::MIN)
}

/// A provider's signing key: its `kid` and the private key.
type SigningKey = Arc<(String, PKey<Private>)>;

/// The built-in simulated providers: each signs with its sandbox key (sealed in the
/// database, opened once and kept in memory).
#[derive(Debug)]
pub struct SandboxProviders {
    store: DirectoryStore,
    vault: Arc<Vault>,
    keys: RwLock<HashMap<String, SigningKey>>,
    registry: Arc<Registry>,
}

impl SandboxProviders {
    pub fn new(
        store: DirectoryStore,
        vault: Arc<Vault>,
        registry: Arc<Registry>,
    ) -> SandboxProviders {
        SandboxProviders {
            store,
            vault,
            keys: RwLock::new(HashMap::new()),
            registry,
        }
    }

    async fn key(&self, participant: &str) -> Result<SigningKey, ProviderError> {
        if let Some(key) = self
            .keys
            .read()
            .ok()
            .and_then(|keys| keys.get(participant).cloned())
        {
            return Ok(key);
        }
        let key = match demo::signing_key(&self.store, &self.vault, participant).await {
            Ok(key) => Arc::new(key),
            Err(DirectoryError::NotFound(id)) => return Err(ProviderError::Unreachable(id)),
            Err(e) => return Err(e.into()),
        };
        if let Ok(mut keys) = self.keys.write() {
            keys.insert(participant.to_owned(), Arc::clone(&key));
        }
        Ok(key)
    }

    /// The vault the sandbox keys are sealed with.
    pub(crate) fn vault(&self) -> &Vault {
        &self.vault
    }

    /// Forgets the cached key of `participant` (its keys were replaced).
    pub fn forget(&self, participant: &str) {
        if let Ok(mut keys) = self.keys.write() {
            keys.remove(participant);
        }
    }

    /// Serves `request`: the synthetic data of every product, sealed to the consumer's key and
    /// signed by the provider.
    pub async fn serve(
        &self,
        request: &ProviderRequest<'_>,
    ) -> Result<ProviderAnswer, ProviderError> {
        let key = self.key(request.provider.id.as_str()).await?;
        let (kid, private) = (&key.0, &key.1);
        let mut products = serde_json::Map::new();
        for &product in request.products {
            let asked = SandboxRequest {
                product,
                owner: request.owner,
                provider: request.provider.id.as_str(),
                bank_code: request.provider.fps_code.as_deref(),
                from: request.from,
                to: request.to,
                accounts: &[],
            };
            let data = if self.registry.serves(asked.provider, product) {
                self.registry
                    .company_particulars(request.owner, sandbox::header(&asked))
                    .await?
            } else {
                sandbox::generate(&asked)?
            };
            products.insert(product.as_str().to_owned(), data);
        }
        let plaintext = serde_json::to_vec(&json!({
            "consent": request.consent,
            "session": request.session,
            "provider": request.provider.id.as_str(),
            "products": products,
        }))?;
        let aad = blind::canonical_aad(request.consent, request.session);
        let envelope = blind::seal_fresh(request.key_material, &aad, &plaintext)?;
        let envelope: Value = serde_json::from_slice(&envelope.to_json())?;
        let body = serde_json::to_vec(&json!({
            "version": ANSWER_VERSION,
            "consent": request.consent,
            "session": request.session,
            "provider": request.provider.id.as_str(),
            "consumer": request.consumer,
            "products": request.products.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            "envelope": envelope,
        }))?;
        let signature =
            jws::sign_detached(kid, private, &Binding::response(request.request_jti), &body)?;
        Ok(ProviderAnswer { body, signature })
    }
}
