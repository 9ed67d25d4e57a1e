//! The addressing service on both databases (SQLite always; PostgreSQL when `DATABASE_URL` is
//! set, required by the test command): registration and the default rule, changes, removal
//! (FPS IDs retired), lookups and their permissions, the bulk import with FPS ID redraws, and
//! that no proxy, account reference or name reaches a row or an audit event in clear.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bauhinia_core::crypto::{MasterKey, Vault};
use bauhinia_fps::proxy::service::BulkAnswer;
use bauhinia_fps::proxy::store::NewRow;
use bauhinia_fps::proxy::{
    AccountReference, Consent, ConsentChannel, ImportRow, LookupMode, LookupPurpose, ProxyChange,
    ProxyError, ProxyKey, ProxyKind, ProxyService, ProxyStatus, Registration,
};
use bauhinia_fps::switch::{Participant, ParticipantCode, ParticipantKind, Switch};
use bauhinia_store::audit::AuditEvent;
use bauhinia_store::testing::TestDb;
use bauhinia_store::{Database, StoreError};

type Error = Box<dyn std::error::Error + Send + Sync>;

const NOW: i64 = 1_770_000_000;

fn code(text: &str) -> Result<ParticipantCode, Error> {
    ParticipantCode::parse(text).ok_or_else(|| format!("bad code {text}").into())
}

fn key(kind: ProxyKind, text: &str) -> Result<ProxyKey, Error> {
    Ok(ProxyKey::parse(kind, text)?)
}

fn consent() -> Result<Consent, Error> {
    Consent::new(NOW, "v3", ConsentChannel::MobileApp, NOW + 1000)
        .map_err(|(f, why)| format!("{f}: {why}").into())
}

fn registration(
    kind: ProxyKind,
    text: Option<&str>,
    account: &str,
    name: &str,
    set_default: bool,
) -> Result<Registration, Error> {
    Ok(Registration {
        kind,
        key: text.map(|t| key(kind, t)).transpose()?,
        account: AccountReference::parse(account)?,
        display_name: name.to_owned(),
        consent: consent()?,
        set_default,
    })
}

pub async fn service(db: &Database) -> Result<(Arc<Switch>, ProxyService), Error> {
    let switch = Switch::start(db.clone()).await?;
    for (c, name) in [("004", "Bank A"), ("012", "Bank B"), ("024", "Bank C")] {
        switch
            .register(
                Participant {
                    code: code(c)?,
                    name_en: name.into(),
                    name_zh_hant: name.into(),
                    name_zh_hans: name.into(),
                    kind: ParticipantKind::Bank,
                    active: true,
                },
                "test",
            )
            .await?;
    }
    let vault = Arc::new(Vault::new(&MasterKey::generate()));
    let proxies = ProxyService::new(db, vault, Arc::clone(&switch));
    Ok((switch, proxies))
}

async fn lookup(
    proxies: &ProxyService,
    caller: &str,
    k: &ProxyKey,
) -> Result<Option<(String, String, Option<String>)>, Error> {
    Ok(proxies
        .lookup(code(caller)?, k, LookupPurpose::P2p, LookupMode::Single)
        .await?
        .map(|f| (f.participant.as_str(), f.masked_name, f.account)))
}

