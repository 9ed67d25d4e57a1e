//! The audit chain on both dialects: appends inside a caller's transaction, concurrent
//! appenders never fork it, owners read their own log, and tampering straight in the database
//! (triggers dropped first, as an intruder with database access would) is found at the right
//! position with the right kind.

use bauhinia_exchange::chain::{
    self, canonical_json, record_hash, ChainEvent, CheckpointSigner, Problem, ProblemKind,
    RecordFields, Report,
};
use bauhinia_store::testing::TestDb;
use bauhinia_store::Database;
use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private, Public};

type Error = Box<dyn std::error::Error + Send + Sync>;

const KID: &str = "audit-test-1";
/// Records in a test chain, and the checkpoint interval.
const RECORDS: i64 = 60;
const EVERY: i64 = 10;
const BATCH: i64 = 7;

fn p256() -> Result<PKey<Private>, Error> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    Ok(PKey::from_ec_key(EcKey::generate(&group)?)?)
}

fn public(key: &PKey<Private>) -> Result<PKey<Public>, Error> {
    Ok(PKey::public_key_from_pem(&key.public_key_to_pem()?)?)
}

fn event(i: i64) -> ChainEvent {
    let owner = match i % 3 {
        0 => "owner-a",
        1 => "owner-b",
        _ => "owner-c",
    };
    ChainEvent {
        kind: if i % 2 == 0 {
            "data.fetched"
        } else {
            "consent.approved"
        }
        .into(),
        actor: format!("participant:{}", 100 + i % 5),
        owner: (i % 4 != 3).then(|| owner.to_owned()),
        consent: Some(format!("consent-{}", i % 6)),
        detail: serde_json::json!({"i": i, "product": "iads.balance", "bytes": i * 10}),
    }
}

/// Appends `RECORDS` events in batches of `BATCH`, each inside a write transaction, with a
/// checkpoint whenever the head crosses a multiple of `EVERY`.
async fn build(db: &Database, signer: &CheckpointSigner) -> Result<(), Error> {
    let mut i = 0;
    while i < RECORDS {
        let batch: Vec<ChainEvent> = (i..(i + BATCH).min(RECORDS)).map(event).collect();
        bauhinia_store::write_tx!(db, tx, _audit => {
            chain::append_signed(&mut *tx, &batch, signer).await?
        });
        i += BATCH;
    }
    Ok(())
}

async fn exec(db: &Database, sql: &str) -> Result<(), Error> {
    match db {
        Database::Sqlite(s) => {
            sqlx::raw_sql(sql).execute(&mut *s.write().await?).await?;
        }
        Database::Postgres(pool) => {
            sqlx::raw_sql(sql).execute(pool).await?;
        }
    }
    Ok(())
}

/// What an intruder does first.
async fn drop_triggers(db: &Database) -> Result<(), Error> {
    let sql = match db {
        Database::Sqlite(_) => {
            "DROP TRIGGER exchange_audit_records_no_update;
             DROP TRIGGER exchange_audit_records_no_delete;
             DROP TRIGGER exchange_audit_checkpoints_no_update;
             DROP TRIGGER exchange_audit_checkpoints_no_delete;"
        }
        Database::Postgres(_) => {
            "DROP TRIGGER exchange_audit_records_no_change ON exchange_audit_records;
             DROP TRIGGER exchange_audit_checkpoints_no_change ON exchange_audit_checkpoints;"
        }
    };
    exec(db, sql).await
}

async fn verify(db: &Database, key: &PKey<Public>) -> Result<Report, Error> {
    let key = key.clone();
    Ok(chain::verify(db, move |kid| (kid == KID).then(|| key.clone())).await?)
}

async fn checkpoint_seqs(db: &Database) -> Result<Vec<i64>, Error> {
    const SQL: &str = "SELECT seq FROM exchange_audit_checkpoints ORDER BY seq";
    Ok(bauhinia_store::read!(db, conn => sqlx::query_scalar(SQL).fetch_all(conn).await?))
}

fn at(seq: i64, kind: ProblemKind) -> Problem {
    Problem {
        seq,
        last_seq: seq,
        kind,
    }
}

