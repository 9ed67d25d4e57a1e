//! The participants directory on both dialects: registration, listing, suspension taking effect
//! at once, roles, key rotation, invalid registrations named by field and never half written,
//! and the demo data. Plus a property test of the registration parser.

use bauhinia_core::crypto::{MasterKey, Vault};
use bauhinia_exchange::directory::{
    demo, Directory, DirectoryError, Licence, ParticipantDraft, ParticipantFilter, Role, Status,
    AUTHORISE_CACHE,
};
use bauhinia_identity::jose::{Alg, Jwk};
use bauhinia_store::testing::TestDb;
use bauhinia_store::{read, Database};
use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::PKey;
use proptest::prelude::*;
use serde_json::{json, Value};

type Error = Box<dyn std::error::Error + Send + Sync>;

pub(crate) fn public_jwk(kid: &str) -> Result<Value, Error> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    let key = PKey::from_ec_key(EcKey::generate(&group)?)?;
    let jwk = Jwk::from_key(&key, Some(kid.to_owned()), Some(Alg::ES256))?;
    Ok(serde_json::to_value(jwk)?)
}

pub(crate) fn registration(id: &str, roles: &str, provides: &[&str]) -> Result<Value, Error> {
    Ok(json!({
        "id": id,
        "name": { "en": "Test Bank", "zh_hant": "測試銀行", "zh_hans": "测试银行" },
        "roles": roles,
        "licence": "bank",
        "jwks": { "keys": [public_jwk("k1")?] },
        "provides": provides,
    }))
}

fn pointers(error: DirectoryError) -> Vec<String> {
    match error {
        DirectoryError::Invalid(errors) => errors.into_iter().map(|e| e.pointer).collect(),
        other => vec![format!("not invalid: {other}")],
    }
}

async fn count(db: &Database, table: &str) -> Result<i64, Error> {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    Ok(read!(db, conn => sqlx::query_scalar(&sql).fetch_one(conn).await?))
}

async fn register_and_authorise(dir: &Directory) -> Result<(), Error> {
    let new = ParticipantDraft::from_json(&serde_json::to_vec(&registration(
        "bank-test",
        "both",
        &["iads.balance", "iads.transactions"],
    )?)?)?;
    let p = dir.register(&new, "admin:test").await?;
    assert_eq!(p.status, Status::Active);
    assert_eq!(p.keys.len(), 1);
    assert_eq!(dir.get("bank-test").await?, p);
    assert!(matches!(
        dir.register(&new, "admin:test").await,
        Err(DirectoryError::Exists(_))
    ));

    let consumer = ParticipantDraft::from_json(&serde_json::to_vec(&registration(
        "insurer-test",
        "consumer",
        &[],
    )?)?)?;
    dir.register(&consumer, "admin:test").await?;
    assert!(matches!(
        dir.authorise("insurer-test", Role::Provider).await,
        Err(DirectoryError::WrongRole { .. })
    ));
    assert_eq!(
        dir.authorise("insurer-test", Role::Consumer)
            .await?
            .id
            .as_str(),
        "insurer-test"
    );
    assert!(matches!(
        dir.authorise("nobody", Role::Consumer).await,
        Err(DirectoryError::NotFound(_))
    ));

    dir.authorise("bank-test", Role::Provider).await?;
    dir.verification_key("bank-test", Role::Provider, "k1")
        .await?;
    dir.suspend("bank-test", "test", "admin:test").await?;
    assert!(matches!(
        dir.authorise("bank-test", Role::Provider).await,
        Err(DirectoryError::Suspended(_))
    ));
    assert!(matches!(
        dir.verification_key("bank-test", Role::Provider, "k1")
            .await,
        Err(DirectoryError::Suspended(_))
    ));
    let listed = dir.products().await?;
    let balance = listed
        .iter()
        .find(|p| p.product.id.as_str() == "iads.balance")
        .ok_or("no balance product")?;
    assert!(
        !balance.providers.iter().any(|p| p == "bank-test"),
        "a suspended provider is not listed"
    );
    dir.reactivate("bank-test", "admin:test").await?;
    dir.authorise("bank-test", Role::Consumer).await?;
    let balance = dir.product("iads.balance").await?;
    assert!(balance.providers.iter().any(|p| p == "bank-test"));
    assert!(matches!(
        dir.product("iads.nothing").await,
        Err(DirectoryError::ProductNotFound(_))
    ));

    let suspended = ParticipantFilter {
        status: Some(Status::Suspended),
        ..Default::default()
    };
    assert!(dir.list(&suspended).await?.is_empty());
    let providers = ParticipantFilter {
        role: Some(Role::Provider),
        ..Default::default()
    };
    let ids: Vec<String> = dir
        .list(&providers)
        .await?
        .into_iter()
        .map(|p| p.id.to_string())
        .collect();
    assert_eq!(ids, ["bank-test"]);
    let insurers = ParticipantFilter {
        licence: Some(Licence::VirtualInsurer),
        ..Default::default()
    };
    assert!(dir.list(&insurers).await?.is_empty());

    let audit = dir
        .store()
        .db()
        .audit_for_subject("exchange_participant:bank-test", 100)
        .await?;
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "exchange.participant.register",
            "exchange.participant.suspend",
            "exchange.participant.reactivate"
        ]
    );
    Ok(())
}

