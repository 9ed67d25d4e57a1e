//! `exchange_consents`, `exchange_consent_providers`, `exchange_consent_events` and
//! `exchange_consent_uses` on SQLite and PostgreSQL, one query text for both.
//!
//! Every status change is one conditional UPDATE (`WHERE id = $1 AND status = $2`) in one write
//! transaction with its history row and its audit event: of two racing changes exactly one
//! finds the status it expected. A use is checked and counted in one write transaction that
//! first locks the consent's row (an UPDATE of it: PostgreSQL's row lock, SQLite's single
//! writer), so two fetches at the frequency limit cannot both pass.
//!
//! What a transaction records — history rows and audit events — is built by one function per
//! transaction ([`request_records`], [`change_records`], [`use_records`],
//! [`refusal_records`]) and written by one macro, `write_records!`, so anything else every
//! record must reach (the exchange's hash chain, participants' webhook notifications) is one
//! line there.

use bauhinia_store::audit::{AuditEvent, Outcome};
use bauhinia_store::{read, write_tx, Database, StoreError};
use std::sync::Arc;

use serde_json::json;

use crate::crypto::jws::Verified;
use crate::webhooks::Notification;

use super::domain::{
    authorise, frequency_window, Action, Consent, ConsentEvent, ConsentId, ConsentTerms, Denial,
    FetchRequest, ParticipantId, ProductId, ResidentId, Span, Status, EVENT_REQUEST,
};

/// The most consents one list returns.
pub const LIST_MAX: i64 = 200;
/// The most uses one list returns.
pub const USES_MAX: i64 = 1000;
/// The most consents one expiry sweep changes.
pub const SWEEP_MAX: i64 = 500;

// The statements both paths run (sqlx here; `rusqlite` on the group-commit thread in
// `embedded.rs`). `$n` parameters appear in increasing order, so SQLite numbers them alike.
pub(super) const INSERT_EVENT: &str =
    "INSERT INTO exchange_consent_events (consent, at_s, kind, actor, from_status, to_status) \
     VALUES ($1, $2, $3, $4, $5, $6)";
pub(super) const SELECT_APPROVER: &str = "SELECT approver FROM exchange_consents WHERE id = $1";
pub(super) const SELECT_STATUS: &str = "SELECT status FROM exchange_consents WHERE id = $1";
pub(super) const INSERT_CONSENT: &str =
    "INSERT INTO exchange_consents (id, approver, company, consumer, terms, status, \
     created_at_s, approval_deadline_s, valid_until_s, updated_at_s, artefact, version, \
     uses_total) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $7, $10, $11, 0)";
pub(super) const INSERT_PROVIDER: &str =
    "INSERT INTO exchange_consent_providers (provider, consent) VALUES ($1, $2)";
pub(super) const UPDATE_CHANGE: &str =
    "UPDATE exchange_consents SET status = $3, updated_at_s = $4, version = version + 1, \
     artefact = COALESCE($5, artefact) WHERE id = $1 AND status = $2";
// `uses_total` is only the row lock's target on PostgreSQL (a no-op update): the count of a
// consent's uses is `exchange_consent_uses`, and a fetch does not rewrite the consent's row.
pub(super) const LOCK_CONSENT: &str =
    "UPDATE exchange_consents SET uses_total = uses_total WHERE id = $1";
pub(super) const COUNT_USES: &str =
    "SELECT COUNT(*) FROM exchange_consent_uses WHERE consent = $1 AND at_s >= $2";
pub(super) const INSERT_USE: &str =
    "INSERT INTO exchange_consent_uses (consent, at_s, provider, products, range_from_s, \
     range_to_s) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";

/// What a fetch's check-and-count found: `None` for no such consent, else the counted use
/// (with the consent as read) or the denial.
pub type UseOutcome = Option<Result<(UseRecord, Consent), Denial>>;

/// Whether a consent's stored artefact verifies and matches its terms (the gateway's check,
/// made inside the fetch's transaction on the consent as read there, given also the terms'
/// stored text).
pub type ArtefactCheckFn = dyn Fn(&Consent, &str) -> bool + Send + Sync;
pub type ArtefactCheck = Arc<ArtefactCheckFn>;

