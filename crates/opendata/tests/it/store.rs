//! The store's conformance suite, run on SQLite and, when `DATABASE_URL` is set, PostgreSQL.

use bauhinia_core::Localized;
use bauhinia_opendata::domain::{DatasetDraft, OrgKind, Organization};
use bauhinia_opendata::store::Owner;
use bauhinia_opendata::{OpenData, OpendataError};
use bauhinia_store::testing::TestDb;

use crate::domain::{good_draft, good_resource};

fn org(name: &str) -> Organization {
    Organization {
        id: uuid_like(name),
        name: bauhinia_opendata::domain::Name::parse(name).unwrap(),
        kind: OrgKind::Department,
        title: Localized {
            en: "Transport Department".into(),
            zh_hant: "運輸署".into(),
            zh_hans: "运输署".into(),
        },
        description: Localized {
            en: "Roads".into(),
            zh_hant: "道路".into(),
            zh_hans: "道路".into(),
        },
        url: Some("https://www.td.gov.hk".into()),
        created_s: 1_700_000_000,
    }
}

fn uuid_like(seed: &str) -> String {
    format!("00000000-0000-4000-8000-{:0>12}", seed.len())
}

pub fn counter() -> impl FnMut() -> String {
    let mut n = 0_u32;
    move || {
        n += 1;
        format!("{n:08}-0000-4000-8000-000000000000")
    }
}

async fn suite(open: &OpenData) {
    let store = open.store();
    assert_eq!(
        store.groups().await.unwrap().len(),
        19,
        "categories stored at start"
    );

    store
        .insert_organization(&org("hk-td"), "test")
        .await
        .unwrap();
    let again = store.insert_organization(&org("hk-td"), "test").await;
    assert!(matches!(again, Err(OpendataError::Exists(_))), "{again:?}");

    let mut ids = counter();
    let dataset = good_draft()
        .validate(&[good_resource(), good_resource()], &mut ids, 1_700_000_000)
        .unwrap();
    store.insert_dataset(&dataset, "test").await.unwrap();
    assert_eq!(
        store
            .dataset("hk-td-tis-traffic-speed")
            .await
            .unwrap()
            .as_ref(),
        Some(&dataset)
    );
    assert_eq!(
        store.dataset(&dataset.id).await.unwrap().as_ref(),
        Some(&dataset)
    );
    assert_eq!(store.dataset("nothing").await.unwrap(), None);

    // A taken name changes nothing, not even the tags the second dataset would have added.
    let twin = DatasetDraft {
        tags: vec!["only-in-twin".into()],
        ..good_draft()
    }
    .validate(&[], &mut ids, 1_700_000_000)
    .unwrap();
    let taken = store.insert_dataset(&twin, "test").await;
    assert!(matches!(taken, Err(OpendataError::Exists(_))), "{taken:?}");
    // An unknown provider is named, and nothing is written.
    let orphan = DatasetDraft {
        name: "hk-nobody-data".into(),
        organization: "hk-nobody".into(),
        tags: vec!["orphan-tag".into()],
        ..good_draft()
    }
    .validate(&[good_resource()], &mut ids, 1_700_000_000)
    .unwrap();
    match store.insert_dataset(&orphan, "test").await {
        Err(OpendataError::Invalid(faults)) => assert_eq!(faults[0].pointer, "/owner_org"),
        other => panic!("{other:?}"),
    }
    assert_eq!(store.dataset("hk-nobody-data").await.unwrap(), None);

    let private = DatasetDraft {
        name: "hk-td-private-plan".into(),
        tags: vec!["secret plan".into()],
        private: true,
        ..good_draft()
    }
    .validate(&[], &mut ids, 1_700_000_000)
    .unwrap();
    store.insert_dataset(&private, "test").await.unwrap();

    assert_eq!(
        store.package_names(100, 0).await.unwrap(),
        ["hk-td-tis-traffic-speed"]
    );
    assert_eq!(
        store.package_names(100, 1).await.unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        store.package_names(0, 0).await.unwrap(),
        Vec::<String>::new()
    );

    let orgs = store.organizations().await.unwrap();
    assert_eq!(orgs.len(), 1);
    assert_eq!(
        orgs[0].package_count, 1,
        "the private dataset is not counted"
    );
    let by_name = store.organization("hk-td").await.unwrap().unwrap();
    let by_id = store.organization(&by_name.item.id).await.unwrap().unwrap();
    assert_eq!(by_name, by_id);
    assert_eq!(by_name.item, org("hk-td"));

    let transport = store.group("transport").await.unwrap().unwrap();
    assert_eq!(transport.package_count, 1);
    assert_eq!(transport.item.title.zh_hant, "運輸");
    let listed = store
        .public_datasets(Owner::Group(&transport.item.id), 10)
        .await
        .unwrap();
    assert_eq!(listed, std::slice::from_ref(&dataset));
    let listed = store
        .public_datasets(Owner::Organization(&by_name.item.id), 10)
        .await
        .unwrap();
    assert_eq!(listed, std::slice::from_ref(&dataset));

    let tags: Vec<String> = store
        .tags(None)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.as_str().to_owned())
        .collect();
    assert_eq!(
        tags,
        ["traffic", "交通"],
        "no private, refused or orphan tags"
    );
    let found = store.tags(Some("TRAF")).await.unwrap();
    assert_eq!(found.len(), 1);
    assert!(
        store.tags(Some("%")).await.unwrap().is_empty(),
        "LIKE wildcards are literal"
    );
    let of = store.tags_of(&dataset.id).await.unwrap();
    assert_eq!(
        of.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["traffic", "交通"]
    );

    bulk(open, &mut ids).await;

    // Starting again adds no second set of categories. (Its own directory: the first service
    // holds its search index's writer.)
    let dir_again = open.dir().join("again");
    let db_again = OpenData::start(store_db(open), "http://localhost", &dir_again, 0)
        .await
        .unwrap();
    assert_eq!(db_again.store().groups().await.unwrap().len(), 19);
}

