//! The exchange's webhooks on both dialects: notifications written in the transaction of their
//! change (and only then: a refused or lost change, or a transaction that fails, enqueues
//! nothing), none for a participant without an endpoint; real deliveries to a receiver on
//! 127.0.0.1 that verifies each signature against the gateway's published JWKS; retries with
//! back-off (a receiver that fails twice, one that times out), dead letters and the operator's
//! replay; two workers sharing the table deliver each row once.

// Test code fails by panicking; the production lints do not apply here.
#![allow(clippy::indexing_slicing, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use bauhinia_core::crypto::{MasterKey, Vault};
use bauhinia_core::retry::Schedule;
use bauhinia_exchange::consent::domain::{Action, ConsentId, OwnerAction, ParticipantId, Status};
use bauhinia_exchange::consent::store::{Change, Changed, Records};
use bauhinia_exchange::crypto::jws::{verify_detached, Binding, HEADER_NAME};
use bauhinia_exchange::directory::ParticipantDraft;
use bauhinia_exchange::webhooks::store::DeliveryRow;
use bauhinia_exchange::webhooks::{Notification, WorkerConfig};
use bauhinia_exchange::Exchange;
use bauhinia_identity::jose::JwkSet;
use bauhinia_store::audit::{AuditEvent, Outcome};
use bauhinia_store::testing::TestDb;
use bauhinia_store::{read, Database};
use openssl::pkey::{PKey, Public};
use serde_json::{json, Value};

use super::consents::{id, owner, request, NOW, OWNER};
use super::directory::registration;
use super::Error;

const CONSUMER: &str = "bank-024";
const PROVIDER: &str = "bank-004";
/// Named by every consent, and given no endpoint unless a test says so.
const OTHER_PROVIDER: &str = "bank-012";

async fn exchange(db: &Database) -> Result<Exchange, Error> {
    let vault = Arc::new(Vault::new(&MasterKey::generate()));
    let exchange = Exchange::start(db, vault, "https://portal.example.hk/").await?;
    for who in [CONSUMER, PROVIDER, OTHER_PROVIDER] {
        let body = serde_json::to_vec(&registration(who, "both", &[])?)?;
        let new = ParticipantDraft::from_json(&body)?;
        exchange.directory().register(&new, "admin:test").await?;
    }
    Ok(exchange)
}

async fn requested(exchange: &Exchange) -> Result<ConsentId, Error> {
    let consumer = id(ParticipantId::parse, CONSUMER)?;
    let body = request(json!({ "resident": OWNER }), 5);
    Ok(exchange.consents().request(&consumer, &body, NOW).await?.id)
}

async fn deliveries(exchange: &Exchange, consent: &ConsentId) -> Result<Vec<DeliveryRow>, Error> {
    Ok(exchange
        .webhooks()
        .store()
        .deliveries_of_consent(consent.as_str())
        .await?)
}

/// (type, participant, consent status) of each delivery from the `from`th on.
fn summary(rows: &[DeliveryRow], from: usize) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = rows
        .iter()
        .skip(from)
        .map(|d| {
            (
                d.kind.clone(),
                d.participant.clone(),
                d.consent_status.clone(),
            )
        })
        .collect();
    out.sort();
    out
}

fn pair(kind: &str, status: &str) -> Vec<(String, String, String)> {
    let mut out = vec![
        (kind.to_owned(), CONSUMER.to_owned(), status.to_owned()),
        (kind.to_owned(), PROVIDER.to_owned(), status.to_owned()),
    ];
    out.sort();
    out
}

async fn count(db: &Database, table: &str) -> Result<i64, Error> {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    Ok(read!(db, conn => sqlx::query_scalar(&sql).fetch_one(conn).await?))
}