/// [`authorise`], then the artefact: a consent that passes every other check but whose signed
/// artefact no longer holds moves no data.
pub(super) fn authorise_with_artefact(
    consent: &Consent,
    raw_terms: &str,
    request: &FetchRequest,
    now_s: i64,
    used: u32,
    artefact_ok: &ArtefactCheckFn,
) -> Result<(), Denial> {
    authorise(consent, request, now_s, used)?;
    if artefact_ok(consent, raw_terms) {
        Ok(())
    } else {
        Err(Denial::ArtefactInvalid)
    }
}

/// The history rows, audit events and webhook notifications one transaction records.
#[derive(Debug, Clone, PartialEq)]
pub struct Records {
    pub history: Vec<(ConsentId, ConsentEvent)>,
    pub audit: Vec<AuditEvent>,
    /// Enqueued for the participants concerned that have an endpoint (`crate::webhooks`).
    pub notifications: Vec<Notification>,
}

/// Writes `$records` (a `&Records`) inside a `write_tx!` body: the history rows, the audit
/// events, the same events on the hash chain (`crate::chain`), and the notifications' webhook
/// deliveries.
macro_rules! write_records {
    ($tx:ident, $append:ident, $records:expr) => {{
        let records: &Records = $records;
        for (consent, event) in &records.history {
            sqlx::query(INSERT_EVENT)
            .bind(consent.as_str())
            .bind(event.at_s)
            .bind(&event.kind)
            .bind(&event.actor)
            .bind(event.from.map(Status::as_str))
            .bind(event.to.as_str())
            .execute(&mut *$tx)
            .await?;
        }
        for event in &records.audit {
            $append(&mut $tx, event).await?;
        }
        // The same events on the exchange's hash chain, each with the resident who manages
        // the consent (their usage log), so no consent event or access escapes it.
        let mut chained = Vec::with_capacity(records.audit.len());
        for event in &records.audit {
            let consent = event.subject.strip_prefix("consent:").map(str::to_owned);
            let owner: Option<String> = match &consent {
                Some(id) => {
                    sqlx::query_scalar(SELECT_APPROVER)
                        .bind(id)
                        .fetch_optional(&mut *$tx)
                        .await?
                }
                None => None,
            };
            chained.push(crate::chain::ChainEvent {
                kind: event.action.to_owned(),
                actor: event.actor.clone(),
                owner,
                consent,
                detail: json!({ "outcome": event.outcome.as_str(), "detail": event.detail }),
            });
        }
        crate::chain::append(&mut *$tx, &chained)
            .await
            .map_err(chain_error)?;
        crate::webhooks::store::enqueue(&mut *$tx, &records.notifications).await?;
    }};
}

/// A chain append's failure as the store's (it only fails by its database).
pub(super) fn chain_error(error: crate::chain::ChainError) -> StoreError {
    match error {
        crate::chain::ChainError::Store(e) => e,
        other => StoreError::Corrupt(format!("audit chain: {other}")),
    }
}

/// A change of status to make: `from` is the status the caller read and `to` is
/// `transition(from, action)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub id: ConsentId,
    pub action: Action,
    pub from: Status,
    pub to: Status,
    /// `resident:<id>` or `system`.
    pub actor: String,
    pub at_s: i64,
    /// The signed artefact, on approval.
    pub artefact: Option<String>,
}

/// What a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changed {
    Done,
    /// The consent was no longer in `from`: another change won. Its status now (`None`: no
    /// such consent).
    Lost(Option<Status>),
}

/// One fetch served under a consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UseRecord {
    pub id: i64,
    pub consent: ConsentId,
    pub at_s: i64,
    pub provider: ParticipantId,
    pub products: Vec<ProductId>,
    pub range: Span,
}

