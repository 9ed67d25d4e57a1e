//! One conformance suite for every `FundingStore` implementation, run on SQLite always and on
//! PostgreSQL when `DATABASE_URL` is set (the test command always sets it).

use bauhinia_funding::store::{AnyFundingStore, FundingStore};
use bauhinia_funding::{Catalogue, SchemeRecord};
use bauhinia_store::testing::TestDb;
use bauhinia_store::StoreError;

async fn suite(store: &AnyFundingStore) {
    let catalogue = Catalogue::embedded().expect("valid");

    // Empty store: nothing to load, unknown ids have no versions.
    assert!(store.load_latest().await.expect("load").is_none());
    assert!(store
        .versions("new-industrialisation-funding")
        .await
        .expect("versions")
        .is_empty());

    // First import inserts everything; a second changes nothing.
    let versions = catalogue.history().len();
    assert!(
        versions > catalogue.len(),
        "the shipped catalogue carries some history"
    );
    let first = store.import(&catalogue).await.expect("import");
    assert_eq!((first.inserted, first.unchanged), (versions, 0));
    let second = store.import(&catalogue).await.expect("re-import");
    assert_eq!((second.inserted, second.unchanged), (0, versions));

    // What comes back is exactly what went in: the current versions, and the full history.
    let loaded = store.load_latest().await.expect("load").expect("present");
    assert_eq!(loaded.entries(), catalogue.entries());
    assert_eq!(loaded.version, catalogue.version);
    let accel = store
        .versions("new-industrialisation-acceleration")
        .await
        .expect("versions");
    let minimums: Vec<&str> = accel
        .iter()
        .map(|r| r.min_project_cost_hkd.as_str())
        .collect();
    assert_eq!(
        minimums,
        ["300000000", "150000000"],
        "v1 (2024-09) then v2 (2025-11)"
    );

    // Rewriting a published version is refused, and the refused import leaves nothing behind —
    // not even the brand-new scheme that came before the conflict in the same import.
    let mut records: Vec<SchemeRecord> = catalogue
        .entries()
        .iter()
        .map(|e| e.record.clone())
        .collect();
    let mut added = records.first().cloned().expect("non-empty");
    added.id = "aaa-new-scheme".into();
    added.requires_scheme = "not stated".into();
    records.push(added);
    if let Some(nitfs) = records
        .iter_mut()
        .find(|r| r.id == "new-industrialisation-funding")
    {
        nitfs.cap_per_project_hkd = "16000000".into();
    }
    let tampered =
        Catalogue::from_records(catalogue.version.clone(), records.clone()).expect("valid");
    match store.import(&tampered).await {
        Err(StoreError::Conflict(message)) => assert!(
            message.contains("new-industrialisation-funding"),
            "{message}"
        ),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(
        store
            .versions("aaa-new-scheme")
            .await
            .expect("versions")
            .is_empty(),
        "import was not atomic"
    );

    // A new version is appended; the latest wins; history keeps both.
    let mut records: Vec<SchemeRecord> = catalogue
        .entries()
        .iter()
        .map(|e| e.record.clone())
        .collect();
    if let Some(nitfs) = records
        .iter_mut()
        .find(|r| r.id == "new-industrialisation-funding")
    {
        nitfs.version += 1;
        nitfs.cap_per_project_hkd = "16000000".into();
    }
    let next = Catalogue::from_records("2026-12-01".into(), records).expect("valid");
    let report = store.import(&next).await.expect("import new version");
    assert_eq!(report.inserted, 1);
    let latest = store.load_latest().await.expect("load").expect("present");
    assert_eq!(
        latest
            .get("new-industrialisation-funding")
            .map(|e| e.record.cap_per_project_hkd.as_str()),
        Some("16000000")
    );
    assert_eq!(latest.version, "2026-12-01");
    let history = store
        .versions("new-industrialisation-funding")
        .await
        .expect("versions");
    assert_eq!(
        history.iter().map(|r| r.version).collect::<Vec<_>>(),
        vec![2, 3]
    );
}

#[tokio::test]
async fn conformance_sqlite() {
    let test = TestDb::sqlite().await.expect("sqlite test database");
    suite(&AnyFundingStore::new(&test.db)).await;
    test.cleanup().await.expect("cleanup");
}

#[tokio::test]
async fn conformance_postgres() {
    let Some(test) = TestDb::postgres().await.expect("postgres test database") else {
        eprintln!(
            "store conformance: postgres not run (DATABASE_URL unset; scripts/test always sets it)"
        );
        return;
    };
    suite(&AnyFundingStore::new(&test.db)).await;
    test.cleanup().await.expect("cleanup");
    println!("store conformance: postgres passed");
}