/// Every status change tells the consumer and the providers that have an endpoint, in its own
/// transaction; refusals tell no one.
async fn notifications_are_written_with_their_change(db: &Database) -> Result<(), Error> {
    let exchange = exchange(db).await?;
    let hooks = exchange.webhooks();
    for who in [CONSUMER, PROVIDER] {
        hooks
            .set_endpoint(
                who,
                &format!("https://{who}.example.hk/hooks?k=1"),
                "admin:test",
            )
            .await?;
    }
    let me = owner()?;
    let c = requested(&exchange).await?;
    let rows = deliveries(&exchange, &c).await?;
    assert_eq!(summary(&rows, 0), pair("consent.requested", "PENDING"));
    assert!(rows
        .iter()
        .all(|d| d.status == "pending" && d.occurred_at_s == NOW));
    assert_ne!(rows[0].event_id, rows[1].event_id);

    exchange
        .consents()
        .act(&c, &me, OwnerAction::Approve, NOW + 60)
        .await?;
    let rows = deliveries(&exchange, &c).await?;
    assert_eq!(summary(&rows, 2), pair("consent.approved", "ACTIVE"));

    // Refused by the table, by ownership and by a lost race: nothing enqueued.
    let stranger = id(
        bauhinia_exchange::consent::domain::ResidentId::parse,
        "5b1e0f7c-0000-4000-8000-0000000000ff",
    )?;
    assert!(exchange
        .consents()
        .act(&c, &me, OwnerAction::Resume, NOW + 61)
        .await
        .is_err());
    assert!(exchange
        .consents()
        .act(&c, &stranger, OwnerAction::Revoke, NOW + 62)
        .await
        .is_err());
    let lost = exchange
        .consents()
        .store()
        .change(&Change {
            id: c.clone(),
            action: Action::Approve,
            from: Status::Pending,
            to: Status::Active,
            actor: "system".into(),
            at_s: NOW + 63,
            artefact: None,
        })
        .await?;
    assert_eq!(lost, Changed::Lost(Some(Status::Active)));
    assert_eq!(deliveries(&exchange, &c).await?.len(), 4);

    for (action, kind, status) in [
        (OwnerAction::Pause, "consent.paused", "PAUSED"),
        (OwnerAction::Resume, "consent.resumed", "ACTIVE"),
    ] {
        let before = deliveries(&exchange, &c).await?.len();
        exchange.consents().act(&c, &me, action, NOW + 70).await?;
        let rows = deliveries(&exchange, &c).await?;
        assert_eq!(summary(&rows, before), pair(kind, status));
    }

    // The fetch path's records: data.ready to the consumer, data.served to the provider;
    // nothing for a provider without an endpoint.
    let consumer = id(ParticipantId::parse, CONSUMER)?;
    let store = exchange.consents().store();
    for (provider, expected) in [(PROVIDER, 2), (OTHER_PROVIDER, 1)] {
        let before = deliveries(&exchange, &c).await?.len();
        let provider = id(ParticipantId::parse, provider)?;
        let records = Records {
            history: Vec::new(),
            audit: Vec::new(),
            notifications: Notification::data_fetched(&c, &consumer, &provider, NOW + 80),
        };
        store.record(&records).await?;
        let rows = deliveries(&exchange, &c).await?;
        assert_eq!(rows.len() - before, expected);
        assert_eq!(rows[before].kind, "data.ready");
        assert_eq!(rows[before].participant, CONSUMER);
    }
    let rows = deliveries(&exchange, &c).await?;
    assert!(rows
        .iter()
        .any(|d| d.kind == "data.served" && d.participant == PROVIDER));

    // A transaction that fails part-way writes neither its audit event nor any delivery: a
    // notification about a consent that does not exist breaks it after the audit row.
    let audits = count(db, "audit_events").await?;
    let all = count(db, "exchange_webhook_deliveries").await?;
    let ghost = id(ConsentId::parse, "no-such-consent")?;
    let failing = Records {
        history: Vec::new(),
        audit: vec![AuditEvent {
            actor: "system".into(),
            action: "exchange.consent.use",
            subject: "consent:no-such-consent".into(),
            outcome: Outcome::Success,
            detail: json!({}),
            request_id: None,
        }],
        notifications: Notification::data_fetched(&ghost, &consumer, &consumer, NOW),
    };
    assert!(store.record(&failing).await.is_err());
    assert_eq!(count(db, "audit_events").await?, audits);
    assert_eq!(count(db, "exchange_webhook_deliveries").await?, all);

    // Revocation, rejection and expiry.
    let before = deliveries(&exchange, &c).await?.len();
    exchange
        .consents()
        .act(&c, &me, OwnerAction::Revoke, NOW + 90)
        .await?;
    let rows = deliveries(&exchange, &c).await?;
    assert_eq!(summary(&rows, before), pair("consent.revoked", "REVOKED"));
    let rejected = requested(&exchange).await?;
    exchange
        .consents()
        .act(&rejected, &me, OwnerAction::Reject, NOW + 10)
        .await?;
    assert_eq!(
        summary(&deliveries(&exchange, &rejected).await?, 2),
        pair("consent.rejected", "REJECTED")
    );
    let expiring = requested(&exchange).await?;
    exchange.consents().expire_due(NOW + 365 * 86_400).await?;
    assert_eq!(
        summary(&deliveries(&exchange, &expiring).await?, 2),
        pair("consent.expired", "EXPIRED")
    );

    // Clearing an endpoint cancels what waits for it, and nothing new is made for it.
    let pending: i64 = read!(db, conn => sqlx::query_scalar(
        "SELECT COUNT(*) FROM exchange_webhook_deliveries WHERE participant = $1 AND status = 'pending'",
    )
    .bind(PROVIDER)
    .fetch_one(conn)
    .await?);
    assert!(pending > 0);
    let cancelled = hooks.clear_endpoint(PROVIDER, "admin:test").await?;
    assert_eq!(i64::try_from(cancelled)?, pending);
    let later = requested(&exchange).await?;
    let rows = deliveries(&exchange, &later).await?;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].participant, CONSUMER);
    Ok(())
}

