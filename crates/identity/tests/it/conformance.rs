//! One suite, run on SQLite always and on PostgreSQL when `DATABASE_URL` is set (the test
//! command always sets it): registration, HKID protection, duplicates, audit, append-only log.

use std::sync::Arc;

use bauhinia_core::crypto::{MasterKey, Vault};
use bauhinia_identity::domain::{Hkid, ResidentDraft};
use bauhinia_identity::{IdentityError, IdentityService};
use bauhinia_store::testing::TestDb;
use bauhinia_store::Database;

fn today() -> time::Date {
    time::Date::from_calendar_date(2026, time::Month::November, 23).expect("date")
}

/// id, English name, date of birth, lookup hash, sealed HKID.
type RawRow = (String, String, String, Vec<u8>, Vec<u8>);

/// Every text and blob column of the residents table, as bytes, for "is it in clear?" checks.
async fn raw_resident_bytes(db: &Database) -> Vec<u8> {
    let sql =
        "SELECT id, english_name, date_of_birth, hkid_lookup, hkid_sealed FROM identity_residents";
    let rows: Vec<RawRow> = match db {
        Database::Sqlite(db) => sqlx::query_as(sql)
            .fetch_all(&db.reader)
            .await
            .expect("rows"),
        Database::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await.expect("rows"),
    };
    rows.into_iter()
        .flat_map(|(a, b, c, d, e)| [a.into_bytes(), b.into_bytes(), c.into_bytes(), d, e].concat())
        .collect()
}

async fn try_rewrite_audit(db: &Database) -> Result<(), sqlx::Error> {
    match db {
        Database::Sqlite(db) => sqlx::query("UPDATE audit_events SET actor = 'mallory'")
            .execute(&mut *db.write().await.unwrap())
            .await
            .map(drop),
        Database::Postgres(pool) => sqlx::query("UPDATE audit_events SET actor = 'mallory'")
            .execute(pool)
            .await
            .map(drop),
    }
}

async fn try_delete_audit(db: &Database) -> Result<(), sqlx::Error> {
    match db {
        Database::Sqlite(db) => sqlx::query("DELETE FROM audit_events")
            .execute(&mut *db.write().await.unwrap())
            .await
            .map(drop),
        Database::Postgres(pool) => sqlx::query("DELETE FROM audit_events")
            .execute(pool)
            .await
            .map(drop),
    }
}

