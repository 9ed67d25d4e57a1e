//! `fps_proxies` on SQLite and PostgreSQL. Rows are found by the keyed hash of the proxy (the
//! service computes it; this module never sees a proxy in clear) and hold the participant's
//! account reference only sealed. Every change is one transaction with its audit event; a
//! key's default is decided inside that transaction, so two registrations cannot both become
//! the default (and the partial unique index refuses it if they tried).
//!
//! The bulk import (for loading an existing register) inserts up to [`IMPORT_ROWS_MAX`] rows
//! in one transaction. On SQLite it runs on a dedicated rusqlite connection under the
//! process's write lock, with one cached prepared statement, the rows sorted by key hash (both
//! indexes begin with it, so each index leaf is visited once, in order) and a large page cache
//! for the duration.

use std::sync::{Arc, Mutex};

use bauhinia_store::audit::AuditEvent;
use bauhinia_store::dialect::is_unique_violation;
use bauhinia_store::rusqlite;
use bauhinia_store::{read, write_tx, Database, DedicatedWriter, StoreError};

use super::domain::{default_on_register, Consent, DefaultDecision, ProxyKind, ProxyStatus};
use crate::switch::ParticipantCode;

/// The most rows one import transaction takes.
pub const IMPORT_ROWS_MAX: usize = 1_000_000;
/// SQLite page cache of the import connection while an import runs, in KiB (then shrunk back):
/// enough to hold both indexes of a register of about 20 million proxies.
const IMPORT_CACHE_KIB: i64 = 3 * 1024 * 1024;
const NORMAL_CACHE_KIB: i64 = 2 * 1024;
/// How many times an import draws new FPS IDs for rows whose drawn ID was already taken.
const REDRAW_ROUNDS_MAX: usize = 16;

const COLUMNS: &str = "kind, participant, account_sealed, masked_name, is_default, status, \
                       consent_at_s, consent_version, consent_channel, created_at_s, updated_at_s";

const INSERT: &str = "INSERT INTO fps_proxies (key_hash, kind, participant, account_sealed, \
    masked_name, is_default, status, consent_at_s, consent_version, consent_channel, \
    created_at_s, updated_at_s) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)";

/// A row to write. `account_sealed` is already sealed by the service.
#[derive(Debug, Clone)]
pub struct NewRow {
    pub key_hash: [u8; 32],
    pub kind: ProxyKind,
    pub participant: ParticipantCode,
    pub account_sealed: Vec<u8>,
    pub masked_name: String,
    pub consent: Consent,
    pub now_s: i64,
}

/// A stored registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub kind: ProxyKind,
    pub participant: ParticipantCode,
    pub account_sealed: Vec<u8>,
    pub masked_name: String,
    pub is_default: bool,
    pub status: ProxyStatus,
    pub consent_at_s: i64,
    pub consent_version: String,
    pub consent_channel: String,
    pub created_at_s: i64,
    pub updated_at_s: i64,
}

type RawRow = (
    String,
    String,
    Vec<u8>,
    String,
    i64,
    String,
    i64,
    String,
    String,
    i64,
    i64,
);

fn decode(raw: RawRow) -> Result<Row, StoreError> {
    let (kind, participant, account_sealed, masked_name, is_default, status, at, version) =
        (raw.0, raw.1, raw.2, raw.3, raw.4, raw.5, raw.6, raw.7);
    let (Some(kind), Some(participant), Some(status)) = (
        ProxyKind::parse(&kind),
        ParticipantCode::parse(&participant),
        ProxyStatus::parse(&status),
    ) else {
        return Err(StoreError::Corrupt(format!(
            "fps_proxies row ({kind}, {participant}, {status})"
        )));
    };
    Ok(Row {
        kind,
        participant,
        account_sealed,
        masked_name,
        is_default: is_default == 1,
        status,
        consent_at_s: at,
        consent_version: version,
        consent_channel: raw.8,
        created_at_s: raw.9,
        updated_at_s: raw.10,
    })
}

/// Draws a new FPS ID for the import's row at an index whose ID was taken: the row with its
/// new key hash and its account sealed again.
pub type Redraw = dyn Fn(usize, &NewRow) -> Result<NewRow, StoreError> + Send + Sync;