/// A fresh chain of `RECORDS` records on a fresh database, triggers dropped.
async fn fresh(
    make: &impl AsyncFn() -> Result<Option<TestDb>, Error>,
    key: &PKey<Private>,
) -> Result<Option<TestDb>, Error> {
    let Some(t) = make().await? else {
        return Ok(None);
    };
    build(&t.db, &CheckpointSigner::new(KID, key.clone(), EVERY)?).await?;
    drop_triggers(&t.db).await?;
    Ok(Some(t))
}

async fn conformance(make: impl AsyncFn() -> Result<Option<TestDb>, Error>) -> Result<(), Error> {
    let key = p256()?;
    let public_key = public(&key)?;

    // Intact: every record, checkpoints at the heads that crossed a multiple of EVERY.
    let Some(t) = make().await? else {
        return Ok(());
    };
    let db = &t.db;
    build(db, &CheckpointSigner::new(KID, key.clone(), EVERY)?).await?;
    let report = verify(db, &public_key).await?;
    assert!(report.intact(), "{:?}", report.problems);
    assert_eq!(report.records, RECORDS as u64);
    assert_eq!(report.last_seq, RECORDS);
    let checkpoints = checkpoint_seqs(db).await?;
    assert_eq!(checkpoints, vec![14, 21, 35, 42, 56, 60]);
    assert_eq!(report.last_signed_seq, Some(60));
    // On demand, at the head; idempotent.
    bauhinia_store::write_tx!(db, tx, _audit => {
        chain::append(&mut *tx, &[event(RECORDS)]).await?
    });
    let c = chain::checkpoint(db, KID, &key).await?;
    assert_eq!(c.seq, RECORDS + 1);
    assert_eq!(chain::checkpoint(db, KID, &key).await?, c);
    assert_eq!(
        verify(db, &public_key).await?.last_signed_seq,
        Some(RECORDS + 1)
    );
    // The triggers refuse changes.
    assert!(exec(
        db,
        "UPDATE exchange_audit_records SET actor = 'x' WHERE seq = 1"
    )
    .await
    .is_err());
    assert!(exec(db, "DELETE FROM exchange_audit_records WHERE seq = 1")
        .await
        .is_err());
    // Another key under the same kid is refused.
    assert!(chain::checkpoint(db, KID, &p256()?).await.is_err());
    // A checkpoint signed by an unknown key.
    let other = p256()?;
    let report = chain::verify(db, |_| public(&other).ok()).await?;
    assert_eq!(report.problem_count, 7);
    assert!(matches!(
        report.problems.first(),
        Some(Problem {
            seq: 14,
            kind: ProblemKind::CheckpointSignature { .. },
            ..
        })
    ));

    // Owners' usage logs: newest first, paged.
    let log = chain::owner_log(db, "owner-b", None, 5).await?;
    let expected: Vec<i64> = (1..=RECORDS)
        .rev()
        .filter(|s| {
            let i = s - 1;
            i % 3 == 1 && i % 4 != 3
        })
        .collect();
    let (newest, older) = expected.split_at(5);
    assert_eq!(log.iter().map(|r| r.seq).collect::<Vec<_>>(), newest);
    let next = chain::owner_log(db, "owner-b", log.last().map(|r| r.seq), 500).await?;
    assert_eq!(next.iter().map(|r| r.seq).collect::<Vec<_>>(), older);
    let first = next.last().ok_or("empty log")?;
    assert_eq!(first.detail, canonical_json(&event(first.seq - 1).detail));
    t.cleanup().await?;

    // (a) A record's detail altered with SQL.
    if let Some(t) = fresh(&make, &key).await? {
        exec(
            &t.db,
            r#"UPDATE exchange_audit_records SET detail = '{"i":22}' WHERE seq = 23"#,
        )
        .await?;
        let report = verify(&t.db, &public_key).await?;
        assert_eq!(report.problems, vec![at(23, ProblemKind::Altered)]);
        t.cleanup().await?;
    }

    // (b) A record deleted.
    if let Some(t) = fresh(&make, &key).await? {
        exec(&t.db, "DELETE FROM exchange_audit_records WHERE seq = 30").await?;
        let report = verify(&t.db, &public_key).await?;
        assert_eq!(report.problems, vec![at(30, ProblemKind::Deleted)]);
        t.cleanup().await?;
    }

    // (c) A forged record inserted after seq 40, hashed to fit, the rest renumbered.
    if let Some(t) = fresh(&make, &key).await? {
        let db = &t.db;
        exec(
            db,
            "UPDATE exchange_audit_records SET seq = -seq WHERE seq > 40",
        )
        .await?;
        exec(
            db,
            "UPDATE exchange_audit_records SET seq = 1 - seq WHERE seq < 0",
        )
        .await?;
        let records = all_records(db).await?;
        let prev = records.iter().find(|r| r.seq == 40).ok_or("no record 40")?;
        let detail = r#"{"forged":true}"#;
        let fields = RecordFields {
            seq: 41,
            prev_hash: &prev.hash,
            at_s: prev.at_s,
            kind: b"data.fetched",
            actor: b"participant:999",
            owner: Some(b"owner-a"),
            consent: None,
            detail: detail.as_bytes(),
        };
        let hash = record_hash(&fields);
        insert(db, &fields, &hash).await?;
        let report = verify(db, &public_key).await?;
        let problems = &report.problems;
        assert_eq!(problems.first(), Some(&at(41, ProblemKind::Inserted)));
        assert_eq!(
            problems.get(1),
            Some(&Problem {
                seq: 42,
                last_seq: RECORDS,
                kind: ProblemKind::Moved { from: 41 }
            })
        );
        // The checkpoints after it no longer match, and a record now stands past the head.
        assert_eq!(
            problems.get(2),
            Some(&at(42, ProblemKind::CheckpointMismatch))
        );
        assert!(problems.contains(&at(
            RECORDS + 1,
            ProblemKind::HeadMismatch { head_seq: RECORDS }
        )));
        t.cleanup().await?;
    }

    // (d) Two records swapped (reordered).
    if let Some(t) = fresh(&make, &key).await? {
        let db = &t.db;
        exec(
            db,
            "UPDATE exchange_audit_records SET seq = -1 WHERE seq = 12",
        )
        .await?;
        exec(
            db,
            "UPDATE exchange_audit_records SET seq = 12 WHERE seq = 13",
        )
        .await?;
        exec(
            db,
            "UPDATE exchange_audit_records SET seq = 13 WHERE seq = -1",
        )
        .await?;
        let report = verify(db, &public_key).await?;
        assert_eq!(
            report.problems,
            vec![
                at(12, ProblemKind::Moved { from: 13 }),
                at(13, ProblemKind::Moved { from: 12 })
            ]
        );
        t.cleanup().await?;
    }

    // (e) A checkpoint altered: its signature, then (elsewhere) its hash.
    if let Some(t) = fresh(&make, &key).await? {
        let db = &t.db;
        let flip = match db {
            // SQLite has no byte functions: a random signature of the same length.
            Database::Sqlite(_) => {
                "UPDATE exchange_audit_checkpoints SET signature = randomblob(64) WHERE seq = 21"
            }
            Database::Postgres(_) => {
                "UPDATE exchange_audit_checkpoints \
                 SET signature = set_byte(signature, 0, get_byte(signature, 0) # 1) WHERE seq = 21"
            }
        };
        exec(db, flip).await?;
        exec(
            db,
            "UPDATE exchange_audit_checkpoints SET hash = \
             (SELECT prev_hash FROM exchange_audit_records WHERE seq = 35) WHERE seq = 35",
        )
        .await?;
        let report = verify(db, &public_key).await?;
        assert_eq!(report.problems.len(), 2, "{:?}", report.problems);
        assert!(matches!(
            report.problems.as_slice(),
            [
                Problem {
                    seq: 21,
                    kind: ProblemKind::CheckpointSignature { .. },
                    ..
                },
                Problem {
                    seq: 35,
                    kind: ProblemKind::CheckpointSignature { .. },
                    ..
                },
            ]
        ));
        t.cleanup().await?;
    }

    // (f) The chain re-hashed from seq 25 on by someone without the key: only the signed
    // checkpoints after it tell.
    if let Some(t) = fresh(&make, &key).await? {
        let db = &t.db;
        exec(
            db,
            r#"UPDATE exchange_audit_records SET detail = '{"i":0}' WHERE seq = 25"#,
        )
        .await?;
        rehash_from(db, 25).await?;
        let report = verify(db, &public_key).await?;
        assert_eq!(
            report.problems,
            vec![
                at(35, ProblemKind::CheckpointMismatch),
                at(42, ProblemKind::CheckpointMismatch),
                at(56, ProblemKind::CheckpointMismatch),
                at(60, ProblemKind::CheckpointMismatch)
            ]
        );
        assert_eq!(report.last_signed_seq, Some(21));
        t.cleanup().await?;
    }

    // (g) The last records deleted (and the head row moved back): the checkpoint at 56 tells.
    if let Some(t) = fresh(&make, &key).await? {
        let db = &t.db;
        exec(db, "DELETE FROM exchange_audit_records WHERE seq > 50").await?;
        exec(
            db,
            "UPDATE exchange_audit_head SET seq = 50, \
             hash = (SELECT hash FROM exchange_audit_records WHERE seq = 50)",
        )
        .await?;
        let report = verify(db, &public_key).await?;
        assert_eq!(
            report.problems,
            vec![
                at(56, ProblemKind::CheckpointWithoutRecord),
                at(60, ProblemKind::CheckpointWithoutRecord)
            ]
        );
        t.cleanup().await?;
    }
    Ok(())
}

