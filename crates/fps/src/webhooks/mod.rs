//! Signed webhooks for FPS participants, with retries.
//!
//! - `domain` — pure rules: endpoint addresses, event filters, formats, the signing secret and
//!   the Standard Webhooks signature, deterministic event ids, the retry schedule.
//! - `tailer` — the settlement ledger's log → outbox events (`transfer.*`, `settlement.*`),
//!   exactly once by a cursor moved in the same transaction.
//! - `store` — subscriptions, deliveries and the dispatch of events to deliveries.
//! - `worker` — the background task that tails, dispatches and delivers.
//! - `camt054` — transfer events as ISO 20022 camt.054.001.08.
//! - `http` — `/api/v1/fps/webhooks…` and the camt.054 pull endpoint.
//!
//! A signing secret is made here, shown once, and kept only sealed by the vault; it is never
//! logged or audited, and neither is an endpoint's query string.

pub mod camt054;
pub mod domain;
pub mod http;
pub mod store;
pub mod tailer;
pub mod worker;

use std::sync::{Arc, Mutex};

use bauhinia_core::crypto::Vault;
use bauhinia_store::audit::{AuditEvent, Outcome as AuditOutcome};
use bauhinia_store::{Database, StoreError};

use crate::switch::{Caller, ParticipantCode};
use domain::{EndpointUrl, EventPattern, Format, Secret, SUBSCRIPTIONS_MAX};
use store::{Created, DeliveryRow, NewSubscription, SubscriptionRow, WebhookStore};
pub use worker::{Worker, WorkerConfig};

/// The most events one pull of notifications returns.
pub const NOTIFICATIONS_MAX: i64 = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the signing secret could not be sealed")]
    Seal,
    #[error("no such webhook subscription")]
    NotFound,
    #[error("no such delivery")]
    DeliveryNotFound,
    #[error("the participant has {SUBSCRIPTIONS_MAX} subscriptions already")]
    LimitReached,
    #[error("only a participant has webhook subscriptions")]
    NotAParticipant,
    #[error("the notification could not be written: {0}")]
    Shape(String),
}

/// The webhook service. Cheap to share (`Arc`).
#[derive(Debug)]
pub struct Webhooks {
    store: WebhookStore,
    vault: Arc<Vault>,
    worker: Mutex<Option<Worker>>,
}

fn now_s() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn secret_context(subscription: &str) -> String {
    format!("fps.webhook.secret:{subscription}")
}

fn audit(actor: &str, action: &'static str, id: &str, detail: serde_json::Value) -> AuditEvent {
    AuditEvent {
        actor: actor.to_owned(),
        action,
        subject: format!("webhook:{id}"),
        outcome: AuditOutcome::Success,
        detail,
        request_id: None,
    }
}

impl Webhooks {
    pub fn new(db: &Database, vault: Arc<Vault>) -> Webhooks {
        Webhooks {
            store: WebhookStore::new(db),
            vault,
            worker: Mutex::new(None),
        }
    }

    pub fn store(&self) -> &WebhookStore {
        &self.store
    }

    /// Starts the delivery worker (once; a second call does nothing).
    pub fn start_worker(self: &Arc<Self>, config: WorkerConfig) -> Result<(), reqwest::Error> {
        let Ok(mut slot) = self.worker.lock() else {
            return Ok(());
        };
        if slot.is_none() {
            *slot = Some(Worker::start(Arc::clone(self), config)?);
        }
        Ok(())
    }

    /// Stops the delivery worker, letting attempts in flight finish.
    pub async fn stop_worker(&self) {
        let worker = self.worker.lock().ok().and_then(|mut w| w.take());
        if let Some(worker) = worker {
            worker.stop().await;
        }
    }

    fn secret_of(&self, subscription: &str, sealed: &[u8]) -> Option<Secret> {
        self.vault
            .open(&secret_context(subscription), sealed)
            .ok()
            .map(Secret::from_bytes)
    }

    /// Registers an endpoint for `participant`; the answer holds the secret, the only time it
    /// is shown. Audited (the subscription, and the secret's issue).
    pub async fn subscribe(
        &self,
        participant: ParticipantCode,
        url: &EndpointUrl,
        patterns: &[EventPattern],
        format: Format,
        actor: &str,
    ) -> Result<(SubscriptionRow, Secret), WebhookError> {
        let id = uuid::Uuid::new_v4().hyphenated().to_string();
        let secret = Secret::generate();
        let sealed = self
            .vault
            .seal(&secret_context(&id), secret.as_bytes())
            .map_err(|_| WebhookError::Seal)?;
        let types: Vec<String> = patterns.iter().map(|p| p.as_str().to_owned()).collect();
        let row = NewSubscription {
            id: id.clone(),
            participant,
            url: url.as_str().to_owned(),
            event_types: types.clone(),
            format: format.as_str(),
            secret_sealed: sealed,
            now_s: now_s(),
        };
        let events = [
            audit(
                actor,
                "fps.webhook.subscribe",
                &id,
                serde_json::json!({
                    "participant": participant.as_str(),
                    "url": url.redacted(),
                    "event_types": types,
                    "format": format.as_str(),
                }),
            ),
            audit(
                actor,
                "fps.webhook.secret_issued",
                &id,
                serde_json::json!({}),
            ),
        ];
        match self.store.create(&row, &events, SUBSCRIPTIONS_MAX).await? {
            Created::LimitReached => Err(WebhookError::LimitReached),
            Created::Created => {
                let stored = self.store.get(&id).await?.ok_or(WebhookError::NotFound)?;
                Ok((stored, secret))
            }
        }
    }

