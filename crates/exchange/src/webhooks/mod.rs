//! Signed webhooks to the exchange's participants: a consumer hears of its consents' lifecycle
//! and of data ready for it, a provider of the consents that name it and of data it served.
//!
//! - `domain` — pure: event types, notifications and their audience, the endpoint address,
//!   the JSON body, the retry schedule.
//! - `store` — endpoints and deliveries on both dialects; [`store::enqueue`], which the consent
//!   store calls inside the transaction of every change.
//! - `worker` — the background task that delivers, signed with the gateway's published key.
//!
//! It must never: put personal data or a data payload in a notification, deliver without the
//! gateway's signature, log or audit an endpoint's query string, or create a delivery for a
//! participant without an endpoint.

pub mod domain;
pub mod store;
pub mod worker;

use bauhinia_core::{ErrorCode, FieldError, Problem};
use bauhinia_store::audit::{AuditEvent, Outcome};
use bauhinia_store::{Database, StoreError};

pub use domain::{Audience, EndpointUrl, EventType, Notification, RETRY_SCHEDULE};
use store::{DeliveryRow, DeliveryStore, Found};
pub use worker::{Worker, WorkerConfig};

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("the endpoint is not valid")]
    InvalidUrl(FieldError),
    #[error("no participant {0}")]
    ParticipantNotFound(String),
    #[error("participant {0} has no webhook endpoint")]
    NoEndpoint(String),
    #[error("no dead letter {0}")]
    DeadLetterNotFound(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<WebhookError> for Problem {
    fn from(error: WebhookError) -> Problem {
        match error {
            WebhookError::InvalidUrl(e) => Problem::new(ErrorCode::ExchangeWebhookUrlInvalid)
                .detail(e.detail.clone())
                .errors(vec![e]),
            WebhookError::ParticipantNotFound(id) => {
                Problem::new(ErrorCode::ExchangeParticipantNotFound)
                    .detail(format!("no participant {id:?}"))
            }
            WebhookError::NoEndpoint(id) => Problem::new(ErrorCode::ExchangeWebhookNoEndpoint)
                .detail(format!("participant {id:?} has no webhook endpoint")),
            WebhookError::DeadLetterNotFound(id) => {
                Problem::new(ErrorCode::ExchangeWebhookDeadLetterNotFound)
                    .detail(format!("no dead letter {id}"))
            }
            WebhookError::Store(e) => {
                tracing::error!(error = %e, "exchange webhook store");
                Problem::new(ErrorCode::StoreUnavailable)
            }
        }
    }
}

fn audit(
    actor: &str,
    action: &'static str,
    participant: &str,
    detail: serde_json::Value,
) -> AuditEvent {
    AuditEvent {
        actor: actor.to_owned(),
        action,
        subject: format!("exchange_participant:{participant}"),
        outcome: Outcome::Success,
        detail,
        request_id: None,
    }
}

fn now_s() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The operator's side of webhooks: endpoints, dead letters, replays. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Webhooks {
    store: DeliveryStore,
}

impl Webhooks {
    pub fn new(db: &Database) -> Webhooks {
        Webhooks {
            store: DeliveryStore::new(db),
        }
    }

    pub fn store(&self) -> &DeliveryStore {
        &self.store
    }

    /// Sets a participant's endpoint (replacing any), audited with its redacted form. Pending
    /// deliveries go to the new address from their next attempt on.
    pub async fn set_endpoint(
        &self,
        participant: &str,
        url: &str,
        actor: &str,
    ) -> Result<EndpointUrl, WebhookError> {
        let url = domain::endpoint(url).map_err(WebhookError::InvalidUrl)?;
        let event = audit(
            actor,
            "exchange.webhook.endpoint_set",
            participant,
            serde_json::json!({ "url": url.redacted() }),
        );
        match self
            .store
            .set_endpoint(participant, &url, now_s(), &event)
            .await?
        {
            Found::Done(_) => Ok(url),
            Found::NoParticipant | Found::NoEndpoint => {
                Err(WebhookError::ParticipantNotFound(participant.to_owned()))
            }
        }
    }

    /// Clears a participant's endpoint; its pending deliveries are cancelled (how many).
    /// Audited. Clearing when there is none is `NoEndpoint`.
    pub async fn clear_endpoint(
        &self,
        participant: &str,
        actor: &str,
    ) -> Result<u64, WebhookError> {
        let event = |cancelled: u64| {
            audit(
                actor,
                "exchange.webhook.endpoint_cleared",
                participant,
                serde_json::json!({ "cancelled": cancelled }),
            )
        };
        match self
            .store
            .clear_endpoint(participant, now_s(), event)
            .await?
        {
            Found::Done(cancelled) => Ok(cancelled),
            Found::NoParticipant => Err(WebhookError::ParticipantNotFound(participant.to_owned())),
            Found::NoEndpoint => Err(WebhookError::NoEndpoint(participant.to_owned())),
        }
    }

    /// A participant's endpoint (redacted of its query) and when it was set.
    pub async fn endpoint(&self, participant: &str) -> Result<(String, i64), WebhookError> {
        let (url, at_s) = self
            .store
            .endpoint(participant)
            .await?
            .ok_or_else(|| WebhookError::NoEndpoint(participant.to_owned()))?;
        let shown = EndpointUrl::parse(&url)
            .map(|u| u.redacted())
            .unwrap_or_default();
        Ok((shown, at_s))
    }

    /// Dead letters, newest first: one participant's or everyone's.
    pub async fn dead_letters(
        &self,
        participant: Option<&str>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<DeliveryRow>, WebhookError> {
        Ok(self.store.dead_letters(participant, before, limit).await?)
    }

    /// Replays one dead letter: due now, with a fresh round of attempts. Audited.
    pub async fn replay(&self, delivery: i64, actor: &str) -> Result<(), WebhookError> {
        let row = self
            .store
            .delivery(delivery)
            .await?
            .filter(|d| d.status == "failed")
            .ok_or(WebhookError::DeadLetterNotFound(delivery))?;
        match self
            .replay_of(&row.participant, Some(delivery), actor)
            .await?
        {
            0 => Err(WebhookError::DeadLetterNotFound(delivery)),
            _ => Ok(()),
        }
    }

    /// Replays every dead letter of a participant; how many. Audited.
    pub async fn replay_all(&self, participant: &str, actor: &str) -> Result<u64, WebhookError> {
        self.replay_of(participant, None, actor).await
    }

    async fn replay_of(
        &self,
        participant: &str,
        delivery: Option<i64>,
        actor: &str,
    ) -> Result<u64, WebhookError> {
        let event = |replayed: u64| {
            audit(
                actor,
                "exchange.webhook.replay",
                participant,
                serde_json::json!({ "delivery": delivery, "replayed": replayed }),
            )
        };
        match self
            .store
            .replay(participant, delivery, worker::now_ms(), event)
            .await?
        {
            Found::Done(n) => Ok(n),
            Found::NoEndpoint => Err(WebhookError::NoEndpoint(participant.to_owned())),
            Found::NoParticipant => Err(WebhookError::ParticipantNotFound(participant.to_owned())),
        }
    }
}
