//! Reading the chain out of the database for [`verify`], page by page, into the
//! [`Verifier`]. SQLite is read with rusqlite on a connection of its own, hashing straight out
//! of SQLite's row buffers (no copy of a row), on a blocking thread; PostgreSQL in pages through
//! the pool.

use std::collections::HashMap;

use bauhinia_identity::jose::{self, Alg};
use bauhinia_store::rusqlite::{self, types::ValueRef};
use bauhinia_store::{Database, StoreError};
use openssl::pkey::{PKey, Public};

use super::encoding::{checkpoint_input, RecordFields};
use super::verify::{CheckpointSeen, Report, Verifier};
use super::{head, ChainError, RecordRow, PAGE_CHECKPOINTS, PAGE_RECORDS, RECORD_COLUMNS};

type Keys = HashMap<String, PKey<Public>>;

/// Recomputes the chain up to the head as it stands when verification starts (records appended
/// meanwhile are left for the next run), checks every checkpoint's signature with the key
/// `key_lookup` gives for its `kid` and its hash against the chain, and reports each problem
/// with its position. Memory stays bounded: records and checkpoints are read in pages.
pub async fn verify(
    db: &Database,
    key_lookup: impl Fn(&str) -> Option<PKey<Public>>,
) -> Result<Report, ChainError> {
    let (head_seq, head_hash) = head(db).await?;
    const KIDS: &str = "SELECT DISTINCT kid FROM exchange_audit_checkpoints";
    let kids: Vec<String> =
        bauhinia_store::read!(db, conn => sqlx::query_scalar(KIDS).fetch_all(conn).await?);
    let keys: Keys = kids
        .into_iter()
        .filter_map(|kid| key_lookup(&kid).map(|key| (kid, key)))
        .collect();
    let mut verifier = match db {
        Database::Sqlite(sqlite) => {
            let conn = sqlite.dedicated_writer()?;
            tokio::task::spawn_blocking(move || scan_sqlite(conn.reader(), head_seq, &keys))
                .await
                .map_err(|e| StoreError::Corrupt(format!("the verifier's thread failed: {e}")))??
        }
        Database::Postgres(pool) => scan_postgres(pool, head_seq, &keys).await?,
    };
    // A record past the head while the head has not moved was not appended by the appender.
    const BEYOND: &str = "SELECT MIN(seq) FROM exchange_audit_records WHERE seq > $1";
    let beyond: Option<i64> = bauhinia_store::read!(db, conn => sqlx::query_scalar(BEYOND)
        .bind(head_seq)
        .fetch_one(conn)
        .await?);
    if let Some(seq) = beyond {
        if head(db).await?.0 == head_seq {
            verifier.beyond_head(seq, head_seq);
        }
    }
    Ok(verifier.finish(Some((head_seq, head_hash))))
}

fn signature_check(
    keys: &Keys,
    seq: i64,
    hash: &[u8],
    at_s: i64,
    kid: &str,
    sig: &[u8],
) -> Result<(), String> {
    let Some(key) = keys.get(kid) else {
        return Err(format!("no public key for kid {kid:?}"));
    };
    jose::verify_raw(
        Alg::ES256,
        key,
        &checkpoint_input(seq, hash, at_s, kid),
        sig,
    )
    .map_err(|e| e.to_string())
}

/// Which checkpoints have been handed to the verifier.
#[derive(Debug, Default)]
struct Checkpoints {
    loaded_through: i64,
    done: bool,
}

type CheckpointRow = (i64, Vec<u8>, i64, String, Vec<u8>);
const CHECKPOINT_PAGE: &str = "SELECT seq, hash, at_s, kid, signature \
    FROM exchange_audit_checkpoints WHERE seq > $1 ORDER BY seq LIMIT $2";

impl Checkpoints {
    fn needed(&self, seq: i64) -> bool {
        !self.done && self.loaded_through < seq
    }

    fn feed(&mut self, page: Vec<CheckpointRow>, keys: &Keys, verifier: &mut Verifier) {
        self.done = (page.len() as i64) < PAGE_CHECKPOINTS;
        for (seq, hash, at_s, kid, sig) in page {
            let signature = signature_check(keys, seq, &hash, at_s, &kid, &sig);
            verifier.checkpoint(CheckpointSeen {
                seq,
                hash,
                signature,
            });
            self.loaded_through = seq;
        }
    }
}

/// A column's bytes as stored. A value that is not text is given bytes no appender writes,
/// so its record fails as altered instead of stopping the run.
fn bytes<'r>(value: ValueRef<'r>) -> &'r [u8] {
    match value {
        ValueRef::Text(b) | ValueRef::Blob(b) => b,
        _ => b"\xff(not text)",
    }
}

