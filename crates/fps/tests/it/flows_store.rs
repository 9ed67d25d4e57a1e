//! The payment flows on both databases (SQLite always; PostgreSQL when `DATABASE_URL` is set,
//! required by the test command): requests to pay, mandates and their limits (also under
//! concurrent debits), returns and refunds (also concurrent), idempotent retries and id
//! conflicts, and that every status change wrote its outbox events and audit event and no
//! account reference in clear.

use std::sync::Arc;

use bauhinia_core::crypto::{MasterKey, Vault};
use bauhinia_core::{Currency, Money};
use bauhinia_fps::events;
use bauhinia_fps::flows::domain::{MandateAction, RequestAction, RequestStatus, ReturnKind};
use bauhinia_fps::flows::store::{RequestRow, Table};
use bauhinia_fps::flows::wire::{DebitBody, MandateBody, RequestToPayBody, ReturnBody};
use bauhinia_fps::flows::{FlowError, FlowService};
use bauhinia_fps::ledger::{Kind, Transfer};
use bauhinia_fps::switch::{Caller, ParticipantCode, Settlement, Switch};
use bauhinia_fps::wire::{format_id, Purpose};
use bauhinia_store::testing::TestDb;
use bauhinia_store::Database;
use serde_json::json;

type Error = Box<dyn std::error::Error + Send + Sync>;

const CREDITOR_REF: &str = "012-555-000111-001";
const DEBTOR_REF: &str = "004-777-123456-888";

