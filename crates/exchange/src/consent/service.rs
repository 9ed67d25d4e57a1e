//! The consents service: a consumer requests, the owner approves or rejects, pauses, resumes
//! and revokes, time expires, and the gateway checks and counts every fetch. Every refusal —
//! someone not the owner acting, a change the lifecycle does not allow or a racing change
//! already made, a fetch denied — is audited with outcome failure, even though nothing else
//! changes.
//!
//! The time is always an argument (Unix seconds), so callers and tests decide the clock.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use bauhinia_core::{ErrorCode, FieldError, Lang, Problem};
use bauhinia_store::{Database, StoreError};
use serde_json::{json, Value};

use super::artefact::{self, ArtefactSigner};
use super::domain::{
    check_terms, parse_request, transition, Action, Consent, ConsentId, ConsentTerms, Denial,
    FetchRequest, OwnerAction, ParticipantId, ResidentId, Status, TransitionRefused,
    APPROVAL_WINDOW_S,
};
use super::receipt::{self, Controller, Receipt, ReceiptContext};
use super::store::{
    audit_action, refusal_records, request_records, ArtefactCheck, Change, Changed, ConsentStore,
    Records, UseRecord,
};
use crate::crypto::jws::Verified;
use crate::registry::{Registry, RegistryError};