fn optional<'r>(value: ValueRef<'r>) -> Option<&'r [u8]> {
    match value {
        ValueRef::Null => None,
        other => Some(bytes(other)),
    }
}

fn scan_sqlite(
    conn: &rusqlite::Connection,
    head_seq: i64,
    keys: &Keys,
) -> Result<Verifier, StoreError> {
    let mut verifier = Verifier::new();
    let mut checkpoints = Checkpoints::default();
    let mut records = conn.prepare(&format!(
        "SELECT {RECORD_COLUMNS} FROM exchange_audit_records \
         WHERE seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3"
    ))?;
    let mut checkpoint_page = conn.prepare(CHECKPOINT_PAGE)?;
    let mut catch_up = |through: i64,
                        checkpoints: &mut Checkpoints,
                        verifier: &mut Verifier|
     -> Result<(), StoreError> {
        while checkpoints.needed(through) {
            let after = checkpoints.loaded_through;
            let page = checkpoint_page
                .query_map(rusqlite::params![after, PAGE_CHECKPOINTS], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect::<Result<Vec<CheckpointRow>, _>>()?;
            checkpoints.feed(page, keys, verifier);
        }
        Ok(())
    };
    let mut after = 0i64;
    loop {
        let mut rows = records.query(rusqlite::params![after, head_seq, PAGE_RECORDS])?;
        let mut n = 0i64;
        while let Some(row) = rows.next()? {
            let seq: i64 = row.get(0)?;
            catch_up(seq, &mut checkpoints, &mut verifier)?;
            let fields = RecordFields {
                seq,
                at_s: row.get(1)?,
                kind: bytes(row.get_ref(2)?),
                actor: bytes(row.get_ref(3)?),
                owner: optional(row.get_ref(4)?),
                consent: optional(row.get_ref(5)?),
                detail: bytes(row.get_ref(6)?),
                prev_hash: bytes(row.get_ref(7)?),
            };
            verifier.record(&fields, bytes(row.get_ref(8)?));
            after = seq;
            n += 1;
        }
        if n < PAGE_RECORDS {
            break;
        }
    }
    catch_up(i64::MAX, &mut checkpoints, &mut verifier)?;
    Ok(verifier)
}

async fn scan_postgres(
    pool: &sqlx::PgPool,
    head_seq: i64,
    keys: &Keys,
) -> Result<Verifier, StoreError> {
    let mut verifier = Verifier::new();
    let mut checkpoints = Checkpoints::default();
    // Ordered by (seq, hash) so records sharing a seq (a primary key dropped by an intruder)
    // come in a fixed order and none is skipped at a page boundary.
    let sql = format!(
        "SELECT {RECORD_COLUMNS} FROM exchange_audit_records \
         WHERE (seq, hash) > ($1, $2) AND seq <= $3 ORDER BY seq, hash LIMIT $4"
    );
    let mut after: (i64, Vec<u8>) = (0, Vec::new());
    loop {
        let page: Vec<RecordRow> = sqlx::query_as(&sql)
            .bind(after.0)
            .bind(&after.1)
            .bind(head_seq)
            .bind(PAGE_RECORDS)
            .fetch_all(pool)
            .await?;
        let full = page.len() as i64 >= PAGE_RECORDS;
        for row in page {
            let (seq, at_s, kind, actor, owner, consent, detail, prev_hash, hash) = row;
            pg_catch_up(pool, seq, &mut checkpoints, keys, &mut verifier).await?;
            let fields = RecordFields {
                seq,
                at_s,
                kind: kind.as_bytes(),
                actor: actor.as_bytes(),
                owner: owner.as_deref().map(str::as_bytes),
                consent: consent.as_deref().map(str::as_bytes),
                detail: detail.as_bytes(),
                prev_hash: &prev_hash,
            };
            verifier.record(&fields, &hash);
            after = (seq, hash);
        }
        if !full {
            break;
        }
    }
    pg_catch_up(pool, i64::MAX, &mut checkpoints, keys, &mut verifier).await?;
    Ok(verifier)
}

/// Hands the verifier every checkpoint up to `through` not yet handed over.
async fn pg_catch_up(
    pool: &sqlx::PgPool,
    through: i64,
    checkpoints: &mut Checkpoints,
    keys: &Keys,
    verifier: &mut Verifier,
) -> Result<(), StoreError> {
    while checkpoints.needed(through) {
        let page: Vec<CheckpointRow> = sqlx::query_as(CHECKPOINT_PAGE)
            .bind(checkpoints.loaded_through)
            .bind(PAGE_CHECKPOINTS)
            .fetch_all(pool)
            .await?;
        checkpoints.feed(page, keys, verifier);
    }
    Ok(())
}
