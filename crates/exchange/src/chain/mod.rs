//! The exchange's tamper-evident audit chain: every consent event and every data access is a
//! record in `exchange_audit_records`, appended inside the transaction of the change it
//! records, carrying the SHA-256 of its predecessor (the byte layout is in
//! `docs/exchange-audit.md`); the head is signed (ES256) into `exchange_audit_checkpoints` every
//! N records and on demand. [`verify`] recomputes the whole chain page by page and says where
//! it breaks and how; [`owner_log`] is a data owner's view of their own records.
//!
//! It must never: fork the chain (appends are serialised on the head row), rewrite or delete a
//! record, or hold the signing key beyond the call that signs.

pub mod encoding;
pub mod verify;

use std::collections::HashMap;

use bauhinia_identity::jose::{self, Alg, Jwk};
use bauhinia_store::{Database, StoreError};
use openssl::pkey::{PKey, Private, Public};
use sqlx::{PgConnection, SqliteConnection};

pub use encoding::{canonical_json, record_hash, Hash, RecordFields, GENESIS};
pub use verify::{CheckpointSeen, Problem, ProblemKind, Report, Verifier};

/// Records read per page by [`verify`] and the most [`owner_log`] returns.
const PAGE_RECORDS: i64 = 20_000;
const OWNER_LOG_MAX: i64 = 500;
/// Checkpoints read per page by [`verify`].
const PAGE_CHECKPOINTS: i64 = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("signing a checkpoint: {0}")]
    Jose(#[from] jose::JoseError),
    #[error("the chain is empty: there is nothing to checkpoint")]
    Empty,
    #[error("key id {0:?} is already registered with another key")]
    KidConflict(String),
}

impl From<sqlx::Error> for ChainError {
    fn from(error: sqlx::Error) -> Self {
        ChainError::Store(StoreError::Sqlx(error))
    }
}

/// Something to record.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainEvent {
    /// Dotted: `consent.approved`, `data.fetched`, `data.denied`, …
    pub kind: String,
    /// Who acted: `participant:<id>`, `owner:<id>`, `system`.
    pub actor: String,
    /// The data owner's opaque id, when the event concerns one: it shows in their usage log.
    pub owner: Option<String>,
    pub consent: Option<String>,
    /// Never a payload, a secret or an identity number in clear.
    pub detail: serde_json::Value,
}

/// The head of the chain after an append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub seq: i64,
    pub hash: Hash,
}

/// A stored record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub seq: i64,
    pub at_s: i64,
    pub kind: String,
    pub actor: String,
    pub owner: Option<String>,
    pub consent: Option<String>,
    /// Canonical JSON text.
    pub detail: String,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

impl StoredRecord {
    pub fn fields(&self) -> RecordFields<'_> {
        RecordFields {
            seq: self.seq,
            prev_hash: &self.prev_hash,
            at_s: self.at_s,
            kind: self.kind.as_bytes(),
            actor: self.actor.as_bytes(),
            owner: self.owner.as_deref().map(str::as_bytes),
            consent: self.consent.as_deref().map(str::as_bytes),
            detail: self.detail.as_bytes(),
        }
    }
}

/// A signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: Vec<u8>,
    pub at_s: i64,
    pub kid: String,
    /// ES256, raw `r ‖ s`, over [`encoding::checkpoint_input`].
    pub signature: Vec<u8>,
}

/// The key [`append_signed`] checkpoints with, and how often.
pub struct CheckpointSigner {
    kid: String,
    key: PKey<Private>,
    public_jwk: String,
    every_records: i64,
}

impl std::fmt::Debug for CheckpointSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckpointSigner")
            .field("kid", &self.kid)
            .field("every_records", &self.every_records)
            .finish_non_exhaustive()
    }
}

/// The default checkpoint interval, in records.
pub const CHECKPOINT_EVERY_RECORDS: i64 = 10_000;