fn code(text: &str) -> Result<ParticipantCode, Error> {
    ParticipantCode::parse(text).ok_or_else(|| format!("bad code {text}").into())
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn uuid() -> u128 {
    uuid::Uuid::new_v4().as_u128()
}

fn body<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, Error> {
    Ok(serde_json::from_value(value)?)
}

async fn setup(db: &Database) -> Result<(Arc<Switch>, FlowService), Error> {
    let (switch, _) = super::proxy_store::service(db).await?;
    for (c, amount) in [("004", 100_000), ("012", 100_000)] {
        switch
            .settle(
                uuid(),
                code(c)?,
                Money::from_minor(amount, Currency::Hkd),
                Settlement::Fund,
                "test",
            )
            .await?;
    }
    let vault = Arc::new(Vault::new(&MasterKey::generate()));
    let flows = FlowService::new(Arc::clone(&switch), vault);
    Ok((switch, flows))
}

async fn events_of(db: &Database, subject: &str) -> Result<Vec<(String, String)>, Error> {
    Ok(events::read_after(db, 0, 10_000)
        .await?
        .into_iter()
        .filter(|e| e.subject == subject)
        .map(|e| (e.participant, e.kind))
        .collect())
}

async fn audit_actions(db: &Database, subject: &str) -> Result<Vec<String>, Error> {
    Ok(db
        .audit_for_subject(subject, 100)
        .await?
        .into_iter()
        .map(|e| e.action)
        .collect())
}

async fn requests(db: &Database, switch: &Switch, flows: &FlowService) -> Result<(), Error> {
    let (payee, payer) = (code("012")?, code("004")?);
    let id = format_id(uuid());
    let make = |amount: &str| -> Result<_, Error> {
        let b: RequestToPayBody = body(json!({
            "id": id, "payer": "004", "currency": "HKD", "amount": amount,
            "reference": "INV-1", "payee_name": "Chan Tai Man"
        }))?;
        b.check().map_err(|e| format!("{e:?}").into())
    };
    let first = flows.create_request(payee, make("12.50")?, now()).await?;
    assert!(first.created);
    assert_eq!(first.view.status, "pending");
    assert_eq!(first.view.payee_masked_name, "CHAN T** M**");
    let again = flows.create_request(payee, make("12.50")?, now()).await?;
    assert!(!again.created);
    assert_eq!(again.view.id, first.view.id);
    assert!(matches!(
        flows.create_request(payee, make("12.51")?, now()).await,
        Err(FlowError::Conflict(_))
    ));
    // The payee neither pays nor declines; a stranger does not see it.
    assert!(matches!(
        flows
            .move_request(payee, &id, RequestAction::Decline, now())
            .await,
        Err(FlowError::Forbidden(_))
    ));
    assert!(matches!(
        flows.request(code("024")?, &id, now()).await,
        Err(FlowError::NotFound(_))
    ));
    let transfer = uuid();
    let paid = flows.pay_request(payer, &id, transfer, now()).await?;
    assert_eq!(paid.status, "paid");
    assert_eq!(paid.transfer_id, Some(format_id(transfer)));
    assert_eq!(
        recorded(switch, &format_id(transfer)).await?,
        (Purpose::RequestToPay, id.clone(), "participant:004".into())
    );
    // A retry answers the same payment; another transfer id is refused.
    assert_eq!(
        flows.pay_request(payer, &id, transfer, now()).await?.status,
        "paid"
    );
    assert!(matches!(
        flows.pay_request(payer, &id, uuid(), now()).await,
        Err(FlowError::State(..))
    ));
    assert!(matches!(
        flows
            .move_request(payee, &id, RequestAction::Cancel, now())
            .await,
        Err(FlowError::State(..))
    ));
    let subject = format!("request:{id}");
    let mut seen = events_of(db, &subject).await?;
    seen.sort();
    assert_eq!(
        seen,
        [
            ("004".into(), "request.created".into()),
            ("004".into(), "request.paid".into()),
            ("012".into(), "request.created".into()),
            ("012".into(), "request.paid".into()),
        ]
    );
    let actions = audit_actions(db, &subject).await?;
    for action in ["fps.request.create", "fps.request.pay", "fps.request.paid"] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }

    // A request that lapses: expired on read, then written by the sweep, with its events.
    let lapsing = format_id(uuid());
    let b: RequestToPayBody = body(json!({
        "id": lapsing, "payer": "004", "currency": "HKD", "amount": "1.00",
        "payee_name": "Chan Tai Man",
        "expires_at": bauhinia_fps::wire::format_time((now() + 60) * 1_000_000_000),
    }))?;
    let new = b.check().map_err(|e| format!("{e:?}"))?;
    flows.create_request(payee, new, now()).await?;
    assert_eq!(
        flows.request(payer, &lapsing, now() + 61).await?.status,
        "expired"
    );
    assert!(flows.expire_due(now() + 61, 100).await? >= 1);
    assert!(matches!(
        flows.pay_request(payer, &lapsing, uuid(), now() + 61).await,
        Err(FlowError::State(..))
    ));
    let expired = events_of(db, &format!("request:{lapsing}")).await?;
    assert_eq!(
        expired
            .iter()
            .filter(|(_, k)| k == "request.expired")
            .count(),
        2
    );
    Ok(())
}

fn mandate_body(
    id: &str,
    kind: &str,
    debtor: &str,
    per_debit: &str,
    period: &str,
) -> Result<MandateBody, Error> {
    body(json!({
        "id": id, "kind": kind, "creditor": "012", "creditor_reference": CREDITOR_REF,
        "debtor": debtor, "debtor_reference": DEBTOR_REF, "debtor_name": "Wong Siu Ming",
        "currency": "HKD", "per_debit_limit": per_debit, "period_limit": period,
        "period": "month", "valid_from": "2020-01-01",
    }))
}

async fn debit(
    flows: &FlowService,
    mandate: &str,
    amount: &str,
) -> Result<bauhinia_fps::flows::wire::DebitView, FlowError> {
    let b: DebitBody = serde_json::from_value(json!({
        "id": format_id(uuid()), "currency": "HKD", "amount": amount, "reference": "bill",
    }))
    .map_err(|e| {
        FlowError::Invalid(
            bauhinia_core::ErrorCode::FpsDebitInvalid,
            vec![bauhinia_core::FieldError::new("", e.to_string())],
        )
    })?;
    let new = b
        .check()
        .map_err(|e| FlowError::Invalid(bauhinia_core::ErrorCode::FpsDebitInvalid, e))?;
    Ok(flows
        .debit(
            ParticipantCode::parse("012").ok_or(FlowError::Forbidden("code"))?,
            mandate,
            new,
            now(),
        )
        .await?
        .view)
}