/// The records of a consumer's request.
pub fn request_records(consent: &Consent, actor: &str) -> Records {
    Records {
        history: vec![(
            consent.id.clone(),
            ConsentEvent {
                at_s: consent.created_at_s,
                kind: EVENT_REQUEST.into(),
                actor: actor.to_owned(),
                from: None,
                to: consent.status,
            },
        )],
        audit: vec![AuditEvent {
            actor: actor.to_owned(),
            action: "exchange.consent.request",
            subject: subject(&consent.id),
            outcome: Outcome::Success,
            detail: json!({
                "consumer": consent.terms.consumer,
                "providers": consent.terms.providers,
                "products": consent.terms.products,
                "purpose": consent.terms.purpose.code.code(),
                "valid_until_s": consent.terms.validity.to_s,
            }),
            request_id: None,
        }],
        notifications: vec![Notification::requested(consent)],
    }
}

/// The records of a change that won.
pub fn change_records(change: &Change) -> Records {
    Records {
        history: vec![(
            change.id.clone(),
            ConsentEvent {
                at_s: change.at_s,
                kind: change.action.as_str().into(),
                actor: change.actor.clone(),
                from: Some(change.from),
                to: change.to,
            },
        )],
        audit: vec![AuditEvent {
            actor: change.actor.clone(),
            action: audit_action(change.action),
            subject: subject(&change.id),
            outcome: Outcome::Success,
            detail: json!({ "from": change.from, "to": change.to }),
            request_id: None,
        }],
        notifications: vec![Notification::changed(
            &change.id,
            change.action,
            change.to,
            change.at_s,
        )],
    }
}

/// The records of something refused that changes nothing: a change the table or the race
/// refused, someone not the owner trying to act, a fetch denied before its consent was found.
/// Only an audit event (outcome failure); `reason` is a stable code.
pub fn refusal_records(
    actor: &str,
    action: &'static str,
    consent: &str,
    reason: &str,
    detail: serde_json::Value,
) -> Records {
    Records {
        history: Vec::new(),
        audit: vec![AuditEvent {
            actor: actor.to_owned(),
            action,
            subject: format!("consent:{consent}"),
            outcome: Outcome::Failure,
            detail: json!({ "reason": reason, "detail": detail }),
            request_id: None,
        }],
        notifications: Vec::new(),
    }
}

/// The records of a fetch checked against its consent: counted, or denied.
pub fn use_records(
    consent: &ConsentId,
    request: &FetchRequest,
    outcome: &Result<UseRecord, Denial>,
) -> Records {
    let actor = format!("participant:{}", request.consumer);
    // A served fetch tells the consumer its data is ready and the provider it served it.
    let notifications = match outcome {
        Ok(record) => {
            Notification::data_fetched(consent, &request.consumer, &request.provider, record.at_s)
        }
        Err(_) => Vec::new(),
    };
    let (outcome, detail) = match outcome {
        Ok(record) => (
            Outcome::Success,
            json!({ "use": record.id, "provider": request.provider, "products": request.products }),
        ),
        Err(denial) => (
            Outcome::Failure,
            json!({
                "reason": denial.reason(),
                "code": denial.code().code(),
                "provider": request.provider,
                "products": request.products,
            }),
        ),
    };
    Records {
        history: Vec::new(),
        audit: vec![AuditEvent {
            actor,
            action: "exchange.consent.use",
            subject: subject(consent),
            outcome,
            detail,
            request_id: None,
        }],
        notifications,
    }
}

fn subject(id: &ConsentId) -> String {
    format!("consent:{id}")
}

/// The audit action of a lifecycle action.
pub const fn audit_action(action: Action) -> &'static str {
    match action {
        Action::Approve => "exchange.consent.approve",
        Action::Reject => "exchange.consent.reject",
        Action::Pause => "exchange.consent.pause",
        Action::Resume => "exchange.consent.resume",
        Action::Revoke => "exchange.consent.revoke",
        Action::Expire => "exchange.consent.expire",
    }
}

pub(super) type RawConsent = (String, String, String, i64, i64, i64, i64, Option<String>);

pub(super) const CONSENT_COLUMNS: &str = "id, terms, status, created_at_s, approval_deadline_s, \
                               updated_at_s, version, artefact";

pub(super) fn decode(raw: RawConsent) -> Result<Consent, StoreError> {
    let (id, terms, status, created_at_s, approval_deadline_s, updated_at_s, version, artefact) =
        raw;
    let corrupt = |what: &str| StoreError::Corrupt(format!("consent {id}: {what}"));
    Ok(Consent {
        id: ConsentId::parse(&id).ok_or_else(|| corrupt("id"))?,
        terms: serde_json::from_str::<ConsentTerms>(&terms).map_err(|_| corrupt("terms"))?,
        status: Status::parse(&status).ok_or_else(|| corrupt("status"))?,
        created_at_s,
        approval_deadline_s,
        updated_at_s,
        version,
        artefact,
    })
}