impl CheckpointSigner {
    /// A P-256 key under `kid`, checkpointing whenever the head crosses a multiple of
    /// `every_records` (at least 1).
    pub fn new(kid: &str, key: PKey<Private>, every_records: i64) -> Result<Self, ChainError> {
        let jwk = Jwk::from_key(&key, Some(kid.to_owned()), Some(Alg::ES256))?;
        if jwk.kty != "EC" {
            return Err(jose::JoseError::KeyMismatch("checkpoints are signed with ES256").into());
        }
        let public_jwk =
            serde_json::to_string(&jwk).map_err(|e| jose::JoseError::InvalidKey(e.to_string()))?;
        Ok(CheckpointSigner {
            kid: kid.to_owned(),
            key,
            public_jwk,
            every_records: every_records.max(1),
        })
    }
}

fn now_s() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

const INSERT_RECORD: &str = "INSERT INTO exchange_audit_records \
    (seq, at_s, kind, actor, owner, consent, detail, prev_hash, hash) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
const UPDATE_HEAD: &str = "UPDATE exchange_audit_head SET seq = $1, hash = $2 WHERE one = 1";
const INSERT_CHECKPOINT: &str = "INSERT INTO exchange_audit_checkpoints \
    (seq, hash, at_s, kid, signature) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (seq) DO NOTHING";
const INSERT_KEY: &str = "INSERT INTO exchange_audit_keys (kid, public_jwk, added_at_s) \
    VALUES ($1, $2, $3) ON CONFLICT (kid) DO NOTHING";
const SELECT_KEY: &str = "SELECT public_jwk FROM exchange_audit_keys WHERE kid = $1";
const SELECT_CHECKPOINT: &str =
    "SELECT seq, hash, at_s, kid, signature FROM exchange_audit_checkpoints WHERE seq = $1";

/// A record about to be appended: its fields, its predecessor's hash and its own.
struct PlannedRow<'a> {
    seq: i64,
    at_s: i64,
    kind: &'a str,
    actor: &'a str,
    owner: Option<&'a str>,
    consent: Option<&'a str>,
    detail: String,
    prev_hash: Hash,
    hash: Hash,
}

/// The records `events` become after `start`, at `at_s`, and the head after them. Pure: both
/// dialects' appends write exactly these rows.
fn plan(start: Head, at_s: i64, events: &[ChainEvent]) -> (Vec<PlannedRow<'_>>, Head) {
    let mut head = start;
    let mut rows = Vec::with_capacity(events.len());
    for e in events {
        let detail = canonical_json(&e.detail);
        let seq = head.seq + 1;
        let hash = record_hash(&RecordFields {
            seq,
            prev_hash: &head.hash,
            at_s,
            kind: e.kind.as_bytes(),
            actor: e.actor.as_bytes(),
            owner: e.owner.as_deref().map(str::as_bytes),
            consent: e.consent.as_deref().map(str::as_bytes),
            detail: detail.as_bytes(),
        });
        rows.push(PlannedRow {
            seq,
            at_s,
            kind: &e.kind,
            actor: &e.actor,
            owner: e.owner.as_deref(),
            consent: e.consent.as_deref(),
            detail,
            prev_hash: head.hash,
            hash,
        });
        head = Head { seq, hash };
    }
    (rows, head)
}

/// [`append`] on the embedded database's group-commit thread (`rusqlite`, inside the batch's
/// transaction: SQLite's single writer keeps appends in order). No checkpoint.
pub fn append_embedded(
    conn: &bauhinia_store::rusqlite::Connection,
    events: &[ChainEvent],
) -> Result<Head, ChainError> {
    use bauhinia_store::rusqlite::params;
    let (seq, hash): (i64, Vec<u8>) = conn
        .prepare_cached("SELECT seq, hash FROM exchange_audit_head WHERE one = 1")
        .and_then(|mut s| s.query_row([], |r| Ok((r.get(0)?, r.get(1)?))))
        .map_err(StoreError::from)?;
    let start = head_from(seq, &hash)?;
    if events.is_empty() {
        return Ok(start);
    }
    let (rows, head) = plan(start, now_s(), events);
    let mut insert = conn
        .prepare_cached(INSERT_RECORD)
        .map_err(StoreError::from)?;
    for row in &rows {
        insert
            .execute(params![
                row.seq,
                row.at_s,
                row.kind,
                row.actor,
                row.owner,
                row.consent,
                row.detail,
                &row.prev_hash[..],
                &row.hash[..],
            ])
            .map_err(StoreError::from)?;
    }
    conn.prepare_cached(UPDATE_HEAD)
        .and_then(|mut s| s.execute(params![head.seq, &head.hash[..]]))
        .map_err(StoreError::from)?;
    Ok(head)
}