async fn mandates(db: &Database, switch: &Switch, flows: &FlowService) -> Result<(), Error> {
    let (creditor, debtor) = (code("012")?, code("004")?);
    let id = format_id(uuid());
    let new = mandate_body(&id, "simplified", "004", "5.00", "10.00")?
        .check()
        .map_err(|e| format!("{e:?}"))?;
    // A simplified mandate is set up by the creditor's participant, not the debtor's.
    assert!(matches!(
        flows.create_mandate(debtor, new.clone(), now()).await,
        Err(FlowError::Forbidden(_))
    ));
    let made = flows.create_mandate(creditor, new.clone(), now()).await?;
    assert_eq!(made.view.status, "pending");
    assert_eq!(made.view.creditor_reference.as_deref(), Some(CREDITOR_REF));
    assert_eq!(made.view.debtor_reference, None);
    assert!(!flows.create_mandate(creditor, new, now()).await?.created);
    assert!(matches!(
        debit(flows, &id, "1.00").await,
        Err(FlowError::State(..))
    ));
    assert!(matches!(
        flows
            .move_mandate(creditor, &id, MandateAction::Confirm, now())
            .await,
        Err(FlowError::Forbidden(_))
    ));
    let active = flows
        .move_mandate(debtor, &id, MandateAction::Confirm, now())
        .await?;
    assert_eq!(active.status, "active");
    assert_eq!(active.debtor_reference.as_deref(), Some(DEBTOR_REF));
    assert!(matches!(
        flows
            .move_mandate(debtor, &id, MandateAction::Confirm, now())
            .await,
        Err(FlowError::State(..))
    ));
    // Limits: per debit 5.00, per month 10.00 (4.00 + 5.00 leave 1.00).
    assert!(matches!(
        debit(flows, &id, "5.01").await,
        Err(FlowError::LimitExceeded(_))
    ));
    let first = debit(flows, &id, "4.00").await?;
    assert_eq!(first.status, "settled");
    assert_eq!(debit(flows, &id, "5.00").await?.status, "settled");
    assert!(matches!(
        debit(flows, &id, "2.00").await,
        Err(FlowError::LimitExceeded(_))
    ));
    assert_eq!(
        recorded(switch, &first.id).await?,
        (
            Purpose::DirectDebit,
            id.clone(),
            format!("participant:012 under mandate:{id}")
        )
    );
    // Suspended: no debits; resumed: debits again; cancelled for good.
    flows
        .move_mandate(debtor, &id, MandateAction::Suspend, now())
        .await?;
    assert!(matches!(
        debit(flows, &id, "1.00").await,
        Err(FlowError::State(..))
    ));
    assert!(matches!(
        flows
            .move_mandate(creditor, &id, MandateAction::Resume, now())
            .await,
        Err(FlowError::Forbidden(_))
    ));
    flows
        .move_mandate(debtor, &id, MandateAction::Resume, now())
        .await?;
    assert_eq!(debit(flows, &id, "1.00").await?.status, "settled");
    flows
        .move_mandate(creditor, &id, MandateAction::Cancel, now())
        .await?;
    assert!(matches!(
        flows
            .move_mandate(debtor, &id, MandateAction::Resume, now())
            .await,
        Err(FlowError::State(..))
    ));
    let subject = format!("mandate:{id}");
    let kinds: Vec<String> = events_of(db, &subject)
        .await?
        .into_iter()
        .map(|e| e.1)
        .collect();
    for kind in [
        "mandate.created",
        "mandate.activated",
        "mandate.suspended",
        "mandate.resumed",
        "mandate.cancelled",
    ] {
        assert_eq!(
            kinds.iter().filter(|k| *k == kind).count(),
            2,
            "{kind} in {kinds:?}"
        );
    }
    let actions = audit_actions(db, &subject).await?;
    for action in [
        "fps.mandate.create",
        "fps.mandate.confirm",
        "fps.mandate.cancel",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }

    // A debit the ledger refuses (024 has no funds) is recorded refused, and its reservation
    // released: the full period limit is still there afterwards.
    let unfunded = format_id(uuid());
    let new = mandate_body(&unfunded, "standard", "024", "5.00", "5.00")?
        .check()
        .map_err(|e| format!("{e:?}"))?;
    assert_eq!(
        flows
            .create_mandate(code("024")?, new, now())
            .await?
            .view
            .status,
        "active"
    );
    let refused = debit(flows, &unfunded, "5.00").await?;
    assert_eq!(
        (refused.status.as_str(), refused.reason.as_deref()),
        ("refused", Some("exceeds_debit_cap"))
    );
    let again = debit(flows, &unfunded, "5.00").await?;
    assert_eq!(again.status, "refused");
    let kinds: Vec<String> = events_of(db, &format!("debit:{}", refused.id))
        .await?
        .into_iter()
        .map(|e| e.1)
        .collect();
    assert_eq!(kinds, ["debit.refused", "debit.refused"]);

    // Two concurrent debits that together exceed the period: exactly one passes.
    let racing = format_id(uuid());
    let new = mandate_body(&racing, "standard", "004", "5.00", "8.00")?
        .check()
        .map_err(|e| format!("{e:?}"))?;
    flows.create_mandate(debtor, new, now()).await?;
    let (a, b) = tokio::join!(debit(flows, &racing, "5.00"), debit(flows, &racing, "5.00"));
    let passed = [&a, &b].iter().filter(|r| r.is_ok()).count();
    assert_eq!(passed, 1, "{a:?} {b:?}");
    assert!([a, b]
        .into_iter()
        .any(|r| matches!(r, Err(FlowError::LimitExceeded(_)))));

    // No account reference in clear in the rows, the events or the audit log.
    let dump = dump(db).await?;
    for secret in [CREDITOR_REF, DEBTOR_REF] {
        assert!(!dump.contains(secret), "{secret} stored in clear");
    }
    Ok(())
}

