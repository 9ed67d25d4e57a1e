//! The exchange started as the binary starts it: the demo directory, consents whose artefacts
//! the gateway's published keys sign, and housekeeping that signs the chain's head.

use std::sync::Arc;

use bauhinia_core::crypto::{MasterKey, Vault};
use bauhinia_exchange::consent::domain::{OwnerAction, ParticipantId, Status};
use bauhinia_exchange::{chain, Exchange};
use bauhinia_store::testing::TestDb;
use bauhinia_store::Database;
use serde_json::json;

use super::consents::{id, owner, request, NOW, OWNER};
use crate::Error;

async fn started(db: &Database) -> Result<(), Error> {
    let vault = Arc::new(Vault::new(&MasterKey::generate()));
    let exchange = Exchange::start(db, Arc::clone(&vault), "https://portal.example.hk/").await?;
    let participants = exchange.load_demo(&vault).await?;
    assert!(participants >= 60, "{participants} demo participants");
    // Again: nothing doubles.
    assert_eq!(exchange.load_demo(&vault).await?, 0);

    let consumer = id(ParticipantId::parse, "bank-024")?;
    let c = exchange
        .consents()
        .request(&consumer, &request(json!({ "resident": OWNER }), 2), NOW)
        .await?;
    let active = exchange
        .consents()
        .act(&c.id, &owner()?, OwnerAction::Approve, NOW + 60)
        .await?;
    assert_eq!(active.status, Status::Active);
    // The artefact is the gateway's, verifiable with its published keys.
    let artefact = active.artefact.ok_or("an artefact")?;
    let claims = exchange.keys().verify_compact(&artefact)?;
    assert_eq!(claims.pointer("/consent_id"), Some(&json!(c.id.as_str())));
    assert!(!exchange.keys().jwks().keys.is_empty());
    let receipt = serde_json::to_value(
        exchange
            .consents()
            .receipt(
                &c.id,
                bauhinia_core::Lang::En,
                &bauhinia_exchange::consent::receipt::Controller::named("Bank 024"),
            )
            .await?,
    )?;
    assert!(receipt
        .to_string()
        .contains("https://portal.example.hk/exchange/consents"));

    // Housekeeping signs the head once; with nothing new, not again.
    let first = exchange.housekeeping(NOW + 120).await?;
    assert!(first.checkpointed);
    assert!(!exchange.housekeeping(NOW + 121).await?.checkpointed);
    let keys = chain::stored_keys(db).await?;
    let report = chain::verify(db, |kid| keys.get(kid).cloned()).await?;
    assert!(report.intact(), "{}", report.summary());
    assert_eq!(report.last_signed_seq, Some(report.last_seq));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exchange_starts_with_its_demo_and_signs_its_chain_on_sqlite() -> Result<(), Error> {
    let db = TestDb::sqlite().await?;
    started(&db.db).await?;
    db.cleanup().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exchange_starts_with_its_demo_and_signs_its_chain_on_postgres() -> Result<(), Error> {
    let Some(db) = TestDb::postgres().await? else {
        return Ok(());
    };
    started(&db.db).await?;
    db.cleanup().await?;
    println!("store conformance: postgres exchange service ok");
    Ok(())
}
