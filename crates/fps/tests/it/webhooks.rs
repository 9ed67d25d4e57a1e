//! Webhooks over real HTTP (a receiver on 127.0.0.1 inside the test, no mocks): the ledger
//! tailer makes exactly one event per participant per transfer however often and however
//! concurrently it runs (both dialects); deliveries are signed (checked with Bauhinia's own
//! verifier and with the official `standardwebhooks` npm library), retried with the same
//! `webhook-id` until a 2xx, marked `failed` (and audited) after the schedule, and resumed by a
//! new worker after a restart.

use std::collections::{BTreeMap, VecDeque};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use bauhinia_core::crypto::{MasterKey, Vault};
use bauhinia_core::{Currency, Money};
use bauhinia_fps::ledger::{Kind, Outcome, Transfer};
use bauhinia_fps::switch::{Caller, ParticipantCode, Settlement, Switch};
use bauhinia_fps::webhooks::domain::{
    ledger_event_id, verify, EndpointUrl, EventPattern, Format, Schedule, Secret,
};
use bauhinia_fps::webhooks::{tailer, Webhooks, WorkerConfig};
use bauhinia_fps::wire::Purpose;
use bauhinia_store::testing::TestDb;
use bauhinia_store::{read, Database};

type Error = Box<dyn std::error::Error + Send + Sync>;

fn code(text: &str) -> Result<ParticipantCode, Error> {
    ParticipantCode::parse(text).ok_or_else(|| format!("bad code {text}").into())
}

/// A received request.
#[derive(Debug, Clone)]
struct Received {
    headers: BTreeMap<String, String>,
    body: String,
    answered: u16,
}

/// A receiver that answers the scripted statuses in turn, then `then`.
#[derive(Debug, Clone)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
    then: u16,
    url: String,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let status = r
        .script
        .lock()
        .ok()
        .and_then(|mut s| s.pop_front())
        .unwrap_or(r.then);
    let headers = headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    if let Ok(mut got) = r.got.lock() {
        got.push(Received {
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
            answered: status,
        });
    }
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

async fn receiver(script: &[u16], then: u16) -> Result<Receiver, Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let r = Receiver {
        got: Arc::new(Mutex::new(Vec::new())),
        script: Arc::new(Mutex::new(script.iter().copied().collect())),
        then,
        url: format!("http://{addr}/hooks?token=participant-own"),
    };
    let app = axum::Router::new()
        .route("/hooks", axum::routing::post(receive))
        .with_state(r.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(r)
}

impl Receiver {
    fn got(&self) -> Vec<Received> {
        self.got.lock().map(|g| g.clone()).unwrap_or_default()
    }

