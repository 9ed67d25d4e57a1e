//! The delivery worker: one tokio task that, every poll, turns new ledger transfers into events
//! ([`super::tailer`]), events into deliveries ([`super::store::WebhookStore::dispatch_once`]),
//! and makes the attempts that are due — at most `concurrency` at once, each signed afresh
//! (Standard Webhooks) and POSTed with a 10-second timeout, no redirect followed, the response
//! body never read. Due deliveries go by pages of `4 × concurrency`: one transaction claims a
//! page, one records its results once its last attempt has ended (two writes a page, not two
//! an attempt: on SQLite every write transaction holds the lock the ledger's writer needs).
//!
//! Delivery is at least once: an attempt is claimed by moving the delivery's time forward by a
//! lease, and recorded after the answer; a crash in between leaves the delivery due again when
//! the lease runs out, so the receiver may see an event twice (same `webhook-id`) but never
//! miss one. There is no ordering between deliveries, not even for one participant: a failing
//! delivery waits for its retry while later events go ahead. Receivers order by the payload's
//! timestamp or the ledger, not by arrival.

use std::sync::Arc;

use bauhinia_core::background::Background;
use bauhinia_store::audit::{AuditEvent, Outcome as AuditOutcome};
use futures_util::StreamExt as _;

use super::domain::{sign_all, EndpointUrl, Format, Secret};
use super::store::{AttemptResult, Due};
use super::Webhooks;

/// The most pages of due deliveries one round takes before it sleeps (and looks for a stop).
const ROUNDS_PER_TICK_MAX: usize = 16;

/// How the worker runs: [`WorkerConfig::with_schedule`] with [`super::domain::RETRY_SCHEDULE`] in
/// production; tests shorten the schedule and poll.
pub use bauhinia_core::background::WorkerConfig;

/// The running worker.
#[derive(Debug)]
pub struct Worker(Background);

pub(super) use bauhinia_core::background::now_ms;

impl Worker {
    /// Starts the worker on the current runtime.
    pub fn start(hooks: Arc<Webhooks>, config: WorkerConfig) -> Result<Worker, reqwest::Error> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .user_agent(concat!("Bauhinia-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let config = Arc::new(config);
        let poll = config.poll;
        Ok(Worker(Background::spawn(poll, move || {
            let (hooks, client, config) = (Arc::clone(&hooks), client.clone(), Arc::clone(&config));
            async move {
                // Work left over: the next round at once (a stop is still seen between).
                tick(&hooks, &client, &config).await.unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "webhook worker: a round failed; retrying");
                    false
                })
            }
        })))
    }

    /// Stops taking new work, lets the attempts in flight finish and record, and returns.
    pub async fn stop(self) {
        self.0.stop().await;
    }
}

/// One round: tail the ledger, dispatch, attempt what is due. Each stage takes a bounded share
/// of the round, so under a sustained load none of them starves the next; `true` when one
/// stopped at its bound (more is waiting: the next round should not sleep).
async fn tick(
    hooks: &Webhooks,
    client: &reqwest::Client,
    config: &WorkerConfig,
) -> Result<bool, bauhinia_store::StoreError> {
    let rounds = i64::try_from(ROUNDS_PER_TICK_MAX).unwrap_or(16);
    let tailed = super::tailer::catch_up(hooks.store.db(), ROUNDS_PER_TICK_MAX).await?;
    let mut more =
        i64::try_from(tailed).unwrap_or(i64::MAX) >= rounds * super::tailer::TAIL_BATCH_MAX;
    let mut dispatched_all = false;
    for _ in 0..ROUNDS_PER_TICK_MAX {
        if !hooks.store.dispatch_behind().await? {
            dispatched_all = true;
            break;
        }
        let n = hooks.store.dispatch_once(now_ms() / 1000, now_ms()).await?;
        if i64::try_from(n).unwrap_or(i64::MAX) < super::store::DISPATCH_BATCH_MAX {
            dispatched_all = true;
            break;
        }
    }
    more |= !dispatched_all;
    let limit = config.page_max();
    // A full page means more may be due: take a few more pages before sleeping.
    let mut full = false;
    for _ in 0..ROUNDS_PER_TICK_MAX {
        let due = hooks.store.due(now_ms(), limit).await?;
        full = i64::try_from(due.len()).unwrap_or(0) >= limit;
        let lease = i64::try_from(config.lease.as_millis()).unwrap_or(60_000);
        let taken = hooks.store.claim(due, now_ms() + lease).await?;
        let ended: Vec<(Due, AttemptResult)> = futures_util::stream::iter(taken)
            .map(|due| async move {
                let result = attempt(hooks, client, config, &due).await;
                (due, result)
            })
            .buffer_unordered(config.concurrency.max(1))
            .collect()
            .await;
        hooks.store.record(&ended, now_ms() / 1000).await?;
        if !full {
            break;
        }
    }
    Ok(more || full)
}

