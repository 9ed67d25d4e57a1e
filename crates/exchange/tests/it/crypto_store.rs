//! The replay ledger and the gateway's signing keys on both dialects: one conformance function
//! each, run by a test per dialect.

use std::sync::Arc;

use bauhinia_core::crypto::{MasterKey, Vault};
use bauhinia_exchange::crypto::jws::{Verified, MAX_SKEW_S};
use bauhinia_exchange::crypto::keys::{GatewayKeys, KeyError, RETIRED_KEY_GRACE_S, TYP};
use bauhinia_exchange::crypto::replay::{self, Recorded};
use bauhinia_store::testing::TestDb;
use bauhinia_store::{write_tx, Database, StoreError};

use crate::Error;

fn verified(kid: &str, jti: &str, iat: i64) -> Verified {
    Verified {
        kid: kid.into(),
        jti: jti.into(),
        iat,
    }
}

async fn seen_rows(db: &Database) -> Result<i64, StoreError> {
    Ok(bauhinia_store::read!(db, conn => sqlx::query_scalar(
        "SELECT COUNT(*) FROM exchange_seen_requests"
    )
    .fetch_one(conn)
    .await?))
}

/// Records `verified` twice in one transaction, then fails, as a caller's later step might.
async fn record_then_fail(db: &Database, verified: &Verified, now: i64) -> Result<(), StoreError> {
    write_tx!(db, tx, _audit => {
        assert_eq!(replay::record(&mut *tx, verified, now).await?, Recorded::Fresh);
        assert_eq!(replay::record(&mut *tx, verified, now).await?, Recorded::Replayed);
        Err(StoreError::Conflict("the caller gives up".into()))?;
    });
    Ok(())
}

async fn replay_conformance(db: &Database) -> Result<(), Error> {
    let now = 1_800_000_000;
    let first = verified("bank-004-k1", "jti-1", now);
    assert_eq!(replay::record_once(db, &first, now).await?, Recorded::Fresh);
    assert_eq!(
        replay::record_once(db, &first, now + 10).await?,
        Recorded::Replayed
    );
    // The same jti from another key, and another jti from the same key, are new.
    let other_key = verified("bank-012-k1", "jti-1", now);
    assert_eq!(
        replay::record_once(db, &other_key, now).await?,
        Recorded::Fresh
    );
    let other_jti = verified("bank-004-k1", "jti-2", now);
    assert_eq!(
        replay::record_once(db, &other_jti, now).await?,
        Recorded::Fresh
    );

    // Inside the caller's transaction: a replay found there rolls back with the caller's work.
    let in_tx = verified("bank-004-k1", "jti-3", now);
    assert!(record_then_fail(db, &in_tx, now).await.is_err());
    assert_eq!(
        replay::record_once(db, &in_tx, now).await?,
        Recorded::Fresh,
        "rolled back"
    );

    // A row whose window has passed (not yet purged) does not block a new request.
    let later = now + MAX_SKEW_S + 1;
    assert_eq!(
        replay::record_once(db, &verified("bank-004-k1", "jti-1", later), later).await?,
        Recorded::Fresh
    );
    assert_eq!(
        replay::record_once(db, &verified("bank-004-k1", "jti-1", later), later).await?,
        Recorded::Replayed
    );
    // An iat at the very edge of the window still blocks a replay within the same second.
    let edge = verified("bank-004-k1", "jti-edge", now - MAX_SKEW_S);
    assert_eq!(replay::record_once(db, &edge, now).await?, Recorded::Fresh);
    assert_eq!(
        replay::record_once(db, &edge, now).await?,
        Recorded::Replayed
    );

    assert_eq!(seen_rows(db).await?, 5);
    assert_eq!(replay::purge_expired(db, now + MAX_SKEW_S).await?, 4);
    assert_eq!(seen_rows(db).await?, 1, "the row of `later` remains");
    assert_eq!(replay::purge_expired(db, later + MAX_SKEW_S).await?, 1);
    Ok(())
}

