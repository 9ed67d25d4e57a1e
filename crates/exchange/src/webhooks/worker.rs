//! The delivery worker: one tokio task that, every poll, claims a page of due deliveries (at
//! most [`WorkerConfig::page_max`]), POSTs each — at most `concurrency` at once, signed afresh with
//! the gateway's active key as a detached JWS bound to `POST` and the endpoint's path, with a
//! timeout, no redirect followed, the response body never read — and records the page's
//! results in one transaction. A 2xx answer delivers; anything else (another status, a timeout,
//! a refused connection) is retried on [`super::domain::RETRY_SCHEDULE`], and after the last
//! attempt the delivery is a dead letter.
//!
//! Delivery is at least once and unordered: a crash between an attempt and its record leaves
//! the row due again when its lease runs out, so a receiver may see an event twice (same `id`).

use std::sync::Arc;

pub(super) use bauhinia_core::background::now_ms;
use bauhinia_core::background::Background;
use bauhinia_store::audit::{AuditEvent, Outcome};
use bauhinia_store::StoreError;
use futures_util::StreamExt as _;

use super::domain::{after_failure, occurred_at, AfterFailure, EndpointUrl, Envelope};
use super::store::{AttemptResult, DeliveryStore, Due};
use crate::crypto::jws::{sign_detached, Binding, HEADER_NAME};
use crate::crypto::keys::GatewayKeys;

/// How the worker runs: [`WorkerConfig::with_schedule`] with
/// [`super::domain::RETRY_SCHEDULE`] in production; tests shorten the schedule and poll.
pub use bauhinia_core::background::WorkerConfig;

/// The running worker.
#[derive(Debug)]
pub struct Worker(Background);

/// What one page needs.
struct Sender {
    store: DeliveryStore,
    keys: Arc<GatewayKeys>,
    client: reqwest::Client,
    config: WorkerConfig,
}

impl Worker {
    /// Starts the worker on the current runtime.
    pub fn start(
        store: DeliveryStore,
        keys: Arc<GatewayKeys>,
        config: WorkerConfig,
    ) -> Result<Worker, reqwest::Error> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .user_agent(concat!("Bauhinia-Exchange/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let poll = config.poll;
        let sender = Arc::new(Sender {
            store,
            keys,
            client,
            config,
        });
        Ok(Worker(Background::spawn(poll, move || {
            let sender = Arc::clone(&sender);
            async move {
                sender.page().await.unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "exchange webhooks: a page failed; retrying");
                    false
                })
            }
        })))
    }

    /// Stops taking new pages, lets the one in flight finish and record, and returns.
    pub async fn stop(self) {
        self.0.stop().await;
    }
}

impl Sender {
    /// Claims, attempts and records one page; whether it was full (more may be due).
    async fn page(&self) -> Result<bool, StoreError> {
        let batch = self.config.page_max();
        let due = self.store.due(now_ms(), batch).await?;
        let full = i64::try_from(due.len()).unwrap_or(i64::MAX) >= batch;
        let lease_ms = i64::try_from(self.config.lease.as_millis()).unwrap_or(120_000);
        let taken = self
            .store
            .claim(due, now_ms().saturating_add(lease_ms))
            .await?;
        let ended: Vec<(Due, AttemptResult)> = futures_util::stream::iter(taken)
            .map(|due| async move {
                let how = self.attempt(&due).await;
                (due, how)
            })
            .buffer_unordered(self.config.concurrency.max(1))
            .collect()
            .await;
        self.store.record(&ended, now_ms() / 1000).await?;
        Ok(full)
    }

    async fn attempt(&self, due: &Due) -> AttemptResult {
        let (status_code, error) = match self.post(due).await {
            Ok(code) if (200..300).contains(&code) => {
                return AttemptResult::Delivered { status_code: code }
            }
            Ok(code) => (Some(code), format!("HTTP {code}")),
            Err(error) => (None, error),
        };
        let d = &due.delivery;
        match after_failure(&self.config.schedule, d.attempts + 1, now_ms()) {
            AfterFailure::RetryAt(at_ms) => AttemptResult::Retry {
                at_ms,
                status_code,
                error,
            },
            AfterFailure::Dead => AttemptResult::Failed {
                status_code,
                audit: AuditEvent {
                    actor: "system:exchange-webhooks".into(),
                    action: "exchange.webhook.dead_letter",
                    subject: format!("exchange_participant:{}", d.participant),
                    outcome: Outcome::Failure,
                    detail: serde_json::json!({
                        "delivery": d.id,
                        "event": d.event_id,
                        "type": d.kind,
                        "consent": d.consent,
                        "attempts": d.attempts + 1,
                        "last_status_code": status_code,
                        "url": EndpointUrl::parse(&due.url).map(|u| u.redacted()).unwrap_or_default(),
                    }),
                    request_id: None,
                },
                error,
            },
        }
    }

    /// One signed POST: the status code, or why there was none. Never logs the URL's query.
    async fn post(&self, due: &Due) -> Result<i64, String> {
        let url = EndpointUrl::parse(&due.url).map_err(str::to_owned)?;
        let d = &due.delivery;
        let body = Envelope {
            id: &d.event_id,
            kind: &d.kind,
            participant: &d.participant,
            consent: &d.consent,
            status: &d.consent_status,
            occurred_at: occurred_at(d.occurred_at_s),
        }
        .to_bytes();
        let (kid, key) = self.keys.active().map_err(|e| e.to_string())?;
        let signature = sign_detached(&kid, &key, &Binding::request("POST", url.path()), &body)
            .map_err(|e| e.to_string())?;
        let response = self
            .client
            .post(url.as_str())
            .header("content-type", "application/json")
            .header(HEADER_NAME, signature)
            .body(body)
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        // The body is never read: dropping the response closes it.
        Ok(i64::from(response.status().as_u16()))
    }
}
