//! The outbox on both dialects: events appended in a write transaction are read back in
//! order, and the table refuses updates and deletes.

use bauhinia_fps::events::{self, Event};
use bauhinia_fps::switch::ParticipantCode;
use bauhinia_store::testing::TestDb;
use bauhinia_store::{write_tx, Database, StoreError};

type Error = Box<dyn std::error::Error>;

async fn append(db: &Database, batch: &[Event]) -> Result<(), StoreError> {
    write_tx!(db, tx, _audit => events::append(&mut *tx, batch).await?);
    Ok(())
}

async fn conformance(db: &Database) -> Result<(), Error> {
    let code = |s| ParticipantCode::parse(s).ok_or("code");
    let first = Event::new(
        code("004")?,
        "transfer.settled",
        "transfer:a".into(),
        &serde_json::json!({"n": 1}),
    );
    let second = Event::new(
        code("024")?,
        "request.created",
        "request:b".into(),
        &serde_json::json!({"n": 2}),
    );
    append(db, &[first.clone(), second.clone()]).await?;
    let read = events::read_after(db, 0, 10).await?;
    let [a, b] = read.as_slice() else {
        return Err(format!("two events, not {}", read.len()).into());
    };
    assert!(a.seq < b.seq);
    assert_eq!(a.id, first.id.hyphenated().to_string());
    assert_eq!(
        (b.participant.as_str(), b.kind.as_str()),
        ("024", "request.created")
    );
    assert_eq!(b.payload, r#"{"n":2}"#);
    assert_eq!(events::read_after(db, a.seq, 10).await?.len(), 1);
    // Append-only: the database itself refuses a change.
    let update = "UPDATE fps_events SET type = 'x'";
    let refused = match db {
        Database::Sqlite(s) => sqlx::query(update).execute(&s.reader).await.is_err(),
        Database::Postgres(p) => sqlx::query(update).execute(p).await.is_err(),
    };
    assert!(refused, "fps_events refuses updates");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_on_sqlite() -> Result<(), Error> {
    let db = TestDb::sqlite().await?;
    conformance(&db.db).await?;
    db.cleanup().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_on_postgres() -> Result<(), Error> {
    let Some(db) = TestDb::postgres().await? else {
        return Ok(());
    };
    conformance(&db.db).await?;
    db.cleanup().await?;
    println!("store conformance: postgres fps outbox ok");
    Ok(())
}