async fn insert(db: &Database, r: &RecordFields<'_>, hash: &[u8]) -> Result<(), Error> {
    const SQL: &str = "INSERT INTO exchange_audit_records \
        (seq, at_s, kind, actor, owner, consent, detail, prev_hash, hash) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    macro_rules! bound {
        () => {
            sqlx::query(SQL)
                .bind(r.seq)
                .bind(r.at_s)
                .bind(text(r.kind))
                .bind(text(r.actor))
                .bind(r.owner.map(text))
                .bind(r.consent.map(text))
                .bind(text(r.detail))
                .bind(r.prev_hash.to_vec())
                .bind(hash.to_vec())
        };
    }
    match db {
        Database::Sqlite(s) => {
            bound!().execute(&mut *s.write().await?).await?;
        }
        Database::Postgres(pool) => {
            bound!().execute(pool).await?;
        }
    }
    Ok(())
}

/// Recomputes every hash from `from` on, as an intruder who knows the layout would.
async fn rehash_from(db: &Database, from: i64) -> Result<(), Error> {
    let records = all_records(db).await?;
    let mut prev: Option<Vec<u8>> = None;
    for r in records.iter().filter(|r| r.seq >= from) {
        let mut fields = r.fields();
        if let Some(p) = &prev {
            fields.prev_hash = p;
        }
        let hash = record_hash(&fields).to_vec();
        const SQL: &str =
            "UPDATE exchange_audit_records SET prev_hash = $1, hash = $2 WHERE seq = $3";
        let prev_hash = fields.prev_hash.to_vec();
        match db {
            Database::Sqlite(s) => {
                sqlx::query(SQL)
                    .bind(prev_hash)
                    .bind(&hash)
                    .bind(r.seq)
                    .execute(&mut *s.write().await?)
                    .await?;
            }
            Database::Postgres(pool) => {
                sqlx::query(SQL)
                    .bind(prev_hash)
                    .bind(&hash)
                    .bind(r.seq)
                    .execute(pool)
                    .await?;
            }
        }
        prev = Some(hash);
    }
    let last = prev.ok_or("nothing re-hashed")?;
    match db {
        Database::Sqlite(s) => {
            sqlx::query("UPDATE exchange_audit_head SET hash = $1")
                .bind(last)
                .execute(&mut *s.write().await?)
                .await?;
        }
        Database::Postgres(pool) => {
            sqlx::query("UPDATE exchange_audit_head SET hash = $1")
                .bind(last)
                .execute(pool)
                .await?;
        }
    }
    Ok(())
}