    /// The caller's active subscriptions (the operator's: everyone's).
    pub async fn list(&self, caller: Caller) -> Result<Vec<SubscriptionRow>, WebhookError> {
        let participant = match caller {
            Caller::Participant(code) => Some(code),
            Caller::Operator => None,
        };
        Ok(self.store.list(participant).await?)
    }

    /// An active subscription the caller may see (its own; the operator: any).
    pub async fn get(&self, caller: Caller, id: &str) -> Result<SubscriptionRow, WebhookError> {
        let row = self
            .store
            .get(id)
            .await?
            .filter(|r| r.active)
            .ok_or(WebhookError::NotFound)?;
        match caller {
            Caller::Participant(code) if row.participant != code.as_str() => {
                Err(WebhookError::NotFound)
            }
            _ => Ok(row),
        }
    }

    /// Deletes a subscription; its pending deliveries are cancelled. Audited.
    pub async fn unsubscribe(&self, caller: Caller, id: &str) -> Result<(), WebhookError> {
        let row = self.get(caller, id).await?;
        let event = audit(
            &caller.actor(),
            "fps.webhook.unsubscribe",
            &row.id,
            serde_json::json!({ "participant": row.participant }),
        );
        if self.store.delete(&row.id, now_s(), &event).await? {
            Ok(())
        } else {
            Err(WebhookError::NotFound)
        }
    }

    /// Issues a new secret for a participant's own subscription; the old one keeps signing
    /// beside it for [`domain::ROTATION_OVERLAP_S`] (a delivery then carries both signatures).
    /// Audited.
    pub async fn rotate_secret(&self, caller: Caller, id: &str) -> Result<Secret, WebhookError> {
        let Caller::Participant(_) = caller else {
            return Err(WebhookError::NotAParticipant);
        };
        let row = self.get(caller, id).await?;
        let secret = Secret::generate();
        let sealed = self
            .vault
            .seal(&secret_context(&row.id), secret.as_bytes())
            .map_err(|_| WebhookError::Seal)?;
        let event = audit(
            &caller.actor(),
            "fps.webhook.secret_issued",
            &row.id,
            serde_json::json!({ "rotation": true }),
        );
        if self
            .store
            .rotate_secret(
                &row.id,
                &sealed,
                now_s(),
                now_s() + domain::ROTATION_OVERLAP_S,
                &event,
            )
            .await?
        {
            Ok(secret)
        } else {
            Err(WebhookError::NotFound)
        }
    }

    /// A subscription's recent deliveries, newest first.
    pub async fn deliveries(
        &self,
        caller: Caller,
        id: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<DeliveryRow>, WebhookError> {
        let row = self.get(caller, id).await?;
        Ok(self.store.deliveries(&row.id, before, limit).await?)
    }

    /// Makes a delivery due again now, with a fresh round of attempts.
    pub async fn redeliver(
        &self,
        caller: Caller,
        id: &str,
        delivery: i64,
    ) -> Result<(), WebhookError> {
        let row = self.get(caller, id).await?;
        if self
            .store
            .redeliver(&row.id, delivery, worker::now_ms())
            .await?
        {
            Ok(())
        } else {
            Err(WebhookError::DeliveryNotFound)
        }
    }

    /// `participant`'s accepted transfers and settlement movements after the ledger position
    /// `after_seq` as camt.054, at most [`NOTIFICATIONS_MAX`] entries, and the position to ask
    /// after next (the last one given, or `after_seq` when there was none). Read from the
    /// ledger itself: it needs no subscription, and a refusal (which moved no money) is not an
    /// entry.
    pub async fn notifications(
        &self,
        participant: ParticipantCode,
        after_seq: i64,
    ) -> Result<(crate::iso20022::Message, i64), WebhookError> {
        let events = tailer::account_entries_after(
            self.store.db(),
            participant,
            after_seq,
            NOTIFICATIONS_MAX,
        )
        .await?;
        let next = events.last().map_or(after_seq, |e| e.seq);
        let id = format!("CAMT054-{participant}-{after_seq}-{next}");
        let id: String = id.chars().take(35).collect();
        let message =
            camt054::notification(participant, &events, &id).map_err(WebhookError::Shape)?;
        Ok((message, next))
    }
}

impl From<WebhookError> for bauhinia_core::Problem {
    fn from(error: WebhookError) -> bauhinia_core::Problem {
        use bauhinia_core::{ErrorCode, Problem};
        match error {
            WebhookError::NotFound => Problem::new(ErrorCode::FpsWebhookNotFound),
            WebhookError::DeliveryNotFound => Problem::new(ErrorCode::FpsWebhookDeliveryNotFound),
            WebhookError::LimitReached => Problem::new(ErrorCode::FpsWebhookLimit),
            WebhookError::NotAParticipant => Problem::new(ErrorCode::FpsForbidden)
                .detail("webhook subscriptions belong to a participant; use its API token"),
            WebhookError::Store(StoreError::Sqlx(sqlx::Error::PoolTimedOut)) => {
                Problem::new(ErrorCode::StoreUnavailable)
            }
            other => Problem::internal(&other),
        }
    }
}