    /// Waits until `done` holds of what was received (at most 15 s).
    async fn wait(&self, done: impl Fn(&[Received]) -> bool) -> Result<Vec<Received>, Error> {
        for _ in 0..1500 {
            let got = self.got();
            if done(&got) {
                return Ok(got);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Err(format!("timed out; received {:?}", self.got()).into())
    }
}

const FAST: Schedule = Schedule {
    delays: &[Duration::from_millis(40), Duration::from_millis(40)],
    repeat: Duration::from_millis(40),
    total: Duration::from_millis(80),
    jitter_per_mille: 100,
};

/// One retry, half a second after the first attempt: time to stop the worker in between.
const SLOW: Schedule = Schedule {
    delays: &[Duration::from_millis(500)],
    repeat: Duration::from_millis(500),
    total: Duration::from_millis(500),
    jitter_per_mille: 100,
};

fn fast(schedule: Schedule) -> WorkerConfig {
    WorkerConfig {
        schedule,
        poll: Duration::from_millis(20),
        timeout: Duration::from_secs(5),
        lease: Duration::from_secs(5),
        concurrency: 4,
    }
}

struct Setup {
    switch: Arc<Switch>,
    vault: Arc<Vault>,
    hooks: Arc<Webhooks>,
}

async fn setup(db: &Database) -> Result<Setup, Error> {
    let (switch, _) = super::proxy_store::service(db).await?;
    let vault = Arc::new(Vault::new(&MasterKey::generate()));
    let hooks = Arc::new(Webhooks::new(db, Arc::clone(&vault)));
    let funded = switch
        .settle(
            0xF00D,
            code("004")?,
            Money::from_minor(1_000_000, Currency::Hkd),
            Settlement::Fund,
            "test",
        )
        .await?;
    assert!(matches!(funded, Outcome::Created { .. }), "{funded:?}");
    Ok(Setup {
        switch,
        vault,
        hooks,
    })
}

fn transfer(id: u128, amount: i64, kind: Kind) -> Result<Transfer, Error> {
    Ok(Transfer {
        id,
        debit_account: code("004")?.settlement_account(Currency::Hkd),
        credit_account: code("012")?.settlement_account(Currency::Hkd),
        amount,
        currency: Currency::Hkd,
        kind,
        linked: false,
        code: Purpose::P2p.code(),
        user_data: 0,
        reference: "INV-1".into(),
    })
}

async fn pay(switch: &Switch, id: u128, amount: i64) -> Result<(), Error> {
    switch
        .submit(
            vec![transfer(id, amount, Kind::Single)?],
            Caller::Participant(code("004")?),
        )
        .await?;
    Ok(())
}

/// (participant, type, subject) of every event, in order.
async fn events(db: &Database) -> Result<Vec<(String, String, String, String)>, Error> {
    Ok(bauhinia_fps::events::read_after(db, 0, 10_000)
        .await?
        .into_iter()
        .map(|e| (e.participant, e.kind, e.subject, e.id))
        .collect())
}

/// Subscribes `participant` to every event at an address nobody answers (dispatch and the
/// tailer only; no worker runs).
async fn listen(s: &Setup, participant: &str, types: &[&str]) -> Result<String, Error> {
    let url = EndpointUrl::parse("https://hooks.example.hk/fps")?;
    let patterns = types
        .iter()
        .map(|t| EventPattern::parse(t))
        .collect::<Result<Vec<_>, _>>()?;
    let actor = format!("participant:{participant}");
    let (row, _) = s
        .hooks
        .subscribe(code(participant)?, &url, &patterns, Format::Json, &actor)
        .await?;
    Ok(row.id)
}

async fn ledger_cursor(db: &Database) -> Result<i64, Error> {
    Ok(read!(db, conn => sqlx::query_scalar(
        "SELECT seq FROM fps_webhook_cursors WHERE name = 'ledger'",
    ).fetch_one(conn).await?))
}

async fn ledger_end(db: &Database) -> Result<i64, Error> {
    Ok(read!(db, conn => sqlx::query_scalar(
        "SELECT MAX(seq) FROM ledger_transfers WHERE ledger = 1",
    ).fetch_one(conn).await?))
}

async fn tailer_conformance(db: &Database) -> Result<(), Error> {
    let s = setup(db).await?;
    listen(&s, "004", &[]).await?;
    listen(&s, "012", &["*"]).await?;
    pay(&s.switch, 1, 100).await?;
    // Refused: beyond 004's funds.
    pay(&s.switch, 2, 999_999_999).await?;
    let p = Caller::Participant(code("004")?);
    s.switch
        .submit(vec![transfer(3, 50, Kind::Pending { timeout_s: 60 })?], p)
        .await?;
    s.switch
        .submit(vec![transfer(4, 0, Kind::Post { pending_id: 3 })?], p)
        .await?;
    // Twice at once, and again: the cursor lets each ledger row through once.
    let (a, b) = tokio::join!(tailer::catch_up(db, 100), tailer::catch_up(db, 100));
    assert_eq!(a? + b?, 5, "five ledger rows, each read by one tailer");
    assert_eq!(tailer::catch_up(db, 100).await?, 0);
    let got = events(db).await?;
    let subject = |id: u128| format!("transfer:{}", bauhinia_fps::wire::format_id(id));
    let expected = [
        ("004", "settlement.funded", subject(0xF00D)),
        ("004", "transfer.settled", subject(1)),
        ("012", "transfer.settled", subject(1)),
        ("004", "transfer.refused", subject(2)),
        ("004", "transfer.pending", subject(3)),
        ("012", "transfer.pending", subject(3)),
        ("004", "transfer.posted", subject(4)),
        ("012", "transfer.posted", subject(4)),
    ];
    let shown: Vec<(&str, &str, String)> = got
        .iter()
        .map(|(p, k, s, _)| (p.as_str(), k.as_str(), s.clone()))
        .collect();
    assert_eq!(shown, expected);
    // Ids are derived, so anyone can recompute them.
    let (_, _, _, id) = got.get(1).ok_or("an event")?;
    assert_eq!(
        *id,
        ledger_event_id(1, "004", "transfer.settled")
            .hyphenated()
            .to_string()
    );
    // The refused transfer says why, to its debtor only.
    let refused = bauhinia_fps::events::read_after(db, 0, 100)
        .await?
        .into_iter()
        .find(|e| e.kind == "transfer.refused")
        .ok_or("refused event")?;
    let payload: serde_json::Value = serde_json::from_str(&refused.payload)?;
    let field = |name: &str| {
        payload
            .get(name)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    assert_eq!(field("status").as_deref(), Some("refused"));
    assert_eq!(field("reason").as_deref(), Some("exceeds_debit_cap"));
    assert_eq!(field("amount").as_deref(), Some("9999999.99"));
    Ok(())
}

/// Events are made only for what an active subscription wants; with none, the cursor jumps to
/// the ledger's end unread. The camt.054 pull reads the ledger and needs no subscription.
async fn listener_conformance(db: &Database) -> Result<(), Error> {
    let s = setup(db).await?;
    pay(&s.switch, 1, 100).await?;
    assert_eq!(
        tailer::catch_up(db, 100).await?,
        0,
        "nobody listens: nothing read"
    );
    assert!(events(db).await?.is_empty());
    assert_eq!(ledger_cursor(db).await?, ledger_end(db).await?);
    // 012 wants settled transfers only; 004 wants nothing.
    let sub = listen(&s, "012", &["transfer.settled"]).await?;
    pay(&s.switch, 2, 200).await?;
    pay(&s.switch, 3, 999_999_999).await?;
    let p = Caller::Participant(code("004")?);
    s.switch
        .submit(vec![transfer(4, 50, Kind::Pending { timeout_s: 60 })?], p)
        .await?;
    assert_eq!(tailer::catch_up(db, 100).await?, 3);
    let subject = |id: u128| format!("transfer:{}", bauhinia_fps::wire::format_id(id));
    let shown: Vec<(String, String, String)> = events(db)
        .await?
        .into_iter()
        .map(|(p, k, s, _)| (p, k, s))
        .collect();
    assert_eq!(
        shown,
        [("012".to_owned(), "transfer.settled".to_owned(), subject(2))]
    );
    // Unsubscribed: back to skipping.
    s.hooks
        .unsubscribe(Caller::Participant(code("012")?), &sub)
        .await?;
    pay(&s.switch, 5, 300).await?;
    assert_eq!(tailer::catch_up(db, 100).await?, 0);
    assert_eq!(events(db).await?.len(), 1);
    assert_eq!(ledger_cursor(db).await?, ledger_end(db).await?);
    // The pull reads the ledger: 004's accepted movements, oldest first, no refusal.
    let pulled = tailer::account_entries_after(db, code("004")?, 0, 100).await?;
    let kinds: Vec<(&str, String)> = pulled
        .iter()
        .map(|e| (e.kind.as_str(), e.subject.clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("settlement.funded", subject(0xF00D)),
            ("transfer.settled", subject(1)),
            ("transfer.settled", subject(2)),
            ("transfer.pending", subject(4)),
            ("transfer.settled", subject(5)),
        ]
    );
    assert!(pulled
        .windows(2)
        .all(|w| matches!(w, [a, b] if a.seq < b.seq)));
    assert!(pulled.iter().all(|e| e.participant == "004"));
    let (first, rest) = pulled.split_first().ok_or("entries")?;
    assert_eq!(
        tailer::account_entries_after(db, code("004")?, first.seq, 2).await?,
        rest.iter().take(2).cloned().collect::<Vec<_>>(),
        "paged by the ledger position"
    );
    let last = pulled.last().ok_or("entries")?;
    assert!(
        tailer::account_entries_after(db, code("004")?, last.seq, 100)
            .await?
            .is_empty()
    );
    // 012 was only ever credited, and sees its four credits.
    assert_eq!(
        tailer::account_entries_after(db, code("012")?, 0, 100)
            .await?
            .len(),
        4
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tailer_makes_one_event_per_participant_per_transfer_on_sqlite() -> Result<(), Error> {
    let db = TestDb::sqlite().await?;
    tailer_conformance(&db.db).await?;
    db.cleanup().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn only_listeners_get_ledger_events_on_sqlite() -> Result<(), Error> {
    let db = TestDb::sqlite().await?;
    listener_conformance(&db.db).await?;
    db.cleanup().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn only_listeners_get_ledger_events_on_postgres() -> Result<(), Error> {
    let Some(db) = TestDb::postgres().await? else {
        return Ok(());
    };
    listener_conformance(&db.db).await?;
    db.cleanup().await?;
    println!("store conformance: postgres fps webhook listeners ok");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tailer_makes_one_event_per_participant_per_transfer_on_postgres() -> Result<(), Error> {
    let Some(db) = TestDb::postgres().await? else {
        return Ok(());
    };
    tailer_conformance(&db.db).await?;
    subscription_store_conformance(&db.db).await?;
    db.cleanup().await?;
    println!("store conformance: postgres fps webhooks ok");
    Ok(())
}

/// Subscriptions on one dialect: sealed secrets, the limit, deletion cancelling deliveries,
/// dispatch making one delivery per matching event.
async fn subscription_store_conformance(db: &Database) -> Result<(), Error> {
    let vault = Arc::new(Vault::new(&MasterKey::generate()));
    let hooks = Webhooks::new(db, vault);
    let url = EndpointUrl::parse("https://hooks.example.hk/fps?key=abc")?;
    let only_settled = [EventPattern::parse("transfer.settled")?];
    let (row, secret) = hooks
        .subscribe(
            code("012")?,
            &url,
            &only_settled,
            Format::Json,
            "participant:012",
        )
        .await?;
    // The secret is stored only sealed.
    assert_ne!(row.secret_sealed, secret.as_bytes());
    assert!(!row
        .secret_sealed
        .windows(secret.as_bytes().len())
        .any(|w| w == secret.as_bytes()));
    for _ in 0..bauhinia_fps::webhooks::domain::SUBSCRIPTIONS_MAX {
        hooks
            .subscribe(code("024")?, &url, &[], Format::Camt054, "participant:024")
            .await?;
    }
    let over = hooks
        .subscribe(code("024")?, &url, &[], Format::Json, "participant:024")
        .await;
    assert!(matches!(
        over,
        Err(bauhinia_fps::webhooks::WebhookError::LimitReached)
    ));
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    // Dispatch twice: one delivery per matching event (of 012's events, one is settled).
    hooks.store().dispatch_once(now, now * 1000).await?;
    hooks.store().dispatch_once(now, now * 1000).await?;
    let deliveries = hooks.store().deliveries(&row.id, None, 100).await?;
    let types: Vec<&str> = deliveries.iter().map(|d| d.event_type.as_str()).collect();
    assert_eq!(types, ["transfer.settled"]);
    hooks
        .unsubscribe(Caller::Participant(code("012")?), &row.id)
        .await?;
    assert!(hooks
        .get(Caller::Participant(code("012")?), &row.id)
        .await
        .is_err());
    let audited: i64 = read!(db, conn => sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_events WHERE action LIKE 'fps.webhook.%' AND CAST(detail AS TEXT) LIKE '%key=abc%'",
    ).fetch_one(conn).await?);
    assert_eq!(audited, 0, "no query string is audited");
    Ok(())
}

/// Dispatch moves its cursor only over an unbroken run of `seq`s (on PostgreSQL a smaller
/// `seq` can commit after a larger one), gives each event one delivery however often it reads
/// it, and gives up on a hole once the event after it is older than the grace period.
async fn hole_conformance(db: &Database) -> Result<(), Error> {
    let hooks = Webhooks::new(db, Arc::new(Vault::new(&MasterKey::generate())));
    let url = EndpointUrl::parse("https://hooks.example.hk/fps")?;
    hooks
        .subscribe(code("012")?, &url, &[], Format::Json, "participant:012")
        .await?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let insert = |seq: i64, at: i64| async move {
        let sql = "INSERT INTO fps_events (seq, id, participant, type, subject, payload, \
                   created_at_s) VALUES ($1, $2, '012', 'transfer.settled', 'transfer:x', '{}', $3)";
        let id = format!("hole-{seq}");
        bauhinia_store::write_tx!(db, tx, _audit => {
            sqlx::query(sql).bind(seq).bind(id).bind(at).execute(&mut *tx).await?;
        });
        Ok::<(), Error>(())
    };
    let state = || async {
        hooks.store().dispatch_once(now, now * 1000).await?;
        let cursor: i64 = read!(db, conn => sqlx::query_scalar(
            "SELECT seq FROM fps_webhook_cursors WHERE name = 'dispatch'",
        ).fetch_one(conn).await?);
        let deliveries: i64 = read!(db, conn => sqlx::query_scalar(
            "SELECT COUNT(*) FROM fps_webhook_deliveries",
        ).fetch_one(conn).await?);
        Ok::<(i64, i64), Error>((cursor, deliveries))
    };
    insert(1, now).await?;
    insert(3, now).await?;
    assert_eq!(
        state().await?,
        (1, 2),
        "3 is dispatched, the cursor waits at the hole"
    );
    assert_eq!(state().await?, (1, 2), "read again, no second delivery");
    insert(2, now).await?;
    assert_eq!(state().await?, (3, 3), "the hole filled");
    insert(5, now - bauhinia_fps::webhooks::store::GAP_GRACE_S - 1).await?;
    assert_eq!(
        state().await?,
        (5, 4),
        "a hole older than the grace is given up"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatch_waits_for_holes_on_sqlite() -> Result<(), Error> {
    let db = TestDb::sqlite().await?;
    let _ = super::proxy_store::service(&db.db).await?;
    hole_conformance(&db.db).await?;
    db.cleanup().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatch_waits_for_holes_on_postgres() -> Result<(), Error> {
    let Some(db) = TestDb::postgres().await? else {
        return Ok(());
    };
    let _ = super::proxy_store::service(&db.db).await?;
    hole_conformance(&db.db).await?;
    db.cleanup().await?;
    println!("store conformance: postgres fps webhook dispatch ok");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_on_sqlite() -> Result<(), Error> {
    let db = TestDb::sqlite().await?;
    let s = setup(&db.db).await?;
    listen(&s, "012", &[]).await?;
    pay(&s.switch, 7, 10).await?;
    tailer::catch_up(&db.db, 100).await?;
    subscription_store_conformance(&db.db).await?;
    db.cleanup().await?;
    Ok(())
}

async fn subscribe(
    s: &Setup,
    participant: &str,
    r: &Receiver,
    format: Format,
) -> Result<(String, Secret), Error> {
    let (row, secret) = s
        .hooks
        .subscribe(
            code(participant)?,
            &EndpointUrl::parse(&r.url)?,
            &[EventPattern::parse("transfer.*")?],
            format,
            "test",
        )
        .await?;
    Ok((row.id, secret))
}

fn check_signature(secret: &Secret, r: &Received) -> Result<(), Error> {
    let h = |k: &str| r.headers.get(k).cloned().ok_or(format!("no {k}"));
    let ts: i64 = h("webhook-timestamp")?.parse()?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    verify(
        secret,
        &h("webhook-id")?,
        ts,
        &h("webhook-signature")?,
        r.body.as_bytes(),
        now,
        300,
    )
    .map_err(|e| format!("{e:?}"))?;
    Ok(())
}

/// Two refusals, then a 2xx: three attempts, one `webhook-id`, each signed.
async fn retry_conformance(db: &Database) -> Result<(), Error> {
    let s = setup(db).await?;
    let r = receiver(&[500, 500], 200).await?;
    let (sub, secret) = subscribe(&s, "012", &r, Format::Json).await?;
    pay(&s.switch, 10, 12_550).await?;
    s.hooks.start_worker(fast(FAST))?;
    let got = r.wait(|g| g.iter().any(|x| x.answered == 200)).await?;
    s.hooks.stop_worker().await;
    let [first, second, third] = got.as_slice() else {
        return Err(format!("two refusals, then delivered: {got:?}").into());
    };
    let header = |x: &Received, name: &str| x.headers.get(name).cloned().unwrap_or_default();
    let id = header(first, "webhook-id");
    assert!(!id.is_empty());
    for x in [first, second, third] {
        assert_eq!(header(x, "webhook-id"), id, "one id for every attempt");
        assert_eq!(header(x, "content-type"), "application/json");
        check_signature(&secret, x)?;
    }
    let body: serde_json::Value = serde_json::from_str(&third.body)?;
    let at = |pointer: &str| {
        body.pointer(pointer)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    assert_eq!(at("/type").as_deref(), Some("transfer.settled"));
    assert_eq!(at("/id"), Some(id));
    assert_eq!(at("/data/amount").as_deref(), Some("125.50"));
    assert_eq!(at("/data/debtor").as_deref(), Some("004"));
    assert_eq!(at("/data/creditor").as_deref(), Some("012"));
    let deliveries = s.hooks.store().deliveries(&sub, None, 10).await?;
    let [d] = deliveries.as_slice() else {
        return Err(format!("one delivery, not {deliveries:?}").into());
    };
    assert_eq!(
        (d.status.as_str(), d.attempts, d.last_status_code),
        ("delivered", 3, Some(200))
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deliveries_are_retried_until_2xx_with_the_same_id() -> Result<(), Error> {
    let db = TestDb::sqlite().await?;
    retry_conformance(&db.db).await?;
    db.cleanup().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deliveries_are_retried_until_2xx_with_the_same_id_on_postgres() -> Result<(), Error> {
    let Some(db) = TestDb::postgres().await? else {
        return Ok(());
    };
    retry_conformance(&db.db).await?;
    db.cleanup().await?;
    println!("store conformance: postgres fps webhook deliveries ok");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_receiver_that_never_answers_2xx_fails_after_the_schedule() -> Result<(), Error> {
    let db = TestDb::sqlite().await?;
    let s = setup(&db.db).await?;
    let r = receiver(&[], 503).await?;
    let (sub, _) = subscribe(&s, "012", &r, Format::Json).await?;
    pay(&s.switch, 20, 100).await?;
    s.hooks.start_worker(fast(FAST))?;
    r.wait(|g| g.len() >= 3).await?;
    // Let the last attempt be recorded, and show no fourth comes.
    tokio::time::sleep(Duration::from_millis(300)).await;
    s.hooks.stop_worker().await;
    assert_eq!(
        r.got().len(),
        3,
        "40 ms + 40 ms fill the 80 ms schedule: 3 attempts"
    );
    let deliveries = s.hooks.store().deliveries(&sub, None, 10).await?;
    let [d] = deliveries.as_slice() else {
        return Err(format!("one delivery, not {deliveries:?}").into());
    };
    assert_eq!(
        (d.status.as_str(), d.attempts, d.last_status_code),
        ("failed", 3, Some(503))
    );
    assert_eq!(d.last_error.as_deref(), Some("HTTP 503"));
    let detail: String = read!(&db.db, conn => sqlx::query_scalar(
        "SELECT detail FROM audit_events WHERE action = 'fps.webhook.delivery_failed'",
    ).fetch_one(conn).await?);
    assert!(detail.contains("\"attempts\":3"), "{detail}");
    assert!(
        !detail.contains("participant-own"),
        "no query string: {detail}"
    );
    // A redelivery makes it due again, with a fresh round.
    s.hooks
        .redeliver(Caller::Participant(code("012")?), &sub, d.id)
        .await?;
    let again = s.hooks.store().deliveries(&sub, None, 10).await?;
    assert_eq!(
        again.first().map(|d| (d.status.as_str(), d.attempts)),
        Some(("pending", 0))
    );
    db.cleanup().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pending_deliveries_survive_a_restart() -> Result<(), Error> {
    let db = TestDb::sqlite().await?;
    let s = setup(&db.db).await?;
    let r = receiver(&[500], 200).await?;
    let (sub, secret) = subscribe(&s, "012", &r, Format::Json).await?;
    pay(&s.switch, 30, 100).await?;
    let slow = SLOW;
    s.hooks.start_worker(fast(slow))?;
    r.wait(|g| !g.is_empty()).await?;
    s.hooks.stop_worker().await;
    let pending = s.hooks.store().deliveries(&sub, None, 10).await?;
    assert_eq!(
        pending.first().map(|d| (d.status.as_str(), d.attempts)),
        Some(("pending", 1))
    );
    // A new process: a new service on the same database and key.
    let restarted = Arc::new(Webhooks::new(&db.db, Arc::clone(&s.vault)));
    restarted.start_worker(fast(slow))?;
    let got = r.wait(|g| g.iter().any(|x| x.answered == 200)).await?;
    tokio::time::sleep(Duration::from_millis(700)).await;
    restarted.stop_worker().await;
    let got_after = r.got();
    assert_eq!(
        got_after.len(),
        2,
        "one failure, one delivery: {got_after:?}"
    );
    assert_eq!(got.iter().filter(|x| x.answered == 200).count(), 1);
    assert_eq!(got[0].headers["webhook-id"], got[1].headers["webhook-id"]);
    check_signature(&secret, &got[1])?;
    let done = restarted.store().deliveries(&sub, None, 10).await?;
    assert_eq!(
        done.first().map(|d| (d.status.as_str(), d.attempts)),
        Some(("delivered", 2))
    );
    db.cleanup().await?;
    Ok(())
}

const LINE: &str = "independent interop: npm standardwebhooks";

fn tools_required() -> bool {
    std::env::var("BAUHINIA_TEST_REQUIRE_TOOLS").is_ok_and(|v| v == "1")
}

/// Runs `verify.mjs` (the official library) over `deliveries`: `None` when node or the package
/// is missing and the test command did not ask for them.
fn npm_verify(secret: &Secret, deliveries: &[Received]) -> Result<Option<Vec<bool>>, Error> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fps-webhooks");
    let child = if dir.join("node_modules/standardwebhooks").is_dir() {
        Command::new("node")
            .arg("verify.mjs")
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run node: {e}"))
    } else {
        Err(format!("run scripts/ensure-node-modules {}", dir.display()))
    };
    let mut child = match child {
        Ok(c) => c,
        Err(why) if !tools_required() => {
            println!("{LINE}: not run ({why})");
            return Ok(None);
        }
        Err(why) => return Err(format!("{LINE}: {why} (BAUHINIA_TEST_REQUIRE_TOOLS=1)").into()),
    };
    let input = serde_json::json!({
        "secret": secret.to_text(),
        "deliveries": deliveries
            .iter()
            .map(|d| serde_json::json!({ "headers": d.headers, "body": d.body }))
            .collect::<Vec<_>>(),
    });
    child
        .stdin
        .take()
        .ok_or("stdin")?
        .write_all(input.to_string().as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        return Err(format!("node: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let results: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout)?;
    Ok(Some(results.iter().map(|r| r["ok"] == true).collect()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_standardwebhooks_library_verifies_json_and_camt054_deliveries() -> Result<(), Error> {
    let db = TestDb::sqlite().await?;
    let s = setup(&db.db).await?;
    let json = receiver(&[], 204).await?;
    let xml = receiver(&[], 200).await?;
    let (_, json_secret) = subscribe(&s, "004", &json, Format::Json).await?;
    let (_, xml_secret) = subscribe(&s, "012", &xml, Format::Camt054).await?;
    pay(&s.switch, 40, 9_900).await?;
    pay(&s.switch, 41, 1).await?;
    s.hooks.start_worker(fast(FAST))?;
    // 004 hears of its funding too (made before it subscribed, read after): wait for the
    // payment of HK$99.00, whichever order the deliveries come in.
    let paid = |r: &Received| r.body.contains("\"99.00\"");
    let json_got = json.wait(|g| g.len() >= 2 && g.iter().any(paid)).await?;
    let xml_got = xml.wait(|g| g.len() >= 2).await?;
    s.hooks.stop_worker().await;
    for x in &xml_got {
        check_signature(&xml_secret, x)?;
        assert_eq!(x.headers["content-type"], "application/xml");
        let message = bauhinia_fps::iso20022::parse(x.body.as_bytes())?;
        let bauhinia_fps::iso20022::Message::Notification(n) = message else {
            return Err("a camt.054".into());
        };
        let entry = n
            .notifications
            .as_slice()
            .first()
            .and_then(|a| a.entries.first())
            .ok_or("an entry")?;
        assert_eq!(
            entry.credit_debit,
            bauhinia_fps::iso20022::CreditDebit::Credit
        );
    }
    let mut tampered: Vec<Received> = json_got.iter().filter(|r| paid(r)).cloned().collect();
    for t in &mut tampered {
        t.body = t.body.replace("\"99.00\"", "\"98.00\"");
    }
    assert!(
        tampered.iter().all(|t| !paid(t)),
        "the tampered body differs"
    );
    let Some(verdicts) = npm_verify(&json_secret, &json_got)? else {
        return Ok(());
    };
    assert_eq!(verdicts, vec![true; json_got.len()]);
    assert_eq!(
        npm_verify(&xml_secret, &xml_got)?,
        Some(vec![true; xml_got.len()])
    );
    assert_eq!(
        npm_verify(&json_secret, &tampered)?.and_then(|v| v.first().copied()),
        Some(false),
        "a changed body does not verify"
    );
    assert_eq!(
        npm_verify(&xml_secret, &json_got)?.and_then(|v| v.first().copied()),
        Some(false),
        "another subscription's secret does not verify"
    );
    println!(
        "{LINE}: passed ({} deliveries)",
        json_got.len() + xml_got.len()
    );
    db.cleanup().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rotated_secret_signs_beside_the_new_one() -> Result<(), Error> {
    let db = TestDb::sqlite().await?;
    let s = setup(&db.db).await?;
    let r = receiver(&[], 200).await?;
    let (sub, old) = subscribe(&s, "012", &r, Format::Json).await?;
    let new = s
        .hooks
        .rotate_secret(Caller::Participant(code("012")?), &sub)
        .await?;
    assert_ne!(old, new);
    pay(&s.switch, 50, 100).await?;
    s.hooks.start_worker(fast(FAST))?;
    let got = r.wait(|g| !g.is_empty()).await?;
    s.hooks.stop_worker().await;
    let delivery = got.first().ok_or("a delivery")?;
    let signatures = &delivery.headers["webhook-signature"];
    assert_eq!(signatures.split(' ').count(), 2, "{signatures}");
    // Either secret verifies: the receiver can switch whenever it likes within the day.
    check_signature(&new, delivery)?;
    check_signature(&old, delivery)?;
    check_signature(&Secret::generate(), delivery).expect_err("a stranger's secret does not");
    if let Some(verdicts) = npm_verify(&old, &got)? {
        assert_eq!(verdicts, [true]);
        assert_eq!(npm_verify(&new, &got)?, Some(vec![true]));
    }
    db.cleanup().await?;
    Ok(())
}