/// How the test receiver answers one path.
#[derive(Debug, Clone, Copy)]
enum Behaviour {
    /// 503 for the first `n` requests, then 204.
    FailFirst(usize),
    /// 500 every time.
    Down,
    /// Answers the first request only after this long (past the worker's timeout), then 204.
    SlowFirst(Duration),
    Up,
}

#[derive(Debug)]
struct Seen {
    at: Instant,
    raw: Bytes,
    signature: String,
    body: Value,
    /// Whether the signature verified against the published JWKS, bound to POST and the path.
    verified: Result<(), String>,
}

#[derive(Debug, Default)]
struct ReceiverState {
    behaviour: HashMap<String, Behaviour>,
    seen: BTreeMap<String, Vec<Seen>>,
}

/// A participant's endpoint: a real HTTP server on 127.0.0.1 that checks every signature as a
/// participant would, with the keys the gateway publishes.
#[derive(Debug, Clone)]
struct Receiver {
    state: Arc<Mutex<ReceiverState>>,
    keys: Arc<HashMap<String, PKey<Public>>>,
    base: String,
}

impl Receiver {
    async fn start(exchange: &Exchange) -> Result<Receiver, Error> {
        // The JWKS as a participant reads it: JSON from the gateway's published set.
        let published = serde_json::to_string(&exchange.keys().jwks())?;
        let jwks: JwkSet = serde_json::from_str(&published)?;
        let mut keys = HashMap::new();
        for jwk in &jwks.keys {
            keys.insert(jwk.kid.clone().unwrap_or_default(), jwk.to_key()?);
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let receiver = Receiver {
            state: Arc::default(),
            keys: Arc::new(keys),
            base,
        };
        let handler = receiver.clone();
        let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let handler = handler.clone();
            async move { handler.receive(uri, headers, body).await }
        });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(receiver)
    }

    fn url(&self, who: &str) -> String {
        format!("{}/hooks/{who}?token=participant-secret", self.base)
    }

    fn set(&self, who: &str, behaviour: Behaviour) {
        let mut state = self.state.lock().expect("receiver state");
        state.behaviour.insert(format!("/hooks/{who}"), behaviour);
    }

    async fn receive(&self, uri: Uri, headers: HeaderMap, body: Bytes) -> StatusCode {
        let path = uri.path().to_owned();
        let verified = headers
            .get(HEADER_NAME)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| "no signature".to_owned())
            .and_then(|value| {
                verify_detached(
                    value,
                    &body,
                    &Binding::request("POST", &path),
                    |kid| self.keys.get(kid).cloned(),
                    time::OffsetDateTime::now_utc().unix_timestamp(),
                )
                .map(|_| ())
                .map_err(|e| e.to_string())
            });
        let (behaviour, n) = {
            let mut state = self.state.lock().expect("receiver state");
            let behaviour = state.behaviour.get(&path).copied().unwrap_or(Behaviour::Up);
            let seen = state.seen.entry(path).or_default();
            seen.push(Seen {
                at: Instant::now(),
                raw: body.clone(),
                signature: headers
                    .get(HEADER_NAME)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned(),
                body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                verified: verified.clone(),
            });
            (behaviour, seen.len())
        };
        if verified.is_err() {
            return StatusCode::UNAUTHORIZED;
        }
        match behaviour {
            Behaviour::FailFirst(k) if n <= k => StatusCode::SERVICE_UNAVAILABLE,
            Behaviour::Down => StatusCode::INTERNAL_SERVER_ERROR,
            Behaviour::SlowFirst(wait) if n == 1 => {
                tokio::time::sleep(wait).await;
                StatusCode::NO_CONTENT
            }
            _ => StatusCode::NO_CONTENT,
        }
    }

    /// The last request `who`'s endpoint received, as Python's verifier takes it.
    fn last_request(&self, who: &str) -> Option<Value> {
        let state = self.state.lock().expect("receiver state");
        let path = format!("/hooks/{who}");
        let seen = state.seen.get(&path)?.last()?;
        Some(json!({
            "path": path,
            "signature": seen.signature,
            "body": bauhinia_identity::jose::b64(&seen.raw),
        }))
    }

    /// What `who`'s endpoint received: (arrival, body, verified), in order.
    fn seen(&self, who: &str) -> Vec<(Instant, Value, Result<(), String>)> {
        let state = self.state.lock().expect("receiver state");
        state
            .seen
            .get(&format!("/hooks/{who}"))
            .map(|s| {
                s.iter()
                    .map(|s| (s.at, s.body.clone(), s.verified.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Three attempts: the first, then 300 ms and 600 ms after a failure; no jitter, so the
/// back-off can be measured.
const FAST: Schedule = Schedule {
    delays: &[Duration::from_millis(300), Duration::from_millis(600)],
    repeat: Duration::ZERO,
    total: Duration::from_secs(5),
    jitter_per_mille: 0,
};

fn fast() -> WorkerConfig {
    WorkerConfig {
        schedule: FAST,
        poll: Duration::from_millis(50),
        // Generous: a loaded machine must not turn a good answer into a timeout.
        timeout: Duration::from_secs(2),
        lease: Duration::from_secs(30),
        concurrency: 2,
    }
}

/// Waits (at most 20 s) until every delivery of `consent` is in a final state.
async fn settled(exchange: &Exchange, consent: &ConsentId) -> Result<Vec<DeliveryRow>, Error> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let rows = deliveries(exchange, consent).await?;
        if rows.iter().all(|d| d.status != "pending") {
            return Ok(rows);
        }
        if Instant::now() > deadline {
            return Err(format!("deliveries still pending: {rows:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn state_of<'a>(rows: &'a [DeliveryRow], who: &str) -> Result<&'a DeliveryRow, Error> {
    rows.iter()
        .find(|d| d.participant == who)
        .ok_or_else(|| format!("no delivery for {who}").into())
}

/// A receiver that fails twice then answers is delivered to on the third attempt, after the
/// back-off; one that times out once on the second; one that is down becomes a dead letter,
/// which the operator replays once it is up.
async fn deliveries_are_signed_retried_and_dead_lettered(db: &Database) -> Result<(), Error> {
    let exchange = exchange(db).await?;
    let receiver = Receiver::start(&exchange).await?;
    receiver.set(CONSUMER, Behaviour::FailFirst(2));
    receiver.set(PROVIDER, Behaviour::Down);
    receiver.set(OTHER_PROVIDER, Behaviour::SlowFirst(Duration::from_secs(3)));
    for who in [CONSUMER, PROVIDER, OTHER_PROVIDER] {
        exchange
            .webhooks()
            .set_endpoint(who, &receiver.url(who), "admin:test")
            .await?;
    }
    let c = requested(&exchange).await?;
    let worker = exchange.start_webhook_worker(fast())?;
    let rows = settled(&exchange, &c).await?;

    let consumer = state_of(&rows, CONSUMER)?;
    assert_eq!(
        (consumer.status.as_str(), consumer.attempts),
        ("delivered", 3)
    );
    let seen = receiver.seen(CONSUMER);
    assert_eq!(seen.len(), 3);
    for (_, body, verified) in &seen {
        assert_eq!(
            verified,
            &Ok(()),
            "every attempt is signed with a published key"
        );
        assert_eq!(body, &seen[0].1, "every attempt carries the same event");
    }
    assert_eq!(seen[0].1["id"], consumer.event_id.as_str());
    assert_eq!(seen[0].1["type"], "consent.requested");
    assert_eq!(seen[0].1["consent"], c.as_str());
    assert_eq!(seen[0].1["status"], "PENDING");
    assert_eq!(seen[0].1["participant"], CONSUMER);
    assert_eq!(
        seen[0].1.as_object().map(|o| o.len()),
        Some(6),
        "nothing else travels"
    );
    assert!(
        seen[1].0 - seen[0].0 >= Duration::from_millis(300),
        "back-off after the first"
    );
    assert!(
        seen[2].0 - seen[1].0 >= Duration::from_millis(600),
        "longer after the second"
    );

    let slow = state_of(&rows, OTHER_PROVIDER)?;
    assert_eq!((slow.status.as_str(), slow.attempts), ("delivered", 2));

    let dead = state_of(&rows, PROVIDER)?;
    assert_eq!(
        (dead.status.as_str(), dead.attempts, dead.last_status_code),
        ("failed", 3, Some(500))
    );
    assert_eq!(receiver.seen(PROVIDER).len(), 3);
    let letters = exchange
        .webhooks()
        .dead_letters(Some(PROVIDER), None, 50)
        .await?;
    assert_eq!(letters.iter().map(|d| d.id).collect::<Vec<_>>(), [dead.id]);
    let audited: i64 = read!(db, conn => sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_events WHERE action = 'exchange.webhook.dead_letter' \
         AND CAST(detail AS TEXT) NOT LIKE '%participant-secret%'",
    )
    .fetch_one(conn)
    .await?);
    assert_eq!(
        audited, 1,
        "a dead letter is audited, without the endpoint's query"
    );

    python_verifies(&exchange, &receiver)?;

    receiver.set(PROVIDER, Behaviour::Up);
    exchange.webhooks().replay(dead.id, "admin:test").await?;
    let rows = settled(&exchange, &c).await?;
    let replayed = state_of(&rows, PROVIDER)?;
    assert_eq!(
        (replayed.status.as_str(), replayed.attempts),
        ("delivered", 1)
    );
    let seen = receiver.seen(PROVIDER);
    assert_eq!(seen.len(), 4);
    assert_eq!(
        seen[3].1["id"],
        dead.event_id.as_str(),
        "a replay is the same event"
    );
    assert!(exchange
        .webhooks()
        .dead_letters(None, None, 50)
        .await?
        .is_empty());
    assert_eq!(
        exchange
            .webhooks()
            .replay_all(PROVIDER, "admin:test")
            .await?,
        0
    );
    worker.stop().await;
    Ok(())
}

/// An independent check, from `docs/exchange-webhooks.md` alone: Python's `cryptography`
/// verifies a real delivery with the JWKS as published, and refuses it altered, sent to
/// another path, or checked with another set of keys.
fn python_verifies(exchange: &Exchange, receiver: &Receiver) -> Result<(), Error> {
    let Some(python) = super::interop::python("exchange webhooks")? else {
        return Ok(());
    };
    let jwks = serde_json::to_value(exchange.keys().jwks())?;
    let mut good = receiver.last_request(CONSUMER).ok_or("no delivery")?;
    good["jwks"] = jwks;
    let mut altered = good.clone();
    altered["body"] = json!(bauhinia_identity::jose::b64(br#"{"id":"x"}"#));
    let mut elsewhere = good.clone();
    elsewhere["path"] = json!(format!("/hooks/{PROVIDER}"));
    let mut strange_keys = good.clone();
    strange_keys["jwks"] = json!({ "keys": [] });
    let cases = json!({ "webhook": [good, altered, elsewhere, strange_keys] });
    let answer = super::interop::run_python(&python, &cases)?;
    let results = answer["webhook"].as_array().ok_or("an array")?;
    assert_eq!(results[0]["ok"], true, "{}", results[0]);
    assert_eq!(results[0]["type"], "consent.requested");
    assert_eq!(
        super::interop::refusals(&results[1..]),
        [
            "the signature does not verify",
            "bound to another endpoint",
            "no published key has this kid",
        ]
    );
    println!(
        "{} (a webhook delivery, verified from the documentation): passed",
        super::interop::LINE
    );
    Ok(())
}

/// Two workers on one table: every delivery reaches its receiver exactly once.
async fn two_workers_never_deliver_one_row_twice(db: &Database) -> Result<(), Error> {
    let exchange = exchange(db).await?;
    let receiver = Receiver::start(&exchange).await?;
    for who in [CONSUMER, PROVIDER] {
        exchange
            .webhooks()
            .set_endpoint(who, &receiver.url(who), "admin:test")
            .await?;
    }
    let mut consents = Vec::new();
    for _ in 0..12 {
        consents.push(requested(&exchange).await?);
    }
    let one = exchange.start_webhook_worker(fast())?;
    let two = exchange.start_webhook_worker(fast())?;
    let mut expected = Vec::new();
    for c in &consents {
        for d in settled(&exchange, c).await? {
            assert_eq!((d.status.as_str(), d.attempts), ("delivered", 1));
            expected.push(d.event_id);
        }
    }
    one.stop().await;
    two.stop().await;
    let mut received: Vec<String> = [CONSUMER, PROVIDER]
        .iter()
        .flat_map(|who| receiver.seen(who))
        .map(|(_, body, _)| body["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    received.sort();
    expected.sort();
    assert_eq!(received, expected, "each event once, none twice");

    // Housekeeping deletes what was delivered once it is a week old, not before.
    let store = exchange.webhooks().store();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert_eq!(store.purge_done(now).await?, 0);
    let week = bauhinia_exchange::webhooks::store::DONE_KEEP_S;
    assert_eq!(store.purge_done(now + week + 1).await?, 24);
    assert!(deliveries(&exchange, &consents[0]).await?.is_empty());
    Ok(())
}

on_both_dialects!(
    notifications_are_written_with_their_change,
    deliveries_are_signed_retried_and_dead_lettered,
    two_workers_never_deliver_one_row_twice,
);