/// Everything the flows wrote, as text: mandate rows, events and audit details.
async fn dump(db: &Database) -> Result<String, Error> {
    let sql = "SELECT kind || creditor || debtor || debtor_masked_name FROM fps_mandates";
    let rows: Vec<String> =
        bauhinia_store::read!(db, conn => sqlx::query_scalar(sql).fetch_all(conn).await?);
    let blobs: Vec<Vec<u8>> = bauhinia_store::read!(db, conn => sqlx::query_scalar(
        "SELECT creditor_reference_sealed FROM fps_mandates").fetch_all(conn).await?);
    let mut text = rows.join("\n");
    for b in blobs {
        text.push_str(&String::from_utf8_lossy(&b));
    }
    for e in events::read_after(db, 0, 10_000).await? {
        text.push_str(&e.payload);
    }
    let audit: Vec<String> = bauhinia_store::read!(db, conn => sqlx::query_scalar(
        "SELECT CAST(detail AS TEXT) FROM audit_events").fetch_all(conn).await?);
    text.push_str(&audit.join("\n"));
    Ok(text)
}

/// A ledger transfer's purpose, related id and submitter.
async fn recorded(switch: &Switch, id: &str) -> Result<(Purpose, String, String), Error> {
    let r = switch
        .transfer(uuid::Uuid::parse_str(id)?.as_u128())
        .await?
        .ok_or("no such transfer")?;
    Ok((
        Purpose::from_code(r.transfer.code),
        format_id(r.transfer.user_data),
        r.actor,
    ))
}