/// A write transaction's connection, of either dialect: `chain::append(&mut *tx, &events)`
/// inside a `write_tx!` body resolves to the right one.
pub trait ChainConn {
    /// Appends `events` after the head, checkpointing with `signer` when the head crosses a
    /// multiple of its interval.
    fn append_chain(
        &mut self,
        events: &[ChainEvent],
        signer: Option<&CheckpointSigner>,
    ) -> impl std::future::Future<Output = Result<Head, ChainError>> + Send;

    /// Signs the head into a checkpoint (or returns the one already there).
    fn checkpoint_head(
        &mut self,
        kid: &str,
        key: &PKey<Private>,
        public_jwk: &str,
    ) -> impl std::future::Future<Output = Result<Checkpoint, ChainError>> + Send;
}

fn head_from(seq: i64, hash: &[u8]) -> Result<Head, ChainError> {
    let hash = hash
        .try_into()
        .map_err(|_| StoreError::Corrupt("the audit chain's head hash is not 32 bytes".into()))?;
    Ok(Head { seq, hash })
}

macro_rules! chain_conn_for {
    ($conn:ty, $select_head:expr) => {
        impl ChainConn for $conn {
            async fn append_chain(
                &mut self,
                events: &[ChainEvent],
                signer: Option<&CheckpointSigner>,
            ) -> Result<Head, ChainError> {
                let (seq, hash): (i64, Vec<u8>) =
                    sqlx::query_as($select_head).fetch_one(&mut *self).await?;
                let start = head_from(seq, &hash)?;
                let (rows, head) = plan(start, now_s(), events);
                for row in &rows {
                    sqlx::query(INSERT_RECORD)
                        .bind(row.seq)
                        .bind(row.at_s)
                        .bind(row.kind)
                        .bind(row.actor)
                        .bind(row.owner)
                        .bind(row.consent)
                        .bind(&row.detail)
                        .bind(&row.prev_hash[..])
                        .bind(&row.hash[..])
                        .execute(&mut *self)
                        .await?;
                }
                if head.seq != start.seq {
                    sqlx::query(UPDATE_HEAD)
                        .bind(head.seq)
                        .bind(&head.hash[..])
                        .execute(&mut *self)
                        .await?;
                }
                if let Some(s) = signer {
                    if head.seq / s.every_records != start.seq / s.every_records {
                        self.checkpoint_head(&s.kid, &s.key, &s.public_jwk).await?;
                    }
                }
                Ok(head)
            }

            async fn checkpoint_head(
                &mut self,
                kid: &str,
                key: &PKey<Private>,
                public_jwk: &str,
            ) -> Result<Checkpoint, ChainError> {
                let (seq, hash): (i64, Vec<u8>) =
                    sqlx::query_as($select_head).fetch_one(&mut *self).await?;
                if seq == 0 {
                    return Err(ChainError::Empty);
                }
                let at_s = now_s();
                let input = encoding::checkpoint_input(seq, &hash, at_s, kid);
                let signature = jose::sign_raw(Alg::ES256, key, &input)?;
                sqlx::query(INSERT_KEY)
                    .bind(kid)
                    .bind(public_jwk)
                    .bind(at_s)
                    .execute(&mut *self)
                    .await?;
                let stored: String = sqlx::query_scalar(SELECT_KEY)
                    .bind(kid)
                    .fetch_one(&mut *self)
                    .await?;
                if stored != public_jwk {
                    return Err(ChainError::KidConflict(kid.to_owned()));
                }
                sqlx::query(INSERT_CHECKPOINT)
                    .bind(seq)
                    .bind(&hash)
                    .bind(at_s)
                    .bind(kid)
                    .bind(&signature)
                    .execute(&mut *self)
                    .await?;
                let row: CheckpointRow = sqlx::query_as(SELECT_CHECKPOINT)
                    .bind(seq)
                    .fetch_one(&mut *self)
                    .await?;
                Ok(checkpoint_from(row))
            }
        }
    };
}