async fn rotation(dir: &Directory) -> Result<(), Error> {
    let before = dir.get("bank-test").await?;
    let k1 = serde_json::to_value(&before.keys.first().ok_or("no key")?.jwk)?;
    let k2 = public_jwk("k2")?;
    dir.replace_keys("bank-test", &json!({ "keys": [k2] }), 3600, "admin:test")
        .await?;
    let after = dir.get("bank-test").await?;
    assert_eq!(
        after.jwks(bauhinia_exchange::directory::now_s()).keys.len(),
        2,
        "the old key is in its grace period"
    );
    dir.verification_key("bank-test", Role::Provider, "k1")
        .await?;
    dir.verification_key("bank-test", Role::Provider, "k2")
        .await?;
    // Rotating again with no grace retires k2 at once; k1 stays until its grace ends.
    let k3 = public_jwk("k3")?;
    dir.replace_keys("bank-test", &json!({ "keys": [k3] }), 0, "admin:test")
        .await?;
    assert!(matches!(
        dir.verification_key("bank-test", Role::Provider, "k2")
            .await,
        Err(DirectoryError::UnknownKey { .. })
    ));
    // A kid cannot come back as another key.
    let reused = public_jwk("k1")?;
    assert_ne!(reused, k1);
    assert!(matches!(
        dir.replace_keys("bank-test", &json!({ "keys": [reused] }), 0, "admin:test")
            .await,
        Err(DirectoryError::Invalid(_))
    ));
    Ok(())
}