async fn pay(switch: &Switch, from: &str, to: &str, minor: i64) -> Result<u128, Error> {
    let id = uuid();
    let (from, to) = (code(from)?, code(to)?);
    let outcomes = switch
        .submit(
            vec![Transfer {
                id,
                debit_account: from.settlement_account(Currency::Hkd),
                credit_account: to.settlement_account(Currency::Hkd),
                amount: minor,
                currency: Currency::Hkd,
                kind: Kind::Single,
                linked: false,
                code: Purpose::P2m.code(),
                user_data: 0,
                reference: String::new(),
            }],
            Caller::Participant(from),
        )
        .await?;
    assert!(outcomes.iter().all(|o| o.result().is_ok()), "{outcomes:?}");
    Ok(id)
}

fn give_back(
    kind: ReturnKind,
    amount: &str,
    reason: Option<&str>,
) -> Result<bauhinia_fps::flows::wire::NewReturn, Error> {
    let b: ReturnBody =
        body(json!({ "id": format_id(uuid()), "amount": amount, "reason": reason }))?;
    b.check(kind).map_err(|e| format!("{e:?}").into())
}

async fn returns(db: &Database, switch: &Switch, flows: &FlowService) -> Result<(), Error> {
    let (merchant, customer) = (code("012")?, code("004")?);
    let original = pay(switch, "004", "012", 10_000).await?;
    // Only the creditor gives money back; a return needs its reason.
    assert!(matches!(
        flows
            .return_transfer(
                customer,
                original,
                give_back(ReturnKind::Refund, "1.00", None)?,
                now()
            )
            .await,
        Err(FlowError::Forbidden(_))
    ));
    assert!(give_back(ReturnKind::Return, "1.00", None).is_err());
    let first = give_back(ReturnKind::Return, "60.00", Some("AC04"))?;
    let returned = flows
        .return_transfer(merchant, original, first.clone(), now())
        .await?;
    assert!(returned.created);
    assert_eq!(returned.view.status, "settled");
    let retry = flows
        .return_transfer(merchant, original, first.clone(), now())
        .await?;
    assert!(!retry.created);
    let changed = bauhinia_fps::flows::wire::NewReturn {
        amount: "61.00".into(),
        ..first
    };
    assert!(matches!(
        flows
            .return_transfer(merchant, original, changed, now())
            .await,
        Err(FlowError::Conflict(_))
    ));
    match flows
        .return_transfer(
            merchant,
            original,
            give_back(ReturnKind::Refund, "40.01", None)?,
            now(),
        )
        .await
    {
        Err(FlowError::ExceedsOriginal { remaining }) => assert_eq!(remaining, "40.00"),
        other => return Err(format!("expected exceeds_original, got {other:?}").into()),
    }
    let refund = flows
        .return_transfer(
            merchant,
            original,
            give_back(ReturnKind::Refund, "40.00", Some("CUST"))?,
            now(),
        )
        .await?;
    assert_eq!(refund.view.status, "settled");
    let page = flows.returns(customer, original).await?;
    assert_eq!((page.remaining.as_str(), page.returns.len()), ("0.00", 2));
    // A return is not itself returned.
    let back = uuid::Uuid::parse_str(&refund.view.id)?.as_u128();
    assert!(matches!(
        flows
            .return_transfer(
                customer,
                back,
                give_back(ReturnKind::Refund, "1.00", None)?,
                now()
            )
            .await,
        Err(FlowError::Invalid(..))
    ));
    let kinds: Vec<String> = events_of(db, &format!("refund:{}", refund.view.id))
        .await?
        .into_iter()
        .map(|e| e.1)
        .collect();
    assert_eq!(kinds, ["refund.settled", "refund.settled"]);
    let actions = audit_actions(db, &format!("return:{}", returned.view.id)).await?;
    assert!(
        actions.iter().any(|a| a == "fps.return.settled"),
        "{actions:?}"
    );

    // Concurrent returns that together exceed the original: exactly one passes.
    let small = pay(switch, "004", "012", 5_000).await?;
    let (a, b) = tokio::join!(
        flows.return_transfer(
            merchant,
            small,
            give_back(ReturnKind::Return, "30.00", Some("AM09"))?,
            now()
        ),
        flows.return_transfer(
            merchant,
            small,
            give_back(ReturnKind::Return, "30.00", Some("AM09"))?,
            now()
        ),
    );
    assert_eq!(
        [&a, &b].iter().filter(|r| r.is_ok()).count(),
        1,
        "{a:?} {b:?}"
    );
    Ok(())
}

