//! The ledger engine on both databases (SQLite always; PostgreSQL when `DATABASE_URL` is set,
//! required by the test command): two-phase transfers with post, void and timeout, linked
//! chains, idempotent retries, a restart that rebuilds the state from the journal, and the
//! independent audit.

use std::time::Duration;

use bauhinia_core::Currency;
use bauhinia_fps::ledger::{Account, Journal, Kind, Ledger, Outcome, Refusal, Transfer};
use bauhinia_store::testing::TestDb;
use bauhinia_store::Database;

type Error = Box<dyn std::error::Error + Send + Sync>;

const RTGS: u128 = 1 << 64;

fn t(id: u128, d: u128, c: u128, amount: i64, kind: Kind) -> Transfer {
    Transfer {
        id,
        debit_account: d,
        credit_account: c,
        amount,
        currency: Currency::Hkd,
        kind,
        linked: false,
        code: 1,
        user_data: 0,
        reference: String::new(),
    }
}

async fn totals(ledger: &Ledger, id: u128) -> Result<(i128, i64), Error> {
    let accounts = ledger.accounts().await?;
    let a = accounts.iter().find(|a| a.id == id).ok_or("no account")?;
    Ok((a.totals.balance(), a.totals.debits_pending))
}

async fn conformance(db: &Database) -> Result<(), Error> {
    let ledger = Ledger::start(Journal::open(db, 7)?, "test").await?;
    ledger
        .create_accounts(vec![
            Account::new(RTGS, Currency::Hkd, 2, None),
            Account::new(1, Currency::Hkd, 1, Some(0)),
            Account::new(2, Currency::Hkd, 1, Some(0)),
        ])
        .await?;
    let o = ledger
        .submit(vec![t(10, RTGS, 1, 10_000, Kind::Single)], "test".into())
        .await?;
    assert!(matches!(o.first(), Some(Outcome::Created { .. })));
    // Two pending transfers: one posted in part, one voided; a third left to time out.
    let o = ledger
        .submit(
            vec![
                t(11, 1, 2, 3_000, Kind::Pending { timeout_s: 60 }),
                t(12, 1, 2, 2_000, Kind::Pending { timeout_s: 60 }),
                t(13, 1, 2, 1_000, Kind::Pending { timeout_s: 1 }),
            ],
            "test".into(),
        )
        .await?;
    assert!(
        o.iter().all(|o| matches!(o, Outcome::Created { .. })),
        "{o:?}"
    );
    assert_eq!(totals(&ledger, 1).await?, (10_000, 6_000));
    // Over the cap once the pending debits count.
    let o = ledger
        .submit(vec![t(14, 1, 2, 4_001, Kind::Single)], "test".into())
        .await?;
    assert_eq!(o.first(), Some(&Outcome::Refused(Refusal::ExceedsDebitCap)));
    let o = ledger
        .submit(
            vec![
                t(15, 0, 0, 2_500, Kind::Post { pending_id: 11 }),
                t(16, 0, 0, 0, Kind::Void { pending_id: 12 }),
            ],
            "test".into(),
        )
        .await?;
    assert!(
        o.iter().all(|o| matches!(o, Outcome::Created { .. })),
        "{o:?}"
    );
    assert_eq!(totals(&ledger, 1).await?, (7_500, 1_000));
    // A linked chain with a refusal: nothing of it happens.
    let mut a = t(17, 1, 2, 100, Kind::Single);
    a.linked = true;
    let b = t(18, 2, 1, 1_000_000, Kind::Single);
    let o = ledger.submit(vec![a, b], "test".into()).await?;
    assert_eq!(
        o,
        vec![
            Outcome::Refused(Refusal::LinkedEventFailed),
            Outcome::Refused(Refusal::ExceedsDebitCap)
        ]
    );
    assert_eq!(totals(&ledger, 1).await?, (7_500, 1_000));
    // The short pending transfer times out on its own.
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    let o = ledger
        .submit(
            vec![t(19, 0, 0, 0, Kind::Post { pending_id: 13 })],
            "test".into(),
        )
        .await?;
    assert_eq!(
        o.first(),
        Some(&Outcome::Refused(Refusal::PendingTransferExpired))
    );
    assert_eq!(totals(&ledger, 1).await?, (7_500, 0));
    drop(ledger);

    // A new writer on the same journal: the same state, and every old id answered as before.
    let ledger = Ledger::start(Journal::open(db, 7)?, "test").await?;
    assert_eq!(totals(&ledger, 1).await?, (7_500, 0));
    assert_eq!(totals(&ledger, 2).await?, (2_500, 0));
    let o = ledger
        .submit(vec![t(10, RTGS, 1, 10_000, Kind::Single)], "test".into())
        .await?;
    assert!(matches!(o.first(), Some(Outcome::Exists(Ok(_)))), "{o:?}");
    let o = ledger
        .submit(vec![t(10, RTGS, 1, 10_001, Kind::Single)], "test".into())
        .await?;
    assert_eq!(o.first(), Some(&Outcome::IdConflict));
    let o = ledger
        .submit(vec![t(14, 1, 2, 4_001, Kind::Single)], "test".into())
        .await?;
    assert_eq!(
        o.first(),
        Some(&Outcome::Exists(Err(Refusal::ExceedsDebitCap)))
    );
    let o = ledger
        .submit(
            vec![t(20, 0, 0, 0, Kind::Void { pending_id: 11 })],
            "test".into(),
        )
        .await?;
    assert_eq!(
        o.first(),
        Some(&Outcome::Refused(Refusal::PendingTransferAlreadyPosted))
    );
    let o = ledger
        .submit(
            vec![t(21, 0, 0, 0, Kind::Post { pending_id: 12 })],
            "test".into(),
        )
        .await?;
    assert_eq!(
        o.first(),
        Some(&Outcome::Refused(Refusal::PendingTransferAlreadyVoided))
    );
    drop(ledger);

    let report = bauhinia_fps::audit::audit(db, 7).await?;
    assert!(report.passed(), "{:?}", report.problems);
    assert_eq!(
        (report.accepted, report.expiries, report.open_pending),
        (6, 1, 0)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledger_on_sqlite() -> Result<(), Error> {
    let db = TestDb::sqlite().await?;
    conformance(&db.db).await?;
    db.cleanup().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledger_on_postgres() -> Result<(), Error> {
    let Some(db) = TestDb::postgres().await? else {
        eprintln!("DATABASE_URL is not set: the PostgreSQL half runs in the test command");
        return Ok(());
    };
    conformance(&db.db).await?;
    db.cleanup().await?;
    println!("store conformance: postgres fps ledger ok");
    Ok(())
}