/// What a registration did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterResult {
    Registered(DefaultDecision),
    /// This participant already has a registration of the key.
    AlreadyRegistered,
    /// The key is registered anywhere (only asked for FPS IDs, which are exclusive).
    Taken,
}

/// A change to a participant's own registration; `None` leaves a value as it is.
#[derive(Debug, Clone, Default)]
pub struct RowChange {
    pub account_sealed: Option<Vec<u8>>,
    pub masked_name: Option<String>,
    pub make_default: Option<bool>,
    pub status: Option<ProxyStatus>,
    pub consent: Option<Consent>,
}

#[derive(Debug, Clone)]
pub struct ProxyStore {
    db: Database,
    /// The import's own SQLite connection, opened on first use.
    bulk: Arc<Mutex<Option<DedicatedWriter>>>,
}

impl ProxyStore {
    pub fn new(db: &Database) -> ProxyStore {
        ProxyStore {
            db: db.clone(),
            bulk: Arc::new(Mutex::new(None)),
        }
    }

    pub fn db(&self) -> &Database {
        &self.db
    }

    /// The key's default registration, whatever its status.
    pub async fn default_of(&self, key_hash: &[u8; 32]) -> Result<Option<Row>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM fps_proxies WHERE key_hash = $1 AND is_default = 1");
        let raw: Option<RawRow> = read!(&self.db, conn => sqlx::query_as(&sql)
            .bind(key_hash.to_vec())
            .fetch_optional(conn)
            .await?);
        raw.map(decode).transpose()
    }

    /// The default registrations of many keys, in order, on one connection.
    pub async fn defaults_of(
        &self,
        key_hashes: &[[u8; 32]],
    ) -> Result<Vec<Option<Row>>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM fps_proxies WHERE key_hash = $1 AND is_default = 1");
        let mut out = Vec::with_capacity(key_hashes.len());
        read!(&self.db, pool => {
            let mut conn = pool.acquire().await?;
            for hash in key_hashes {
                let raw: Option<RawRow> = sqlx::query_as(&sql)
                    .bind(hash.to_vec())
                    .fetch_optional(&mut *conn)
                    .await?;
                out.push(raw.map(decode).transpose()?);
            }
        });
        Ok(out)
    }

    /// One participant's registration of a key.
    pub async fn registration(
        &self,
        key_hash: &[u8; 32],
        participant: ParticipantCode,
    ) -> Result<Option<Row>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM fps_proxies WHERE key_hash = $1 AND participant = $2");
        let raw: Option<RawRow> = read!(&self.db, conn => sqlx::query_as(&sql)
            .bind(key_hash.to_vec())
            .bind(participant.as_str())
            .fetch_optional(conn)
            .await?);
        raw.map(decode).transpose()
    }

    /// How many registrations there are (every status).
    pub async fn count(&self) -> Result<i64, StoreError> {
        Ok(
            read!(&self.db, conn => sqlx::query_scalar("SELECT COUNT(*) FROM fps_proxies")
            .fetch_one(conn)
            .await?),
        )
    }

    /// Registers a key at a participant. `exclusive`: refuse if the key is registered anywhere
    /// (FPS IDs). Whether it becomes the default is decided here, inside the transaction
    /// ([`default_on_register`]); `event` makes the audit event from that decision.
    pub async fn register(
        &self,
        row: &NewRow,
        set_default: bool,
        exclusive: bool,
        event: impl Fn(&DefaultDecision) -> AuditEvent,
    ) -> Result<RegisterResult, StoreError> {
        let attempt: Result<RegisterResult, StoreError> = async {
            Ok(write_tx!(&self.db, tx, append => {
                let existing: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT participant, is_default FROM fps_proxies WHERE key_hash = $1",
                )
                .bind(row.key_hash.to_vec())
                .fetch_all(&mut *tx)
                .await?;
                let here = row.participant.as_str();
                if existing.iter().any(|(p, _)| *p == here) {
                    return Ok(RegisterResult::AlreadyRegistered);
                }
                if exclusive && !existing.is_empty() {
                    return Ok(RegisterResult::Taken);
                }
                let current = existing
                    .iter()
                    .find(|(_, d)| *d == 1)
                    .and_then(|(p, _)| ParticipantCode::parse(p));
                let decision = default_on_register(current, set_default);
                if let Some(previous) = decision.replaces {
                    sqlx::query("UPDATE fps_proxies SET is_default = 0, updated_at_s = $3 WHERE key_hash = $1 AND participant = $2")
                        .bind(row.key_hash.to_vec())
                        .bind(previous.as_str())
                        .bind(row.now_s)
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query(INSERT)
                    .bind(row.key_hash.to_vec())
                    .bind(row.kind.as_str())
                    .bind(here)
                    .bind(&row.account_sealed)
                    .bind(&row.masked_name)
                    .bind(i64::from(decision.is_default))
                    .bind(ProxyStatus::Active.as_str())
                    .bind(row.consent.at_s)
                    .bind(&row.consent.version)
                    .bind(row.consent.channel.as_str())
                    .bind(row.now_s)
                    .execute(&mut *tx)
                    .await?;
                append(&mut tx, &event(&decision)).await?;
                RegisterResult::Registered(decision)
            }))
        }
        .await;
        match attempt {
            // A concurrent registration of the same key won the race (PostgreSQL).
            Err(StoreError::Sqlx(e)) if is_unique_violation(&e) => Ok(if exclusive {
                RegisterResult::Taken
            } else {
                RegisterResult::AlreadyRegistered
            }),
            other => other,
        }
    }

    /// Changes a participant's registration (not a removed one). Making it the default takes
    /// the default from whichever participant held it (returned with the row). `Ok(None)`: no
    /// such registration.
    pub async fn change(
        &self,
        key_hash: &[u8; 32],
        participant: ParticipantCode,
        change: &RowChange,
        now_s: i64,
        event: impl Fn(&Row, Option<ParticipantCode>) -> AuditEvent,
    ) -> Result<Option<(Row, Option<ParticipantCode>)>, StoreError> {
        let select = format!(
            "SELECT {COLUMNS} FROM fps_proxies WHERE key_hash = $1 AND participant = $2 AND status <> 'removed'"
        );
        let here = participant.as_str();
        Ok(write_tx!(&self.db, tx, append => {
            let raw: Option<RawRow> = sqlx::query_as(&select)
                .bind(key_hash.to_vec())
                .bind(&here)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(before) = raw.map(decode).transpose()? else {
                return Ok(None);
            };
            let mut replaced = None;
            if change.make_default == Some(true) && !before.is_default {
                let holder: Option<String> = sqlx::query_scalar(
                    "SELECT participant FROM fps_proxies WHERE key_hash = $1 AND is_default = 1",
                )
                .bind(key_hash.to_vec())
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(holder) = holder {
                    sqlx::query("UPDATE fps_proxies SET is_default = 0, updated_at_s = $3 WHERE key_hash = $1 AND participant = $2")
                        .bind(key_hash.to_vec())
                        .bind(&holder)
                        .bind(now_s)
                        .execute(&mut *tx)
                        .await?;
                    replaced = ParticipantCode::parse(&holder);
                }
            }
            let consent = change.consent.as_ref();
            let after = Row {
                account_sealed: change
                    .account_sealed
                    .clone()
                    .unwrap_or_else(|| before.account_sealed.clone()),
                masked_name: change
                    .masked_name
                    .clone()
                    .unwrap_or_else(|| before.masked_name.clone()),
                is_default: change.make_default.unwrap_or(before.is_default),
                status: change.status.unwrap_or(before.status),
                consent_at_s: consent.map_or(before.consent_at_s, |c| c.at_s),
                consent_version: consent
                    .map_or_else(|| before.consent_version.clone(), |c| c.version.clone()),
                consent_channel: consent.map_or_else(
                    || before.consent_channel.clone(),
                    |c| c.channel.as_str().to_owned(),
                ),
                updated_at_s: now_s,
                ..before
            };
            sqlx::query(
                "UPDATE fps_proxies SET account_sealed = $3, masked_name = $4, is_default = $5, \
                 status = $6, consent_at_s = $7, consent_version = $8, consent_channel = $9, \
                 updated_at_s = $10 WHERE key_hash = $1 AND participant = $2",
            )
            .bind(key_hash.to_vec())
            .bind(&here)
            .bind(&after.account_sealed)
            .bind(&after.masked_name)
            .bind(i64::from(after.is_default))
            .bind(after.status.as_str())
            .bind(after.consent_at_s)
            .bind(&after.consent_version)
            .bind(&after.consent_channel)
            .bind(now_s)
            .execute(&mut *tx)
            .await?;
            append(&mut tx, &event(&after, replaced)).await?;
            Some((after, replaced))
        }))
    }

    /// Removes a participant's registration: deletes it, except an FPS ID's, which is marked
    /// `removed` and kept (so the ID is never issued again). A removed default is not replaced
    /// by another registration of the key: the customer chooses a new default. `false`: there
    /// was nothing to remove.
    pub async fn remove(
        &self,
        key_hash: &[u8; 32],
        participant: ParticipantCode,
        kind: ProxyKind,
        now_s: i64,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let fps_id = kind == ProxyKind::FpsId;
        let sql = if fps_id {
            "UPDATE fps_proxies SET status = 'removed', updated_at_s = $3 WHERE key_hash = $1 AND participant = $2 AND status <> 'removed'"
        } else {
            "DELETE FROM fps_proxies WHERE key_hash = $1 AND participant = $2"
        };
        Ok(write_tx!(&self.db, tx, append => {
            let mut query = sqlx::query(sql)
                .bind(key_hash.to_vec())
                .bind(participant.as_str());
            if fps_id {
                query = query.bind(now_s);
            }
            let done = query.execute(&mut *tx).await?.rows_affected();
            if done == 0 {
                return Ok(false);
            }
            append(&mut tx, event).await?;
            true
        }))
    }

    /// Inserts `rows` in one transaction with one audit event, all or nothing; every row becomes
    /// its key's default. FPS ID rows whose ID is taken are passed to `redraw` for a new one
    /// (at most [`REDRAW_ROUNDS_MAX`] rounds); any other clash fails the whole import with
    /// [`StoreError::Conflict`]. Returns the rows as written (redrawn ones replaced), in order.
    pub async fn import(
        &self,
        rows: Vec<NewRow>,
        redraw: Arc<Redraw>,
        event: AuditEvent,
    ) -> Result<Vec<NewRow>, StoreError> {
        if rows.len() > IMPORT_ROWS_MAX {
            return Err(StoreError::Conflict(format!(
                "an import takes at most {IMPORT_ROWS_MAX} rows"
            )));
        }
        match &self.db {
            Database::Sqlite(sqlite) => {
                let bulk = Arc::clone(&self.bulk);
                let sqlite = sqlite.clone();
                tokio::task::spawn_blocking(move || {
                    let mut guard = bulk.lock().map_err(|_| {
                        StoreError::Commit("the import connection was poisoned".into())
                    })?;
                    if guard.is_none() {
                        *guard = Some(sqlite.dedicated_writer()?);
                    }
                    let writer = guard
                        .as_mut()
                        .ok_or_else(|| StoreError::Commit("no import connection".into()))?;
                    writer.locked(|conn| import_sqlite(conn, rows, redraw.as_ref(), &event))
                })
                .await
                .map_err(|e| StoreError::Commit(format!("the import task failed: {e}")))?
            }
            Database::Postgres(pool) => import_pg(pool, rows, redraw.as_ref(), &event).await,
        }
    }
}