async fn registration_and_default(proxies: &ProxyService) -> Result<(), Error> {
    let (a, b) = (code("004")?, code("012")?);
    let mobile = key(ProxyKind::Mobile, "9123 4567")?;
    let first = proxies
        .register(
            a,
            registration(
                ProxyKind::Mobile,
                Some("+852 9123 4567"),
                "A-001",
                "CHAN Tai Man",
                false,
            )?,
        )
        .await?;
    assert!(first.is_default && first.replaced.is_none());
    assert_eq!(first.masked_name, "CHAN T** M**");
    assert_eq!(first.key.canonical(), "+852-91234567");
    // Another participant sees the participant and the mask, never the account reference.
    assert_eq!(
        lookup(proxies, "012", &mobile).await?,
        Some(("004".into(), "CHAN T** M**".into(), None))
    );
    assert_eq!(
        lookup(proxies, "004", &mobile).await?,
        Some(("004".into(), "CHAN T** M**".into(), Some("A-001".into())))
    );
    // One registration per participant.
    let again = proxies
        .register(
            a,
            registration(ProxyKind::Mobile, Some("91234567"), "A-002", "CHAN", true)?,
        )
        .await;
    assert!(matches!(again, Err(ProxyError::Exists)), "{again:?}");
    // At another participant without set_default: registered, not the default.
    let second = proxies
        .register(
            b,
            registration(ProxyKind::Mobile, Some("91234567"), "B-9", "陳大文", false)?,
        )
        .await?;
    assert!(!second.is_default);
    assert_eq!(
        lookup(proxies, "024", &mobile).await?.map(|f| f.0),
        Some("004".into())
    );
    // The customer moves the default.
    let moved = proxies
        .change(
            b,
            &mobile,
            ProxyChange {
                set_default: Some(true),
                ..ProxyChange::default()
            },
        )
        .await?;
    assert!(moved.is_default);
    assert_eq!(moved.replaced, Some(a));
    assert_eq!(
        lookup(proxies, "024", &mobile).await?,
        Some(("012".into(), "陳*文".into(), None))
    );
    // Removing the default promotes nothing: the customer chooses again.
    proxies.remove(b, &mobile).await?;
    assert_eq!(lookup(proxies, "024", &mobile).await?, None);
    assert!(matches!(
        proxies.remove(b, &mobile).await,
        Err(ProxyError::NotFound)
    ));
    let own = proxies.registration(a, &mobile).await?;
    assert!(!own.is_default);
    proxies
        .change(
            a,
            &mobile,
            ProxyChange {
                set_default: Some(true),
                account: Some(AccountReference::parse("A-777")?),
                display_name: Some("CHAN Siu Ming".into()),
                ..ProxyChange::default()
            },
        )
        .await?;
    assert_eq!(
        lookup(proxies, "004", &mobile).await?,
        Some(("004".into(), "CHAN S** M**".into(), Some("A-777".into())))
    );
    // Suspended: not found until active again.
    for (status, found) in [(ProxyStatus::Suspended, false), (ProxyStatus::Active, true)] {
        proxies
            .change(
                a,
                &mobile,
                ProxyChange {
                    status: Some(status),
                    ..ProxyChange::default()
                },
            )
            .await?;
        assert_eq!(lookup(proxies, "012", &mobile).await?.is_some(), found);
    }
    let nobody = key(ProxyKind::Email, "nobody@example.hk")?;
    assert!(matches!(
        proxies.change(a, &nobody, ProxyChange::default()).await,
        Err(ProxyError::NotFound)
    ));
    Ok(())
}

