//! The exchange as one service for the binary to start: the participants directory, the
//! gateway's signing keys, consents (whose artefacts those keys sign), the hash chain's
//! signed checkpoints and the participants' webhooks, with the periodic work they need
//! ([`Exchange::housekeeping`], [`Exchange::start_webhook_worker`]).

use std::sync::Arc;

use bauhinia_core::crypto::Vault;
use bauhinia_store::{Database, StoreError};

use crate::chain::{self, ChainError};
use crate::consent::artefact::ArtefactSigner;
use crate::consent::receipt::{Controller, ReceiptContext};
use crate::consent::{ConsentError, Consents, ConsentsConfig};
use crate::crypto::keys::{GatewayKeys, KeyError};
use crate::crypto::replay;
use crate::directory::{demo, Directory, DirectoryError};
use crate::gateway::limits::{Limits, LimitsConfig};
use crate::gateway::provider::SandboxProviders;
use crate::products::ProductId;
use crate::registry::Registry;
use crate::webhooks::{Webhooks, Worker, WorkerConfig};

/// The gateway signs consent artefacts with its own published keys: a verifier fetches the
/// JWKS, and a rotation keeps old artefacts verifying.
impl ArtefactSigner for GatewayKeys {
    fn sign(&self, claims: &serde_json::Value) -> Result<String, String> {
        self.sign_compact(claims).map_err(|e| e.to_string())
    }

    fn verify(&self, jws: &str) -> Result<serde_json::Value, String> {
        self.verify_compact(jws).map_err(|e| e.to_string())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the gateway's signing keys: {0}")]
    Keys(#[from] KeyError),
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    #[error(transparent)]
    Consent(#[from] ConsentError),
    #[error("the audit chain: {0}")]
    Chain(#[from] ChainError),
}

/// What one round of [`Exchange::housekeeping`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Housekeeping {
    /// Consents that expired (a deadline or a validity passed).
    pub expired: usize,
    /// Replay records past their window, deleted.
    pub purged: u64,
    /// The chain's head was signed (it had moved since the last checkpoint).
    pub checkpointed: bool,
    /// Webhook deliveries done (delivered or cancelled) long enough ago, deleted.
    pub deliveries_purged: u64,
}

/// The exchange's services. Cheap to share (`Arc`).
#[derive(Debug)]
pub struct Exchange {
    db: Database,
    directory: Directory,
    keys: Arc<GatewayKeys>,
    consents: Consents,
    providers: SandboxProviders,
    limits: Limits,
    public_url: String,
    webhooks: Webhooks,
    registry: Arc<Registry>,
}

impl Exchange {
    /// Loads (or, on first start, creates) the gateway's keys and builds the services.
    /// `public_url` is where the portal is reached: receipts point owners there to withdraw.
    pub async fn start(
        db: &Database,
        vault: Arc<Vault>,
        public_url: &str,
    ) -> Result<Exchange, ExchangeError> {
        let keys = Arc::new(GatewayKeys::load(db, Arc::clone(&vault)).await?);
        let base = public_url.trim_end_matches('/');
        let config = ConsentsConfig {
            signer: Arc::clone(&keys) as Arc<dyn ArtefactSigner>,
            known_products: ProductId::ALL
                .iter()
                .map(|p| p.as_str().to_owned())
                .collect(),
            receipt: ReceiptContext {
                operator: Controller::named("Bauhinia consented data exchange"),
                policy_url: format!("{base}/exchange"),
                withdraw_url: format!("{base}/exchange/consents"),
            },
        };
        let directory = Directory::new(db);
        let registry = Arc::new(Registry::default());
        Ok(Exchange {
            db: db.clone(),
            providers: SandboxProviders::new(
                directory.store().clone(),
                vault,
                Arc::clone(&registry),
            ),
            directory,
            keys,
            consents: Consents::new(db, config).with_registry(Arc::clone(&registry)),
            registry,
            limits: Limits::new(LimitsConfig::default()),
            public_url: base.to_owned(),
            webhooks: Webhooks::new(db),
        })
    }

    /// Gives the Companies Registry the business directory (CorpID, through identity's seam):
    /// from then on its company particulars are the register's, and consents for them are
    /// owned by the company through an administrator. Once only: a second directory is handed
    /// back unused.
    pub fn set_corporate_directory(
        &self,
        directory: Arc<dyn bauhinia_identity::corporate::CorporateDirectory>,
    ) -> Result<(), Arc<dyn bauhinia_identity::corporate::CorporateDirectory>> {
        self.registry.set(directory)
    }

    /// The same exchange with other rate limits.
    pub fn with_limits(mut self, config: LimitsConfig) -> Exchange {
        self.limits = Limits::new(config);
        self
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The built-in simulated providers.
    pub fn providers(&self) -> &SandboxProviders {
        &self.providers
    }

    /// Where the portal is reached (no trailing slash).
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The portal page where the owner reviews a consent request.
    pub fn approval_url(&self, consent: &str) -> String {
        format!("{}/exchange/consents/{consent}", self.public_url)
    }

    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    pub fn keys(&self) -> &GatewayKeys {
        &self.keys
    }

    pub fn consents(&self) -> &Consents {
        &self.consents
    }

    pub fn webhooks(&self) -> &Webhooks {
        &self.webhooks
    }

    /// Starts the webhook delivery worker on the current runtime; it signs with these keys.
    pub fn start_webhook_worker(&self, config: WorkerConfig) -> Result<Worker, reqwest::Error> {
        Worker::start(
            self.webhooks.store().clone(),
            Arc::clone(&self.keys),
            config,
        )
    }

    /// The demo participants (idempotent): returns how many this call registered.
    pub async fn load_demo(&self, vault: &Vault) -> Result<usize, ExchangeError> {
        Ok(demo::load(self.directory.store(), vault).await?)
    }

    /// The demo participants with their sandbox providers (idempotent), for a benchmark or a
    /// developer's database that was not made with demo data: how many this call registered.
    pub async fn load_sandbox(&self) -> Result<usize, ExchangeError> {
        Ok(demo::load(self.directory.store(), self.providers.vault()).await?)
    }

    /// The periodic work: expire consents whose time has passed, forget replay records past
    /// their window, sign the chain's head if it moved since the last checkpoint (so records
    /// never wait long for a signature), and delete webhook deliveries done a week ago.
    pub async fn housekeeping(&self, now_s: i64) -> Result<Housekeeping, ExchangeError> {
        let expired = self.consents.expire_due(now_s).await?;
        let purged = replay::purge_expired(&self.db, now_s).await?;
        self.limits.cleanup();
        let (head, _) = chain::head(&self.db).await?;
        let signed = chain::last_checkpoint_seq(&self.db).await?;
        let checkpointed = head > 0 && signed < head;
        if checkpointed {
            let (kid, key) = self.keys.active()?;
            chain::checkpoint(&self.db, &kid, &key).await?;
        }
        let deliveries_purged = self.webhooks.store().purge_done(now_s).await?;
        Ok(Housekeeping {
            expired,
            purged,
            checkpointed,
            deliveries_purged,
        })
    }
}
