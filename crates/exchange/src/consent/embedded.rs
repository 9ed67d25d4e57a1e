//! The consents' hot transactions on the embedded database, as jobs for its group-commit
//! thread (`bauhinia_store::GroupCommit`, synchronous `rusqlite`): a consumer's request, an
//! owner's change, and a fetch's check-and-count. Many run in one durable commit, each in its
//! own savepoint, so their fsyncs are shared; the statements and their order are those of the
//! sqlx versions in `store.rs` (PostgreSQL, and anything not hot), which use the same SQL text.

use bauhinia_store::audit::append_embedded;
use bauhinia_store::rusqlite::{named_params, params, Connection, OptionalExtension};
use bauhinia_store::StoreError;

use super::domain::{frequency_window, Consent, ConsentId, Denial, FetchRequest, Status};
use super::store::{
    authorise_with_artefact, chain_error, change_records, decode, refusal_records, use_records,
    ArtefactCheckFn, Change, Changed, RawConsent, Records, UseOutcome, UseRecord, CONSENT_COLUMNS,
    COUNT_USES, INSERT_CONSENT, INSERT_EVENT, INSERT_PROVIDER, INSERT_USE, SELECT_APPROVER,
    SELECT_STATUS, UPDATE_CHANGE,
};
use crate::chain::ChainEvent;
use crate::crypto::jws::Verified;
use crate::crypto::replay;

/// The history rows, audit events, chain records and webhook notifications of `records`.
pub fn write_records(conn: &Connection, records: &Records) -> Result<(), StoreError> {
    for (consent, event) in &records.history {
        conn.prepare_cached(INSERT_EVENT)?.execute(params![
            consent.as_str(),
            event.at_s,
            event.kind,
            event.actor,
            event.from.map(Status::as_str),
            event.to.as_str(),
        ])?;
    }
    let mut chained = Vec::with_capacity(records.audit.len());
    for event in &records.audit {
        append_embedded(conn, event)?;
        let consent = event.subject.strip_prefix("consent:").map(str::to_owned);
        let owner: Option<String> = match &consent {
            Some(id) => conn
                .prepare_cached(SELECT_APPROVER)?
                .query_row(params![id], |r| r.get(0))
                .optional()?,
            None => None,
        };
        chained.push(ChainEvent {
            kind: event.action.to_owned(),
            actor: event.actor.clone(),
            owner,
            consent,
            detail: serde_json::json!({ "outcome": event.outcome.as_str(), "detail": event.detail }),
        });
    }
    crate::chain::append_embedded(conn, &chained).map_err(chain_error)?;
    crate::webhooks::store::enqueue_embedded(conn, &records.notifications)?;
    Ok(())
}

/// Stores a new consent (its terms already serialised) with its records.
pub fn insert(
    conn: &Connection,
    consent: &Consent,
    terms: &str,
    records: &Records,
) -> Result<(), StoreError> {
    let t = &consent.terms;
    conn.prepare_cached(INSERT_CONSENT)?.execute(params![
        consent.id.as_str(),
        t.owner.approver().as_str(),
        t.owner.company().map(|c| c.as_str()),
        t.consumer.as_str(),
        terms,
        consent.status.as_str(),
        consent.created_at_s,
        consent.approval_deadline_s,
        t.validity.to_s,
        consent.artefact,
        consent.version,
    ])?;
    for provider in &t.providers {
        conn.prepare_cached(INSERT_PROVIDER)?
            .execute(params![provider.as_str(), consent.id.as_str()])?;
    }
    write_records(conn, records)
}

/// Makes `change` if the consent is still in `change.from` (see `ConsentStore::change`).
pub fn change(conn: &Connection, change: &Change) -> Result<Changed, StoreError> {
    // Named: the statement's `$n` do not appear in increasing order.
    let done = conn.prepare_cached(UPDATE_CHANGE)?.execute(named_params! {
        "$1": change.id.as_str(),
        "$2": change.from.as_str(),
        "$3": change.to.as_str(),
        "$4": change.at_s,
        "$5": change.artefact,
    })? == 1;
    if done {
        write_records(conn, &change_records(change))?;
        return Ok(Changed::Done);
    }
    let now: Option<String> = conn
        .prepare_cached(SELECT_STATUS)?
        .query_row(params![change.id.as_str()], |r| r.get(0))
        .optional()?;
    let now = now.as_deref().and_then(Status::parse);
    let records = refusal_records(
        &change.actor,
        super::store::audit_action(change.action),
        change.id.as_str(),
        "state",
        serde_json::json!({ "expected": change.from, "found": now }),
    );
    write_records(conn, &records)?;
    Ok(Changed::Lost(now))
}

/// A fetch's check and count (see `ConsentStore::check_and_record_use`).
pub fn check_and_record_use(
    conn: &Connection,
    id: &ConsentId,
    request: &FetchRequest,
    products: &str,
    replay: Option<&Verified>,
    artefact_ok: &ArtefactCheckFn,
    now_s: i64,
) -> Result<UseOutcome, StoreError> {
    let replayed = match replay {
        Some(v) => {
            let expires = replay::expires_at_s(v.iat).max(now_s.saturating_add(1));
            conn.prepare_cached(replay::RECORD)?
                .execute(params![v.kid, v.jti, expires, now_s])?
                == 0
        }
        None => false,
    };
    if replayed {
        let outcome: Result<UseRecord, Denial> = Err(Denial::Replayed);
        write_records(conn, &use_records(id, request, &outcome))?;
        return Ok(Some(Err(Denial::Replayed)));
    }
    // No row lock is needed here: the group-commit thread is the database's one writer and
    // runs its jobs one after another, so no other use is counted between this read and the
    // count below.
    let sql = format!("SELECT {CONSENT_COLUMNS} FROM exchange_consents WHERE id = $1");
    let raw: Option<RawConsent> = conn
        .prepare_cached(&sql)?
        .query_row(params![id.as_str()], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })
        .optional()?;
    let Some(raw) = raw else {
        return Ok(None);
    };
    let raw_terms = raw.1.clone();
    let consent = decode(raw)?;
    let (start_s, _) = frequency_window(&consent.terms, now_s);
    let used: i64 = conn
        .prepare_cached(COUNT_USES)?
        .query_row(params![id.as_str(), start_s], |r| r.get(0))?;
    let used = u32::try_from(used).unwrap_or(u32::MAX);
    let outcome =
        match authorise_with_artefact(&consent, &raw_terms, request, now_s, used, artefact_ok) {
            Err(denial) => Err(denial),
            Ok(()) => {
                let use_id: i64 = conn.prepare_cached(INSERT_USE)?.query_row(
                    params![
                        id.as_str(),
                        now_s,
                        request.provider.as_str(),
                        products,
                        request.range.from_s,
                        request.range.to_s,
                    ],
                    |r| r.get(0),
                )?;
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
    write_records(conn, &use_records(id, request, &outcome))?;
    Ok(Some(outcome.map(|used| (used, consent))))
}