async fn fps_ids_and_hkids(db: &Database, proxies: &ProxyService) -> Result<(), Error> {
    let c = code("024")?;
    let issued = proxies
        .register(
            c,
            registration(ProxyKind::FpsId, None, "C-1", "LEE Ka Yan", false)?,
        )
        .await?;
    let id = issued.key.clone();
    assert_eq!(id.kind(), ProxyKind::FpsId);
    assert_eq!(id.canonical().len(), 9);
    assert!(issued.is_default);
    assert_eq!(
        lookup(proxies, "004", &id).await?.map(|f| f.1),
        Some("LEE K** Y**".into())
    );
    // A client cannot choose an FPS ID.
    let chosen = proxies
        .register(
            c,
            registration(ProxyKind::FpsId, Some("123456782"), "C-2", "LEE", false)?,
        )
        .await;
    assert!(matches!(chosen, Err(ProxyError::Invalid(_))), "{chosen:?}");
    let before = proxies.store().count().await?;
    proxies.remove(c, &id).await?;
    assert_eq!(lookup(proxies, "004", &id).await?, None);
    assert!(matches!(
        proxies.registration(c, &id).await,
        Err(ProxyError::NotFound)
    ));
    // Retired, not deleted: the row keeps the ID from being issued again.
    assert_eq!(proxies.store().count().await?, before);
    let hash = proxies.key_hash(&id);
    let retired = proxies.store().default_of(&hash).await?;
    assert_eq!(retired.map(|r| r.status), Some(ProxyStatus::Removed));

    let hkid = key(ProxyKind::Hkid, "A123456(3)")?;
    proxies
        .register(
            code("004")?,
            registration(
                ProxyKind::Hkid,
                Some("a1234563"),
                "A-PAY",
                "WONG Siu Ling",
                false,
            )?,
        )
        .await?;
    for (purpose, mode) in [
        (LookupPurpose::Payroll, LookupMode::Single),
        (LookupPurpose::P2p, LookupMode::Single),
    ] {
        let refused = proxies.lookup(c, &hkid, purpose, mode).await;
        assert!(
            matches!(refused, Err(ProxyError::Forbidden(_))),
            "{refused:?}"
        );
    }
    let keys = vec![
        Ok(hkid.clone()),
        ProxyKey::parse(ProxyKind::Mobile, "21234567"),
        Ok(key(ProxyKind::Email, "none@example.hk")?),
        Ok(key(ProxyKind::Mobile, "91234567")?),
    ];
    let payroll = proxies
        .lookup_many(c, &keys, LookupPurpose::Payroll)
        .await?;
    assert!(
        matches!(payroll.first(), Some(BulkAnswer::Found(f)) if f.masked_name == "WONG S** L**" && f.account.is_none())
    );
    assert!(matches!(payroll.get(1), Some(BulkAnswer::Invalid(_))));
    assert_eq!(payroll.get(2), Some(&BulkAnswer::NotFound));
    assert!(matches!(payroll.get(3), Some(BulkAnswer::Found(_))));
    let p2p = proxies.lookup_many(c, &keys, LookupPurpose::P2p).await?;
    assert!(matches!(p2p.first(), Some(BulkAnswer::Forbidden(_))));
    assert!(matches!(p2p.get(3), Some(BulkAnswer::Found(_))));
    // No clear proxy, account reference or name anywhere in the table or the audit log.
    let table = dump(
        db,
        "SELECT key_hash, account_sealed, masked_name FROM fps_proxies",
    )
    .await?;
    let audit = dump(
        db,
        "SELECT detail FROM audit_events WHERE action LIKE 'fps.proxy.%'",
    )
    .await?;
    assert!(audit.len() > 100, "the proxy changes are audited");
    for clear in [
        "91234567", "A123456", "a1234563", "A-001", "A-777", "A-PAY", "C-1", "Tai Man", "Siu Ling",
        "大文",
    ] {
        for (what, text) in [("row", &table), ("audit", &audit)] {
            assert!(
                !text.windows(clear.len()).any(|w| w == clear.as_bytes()),
                "{clear} in clear in a {what}"
            );
        }
    }
    Ok(())
}

/// Every byte of a query's text and blob columns, concatenated.
async fn dump(db: &Database, sql: &str) -> Result<Vec<u8>, Error> {
    use sqlx::{Column, Row, TypeInfo};
    let sql = sql.replace("detail FROM", "CAST(detail AS TEXT) AS detail FROM");
    let mut out = Vec::new();
    macro_rules! collect {
        ($rows:expr) => {
            for row in $rows {
                for (i, column) in row.columns().iter().enumerate() {
                    let blob = matches!(column.type_info().name(), "BLOB" | "BYTEA");
                    if blob {
                        out.extend(row.try_get::<Vec<u8>, _>(i)?);
                    } else {
                        out.extend(row.try_get::<String, _>(i)?.into_bytes());
                    }
                }
            }
        };
    }
    match db {
        Database::Sqlite(s) => collect!(sqlx::query(&sql).fetch_all(&s.reader).await?),
        Database::Postgres(p) => collect!(sqlx::query(&sql).fetch_all(p).await?),
    }
    Ok(out)
}

fn import_row(participant: &str, kind: ProxyKind, text: Option<&str>) -> Result<ImportRow, Error> {
    Ok(ImportRow {
        participant: code(participant)?,
        kind,
        key: text.map(|t| key(kind, t)).transpose()?,
        account: AccountReference::parse("IMP-1")?,
        display_name: "HO Chi Kit".into(),
        consent: consent()?,
    })
}