async fn invalid_registrations(dir: &Directory, db: &Database) -> Result<(), Error> {
    let before = (
        count(db, "exchange_participants").await?,
        count(db, "exchange_participant_keys").await?,
        count(db, "exchange_product_providers").await?,
        count(db, "audit_events").await?,
    );
    let mut with_private = public_jwk("k1")?;
    if let Some(key) = with_private.as_object_mut() {
        key.insert("d".into(), json!("AAAA"));
    }
    let cases: Vec<(Value, &str)> = vec![
        (json!({ "id": "Bad Id" }), "/id"),
        (
            json!({ "name": { "en": "", "zh_hant": "x", "zh_hans": "x" } }),
            "/name/en",
        ),
        (json!({ "roles": "owner" }), "/roles"),
        (json!({ "licence": "casino" }), "/licence"),
        (json!({ "fps_code": "12" }), "/fps_code"),
        (json!({ "jwks": { "keys": [] } }), "/jwks/keys"),
        (
            json!({ "jwks": { "keys": [with_private] } }),
            "/jwks/keys/0/d",
        ),
        (
            json!({ "jwks": { "keys": [{ "kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "r" }] } }),
            "/jwks/keys/0/kty",
        ),
        (json!({ "provides": ["iads.everything"] }), "/provides/0"),
        (
            json!({ "provides": ["cdeg.company_particulars"] }),
            "/provides/0",
        ),
        (
            json!({ "roles": "consumer", "provides": ["iads.balance"] }),
            "/provides",
        ),
        (json!({ "extra": 1 }), "/extra"),
    ];
    for (patch, pointer) in cases {
        let mut body = registration("bank-bad", "both", &["iads.balance"])?;
        if let (Some(body), Some(patch)) = (body.as_object_mut(), patch.as_object()) {
            for (k, v) in patch {
                body.insert(k.clone(), v.clone());
            }
        }
        let error = ParticipantDraft::from_json(&serde_json::to_vec(&body)?)
            .err()
            .ok_or_else(|| format!("{pointer}: accepted"))?;
        let got = pointers(error);
        assert!(got.iter().any(|p| p == pointer), "{pointer}: got {got:?}");
    }
    // A registration the database refuses part-way (the second key's kid is taken by the
    // first) leaves nothing behind.
    let mut new = ParticipantDraft::from_json(&serde_json::to_vec(&registration(
        "bank-half",
        "both",
        &["iads.balance"],
    )?)?)?;
    let again = new.keys.first().cloned().ok_or("no key")?;
    new.keys.push(again);
    assert!(dir.register(&new, "admin:test").await.is_err());
    let after = (
        count(db, "exchange_participants").await?,
        count(db, "exchange_participant_keys").await?,
        count(db, "exchange_product_providers").await?,
        count(db, "audit_events").await?,
    );
    assert_eq!(before, after);
    Ok(())
}

async fn demo_data(db: &Database) -> Result<(), Error> {
    let vault = Vault::new(&MasterKey::generate());
    let dir = Directory::new(db);
    let loaded = demo::load(dir.store(), &vault).await?;
    assert_eq!(loaded, demo::PARTICIPANTS.len());
    assert_eq!(demo::load(dir.store(), &vault).await?, 0, "idempotent");
    let of = |licence| ParticipantFilter {
        licence: Some(licence),
        ..Default::default()
    };
    for (licence, expected) in [
        (Licence::DigitalBank, 8),
        (Licence::VirtualInsurer, 4),
        (Licence::VirtualAssetPlatform, 11),
        (Licence::StoredValueFacility, 15),
    ] {
        assert_eq!(dir.list(&of(licence)).await?.len(), expected, "{licence:?}");
    }
    // Less the two banks the earlier steps registered.
    let banks = dir.list(&of(Licence::Bank)).await?;
    let demo_banks = banks
        .iter()
        .filter(|p| !p.id.as_str().ends_with("-test"))
        .count();
    assert_eq!(demo_banks + 8, 28, "the IADS pilot's banks");
    let hsbc = dir.authorise("bank-004", Role::Provider).await?;
    assert_eq!(hsbc.fps_code.as_deref(), Some("004"));
    assert_eq!(
        hsbc.name.en,
        "The Hongkong and Shanghai Banking Corporation"
    );
    // The sandbox key signs, and the published key verifies it.
    let (kid, key) = demo::signing_key(dir.store(), &vault, "bank-004").await?;
    let signature = bauhinia_identity::jose::sign_raw(Alg::ES256, &key, b"payload")?;
    let (_, public) = dir
        .verification_key("bank-004", Role::Provider, &kid)
        .await?;
    bauhinia_identity::jose::verify_raw(Alg::ES256, &public, b"payload", &signature)?;
    let cr = dir.product("cdeg.company_particulars").await?;
    assert_eq!(cr.providers, ["companies-registry"]);
    Ok(())
}

/// The authorisation cache: requests that find an entry missing or stale wait for one read;
/// this process's changes take effect at once, another node's within `AUTHORISE_CACHE`.
async fn authorisation_cache(dir: &Directory, db: &Database) -> Result<(), Error> {
    let new = ParticipantDraft::from_json(&serde_json::to_vec(&registration(
        "bank-cache-test",
        "both",
        &["iads.balance"],
    )?)?)?;
    dir.register(&new, "admin:test").await?;
    let concurrent = || {
        futures_util::future::join_all(
            (0..32).map(|_| dir.authorised("bank-cache-test", Some(Role::Consumer))),
        )
    };
    for round in 0..2 {
        let before = dir.authorisation_reads();
        for result in concurrent().await {
            assert_eq!(result?.id.as_str(), "bank-cache-test");
        }
        assert_eq!(
            dir.authorisation_reads() - before,
            1,
            "round {round}: one read"
        );
        tokio::time::sleep(AUTHORISE_CACHE + std::time::Duration::from_millis(50)).await;
    }
    // Another node sharing the database suspends it: seen here once the entry expires.
    let other_node = Directory::new(db);
    dir.authorised("bank-cache-test", None).await?;
    other_node
        .suspend("bank-cache-test", "test", "admin:test")
        .await?;
    assert!(matches!(
        other_node.authorised("bank-cache-test", None).await,
        Err(DirectoryError::Suspended(_))
    ));
    assert!(
        dir.authorised("bank-cache-test", None).await.is_ok(),
        "still cached"
    );
    tokio::time::sleep(AUTHORISE_CACHE + std::time::Duration::from_millis(50)).await;
    assert!(matches!(
        dir.authorised("bank-cache-test", None).await,
        Err(DirectoryError::Suspended(_))
    ));
    // This node's own change: at once.
    dir.reactivate("bank-cache-test", "admin:test").await?;
    assert!(dir.authorised("bank-cache-test", None).await.is_ok());
    Ok(())
}

async fn conformance(db: &Database) -> Result<(), Error> {
    let dir = Directory::new(db);
    register_and_authorise(&dir).await?;
    authorisation_cache(&dir, db).await?;
    rotation(&dir).await?;
    invalid_registrations(&dir, db).await?;
    demo_data(db).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_on_sqlite() -> Result<(), Error> {
    let db = TestDb::sqlite().await?;
    conformance(&db.db).await?;
    db.cleanup().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_on_postgres() -> Result<(), Error> {
    let Some(db) = TestDb::postgres().await? else {
        return Ok(());
    };
    conformance(&db.db).await?;
    db.cleanup().await?;
    println!("store conformance: postgres exchange directory ok");
    Ok(())
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        prop::sample::select(vec![
            "id",
            "bank-x",
            "both",
            "bank",
            "EC",
            "P-256",
            "iads.balance"
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "id", "name", "en", "zh_hant", "zh_hans", "roles", "licence", "fps_code",
                    "jwks", "keys", "kty", "crv", "x", "y", "kid", "d", "provides",
                ])
                .prop_map(str::to_owned),
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn the_registration_parser_never_panics(value in json_value(), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = ParticipantDraft::from_json(&bytes);
        let _ = ParticipantDraft::from_json(value.to_string().as_bytes());
    }
}