/// Why a consent operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ConsentError {
    #[error("the consent request is invalid")]
    Invalid(Vec<FieldError>),
    #[error("no consent has this id")]
    NotFound,
    /// Someone other than the owner (or the company's representative) tried to act.
    #[error("only the consent's owner may do this")]
    NotOwner,
    #[error(transparent)]
    Refused(#[from] TransitionRefused),
    #[error("the fetch is denied: {0}")]
    Denied(#[from] Denial),
    #[error("the artefact could not be signed: {0}")]
    Signing(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

impl ConsentError {
    /// The client's problem. Internal causes are logged, never sent.
    pub fn problem(&self) -> Problem {
        match self {
            ConsentError::Invalid(errors) => {
                Problem::new(ErrorCode::ExchangeConsentInvalid).errors(errors.clone())
            }
            ConsentError::NotFound => Problem::new(ErrorCode::ExchangeConsentNotFound),
            ConsentError::NotOwner => Problem::new(ErrorCode::ExchangeConsentNotOwner),
            ConsentError::Refused(refused) => {
                Problem::new(ErrorCode::ExchangeConsentState).detail(refused.to_string())
            }
            ConsentError::Denied(denial) => Problem::new(denial.code())
                .reason(denial.reason())
                .detail(denial.to_string()),
            ConsentError::Signing(cause) => Problem::internal(cause),
            ConsentError::Store(cause) => Problem::internal(cause),
            ConsentError::Registry(cause) => Problem::internal(cause),
        }
    }
}

/// A consent and every use made under it (newest first), for the owner's dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentWithUses {
    pub consent: Consent,
    pub uses: Vec<UseRecord>,
}

/// What the service needs besides the database.
#[derive(Clone)]
pub struct ConsentsConfig {
    /// Signs the artefact of every consent approved (the gateway's key).
    pub signer: Arc<dyn ArtefactSigner>,
    /// The data products' ids of the catalogue; a request naming another is invalid.
    pub known_products: Vec<String>,
    /// For the receipts.
    pub receipt: ReceiptContext,
}

impl std::fmt::Debug for ConsentsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsentsConfig")
            .field("known_products", &self.known_products)
            .field("receipt", &self.receipt)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub struct Consents {
    store: ConsentStore,
    config: Arc<ConsentsConfig>,
    /// Digests of (consent id, artefact, stored terms) whose artefact verified: the signature is
    /// checked once per artefact, not on every fetch; any change to the row changes the digest.
    held: Arc<Mutex<HashSet<[u8; 32]>>>,
    /// The Companies Registry's rule on who owns a consent for company particulars.
    registry: Arc<Registry>,
}

/// Digests kept before [`Consents`] forgets them all and starts again.
const HELD_MAX: usize = 100_000;

/// Whether `consent`'s artefact holds; `terms` is the text its terms were read from (what the
/// digest covers: any change to the stored row changes it, and the check runs again).
fn artefact_holds(
    signer: &dyn ArtefactSigner,
    held: &Mutex<HashSet<[u8; 32]>>,
    consent: &Consent,
    terms: &str,
) -> bool {
    let Some(jws) = consent.artefact.as_deref() else {
        return false;
    };
    let mut digest = Sha256::new();
    for part in [consent.id.as_str(), jws, terms] {
        let part = part.as_bytes();
        digest.update((part.len() as u64).to_be_bytes());
        digest.update(part);
    }
    let digest: [u8; 32] = digest.finalize().into();
    if held.lock().is_ok_and(|held| held.contains(&digest)) {
        return true;
    }
    let holds = artefact::check(signer, jws, consent).is_ok();
    if holds {
        if let Ok(mut held) = held.lock() {
            if held.len() >= HELD_MAX {
                held.clear();
            }
            held.insert(digest);
        }
    }
    holds
}

fn resident_actor(resident: &ResidentId) -> String {
    format!("resident:{resident}")
}

const SYSTEM: &str = "system";

impl Consents {
    pub fn new(db: &Database, config: ConsentsConfig) -> Consents {
        Consents {
            store: ConsentStore::new(db),
            config: Arc::new(config),
            held: Arc::default(),
            registry: Arc::default(),
        }
    }

    /// The same service checking consents for the Companies Registry's particulars against
    /// `registry`'s business directory.
    pub fn with_registry(mut self, registry: Arc<Registry>) -> Consents {
        self.registry = registry;
        self
    }

    pub fn store(&self) -> &ConsentStore {
        &self.store
    }

    fn products(&self) -> Vec<&str> {
        self.config
            .known_products
            .iter()
            .map(String::as_str)
            .collect()
    }

    /// A consumer's consent request (JSON; see [`parse_request`]) becomes a PENDING consent the
    /// owner has [`APPROVAL_WINDOW_S`] to approve.
    pub async fn request(
        &self,
        consumer: &ParticipantId,
        request: &Value,
        now_s: i64,
    ) -> Result<Consent, ConsentError> {
        let terms = parse_request(request, consumer, &self.products(), now_s)
            .map_err(ConsentError::Invalid)?;
        self.check_owner(&terms, now_s).await?;
        self.insert(terms, now_s).await
    }

    /// The registry's rule: a consent for a company's particulars from the Companies Registry
    /// is owned by that company, through one of its administrators.
    async fn check_owner(&self, terms: &ConsentTerms, now_s: i64) -> Result<(), ConsentError> {
        let faults = self.registry.owner_faults(terms, now_s).await?;
        if faults.is_empty() {
            Ok(())
        } else {
            Err(ConsentError::Invalid(faults))
        }
    }

    /// [`Consents::request`] for terms made in code (demo data, tests); checked the same way.
    pub async fn request_terms(
        &self,
        terms: ConsentTerms,
        now_s: i64,
    ) -> Result<Consent, ConsentError> {
        let errors = check_terms(&terms, &self.products(), now_s);
        if !errors.is_empty() {
            return Err(ConsentError::Invalid(errors));
        }
        self.check_owner(&terms, now_s).await?;
        self.insert(terms, now_s).await
    }

    async fn insert(&self, terms: ConsentTerms, now_s: i64) -> Result<Consent, ConsentError> {
        let id = ConsentId::parse(&uuid::Uuid::new_v4().to_string())
            .ok_or_else(|| ConsentError::Signing("a UUID is not a consent id".into()))?;
        let consent = Consent {
            id,
            terms,
            status: Status::Pending,
            created_at_s: now_s,
            approval_deadline_s: now_s.saturating_add(APPROVAL_WINDOW_S),
            updated_at_s: now_s,
            version: 1,
            artefact: None,
        };
        let actor = format!("participant:{}", consent.terms.consumer);
        self.store
            .insert(&consent, &request_records(&consent, &actor))
            .await?;
        Ok(consent)
    }

    pub async fn get(&self, id: &ConsentId) -> Result<Consent, ConsentError> {
        self.store.get(id).await?.ok_or(ConsentError::NotFound)
    }

    /// The owner (or the company's representative) approves, rejects, pauses, resumes or
    /// revokes. Approving signs the artefact and stores it with the now ACTIVE consent.
    /// Refused, and audited with outcome failure: an unknown consent
    /// ([`ConsentError::NotFound`]), anyone but the owner ([`ConsentError::NotOwner`]), a
    /// consent time has overtaken (expired first, then refused), a transition the table does
    /// not allow or a racing change that got there first ([`ConsentError::Refused`], naming
    /// the status the consent is in).
    pub async fn act(
        &self,
        id: &ConsentId,
        by: &ResidentId,
        action: OwnerAction,
        now_s: i64,
    ) -> Result<Consent, ConsentError> {
        let action = Action::from(action);
        let actor = resident_actor(by);
        let refuse = |reason: &str, detail: Value| {
            refusal_records(&actor, audit_action(action), id.as_str(), reason, detail)
        };
        let Some(consent) = self.store.get(id).await? else {
            self.store.record(&refuse("not_found", Value::Null)).await?;
            return Err(ConsentError::NotFound);
        };
        if consent.terms.owner.approver() != by {
            self.store.record(&refuse("not_owner", Value::Null)).await?;
            return Err(ConsentError::NotOwner);
        }
        // Data starts or restarts moving only on the word of someone who administers the
        // company now; pausing and revoking stay with the approver, which only stops it.
        if matches!(action, Action::Approve | Action::Resume)
            && !self.registry.approver_holds(&consent.terms, now_s).await?
        {
            self.store
                .record(&refuse("not_administrator", Value::Null))
                .await?;
            return Err(ConsentError::NotOwner);
        }
        let status = match consent.due(now_s) {
            Some(due) => self.expire(&consent, due, now_s).await?,
            None => consent.status,
        };
        let to = match transition(status, action) {
            Ok(to) => to,
            Err(refused) => {
                self.store
                    .record(&refuse("state", json!({ "status": status })))
                    .await?;
                return Err(refused.into());
            }
        };
        let artefact = match action {
            Action::Approve => Some(
                self.config
                    .signer
                    .sign(&artefact::claims(&consent, now_s))
                    .map_err(ConsentError::Signing)?,
            ),
            _ => None,
        };
        let change = Change {
            id: id.clone(),
            action,
            from: status,
            to,
            actor: actor.clone(),
            at_s: now_s,
            artefact,
        };
        match self.store.change(&change).await? {
            Changed::Done => self.get(id).await,
            Changed::Lost(Some(now)) => Err(TransitionRefused { from: now, action }.into()),
            Changed::Lost(None) => Err(ConsentError::NotFound),
        }
    }

    /// Expires a consent time has overtaken; the status it is in afterwards (whoever won).
    async fn expire(
        &self,
        consent: &Consent,
        action: Action,
        now_s: i64,
    ) -> Result<Status, ConsentError> {
        let to = transition(consent.status, action)?;
        let change = Change {
            id: consent.id.clone(),
            action,
            from: consent.status,
            to,
            actor: SYSTEM.into(),
            at_s: now_s,
            artefact: None,
        };
        Ok(match self.store.change(&change).await? {
            Changed::Done => to,
            Changed::Lost(now) => now.ok_or(ConsentError::NotFound)?,
        })
    }

    /// Expires every consent whose approval deadline or validity has passed at `now_s`, at
    /// most [`super::store::SWEEP_MAX`] a call; how many it expired.
    pub async fn expire_due(&self, now_s: i64) -> Result<usize, ConsentError> {
        let mut expired = 0;
        for (id, from) in self.store.due(now_s).await? {
            let change = Change {
                id,
                action: Action::Expire,
                from,
                to: transition(from, Action::Expire)?,
                actor: SYSTEM.into(),
                at_s: now_s,
                artefact: None,
            };
            if self.store.change(&change).await? == Changed::Done {
                expired += 1;
            }
        }
        Ok(expired)
    }

    /// The gateway's check of a fetch, and its count if allowed — atomically, with the
    /// request's signature recorded against replay (see [`ConsentStore::check_and_record_use`]).
    /// Denials are audited.
    pub async fn check_and_record_use(
        &self,
        id: &ConsentId,
        request: &FetchRequest,
        replay: Option<&Verified>,
        now_s: i64,
    ) -> Result<(UseRecord, Consent), ConsentError> {
        match self
            .store
            .check_and_record_use(id, request, replay, &self.artefact_check(), now_s)
            .await?
        {
            Some(Ok(done)) => Ok(done),
            Some(Err(denial)) => Err(denial.into()),
            None => {
                let records: Records = refusal_records(
                    &format!("participant:{}", request.consumer),
                    "exchange.consent.use",
                    id.as_str(),
                    "not_found",
                    json!({ "provider": request.provider }),
                );
                self.store.record(&records).await?;
                Err(ConsentError::NotFound)
            }
        }
    }

    /// The consents a resident owns or manages for a company, newest first, each with its uses.
    pub async fn list_for_owner(
        &self,
        resident: &ResidentId,
    ) -> Result<Vec<ConsentWithUses>, ConsentError> {
        let mut out = Vec::new();
        for consent in self.store.list_for_approver(resident).await? {
            let uses = self.store.uses(&consent.id).await?;
            out.push(ConsentWithUses { consent, uses });
        }
        Ok(out)
    }

    /// The consents that name `provider`, newest first.
    pub async fn list_for_provider(
        &self,
        provider: &ParticipantId,
    ) -> Result<Vec<Consent>, ConsentError> {
        Ok(self.store.list_for_provider(provider).await?)
    }

    /// The consents `consumer` asked for, newest first.
    pub async fn list_for_consumer(
        &self,
        consumer: &ParticipantId,
    ) -> Result<Vec<Consent>, ConsentError> {
        Ok(self.store.list_for_consumer(consumer).await?)
    }

    /// The owner's consent receipt (Kantara v1.1 and ISO/IEC 27560 fields) in `lang`.
    /// `consumer` names the consent's consumer as a data controller: from the participants
    /// directory, or [`Controller::named`] with its id.
    pub async fn receipt(
        &self,
        id: &ConsentId,
        lang: Lang,
        consumer: &Controller,
    ) -> Result<Receipt, ConsentError> {
        let consent = self.get(id).await?;
        let events = self.store.events(id).await?;
        Ok(receipt::receipt(
            &consent,
            &events,
            &self.config.receipt,
            consumer,
            lang,
        ))
    }

    /// Whether the consent's stored artefact verifies and matches its terms.
    pub async fn check_artefact(&self, id: &ConsentId) -> Result<bool, ConsentError> {
        let consent = self.get(id).await?;
        Ok(self.artefact_holds(&consent))
    }

    /// Whether `consent` carries an artefact that verifies (the gateway's key) and matches
    /// its terms: what the gateway checks before data moves under it.
    pub fn artefact_holds(&self, consent: &Consent) -> bool {
        match serde_json::to_string(&consent.terms) {
            Ok(terms) => artefact_holds(self.config.signer.as_ref(), &self.held, consent, &terms),
            Err(_) => false,
        }
    }

    /// [`Consents::artefact_holds`] as the fetch's transaction calls it.
    fn artefact_check(&self) -> ArtefactCheck {
        let (signer, held) = (Arc::clone(&self.config.signer), Arc::clone(&self.held));
        Arc::new(move |consent: &Consent, terms: &str| {
            artefact_holds(signer.as_ref(), &held, consent, terms)
        })
    }
}