chain_conn_for!(
    SqliteConnection,
    // SQLite has no row locks: the write transaction already holds the database's write lock.
    "SELECT seq, hash FROM exchange_audit_head WHERE one = 1"
);
chain_conn_for!(
    PgConnection,
    // The row lock queues concurrent appenders until this transaction ends: no fork.
    "SELECT seq, hash FROM exchange_audit_head WHERE one = 1 FOR UPDATE"
);

type CheckpointRow = (i64, Vec<u8>, i64, String, Vec<u8>);

fn checkpoint_from((seq, hash, at_s, kid, signature): CheckpointRow) -> Checkpoint {
    Checkpoint {
        seq,
        hash,
        at_s,
        kid,
        signature,
    }
}

/// Appends `events` in the transaction `conn` belongs to; no checkpoint.
pub async fn append<C: ChainConn + ?Sized>(
    conn: &mut C,
    events: &[ChainEvent],
) -> Result<Head, ChainError> {
    conn.append_chain(events, None).await
}

/// Appends `events` in the transaction `conn` belongs to, and signs a checkpoint in it when
/// the head crosses a multiple of the signer's interval.
pub async fn append_signed<C: ChainConn + ?Sized>(
    conn: &mut C,
    events: &[ChainEvent],
    signer: &CheckpointSigner,
) -> Result<Head, ChainError> {
    conn.append_chain(events, Some(signer)).await
}

/// Signs the current head (ES256 with `key`, published under `kid`), in a transaction of its
/// own. Idempotent: a checkpoint already at the head is returned as it is.
pub async fn checkpoint(
    db: &Database,
    kid: &str,
    key: &PKey<Private>,
) -> Result<Checkpoint, ChainError> {
    let jwk = Jwk::from_key(key, Some(kid.to_owned()), Some(Alg::ES256))?;
    let public_jwk =
        serde_json::to_string(&jwk).map_err(|e| jose::JoseError::InvalidKey(e.to_string()))?;
    Ok(bauhinia_store::write_tx!(db, tx, _audit => {
        tx.checkpoint_head(kid, key, &public_jwk).await?
    }))
}

const RECORD_COLUMNS: &str = "seq, at_s, kind, actor, owner, consent, detail, prev_hash, hash";
type RecordRow = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    Vec<u8>,
    Vec<u8>,
);

fn stored_from(row: RecordRow) -> StoredRecord {
    let (seq, at_s, kind, actor, owner, consent, detail, prev_hash, hash) = row;
    StoredRecord {
        seq,
        at_s,
        kind,
        actor,
        owner,
        consent,
        detail,
        prev_hash,
        hash,
    }
}

/// A data owner's usage log: their records before `before_seq` (all when `None`), newest
/// first, at most `limit` (capped at 500).
pub async fn owner_log(
    db: &Database,
    owner: &str,
    before_seq: Option<i64>,
    limit: i64,
) -> Result<Vec<StoredRecord>, StoreError> {
    let sql = format!(
        "SELECT {RECORD_COLUMNS} FROM exchange_audit_records \
         WHERE owner = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
    );
    let rows: Vec<RecordRow> = bauhinia_store::read!(db, conn => sqlx::query_as(&sql)
        .bind(owner)
        .bind(before_seq.unwrap_or(i64::MAX))
        .bind(limit.clamp(1, OWNER_LOG_MAX))
        .fetch_all(conn)
        .await?);
    Ok(rows.into_iter().map(stored_from).collect())
}