async fn all_records(db: &Database) -> Result<Vec<chain::StoredRecord>, Error> {
    Ok(chain::records(db, 0, 20_000).await?)
}

/// Concurrent transactions appending at once never fork the chain or leave a gap.
async fn concurrent(make: impl AsyncFn() -> Result<Option<TestDb>, Error>) -> Result<(), Error> {
    let Some(t) = make().await? else {
        return Ok(());
    };
    let tasks: Vec<_> = (0..8)
        .map(|w| {
            let db = t.db.clone();
            tokio::spawn(async move {
                for round in 0..20i64 {
                    let batch: Vec<ChainEvent> =
                        (0..3).map(|k| event(w * 1000 + round * 3 + k)).collect();
                    bauhinia_store::write_tx!(&db, tx, _audit => {
                        chain::append(&mut *tx, &batch).await?;
                        // Hold the transaction a moment so the others pile up on the head.
                        tokio::task::yield_now().await;
                    });
                }
                Ok::<(), Error>(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let report = chain::verify(&t.db, |_| None).await?;
    assert!(report.intact(), "{:?}", report.problems);
    assert_eq!(report.records, 8 * 20 * 3);
    assert_eq!(report.last_seq, 8 * 20 * 3);
    assert_eq!(chain::head(&t.db).await?.0, 480);
    t.cleanup().await?;
    Ok(())
}

async fn sqlite() -> Result<Option<TestDb>, Error> {
    Ok(Some(TestDb::sqlite().await?))
}

async fn postgres() -> Result<Option<TestDb>, Error> {
    Ok(TestDb::postgres().await?)
}

#[tokio::test]
async fn tampering_is_found_where_it_happened_sqlite() -> Result<(), Error> {
    conformance(sqlite).await
}

#[tokio::test]
async fn tampering_is_found_where_it_happened_postgres() -> Result<(), Error> {
    conformance(postgres).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appenders_never_fork_sqlite() -> Result<(), Error> {
    concurrent(sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appenders_never_fork_postgres() -> Result<(), Error> {
    concurrent(postgres).await
}

const PYTHON_LINE: &str = "independent check: the Python verifier in docs/exchange-audit.md";

/// The Python program the documentation gives, run over `file` with `BAUHINIA_TEST_PYTHON`
/// (the test command's venv) or else `python3`: `None` when neither runs and the test command
/// did not ask for it (`BAUHINIA_TEST_REQUIRE_TOOLS=1`). It needs only Python's standard library.
fn python_verify(file: &std::path::Path) -> Result<Option<(bool, String)>, Error> {
    let doc =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/exchange-audit.md");
    let text = std::fs::read_to_string(doc)?;
    let program = text
        .split("```python\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .ok_or("no python block in docs/exchange-audit.md")?;
    let python = std::env::var_os("BAUHINIA_TEST_PYTHON").unwrap_or_else(|| "python3".into());
    let out = match std::process::Command::new(&python)
        .arg("-c")
        .arg(program)
        .arg(file)
        .output()
    {
        Ok(out) => out,
        Err(e) if std::env::var("BAUHINIA_TEST_REQUIRE_TOOLS").is_ok_and(|v| v == "1") => {
            return Err(format!("{PYTHON_LINE}: cannot run {python:?}: {e}").into());
        }
        Err(e) => {
            println!("{PYTHON_LINE}: not run ({python:?}: {e})");
            return Ok(None);
        }
    };
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    Ok(Some((out.status.success(), said.trim().to_owned())))
}

/// A program that shares no code with Bauhinia, written from the documented layout alone,
/// accepts the chain Bauhinia wrote and rejects it once a byte changes.
#[tokio::test]
async fn the_documented_layout_is_what_is_hashed() -> Result<(), Error> {
    let dir = std::env::temp_dir().join(format!("bauhinia-chain-doc-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("chain.db");
    let db = Database::connect(&bauhinia_store::DatabaseUrl::sqlite_file(&file)).await?;
    db.migrate().await?;
    build(&db, &CheckpointSigner::new(KID, p256()?, EVERY)?).await?;
    // Text beyond ASCII, an empty owner and a float, to pin the bytes down.
    let odd = ChainEvent {
        kind: "consent.approved".into(),
        actor: "owner:陳大文".into(),
        owner: Some(String::new()),
        consent: None,
        detail: serde_json::json!({"purpose": "貸款審批 loan", "ratio": 0.25, "z": [], "a": {}}),
    };
    bauhinia_store::write_tx!(&db, tx, _audit => {
        chain::append(&mut *tx, &[odd]).await?
    });
    db.close().await;
    let Some((ok, said)) = python_verify(&file)? else {
        return Ok(());
    };
    assert!(ok, "{said}");
    assert_eq!(said, format!("{} records, chain intact", RECORDS + 1));
    let conn = bauhinia_store::rusqlite::Connection::open(&file)?;
    conn.execute_batch(
        "DROP TRIGGER exchange_audit_records_no_update;
         UPDATE exchange_audit_records SET at_s = at_s + 1 WHERE seq = 33;",
    )?;
    drop(conn);
    let (ok, said) = python_verify(&file)?.ok_or("python3 went away")?;
    assert!(!ok);
    assert_eq!(said, "chain broken at seq 33");
    println!("{PYTHON_LINE}: passed (accepted the chain, found the changed record)");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
    use proptest::prelude::*;
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("\\PC{0,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn arbitrary_event() -> impl proptest::strategy::Strategy<Value = ChainEvent> {
    use proptest::prelude::*;
    (
        "[a-z]{1,8}\\.[a-z]{1,8}",
        "\\PC{0,16}",
        proptest::option::of("\\PC{0,16}"),
        proptest::option::of("[0-9a-f-]{0,36}"),
        json_value(),
    )
        .prop_map(|(kind, actor, owner, consent, detail)| ChainEvent {
            kind,
            actor,
            owner,
            consent,
            detail,
        })
}

/// Any sequence of arbitrary events, appended through the real `append` in arbitrary batches,
/// verifies clean, and reads back as appended (the detail in its canonical form).
async fn arbitrary_appends(
    make: impl AsyncFn() -> Result<Option<TestDb>, Error>,
) -> Result<(), Error> {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::TestRunner;
    let Some(t) = make().await? else {
        return Ok(());
    };
    let db = &t.db;
    let mut runner = TestRunner::deterministic();
    let batches =
        proptest::collection::vec(proptest::collection::vec(arbitrary_event(), 1..6), 1..5);
    let mut expected: Vec<ChainEvent> = Vec::new();
    for _case in 0..24 {
        let case = batches
            .new_tree(&mut runner)
            .map_err(|e| format!("generating a case: {e}"))?
            .current();
        for batch in &case {
            bauhinia_store::write_tx!(db, tx, _audit => {
                chain::append(&mut *tx, batch).await?
            });
            expected.extend(batch.iter().cloned());
        }
        let report = chain::verify(db, |_| None).await?;
        assert!(report.intact(), "{:?}", report.problems);
        assert_eq!(report.records, expected.len() as u64);
    }
    let stored = chain::records(db, 0, 20_000).await?;
    assert_eq!(stored.len(), expected.len());
    for (r, e) in stored.iter().zip(&expected) {
        assert_eq!(
            (&r.kind, &r.actor, &r.owner, &r.consent),
            (&e.kind, &e.actor, &e.owner, &e.consent)
        );
        assert_eq!(r.detail, canonical_json(&e.detail));
    }
    t.cleanup().await?;
    Ok(())
}

#[tokio::test]
async fn arbitrary_appends_verify_clean_sqlite() -> Result<(), Error> {
    arbitrary_appends(sqlite).await
}

#[tokio::test]
async fn arbitrary_appends_verify_clean_postgres() -> Result<(), Error> {
    arbitrary_appends(postgres).await
}