/// A payment the ledger refuses leaves the request pending; a payment whose outcome was never
/// written (the process stopped after reserving) is finished by the retry, once.
async fn interrupted_and_refused(
    db: &Database,
    switch: &Switch,
    flows: &FlowService,
) -> Result<(), Error> {
    let payee = code("012")?;
    let new_request = |payer: &str| -> Result<_, Error> {
        let b: RequestToPayBody = body(json!({
            "id": format_id(uuid()), "payer": payer, "currency": "HKD", "amount": "2.00",
            "payee_name": "Chan Tai Man"
        }))?;
        b.check().map_err(|e| format!("{e:?}").into())
    };
    let unfunded = flows
        .create_request(payee, new_request("024")?, now())
        .await?
        .view;
    match flows
        .pay_request(code("024")?, &unfunded.id, uuid(), now())
        .await
    {
        Err(FlowError::Refused(reason, _)) => assert_eq!(reason, "exceeds_debit_cap"),
        other => return Err(format!("expected a refusal, got {other:?}").into()),
    }
    let after = flows.request(payee, &unfunded.id, now()).await?;
    assert_eq!(
        (after.status.as_str(), after.transfer_id),
        ("pending", None)
    );

    // Reserved (settling) but never settled: the retry with the same transfer settles it.
    let request = flows
        .create_request(payee, new_request("004")?, now())
        .await?
        .view;
    let row: RequestRow = flows
        .store()
        .by_id(Table::Requests, &request.id)
        .await?
        .ok_or("no row")?;
    let transfer = uuid();
    let begin = row.change(
        RequestStatus::Pending,
        RequestStatus::Settling,
        Some(format_id(transfer)),
        now(),
    );
    assert!(flows.store().apply(&[begin], &[], &[]).await?.is_ok());
    assert_eq!(
        flows.request(payee, &request.id, now()).await?.status,
        "settling"
    );
    assert!(matches!(
        flows
            .pay_request(code("004")?, &request.id, uuid(), now())
            .await,
        Err(FlowError::State(..))
    ));
    let paid = flows
        .pay_request(code("004")?, &request.id, transfer, now())
        .await?;
    assert_eq!(paid.status, "paid");
    assert!(switch.transfer(transfer).await?.is_some());
    let kinds: Vec<String> = events_of(db, &format!("request:{}", request.id))
        .await?
        .into_iter()
        .map(|e| e.1)
        .collect();
    assert_eq!(kinds.iter().filter(|k| *k == "request.paid").count(), 2);
    Ok(())
}

async fn conformance(db: &Database) -> Result<(), Error> {
    let (switch, flows) = setup(db).await?;
    requests(db, &switch, &flows).await?;
    interrupted_and_refused(db, &switch, &flows).await?;
    mandates(db, &switch, &flows).await?;
    returns(db, &switch, &flows).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flows_on_sqlite() -> Result<(), Error> {
    let db = TestDb::sqlite().await?;
    conformance(&db.db).await?;
    db.cleanup().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flows_on_postgres() -> Result<(), Error> {
    let Some(db) = TestDb::postgres().await? else {
        return Ok(());
    };
    conformance(&db.db).await?;
    db.cleanup().await?;
    Ok(())
}
