//! The group-commit thread of the embedded database: every job answered, each with its own
//! outcome; a failed job leaves no trace and does not disturb its batch; a broken batch writes
//! nothing; and it shares the write lock with the sqlx writer without a busy error.

use bauhinia_store::rusqlite::params;
use bauhinia_store::testing::TestDb;
use bauhinia_store::{Database, GroupCommit, SqliteDb, StoreError};

async fn sqlite() -> Result<(TestDb, SqliteDb), StoreError> {
    let test = TestDb::sqlite().await?;
    match test.db.clone() {
        Database::Sqlite(db) => Ok((test, db)),
        Database::Postgres(_) => Err(StoreError::Conflict(
            "TestDb::sqlite gave PostgreSQL".into(),
        )),
    }
}

fn put(
    commits: &GroupCommit,
    key: String,
) -> impl std::future::Future<Output = Result<String, StoreError>> {
    let commits = commits.clone();
    async move {
        commits
            .run(move |conn| {
                conn.execute(
                    "INSERT INTO bauhinia_meta (key, value) VALUES (?1, 'group')",
                    params![key],
                )?;
                Ok(key)
            })
            .await
    }
}

async fn keys(db: &SqliteDb, prefix: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT key FROM bauhinia_meta WHERE key LIKE ?1 || '%' ORDER BY key")
        .bind(prefix)
        .fetch_all(&db.reader)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_jobs_share_commits_and_each_gets_its_own_answer() {
    let (_test, db) = sqlite().await.unwrap();
    let before = db.commits.stats();
    let tasks: Vec<_> = (0..300)
        .map(|i| tokio::spawn(put(&db.commits, format!("job-{i:03}"))))
        .collect();
    for (i, task) in tasks.into_iter().enumerate() {
        assert_eq!(task.await.unwrap().unwrap(), format!("job-{i:03}"));
    }
    assert_eq!(keys(&db, "job-").await.unwrap().len(), 300);
    let after = db.commits.stats();
    assert_eq!(after.jobs - before.jobs, 300);
    assert!(after.batches - before.batches <= 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_jobs_commit_together_and_a_failed_one_leaves_no_trace() {
    let (_test, db) = sqlite().await.unwrap();
    // Holding the write lock holds the group-commit thread too: the jobs queue behind it.
    let writer = db.write().await.unwrap();
    let before = db.commits.stats();
    let first = tokio::spawn(put(&db.commits, "batch-first".into()));
    let failing = {
        let commits = db.commits.clone();
        tokio::spawn(async move {
            commits
                .run(|conn| {
                    conn.execute(
                        "INSERT INTO bauhinia_meta (key, value) VALUES ('batch-failed', 'x')",
                        [],
                    )?;
                    Err::<(), _>(StoreError::Conflict("refused after writing".into()))
                })
                .await
        })
    };
    let panicking = {
        let commits = db.commits.clone();
        tokio::spawn(async move {
            commits
                .run(|conn| {
                    conn.execute(
                        "INSERT INTO bauhinia_meta (key, value) VALUES ('batch-panicked', 'x')",
                        [],
                    )?;
                    panic!("a job that panics");
                    #[allow(unreachable_code)]
                    Ok(())
                })
                .await
        })
    };
    let rest: Vec<_> = (0..20)
        .map(|i| tokio::spawn(put(&db.commits, format!("batch-{i:02}"))))
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        db.commits.stats(),
        before,
        "nothing commits while the writer is held"
    );
    drop(writer);

    first.await.unwrap().unwrap();
    assert!(matches!(
        failing.await.unwrap(),
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        panicking.await.unwrap(),
        Err(StoreError::Commit(_))
    ));
    for task in rest {
        task.await.unwrap().unwrap();
    }
    let written = keys(&db, "batch-").await.unwrap();
    assert_eq!(written.len(), 21, "{written:?}");
    assert!(!written
        .iter()
        .any(|k| k == "batch-failed" || k == "batch-panicked"));
    let after = db.commits.stats();
    assert_eq!(after.jobs - before.jobs, 23);
    // The first job may have been taken alone before the rest arrived; the rest went together.
    assert!(
        after.batches - before.batches <= 2,
        "{before:?} → {after:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_breaks_the_transaction_fails_its_whole_batch() {
    let (_test, db) = sqlite().await.unwrap();
    let writer = db.write().await.unwrap();
    let good = tokio::spawn(put(&db.commits, "broken-good".into()));
    let breaking = {
        let commits = db.commits.clone();
        tokio::spawn(async move {
            commits
                .run(|conn| {
                    conn.execute_batch("ROLLBACK")?;
                    Ok(())
                })
                .await
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    drop(writer);
    let (good, breaking) = (good.await.unwrap(), breaking.await.unwrap());
    assert!(
        matches!(breaking, Err(StoreError::Commit(_))),
        "{breaking:?}"
    );
    // The good job either committed in an earlier batch or failed with the broken one; never
    // reported written when it was not.
    let written = keys(&db, "broken-").await.unwrap();
    assert_eq!(
        good.is_ok(),
        written == ["broken-good"],
        "{good:?} {written:?}"
    );
    // The thread carries on.
    put(&db.commits, "broken-after".into()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shares_the_write_lock_with_the_other_writers() {
    let (_test, db) = sqlite().await.unwrap();
    let database = Database::Sqlite(db.clone());
    let mut tasks = Vec::new();
    for i in 0..100 {
        tasks.push(tokio::spawn(put(&db.commits, format!("shared-g{i:03}"))));
        let database = database.clone();
        tasks.push(tokio::spawn(async move {
            let key = format!("shared-s{i:03}");
            // A read then a write in one transaction: the pattern a deferred transaction would
            // fail with SQLITE_BUSY_SNAPSHOT if the other writer could slip in between.
            let Database::Sqlite(db) = &database else {
                unreachable!()
            };
            let mut tx = db.begin_write().await?;
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM bauhinia_meta")
                .fetch_one(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO bauhinia_meta (key, value) VALUES (?1, ?2)")
                .bind(&key)
                .bind(n.to_string())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(key)
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(keys(&db, "shared-").await.unwrap().len(), 200);
}

#[tokio::test]
async fn an_in_memory_database_is_refused() {
    let url = bauhinia_store::DatabaseUrl::parse("sqlite::memory:").unwrap();
    let error = Database::connect(&url).await.unwrap_err();
    assert!(matches!(error, StoreError::UnsupportedUrl(_)), "{error:?}");
}