/// The body and its content type.
pub fn render(due: &Due) -> (Vec<u8>, &'static str) {
    let format = Format::parse(&due.format).unwrap_or(Format::Json);
    let event = &due.event;
    if format == Format::Camt054 && super::domain::is_account_event(&event.kind) {
        if let Some(code) = crate::switch::ParticipantCode::parse(&event.participant) {
            let id = format!("CAMT054-{code}-{}", event.seq);
            match super::camt054::notification(code, std::slice::from_ref(event), &id) {
                Ok(message) => return (message.to_xml().into_bytes(), "application/xml"),
                Err(e) => {
                    tracing::warn!(error = %e, seq = event.seq, "camt.054 not made; JSON sent")
                }
            }
        }
    }
    (envelope(event).into_bytes(), "application/json")
}

/// The JSON body: `{"id", "type", "timestamp", "participant", "subject", "seq", "data"}`.
pub fn envelope(event: &crate::events::StoredEvent) -> String {
    let data: serde_json::Value =
        serde_json::from_str(&event.payload).unwrap_or(serde_json::Value::Null);
    let timestamp = time::OffsetDateTime::from_unix_timestamp(event.created_at_s)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    serde_json::json!({
        "id": event.id,
        "type": event.kind,
        "timestamp": timestamp,
        "participant": event.participant,
        "subject": event.subject,
        "seq": event.seq,
        "data": data,
    })
    .to_string()
}

/// One attempt of a claimed delivery: its result, to be recorded with the page's.
async fn attempt(
    hooks: &Webhooks,
    client: &reqwest::Client,
    config: &WorkerConfig,
    due: &Due,
) -> AttemptResult {
    let current = hooks.secret_of(&due.subscription, &due.secret_sealed);
    let previous = due
        .previous_sealed
        .as_ref()
        .and_then(|sealed| hooks.secret_of(&due.subscription, sealed));
    let (status_code, error) = match current {
        Some(secret) => {
            let secrets: Vec<Secret> = std::iter::once(secret).chain(previous).collect();
            post(client, due, &secrets).await
        }
        None => (None, "the signing secret could not be opened".to_owned()),
    };
    match status_code {
        Some(code) if (200..300).contains(&code) => AttemptResult::Delivered { status_code: code },
        _ => failure(due, config, status_code, error),
    }
}

/// One POST: the status code, or why there was none.
async fn post(client: &reqwest::Client, due: &Due, secrets: &[Secret]) -> (Option<i64>, String) {
    let (body, content_type) = render(due);
    let timestamp = now_ms() / 1000;
    let signature = sign_all(secrets, &due.event.id, timestamp, &body);
    let sent = client
        .post(&due.url)
        .header("content-type", content_type)
        .header("webhook-id", &due.event.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await;
    match sent {
        // The body is never read: dropping the response closes it.
        Ok(response) => {
            let code = response.status().as_u16();
            (Some(i64::from(code)), format!("HTTP {code}"))
        }
        Err(e) => (None, e.without_url().to_string()),
    }
}

fn failure(
    due: &Due,
    config: &WorkerConfig,
    status_code: Option<i64>,
    error: String,
) -> AttemptResult {
    let failed = u32::try_from(due.attempts + 1).unwrap_or(u32::MAX);
    match config.schedule.delay_after(failed) {
        Some(delay) => {
            let delay = config.schedule.jittered(delay);
            AttemptResult::Retry {
                at_ms: now_ms() + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2),
                status_code,
                error,
            }
        }
        None => AttemptResult::Failed {
            status_code,
            audit: AuditEvent {
                actor: "system:webhooks".into(),
                action: "fps.webhook.delivery_failed",
                subject: format!("webhook:{}", due.subscription),
                outcome: AuditOutcome::Failure,
                detail: serde_json::json!({
                    "participant": due.participant,
                    "event": due.event.id,
                    "type": due.event.kind,
                    "attempts": due.attempts + 1,
                    "last_status_code": status_code,
                    "url": EndpointUrl::parse(&due.url).map(|u| u.redacted()).unwrap_or_default(),
                }),
                request_id: None,
            },
            error,
        },
    }
}