/// The records after `after_seq`, oldest first, at most `limit` (capped at 20,000): for an
/// export or an outside verifier.
pub async fn records(
    db: &Database,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<StoredRecord>, StoreError> {
    let sql = format!(
        "SELECT {RECORD_COLUMNS} FROM exchange_audit_records \
         WHERE seq > $1 ORDER BY seq LIMIT $2"
    );
    let rows: Vec<RecordRow> = bauhinia_store::read!(db, conn => sqlx::query_as(&sql)
        .bind(after_seq)
        .bind(limit.clamp(1, PAGE_RECORDS))
        .fetch_all(conn)
        .await?);
    Ok(rows.into_iter().map(stored_from).collect())
}

/// The head row: (seq, hash).
/// The last seq a checkpoint signed (0: none yet).
pub async fn last_checkpoint_seq(db: &Database) -> Result<i64, StoreError> {
    const SQL: &str = "SELECT COALESCE(MAX(seq), 0) FROM exchange_audit_checkpoints";
    Ok(bauhinia_store::read!(db, conn => sqlx::query_scalar(SQL).fetch_one(conn).await?))
}

pub async fn head(db: &Database) -> Result<(i64, Vec<u8>), StoreError> {
    const SQL: &str = "SELECT seq, hash FROM exchange_audit_head WHERE one = 1";
    Ok(bauhinia_store::read!(db, conn => sqlx::query_as(SQL).fetch_one(conn).await?))
}

/// The public keys of every `kid` in the keys table (for a verifier that trusts the database's
/// own copy; see `docs/exchange-audit.md` for why the published keys are better).
pub async fn stored_keys(db: &Database) -> Result<HashMap<String, PKey<Public>>, StoreError> {
    const SQL: &str = "SELECT kid, public_jwk FROM exchange_audit_keys";
    let rows: Vec<(String, String)> =
        bauhinia_store::read!(db, conn => sqlx::query_as(SQL).fetch_all(conn).await?);
    let mut keys = HashMap::new();
    for (kid, text) in rows {
        // A key that does not parse stays out: its checkpoints then fail as "unknown key".
        if let Some(key) = serde_json::from_str::<Jwk>(&text)
            .ok()
            .and_then(|jwk| jwk.to_key().ok())
        {
            keys.insert(kid, key);
        }
    }
    Ok(keys)
}

/// The keys of a published JWK Set (JSON), by `kid`: the keys a verifier should trust for
/// checkpoints. Keys without a `kid`, private keys and keys that are not valid are left out;
/// text that is not a JWK Set is an error.
pub fn keys_from_jwks(text: &str) -> Result<HashMap<String, PKey<Public>>, jose::JoseError> {
    let set: jose::JwkSet = serde_json::from_str(text)
        .map_err(|_| jose::JoseError::InvalidKey("not a JWK Set".into()))?;
    Ok(set
        .keys
        .into_iter()
        .filter_map(|jwk| {
            let kid = jwk.kid.clone()?;
            jwk.to_key().ok().map(|key| (kid, key))
        })
        .collect())
}

mod scan;
pub use scan::verify;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_published_key_set_gives_its_keys_by_kid() {
        let group =
            openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap();
        let key = PKey::from_ec_key(openssl::ec::EcKey::generate(&group).unwrap()).unwrap();
        let jwk = Jwk::from_key(&key, Some("k1".into()), Some(Alg::ES256)).unwrap();
        let text = serde_json::json!({"keys": [jwk, {"kty": "EC"}]}).to_string();
        let keys = keys_from_jwks(&text).unwrap();
        assert_eq!(keys.len(), 1);
        assert!(keys.get("k1").unwrap().public_eq(&key));
        assert!(keys_from_jwks("[]").is_err());
    }

    proptest! {
        #[test]
        fn jwks_parsing_never_panics(text in "\\PC{0,200}") {
            let _ = keys_from_jwks(&text);
        }

        #[test]
        fn jwks_like_input_never_panics(
            kid in proptest::option::of("[a-z0-9]{0,6}"),
            x in "[A-Za-z0-9_-]{0,50}",
            y in "[A-Za-z0-9_-]{0,50}",
        ) {
            let text = serde_json::json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": kid, "x": x, "y": y}]});
            let _ = keys_from_jwks(&text.to_string());
        }
    }
}