fn conflict(row: &NewRow) -> StoreError {
    StoreError::Conflict(format!(
        "a {} proxy in the import is already registered (or twice in it)",
        row.kind.as_str()
    ))
}

fn import_sqlite(
    conn: &mut rusqlite::Connection,
    mut rows: Vec<NewRow>,
    redraw: &Redraw,
    event: &AuditEvent,
) -> Result<Vec<NewRow>, StoreError> {
    conn.pragma_update(None, "cache_size", -IMPORT_CACHE_KIB)?;
    let out = (|| {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_unstable_by(|a, b| {
            let key = |i: &usize| rows.get(*i).map(|r| &r.key_hash);
            key(a).cmp(&key(b))
        });
        // Participant codes as text, made once each rather than once a row.
        let codes: std::collections::HashMap<ParticipantCode, String> = rows
            .iter()
            .map(|r| (r.participant, r.participant.as_str()))
            .collect();
        {
            // `OR IGNORE` only for FPS IDs, where a clash means "draw again"; any other row's
            // clash aborts the import.
            let mut insert = tx.prepare_cached(&INSERT.replace('$', "?"))?;
            let mut insert_or_skip = tx.prepare_cached(
                &INSERT
                    .replace("INSERT", "INSERT OR IGNORE")
                    .replace('$', "?"),
            )?;
            let mut pending: Vec<usize> = Vec::new();
            for i in order {
                let Some(row) = rows.get(i) else { continue };
                let code = codes.get(&row.participant).map_or("", String::as_str);
                let statement = if row.kind == ProxyKind::FpsId {
                    &mut insert_or_skip
                } else {
                    &mut insert
                };
                match statement.execute(rusqlite::params![
                    row.key_hash.as_slice(),
                    row.kind.as_str(),
                    code,
                    row.account_sealed,
                    row.masked_name,
                    1i64,
                    ProxyStatus::Active.as_str(),
                    row.consent.at_s,
                    row.consent.version,
                    row.consent.channel.as_str(),
                    row.now_s,
                ]) {
                    Ok(0) => pending.push(i),
                    Ok(_) => {}
                    Err(rusqlite::Error::SqliteFailure(e, _))
                        if e.code == rusqlite::ErrorCode::ConstraintViolation =>
                    {
                        return Err(conflict(row));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            for _ in 0..REDRAW_ROUNDS_MAX {
                if pending.is_empty() {
                    break;
                }
                let mut still = Vec::new();
                for i in pending {
                    let Some(slot) = rows.get_mut(i) else {
                        continue;
                    };
                    *slot = redraw(i, slot)?;
                    let row = &*slot;
                    let n = insert_or_skip.execute(rusqlite::params![
                        row.key_hash.as_slice(),
                        row.kind.as_str(),
                        row.participant.as_str(),
                        row.account_sealed,
                        row.masked_name,
                        1i64,
                        ProxyStatus::Active.as_str(),
                        row.consent.at_s,
                        row.consent.version,
                        row.consent.channel.as_str(),
                        row.now_s,
                    ])?;
                    if n == 0 {
                        still.push(i);
                    }
                }
                pending = still;
            }
            if !pending.is_empty() {
                return Err(StoreError::Conflict(
                    "could not draw free FPS IDs for the import".into(),
                ));
            }
        }
        bauhinia_store::audit::append_embedded(&tx, event)?;
        tx.commit()?;
        Ok(rows)
    })();
    // Give the cache back whatever happened.
    conn.pragma_update(None, "cache_size", -NORMAL_CACHE_KIB)?;
    conn.execute_batch("PRAGMA shrink_memory")?;
    out
}

async fn import_pg(
    pool: &sqlx::PgPool,
    mut rows: Vec<NewRow>,
    redraw: &Redraw,
    event: &AuditEvent,
) -> Result<Vec<NewRow>, StoreError> {
    let mut tx = pool.begin().await?;
    let insert_or_skip = format!("{INSERT} ON CONFLICT DO NOTHING");
    for (i, row) in rows.iter_mut().enumerate() {
        let exclusive = row.kind == ProxyKind::FpsId;
        let mut rounds = 0;
        loop {
            let sql = if exclusive {
                insert_or_skip.as_str()
            } else {
                INSERT
            };
            let result = sqlx::query(sql)
                .bind(row.key_hash.to_vec())
                .bind(row.kind.as_str())
                .bind(row.participant.as_str())
                .bind(&row.account_sealed)
                .bind(&row.masked_name)
                .bind(1i64)
                .bind(ProxyStatus::Active.as_str())
                .bind(row.consent.at_s)
                .bind(&row.consent.version)
                .bind(row.consent.channel.as_str())
                .bind(row.now_s)
                .execute(&mut *tx)
                .await;
            match result {
                Ok(done) if done.rows_affected() == 1 => break,
                Ok(_) if rounds < REDRAW_ROUNDS_MAX => {
                    rounds += 1;
                    *row = redraw(i, row)?;
                }
                Ok(_) => {
                    return Err(StoreError::Conflict(
                        "could not draw free FPS IDs for the import".into(),
                    ))
                }
                Err(e) if is_unique_violation(&e) => return Err(conflict(row)),
                Err(e) => return Err(e.into()),
            }
        }
    }
    bauhinia_store::audit::append_pg(&mut tx, event).await?;
    tx.commit().await?;
    Ok(rows)
}