async fn suite(db: &Database) {
    let vault = Arc::new(Vault::new(&MasterKey::generate()));
    let service = IdentityService::new(db, Arc::clone(&vault));
    let drafts = bauhinia_identity::demo::residents();
    assert_eq!(drafts.len(), 5);
    let mut ids = Vec::new();
    for draft in &drafts {
        let resident = service
            .register(draft, "system:test", today())
            .await
            .expect("register");
        ids.push(resident.id);
    }
    assert_eq!(service.count().await.expect("count"), 5);

    // A bulk import is all or nothing: one HKID already registered rejects the whole batch.
    let mut batch: Vec<ResidentDraft> = (0..3)
        .map(|i| ResidentDraft {
            hkid: Hkid::from_parts("Z", [6, 8, 5, 3, 9, i])
                .expect("hkid")
                .expose(),
            ..drafts[1].clone()
        })
        .collect();
    batch.push(drafts[0].clone());
    assert!(matches!(
        service.import(&batch, "system:test", today()).await,
        Err(IdentityError::AlreadyRegistered)
    ));
    assert_eq!(
        service.count().await.expect("count"),
        5,
        "nothing of the batch was written"
    );
    batch.pop();
    assert_eq!(
        service
            .import(&batch, "system:test", today())
            .await
            .expect("import"),
        3
    );
    assert_eq!(service.count().await.expect("count"), 8);
    let mut invalid = batch.clone();
    invalid[1].hkid = "A123456(7)".into();
    let Err(IdentityError::Invalid(errors)) =
        service.import(&invalid, "system:test", today()).await
    else {
        panic!("an invalid draft is named");
    };
    assert!(errors.iter().any(|e| e.pointer == "/1/hkid"), "{errors:?}");

    // Found by HKID; the HKID comes back only as a mask, and in full only by release.
    let first = &drafts[0];
    let hkid = Hkid::parse(&first.hkid).expect("valid");
    let found = service
        .find_by_hkid(&hkid)
        .await
        .expect("find")
        .expect("present");
    assert_eq!(found.english_name, "CHAN, Tai Man");
    assert_eq!(found.hkid_masked, hkid.masked());
    assert_eq!(
        service.release_hkid(&found.id).await.expect("release"),
        hkid
    );
    assert_eq!(
        service
            .resident(&found.id)
            .await
            .expect("get")
            .chinese_name
            .as_deref(),
        Some("陳大文")
    );
    assert!(service
        .find_by_hkid(&Hkid::from_parts("Z", [9, 9, 9, 9, 9, 9]).expect("valid"))
        .await
        .expect("find")
        .is_none());

    // Never in clear: neither "A123456(3)" nor "A1234563" appears in any stored column.
    let raw = raw_resident_bytes(db).await;
    for needle in [hkid.expose(), hkid.expose().replace(['(', ')'], "")] {
        assert!(
            !raw.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "HKID stored in clear"
        );
    }

    // A second registration of the same HKID is refused and writes nothing, not even audit.
    let before = db
        .audit_for_subject(&format!("resident:{}", found.id), 100)
        .await
        .expect("audit")
        .len();
    let again = ResidentDraft {
        english_name: "CHAN, Someone Else".into(),
        ..first.clone()
    };
    assert!(matches!(
        service.register(&again, "system:test", today()).await,
        Err(IdentityError::AlreadyRegistered)
    ));
    assert_eq!(service.count().await.expect("count"), 8);
    assert_eq!(
        db.audit_for_subject(&format!("resident:{}", found.id), 100)
            .await
            .expect("audit")
            .len(),
        before
    );

    // Invalid input names the fields and writes nothing.
    let bad = ResidentDraft {
        hkid: "A123456(4)".into(),
        gender: "?".into(),
        ..first.clone()
    };
    match service.register(&bad, "system:test", today()).await {
        Err(IdentityError::Invalid(errors)) => {
            let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
            assert_eq!(pointers, ["/hkid", "/gender"]);
        }
        other => panic!("expected invalid, got {other:?}"),
    }

    // Each registration has exactly one audit event, with the HKID masked.
    for id in &ids {
        let events = db
            .audit_for_subject(&format!("resident:{id}"), 100)
            .await
            .expect("audit");
        assert_eq!(events.len(), 1, "{id}");
        let event = &events[0];
        assert_eq!(
            (
                event.action.as_str(),
                event.outcome.as_str(),
                event.actor.as_str()
            ),
            ("identity.resident.register", "success", "system:test")
        );
        assert!(event.detail.contains("***(*)") && !event.detail.contains(&hkid.expose()));
    }

    // The audit log cannot be rewritten or erased.
    assert!(
        try_rewrite_audit(db).await.is_err(),
        "audit rows must not be updatable"
    );
    assert!(
        try_delete_audit(db).await.is_err(),
        "audit rows must not be deletable"
    );

    // With another master key the sealed HKIDs do not open: keys at rest matter.
    let stranger = IdentityService::new(db, Arc::new(Vault::new(&MasterKey::generate())));
    assert!(matches!(
        stranger.release_hkid(&found.id).await,
        Err(IdentityError::Corrupt(..))
    ));
    assert!(
        stranger.find_by_hkid(&hkid).await.expect("find").is_none(),
        "lookup hashes are keyed"
    );
}

#[tokio::test]
async fn identity_sqlite() {
    let test = TestDb::sqlite().await.expect("sqlite");
    suite(&test.db).await;
    test.cleanup().await.expect("cleanup");
}

#[tokio::test]
async fn identity_postgres() {
    let Some(test) = TestDb::postgres().await.expect("postgres test database") else {
        eprintln!("store conformance: postgres (identity) not run (DATABASE_URL unset; scripts/test always sets it)");
        return;
    };
    suite(&test.db).await;
    test.cleanup().await.expect("cleanup");
    println!("store conformance: postgres (identity) passed");
}