async fn keys_conformance(db: &Database) -> Result<(), Error> {
    let vault = Arc::new(Vault::new(&MasterKey::generate()));
    let keys = GatewayKeys::load(db, vault.clone()).await?;
    let (first_kid, _) = keys.active()?;
    assert_eq!(keys.jwks().keys.len(), 1);
    let claims = serde_json::json!({"consent_id": "c-1", "status": "ACTIVE", "名": "陳大文"});
    let token = keys.sign_compact(&claims)?;
    assert_eq!(keys.verify_compact(&token)?, claims);

    // Every altered byte is detected (or makes the token unreadable).
    let bytes = token.as_bytes();
    for i in 0..bytes.len() {
        for flip in [0x01u8, 0x20] {
            let mut changed = bytes.to_vec();
            if let Some(byte) = changed.get_mut(i) {
                *byte ^= flip;
            }
            let Ok(changed) = String::from_utf8(changed) else {
                continue;
            };
            assert!(
                matches!(keys.verify_compact(&changed), Err(KeyError::NotOurs)),
                "byte {i} ^ {flip:#x} was not detected"
            );
        }
    }
    assert!(keys.verify_compact(&format!("{token}x")).is_err());

    // A second start loads the same key instead of making one.
    let again = GatewayKeys::load(db, vault.clone()).await?;
    assert_eq!(again.active()?.0, first_kid);
    assert_eq!(again.verify_compact(&token)?, claims);

    // Another installation's vault cannot open the key.
    let stranger = Arc::new(Vault::new(&MasterKey::generate()));
    assert!(matches!(
        GatewayKeys::load(db, stranger).await,
        Err(KeyError::Sealed(_))
    ));

    // Rotation: the new key signs, the old one stays published and verifying.
    let second_kid = keys.rotate("admin:ops").await?;
    assert_ne!(second_kid, first_kid);
    assert_eq!(keys.active()?.0, second_kid);
    let kids: Vec<_> = keys
        .jwks()
        .keys
        .iter()
        .filter_map(|k| k.kid.clone())
        .collect();
    assert!(
        kids.contains(&first_kid) && kids.contains(&second_kid),
        "{kids:?}"
    );
    assert_eq!(keys.verify_compact(&token)?, claims);
    let newer = keys.sign_compact(&claims)?;
    assert!(newer.starts_with(&bauhinia_identity::jose::b64(
        format!(r#"{{"alg":"ES256","typ":"{TYP}","kid":"{second_kid}"}}"#).as_bytes()
    )));
    again.reload().await?;
    assert_eq!(
        again.verify_compact(&newer)?,
        claims,
        "another node after reload"
    );

    // The rotation is audited, the old key is retired with its grace period, one is active.
    let audit = db
        .audit_for_subject(&format!("exchange_key:{second_kid}"), 10)
        .await?;
    let [event] = audit.as_slice() else {
        return Err(format!("one audit event, not {}", audit.len()).into());
    };
    assert_eq!(event.action, "exchange.signing_key.rotate");
    assert_eq!(event.actor, "admin:ops");
    let rows: Vec<(String, String, Option<i64>, Option<i64>)> = bauhinia_store::read!(db, conn =>
        sqlx::query_as("SELECT kid, status, retired_at_s, expires_at_s FROM exchange_keys ORDER BY created_at_s, status DESC")
            .fetch_all(conn)
            .await?);
    let retired = rows.iter().find(|r| r.0 == first_kid).ok_or("first key")?;
    assert_eq!(retired.1, "retired");
    assert_eq!(
        retired.3.zip(retired.2).map(|(e, r)| e - r),
        Some(RETIRED_KEY_GRACE_S)
    );
    assert_eq!(rows.iter().filter(|r| r.1 == "active").count(), 1);

    // Past its grace period a retired key leaves the JWKS and verifies nothing.
    let past = retired.2.ok_or("retired_at")? - RETIRED_KEY_GRACE_S - 1;
    write_tx!(db, tx, _audit => {
        sqlx::query("UPDATE exchange_keys SET expires_at_s = $1 WHERE kid = $2")
            .bind(past)
            .bind(&first_kid)
            .execute(&mut *tx)
            .await?;
    });
    keys.reload().await?;
    assert_eq!(keys.jwks().keys.len(), 1);
    assert!(matches!(
        keys.verify_compact(&token),
        Err(KeyError::NotOurs)
    ));
    assert_eq!(keys.verify_compact(&newer)?, claims);
    Ok(())
}

#[tokio::test]
async fn replay_ledger_on_sqlite() -> Result<(), Error> {
    let db = TestDb::sqlite().await?;
    replay_conformance(&db.db).await?;
    db.cleanup().await?;
    Ok(())
}

#[tokio::test]
async fn replay_ledger_on_postgres() -> Result<(), Error> {
    let Some(db) = TestDb::postgres().await? else {
        return Ok(());
    };
    replay_conformance(&db.db).await?;
    db.cleanup().await?;
    println!("store conformance: postgres exchange replay ledger ok");
    Ok(())
}

#[tokio::test]
async fn gateway_keys_on_sqlite() -> Result<(), Error> {
    let db = TestDb::sqlite().await?;
    keys_conformance(&db.db).await?;
    db.cleanup().await?;
    Ok(())
}

#[tokio::test]
async fn gateway_keys_on_postgres() -> Result<(), Error> {
    let Some(db) = TestDb::postgres().await? else {
        return Ok(());
    };
    keys_conformance(&db.db).await?;
    db.cleanup().await?;
    println!("store conformance: postgres exchange gateway keys ok");
    Ok(())
}