async fn import(proxies: &ProxyService) -> Result<(), Error> {
    let hkid = bauhinia_core::Hkid::from_parts("B", [9, 8, 7, 6, 5, 4])?;
    let rows = vec![
        import_row("004", ProxyKind::Mobile, Some("51234567"))?,
        import_row("012", ProxyKind::Email, Some("Ho.Chi.Kit@Example.HK"))?,
        import_row("024", ProxyKind::FpsId, None)?,
        import_row("024", ProxyKind::Hkid, Some(&hkid.expose()))?,
    ];
    let keys = proxies.import(rows, "system:test").await?;
    assert_eq!(keys.len(), 4);
    for (k, participant) in keys.iter().zip(["004", "012", "024", "024"]) {
        let found = proxies
            .lookup(code("004")?, k, LookupPurpose::Payroll, LookupMode::Bulk)
            .await?
            .ok_or("imported proxy not found")?;
        assert_eq!(found.participant.as_str(), participant);
        assert_eq!(found.masked_name, "HO C** K**");
    }
    // All or nothing: one clash and nothing of the import is written.
    let before = proxies.store().count().await?;
    let clash = vec![
        import_row("004", ProxyKind::Mobile, Some("71234567"))?,
        import_row("012", ProxyKind::Mobile, Some("51234567"))?,
    ];
    assert!(matches!(
        proxies.import(clash, "system:test").await,
        Err(ProxyError::Invalid(_))
    ));
    assert_eq!(proxies.store().count().await?, before);
    let fresh = key(ProxyKind::Mobile, "71234567")?;
    assert_eq!(lookup(proxies, "004", &fresh).await?, None);
    Ok(())
}

/// The store draws again for an FPS ID that is already taken, inside the import.
async fn import_redraws_a_taken_fps_id(proxies: &ProxyService) -> Result<(), Error> {
    let c = code("012")?;
    let taken = proxies
        .register(c, registration(ProxyKind::FpsId, None, "B-1", "NG", false)?)
        .await?
        .key;
    let fresh = key(ProxyKind::FpsId, "1234567")?;
    let fresh_hash = proxies.key_hash(&fresh);
    let row = NewRow {
        key_hash: proxies.key_hash(&taken),
        kind: ProxyKind::FpsId,
        participant: c,
        account_sealed: vec![1, 2, 3],
        masked_name: "NG".into(),
        consent: consent()?,
        now_s: NOW,
    };
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let redraw = Arc::new(
        move |i: usize, row: &NewRow| -> Result<NewRow, StoreError> {
            assert_eq!(i, 0);
            counted.fetch_add(1, Ordering::Relaxed);
            Ok(NewRow {
                key_hash: fresh_hash,
                ..row.clone()
            })
        },
    );
    let event = AuditEvent {
        actor: "system:test".into(),
        action: "fps.proxy.import",
        subject: "fps.proxies".into(),
        outcome: bauhinia_store::audit::Outcome::Success,
        detail: serde_json::json!({ "rows": 1 }),
        request_id: None,
    };
    let written = proxies.store().import(vec![row], redraw, event).await?;
    assert_eq!(calls.load(Ordering::Relaxed), 1);
    assert_eq!(written.first().map(|r| r.key_hash), Some(fresh_hash));
    assert!(proxies.store().default_of(&fresh_hash).await?.is_some());
    Ok(())
}

async fn conformance(db: &Database) -> Result<(), Error> {
    let (_switch, proxies) = service(db).await?;
    registration_and_default(&proxies).await?;
    fps_ids_and_hkids(db, &proxies).await?;
    import(&proxies).await?;
    import_redraws_a_taken_fps_id(&proxies).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxies_on_sqlite() -> Result<(), Error> {
    let db = TestDb::sqlite().await?;
    conformance(&db.db).await?;
    db.cleanup().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxies_on_postgres() -> Result<(), Error> {
    let Some(db) = TestDb::postgres().await? else {
        return Ok(());
    };
    conformance(&db.db).await?;
    db.cleanup().await?;
    println!("store conformance: postgres fps proxies ok");
    Ok(())
}