type RawUse = (i64, String, i64, String, String, i64, i64);

fn decode_use(raw: RawUse) -> Result<UseRecord, StoreError> {
    let (id, consent, at_s, provider, products, from_s, to_s) = raw;
    let corrupt = |what: &str| StoreError::Corrupt(format!("use {id}: {what}"));
    Ok(UseRecord {
        id,
        consent: ConsentId::parse(&consent).ok_or_else(|| corrupt("consent"))?,
        at_s,
        provider: ParticipantId::parse(&provider).ok_or_else(|| corrupt("provider"))?,
        products: serde_json::from_str(&products).map_err(|_| corrupt("products"))?,
        range: Span { from_s, to_s },
    })
}

/// Consents on either dialect.
#[derive(Debug, Clone)]
pub struct ConsentStore {
    db: Database,
}

impl ConsentStore {
    pub fn new(db: &Database) -> ConsentStore {
        ConsentStore { db: db.clone() }
    }

    pub fn db(&self) -> &Database {
        &self.db
    }

    /// Stores a new consent with its records.
    pub async fn insert(&self, consent: &Consent, records: &Records) -> Result<(), StoreError> {
        let terms = serde_json::to_string(&consent.terms)
            .map_err(|e| StoreError::Corrupt(format!("terms: {e}")))?;
        if let Database::Sqlite(db) = &self.db {
            let (consent, records) = (consent.clone(), records.clone());
            return db
                .commits
                .run(move |conn| super::embedded::insert(conn, &consent, &terms, &records))
                .await;
        }
        let t = &consent.terms;
        write_tx!(&self.db, tx, append => {
            sqlx::query(INSERT_CONSENT)
            .bind(consent.id.as_str())
            .bind(t.owner.approver().as_str())
            .bind(t.owner.company().map(|c| c.as_str()))
            .bind(t.consumer.as_str())
            .bind(&terms)
            .bind(consent.status.as_str())
            .bind(consent.created_at_s)
            .bind(consent.approval_deadline_s)
            .bind(t.validity.to_s)
            .bind(&consent.artefact)
            .bind(consent.version)
            .execute(&mut *tx)
            .await?;
            for provider in &t.providers {
                sqlx::query(INSERT_PROVIDER)
                    .bind(provider.as_str())
                    .bind(consent.id.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            write_records!(tx, append, records);
        });
        Ok(())
    }

    pub async fn get(&self, id: &ConsentId) -> Result<Option<Consent>, StoreError> {
        let sql = format!("SELECT {CONSENT_COLUMNS} FROM exchange_consents WHERE id = $1");
        let raw: Option<RawConsent> = read!(&self.db, conn => sqlx::query_as(&sql)
            .bind(id.as_str())
            .fetch_optional(conn)
            .await?);
        raw.map(decode).transpose()
    }

    /// Makes `change` if the consent is still in `change.from`, with its records; otherwise
    /// records the lost race (audit, outcome failure) and says what the status is now.
    pub async fn change(&self, change: &Change) -> Result<Changed, StoreError> {
        if let Database::Sqlite(db) = &self.db {
            let change = change.clone();
            return db
                .commits
                .run(move |conn| super::embedded::change(conn, &change))
                .await;
        }
        Ok(write_tx!(&self.db, tx, append => {
            let done = sqlx::query(UPDATE_CHANGE)
            .bind(change.id.as_str())
            .bind(change.from.as_str())
            .bind(change.to.as_str())
            .bind(change.at_s)
            .bind(&change.artefact)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if done {
                write_records!(tx, append, &change_records(change));
                Changed::Done
            } else {
                let now: Option<String> =
                    sqlx::query_scalar(SELECT_STATUS)
                        .bind(change.id.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                let now = now.as_deref().and_then(Status::parse);
                let records = refusal_records(
                    &change.actor,
                    audit_action(change.action),
                    change.id.as_str(),
                    "state",
                    json!({ "expected": change.from, "found": now }),
                );
                write_records!(tx, append, &records);
                Changed::Lost(now)
            }
        }))
    }

    /// Writes records that go with no other change (a refusal).
    pub async fn record(&self, records: &Records) -> Result<(), StoreError> {
        if let Database::Sqlite(db) = &self.db {
            let records = records.clone();
            return db
                .commits
                .run(move |conn| super::embedded::write_records(conn, &records))
                .await;
        }
        write_tx!(&self.db, tx, append => {
            write_records!(tx, append, records);
        });
        Ok(())
    }

    /// Checks `request` against the consent and, if allowed, counts it — atomically: the
    /// consent's row is locked first, so concurrent fetches are counted one after another.
    /// `replay`, the request's verified signature, is recorded in the same transaction, so a
    /// replayed request is refused ([`Denial::Replayed`]) and a fresh one is recorded exactly
    /// when its use is. A denial is recorded too. `Ok(None)`: no such consent (nothing written).
    pub async fn check_and_record_use(
        &self,
        id: &ConsentId,
        request: &FetchRequest,
        replay: Option<&Verified>,
        artefact_ok: &ArtefactCheck,
        now_s: i64,
    ) -> Result<UseOutcome, StoreError> {
        let products = serde_json::to_string(&request.products)
            .map_err(|e| StoreError::Corrupt(format!("products: {e}")))?;
        if let Database::Sqlite(db) = &self.db {
            let (id, request, replay) = (id.clone(), request.clone(), replay.cloned());
            let artefact_ok = Arc::clone(artefact_ok);
            return db
                .commits
                .run(move |conn| {
                    super::embedded::check_and_record_use(
                        conn,
                        &id,
                        &request,
                        &products,
                        replay.as_ref(),
                        artefact_ok.as_ref(),
                        now_s,
                    )
                })
                .await;
        }
        let sql = format!("SELECT {CONSENT_COLUMNS} FROM exchange_consents WHERE id = $1");
        Ok(write_tx!(&self.db, tx, append => {
            let replayed = match replay {
                Some(verified) => crate::crypto::replay::record(&mut *tx, verified, now_s).await?
                    == crate::crypto::replay::Recorded::Replayed,
                None => false,
            };
            // Lock the row (PostgreSQL waits here for a concurrent use to commit; every later
            // statement of this transaction then sees that use).
            let locked = !replayed
                && sqlx::query(LOCK_CONSENT)
                    .bind(id.as_str())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                    == 1;
            let raw: Option<RawConsent> = if locked {
                sqlx::query_as(&sql).bind(id.as_str()).fetch_optional(&mut *tx).await?
            } else {
                None
            };
            let raw_terms = raw.as_ref().map(|r| r.1.clone()).unwrap_or_default();
            match (replayed, raw.map(decode).transpose()?) {
                (true, _) => {
                    let outcome: Result<UseRecord, Denial> = Err(Denial::Replayed);
                    write_records!(tx, append, &use_records(id, request, &outcome));
                    Some(Err(Denial::Replayed))
                }
                (false, None) => None,
                (false, Some(consent)) => {
                    let (start_s, _) = frequency_window(&consent.terms, now_s);
                    let used: i64 = sqlx::query_scalar(COUNT_USES)
                    .bind(id.as_str())
                    .bind(start_s)
                    .fetch_one(&mut *tx)
                    .await?;
                    let used = u32::try_from(used).unwrap_or(u32::MAX);
                    let outcome = match authorise_with_artefact(&consent, &raw_terms, request, now_s, used, artefact_ok.as_ref()) {
                        Err(denial) => Err(denial),
                        Ok(()) => {
                            let use_id: i64 = sqlx::query_scalar(INSERT_USE)
                            .bind(id.as_str())
                            .bind(now_s)
                            .bind(request.provider.as_str())
                            .bind(&products)
                            .bind(request.range.from_s)
                            .bind(request.range.to_s)
                            .fetch_one(&mut *tx)
                            .await?;
                            Ok(UseRecord {
                                id: use_id,
                                consent: id.clone(),
                                at_s: now_s,
                                provider: request.provider.clone(),
                                products: request.products.clone(),
                                range: request.range,
                            })
                        }
                    };
                    write_records!(tx, append, &use_records(id, request, &outcome));
                    Some(outcome.map(|used| (used, consent)))
                }
            }
        }))
    }

    /// A consent's history, oldest first.
    pub async fn events(&self, id: &ConsentId) -> Result<Vec<ConsentEvent>, StoreError> {
        let rows: Vec<(i64, String, String, Option<String>, String)> = read!(&self.db, conn =>
            sqlx::query_as(
                "SELECT at_s, kind, actor, from_status, to_status FROM exchange_consent_events \
                 WHERE consent = $1 ORDER BY id",
            )
            .bind(id.as_str())
            .fetch_all(conn)
            .await?);
        rows.into_iter()
            .map(|(at_s, kind, actor, from, to)| {
                let corrupt = || StoreError::Corrupt(format!("consent {id}: event status"));
                Ok(ConsentEvent {
                    at_s,
                    kind,
                    actor,
                    from: match from {
                        Some(text) => Some(Status::parse(&text).ok_or_else(corrupt)?),
                        None => None,
                    },
                    to: Status::parse(&to).ok_or_else(corrupt)?,
                })
            })
            .collect()
    }

    /// A consent's uses, newest first, at most [`USES_MAX`].
    pub async fn uses(&self, id: &ConsentId) -> Result<Vec<UseRecord>, StoreError> {
        let rows: Vec<RawUse> = read!(&self.db, conn => sqlx::query_as(
            "SELECT id, consent, at_s, provider, products, range_from_s, range_to_s \
             FROM exchange_consent_uses WHERE consent = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(id.as_str())
        .bind(USES_MAX)
        .fetch_all(conn)
        .await?);
        rows.into_iter().map(decode_use).collect()
    }

    async fn list(&self, filter: &str, key: &str) -> Result<Vec<Consent>, StoreError> {
        let sql = format!(
            "SELECT {CONSENT_COLUMNS} FROM exchange_consents WHERE {filter} \
             ORDER BY created_at_s DESC, id LIMIT $2"
        );
        let rows: Vec<RawConsent> = read!(&self.db, conn => sqlx::query_as(&sql)
            .bind(key)
            .bind(LIST_MAX)
            .fetch_all(conn)
            .await?);
        rows.into_iter().map(decode).collect()
    }

    /// The consents a resident approves (their own and their companies'), newest first.
    pub async fn list_for_approver(
        &self,
        resident: &ResidentId,
    ) -> Result<Vec<Consent>, StoreError> {
        self.list("approver = $1", resident.as_str()).await
    }

    pub async fn list_for_consumer(
        &self,
        consumer: &ParticipantId,
    ) -> Result<Vec<Consent>, StoreError> {
        self.list("consumer = $1", consumer.as_str()).await
    }

    pub async fn list_for_provider(
        &self,
        provider: &ParticipantId,
    ) -> Result<Vec<Consent>, StoreError> {
        self.list(
            "id IN (SELECT consent FROM exchange_consent_providers WHERE provider = $1)",
            provider.as_str(),
        )
        .await
    }

    /// Consents time has expired at `now_s` (see [`Consent::due`]), with their status.
    pub async fn due(&self, now_s: i64) -> Result<Vec<(ConsentId, Status)>, StoreError> {
        let rows: Vec<(String, String)> = read!(&self.db, conn => sqlx::query_as(
            "SELECT id, status FROM exchange_consents \
             WHERE (status = 'PENDING' AND approval_deadline_s <= $1) \
                OR (status IN ('PENDING', 'ACTIVE', 'PAUSED') AND valid_until_s < $1) \
             ORDER BY id LIMIT $2",
        )
        .bind(now_s)
        .bind(SWEEP_MAX)
        .fetch_all(conn)
        .await?);
        rows.into_iter()
            .map(|(id, status)| {
                let corrupt = || StoreError::Corrupt(format!("consent {id}: id or status"));
                Ok((
                    ConsentId::parse(&id).ok_or_else(corrupt)?,
                    Status::parse(&status).ok_or_else(corrupt)?,
                ))
            })
            .collect()
    }
}