/// Many datasets in one transaction (all or none), and every dataset read back in id-ordered
/// batches with its tags' ids, as the search index's rebuild reads them.
async fn bulk(open: &OpenData, ids: &mut impl FnMut() -> String) {
    let store = open.store();
    let draft = |name: &str, org: &str| DatasetDraft {
        name: name.into(),
        organization: org.into(),
        ..good_draft()
    };
    let good = draft("bulk-one", "hk-td")
        .validate(&[good_resource()], &mut *ids, 5)
        .unwrap();
    let bad = draft("bulk-two", "hk-nobody")
        .validate(&[], &mut *ids, 5)
        .unwrap();
    let refused = store.insert_datasets(&[good.clone(), bad], "test").await;
    assert!(
        matches!(refused, Err(OpendataError::Invalid(_))),
        "{refused:?}"
    );
    assert_eq!(
        store.dataset("bulk-one").await.unwrap(),
        None,
        "none of the batch"
    );
    let two = draft("bulk-two", "hk-td")
        .validate(&[], &mut *ids, 6)
        .unwrap();
    store
        .insert_datasets(&[good.clone(), two.clone()], "test")
        .await
        .unwrap();

    let mut read = Vec::new();
    let mut after = String::new();
    loop {
        let batch = store.datasets_after(&after, 2).await.unwrap();
        let Some((last, _)) = batch.last() else { break };
        after = last.id.clone();
        assert!(batch.len() <= 2);
        read.extend(batch);
    }
    let ids_read: Vec<&str> = read.iter().map(|(d, _)| d.id.as_str()).collect();
    let mut sorted = ids_read.clone();
    sorted.sort_unstable();
    assert_eq!(ids_read, sorted, "by id");
    assert_eq!(read.len(), 4, "every dataset, private too");
    for (dataset, tags) in &read {
        assert_eq!(
            Some(dataset),
            store.dataset(&dataset.id).await.unwrap().as_ref()
        );
        assert_eq!(tags, &store.tags_of(&dataset.id).await.unwrap());
    }
    assert!(read.iter().any(|(d, _)| d == &two) && read.iter().any(|(d, _)| d == &good));
}

fn store_db(open: &OpenData) -> &bauhinia_store::Database {
    open.store().db()
}

#[tokio::test]
async fn conformance_sqlite() {
    let test = TestDb::sqlite().await.expect("sqlite test database");
    let open = OpenData::start(&test.db, "http://localhost", &test.files, 1_700_000_000)
        .await
        .unwrap();
    suite(&open).await;
    test.cleanup().await.expect("cleanup");
}

#[tokio::test]
async fn conformance_postgres() {
    let Some(test) = TestDb::postgres().await.expect("postgres test database") else {
        eprintln!(
            "open data store: postgres not run (DATABASE_URL unset; scripts/test always sets it)"
        );
        return;
    };
    let open = OpenData::start(&test.db, "http://localhost", &test.files, 1_700_000_000)
        .await
        .unwrap();
    suite(&open).await;
    test.cleanup().await.expect("cleanup");
    println!("open data store: postgres passed");
}
