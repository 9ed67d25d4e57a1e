//! The hosted banks on both dialects, with the real switch, proxies and ledgers: accounts,
//! deposits, a payment by proxy from one bank to another (both books, the switch, both
//! histories), idempotent orders, refusals, and the recovery of a payment a crash interrupted.

use std::sync::Arc;

use bauhinia_bank::domain::{
    own_account, request_payment_id, step_id, Destination, Step, FPS_POSITION,
};
use bauhinia_bank::store::PaymentRow;
use bauhinia_bank::{
    AccountKind, AccountNumber, BankError, Banks, Collection, MandateOrder, Payee, PaymentOrder,
    PaymentState, RequestOrder,
};
use bauhinia_core::crypto::{MasterKey, Vault};
use bauhinia_core::{Currency, Money};
use bauhinia_fps::flows::domain::{MandateAction, MandateStatus, RequestStatus};
use bauhinia_fps::flows::FlowService;
use bauhinia_fps::ledger::{Kind, Transfer};
use bauhinia_fps::proxy::domain::{MobileNumber, ProxyKey, ProxyKind};
use bauhinia_fps::proxy::ProxyService;
use bauhinia_fps::switch::{Caller, ParticipantCode, Switch};
use bauhinia_fps::wire::format_id;
use bauhinia_store::audit::AuditEvent;
use bauhinia_store::testing::TestDb;
use bauhinia_store::{read, Database};

type Error = Box<dyn std::error::Error>;

struct World {
    switch: Arc<Switch>,
    banks: Arc<Banks>,
    vault: Arc<Vault>,
}

fn code(s: &str) -> Result<ParticipantCode, Error> {
    Ok(ParticipantCode::parse(s).ok_or("code")?)
}

fn hkd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::Hkd)
}

async fn world(db: &Database) -> Result<World, Error> {
    let switch = Switch::start(db.clone()).await?;
    bauhinia_fps::demo::load(&switch).await?;
    let vault = Arc::new(Vault::new(&MasterKey::generate()));
    let proxies = Arc::new(ProxyService::new(
        db,
        Arc::clone(&vault),
        Arc::clone(&switch),
    ));
    let flows = Arc::new(FlowService::new(Arc::clone(&switch), Arc::clone(&vault)));
    let banks = Banks::start(db, Arc::clone(&vault), Arc::clone(&switch), proxies, flows).await?;
    banks.host(code("004")?, "test").await?;
    banks.host(code("387")?, "test").await?;
    Ok(World {
        switch,
        banks,
        vault,
    })
}

async fn balance(banks: &Banks, owner: &str, number: &AccountNumber) -> Result<Money, Error> {
    Ok(banks
        .accounts_of(owner)
        .await?
        .into_iter()
        .find(|a| &a.number == number)
        .ok_or("account")?
        .balance)
}

/// Per currency, the balances of every account of the banks' ledger sum to zero.
async fn assert_books_balance(banks: &Banks) -> Result<(), Error> {
    for currency in [Currency::Hkd, Currency::Cny] {
        let sum: i128 = banks
            .ledger()
            .accounts()
            .await?
            .iter()
            .filter(|a| a.currency == currency)
            .map(|a| a.totals.balance())
            .sum();
        assert_eq!(sum, 0, "the banks' books balance in {}", currency.code());
    }
    Ok(())
}

/// A payment of HK$10 out of `from` to a customer of 387, as ordered before a stop: initiated,
/// its destination sealed.
fn unfinished(id: &str, from: &AccountNumber, sealed: Vec<u8>, fps_transfer: String) -> PaymentRow {
    PaymentRow {
        id: id.to_owned(),
        account: from.to_string(),
        direction: "out".into(),
        state: "initiated".into(),
        counterparty_bank: "387".into(),
        counterparty_name: String::new(),
        counterparty_address: String::new(),
        payee_sealed: Some(sealed),
        currency: "HKD".into(),
        amount: 1_000,
        purpose: "p2p".into(),
        reference: String::new(),
        fps_transfer,
        reason: None,
        created_at_s: 0,
        updated_at_s: 0,
    }
}

/// Writes `row` as its order would have (with the order's audit event), and nothing more.
async fn write_unfinished(banks: &Banks, owner: &str, row: &PaymentRow) -> Result<(), Error> {
    let ordered = AuditEvent {
        actor: "test".into(),
        action: "bank.payment.order",
        subject: owner.into(),
        outcome: bauhinia_store::audit::Outcome::Success,
        detail: serde_json::json!({}),
        request_id: None,
    };
    banks.store().insert_payment(row, &ordered).await?;
    Ok(())
}

async fn audit_count(db: &Database, action: &str) -> Result<i64, Error> {
    Ok(
        read!(db, conn => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_events WHERE action = $1")
        .bind(action)
        .fetch_one(conn)
        .await?),
    )
}

async fn conformance(db: &Database) -> Result<(), Error> {
    let w = world(db).await?;
    let banks = &w.banks;
    let (payer, payee) = ("resident:payer", "resident:payee");
    let from = banks
        .open_account(
            code("004")?,
            payer,
            "HO, Ka Yan",
            Currency::Hkd,
            AccountKind::Savings,
            "test",
        )
        .await?;
    let to = banks
        .open_account(
            code("387")?,
            payee,
            "TAM, Chi Keung",
            Currency::Hkd,
            AccountKind::Savings,
            "test",
        )
        .await?;
    assert!(matches!(
        banks
            .open_account(
                code("024")?,
                payer,
                "HO, Ka Yan",
                Currency::Hkd,
                AccountKind::Savings,
                "test"
            )
            .await,
        Err(BankError::NotHosted)
    ));

    // A deposit is made once, however often it is sent.
    let deposit = uuid::Uuid::new_v4();
    banks.deposit(deposit, &from, hkd(100_000), "test").await?;
    banks.deposit(deposit, &from, hkd(100_000), "test").await?;
    assert_eq!(balance(banks, payer, &from).await?, hkd(100_000));

    // The payee's mobile number, registered at her bank.
    let mobile = MobileNumber::parse("+852 9876 0001").map_err(|e| e.0)?;
    banks
        .register_proxy(
            payee,
            &to,
            ProxyKind::Mobile,
            Some(ProxyKey::Mobile(mobile.clone())),
            "test-1",
            true,
        )
        .await?;
    assert_eq!(banks.proxies_of(payee).await?.len(), 1);
    let payee_key = Payee::Proxy(ProxyKey::Mobile(mobile));
    let preview = banks.preview(payer, &from, &payee_key).await?;
    assert_eq!(
        (preview.bank, preview.masked_name.as_str()),
        (code("387")?, "TAM C** K**")
    );

    // The payment: both books and the switch move, both histories show it.
    let order = PaymentOrder {
        id: uuid::Uuid::new_v4(),
        from: from.clone(),
        payee: payee_key.clone(),
        amount: hkd(12_345),
        reference: "dinner".into(),
    };
    let paid = banks.pay(payer, order.clone(), "test").await?;
    assert_eq!(paid.state, PaymentState::Settled, "{paid:?}");
    assert_eq!(balance(banks, payer, &from).await?, hkd(87_655));
    assert_eq!(balance(banks, payee, &to).await?, hkd(12_345));
    let settled = w
        .switch
        .transfer(bauhinia_fps::wire::parse_id(&paid.fps_transfer).ok_or("id")?)
        .await?
        .ok_or("the switch has the transfer")?;
    assert_eq!(
        settled.transfer.debit_account,
        code("004")?.settlement_account(Currency::Hkd)
    );
    assert_eq!(
        settled.transfer.credit_account,
        code("387")?.settlement_account(Currency::Hkd)
    );
    assert_eq!(settled.transfer.amount, 12_345);
    let incoming = banks.history(payee).await?;
    let [received] = incoming.as_slice() else {
        return Err(format!("one payment in, not {}", incoming.len()).into());
    };
    assert!(!received.outgoing);
    assert_eq!(received.fps_transfer, paid.fps_transfer);
    assert_eq!(received.counterparty_name, "HO K** Y**");
    assert_eq!(banks.history(payer).await?.len(), 1);

    // The same order again is the same payment; a different one under its id is refused.
    let again = banks.pay(payer, order.clone(), "test").await?;
    assert_eq!(again.id, paid.id);
    assert_eq!(balance(banks, payer, &from).await?, hkd(87_655));
    let changed = PaymentOrder {
        amount: hkd(1),
        ..order.clone()
    };
    assert!(matches!(
        banks.pay(payer, changed, "test").await,
        Err(BankError::IdConflict)
    ));

    // Refusals: too much (the payment fails, nothing moves), not one's own account, no payee.
    let too_much = PaymentOrder {
        id: uuid::Uuid::new_v4(),
        amount: hkd(10_000_000),
        ..order.clone()
    };
    let failed = banks.pay(payer, too_much, "test").await?;
    assert_eq!(
        (failed.state, failed.reason.as_deref()),
        (PaymentState::Failed, Some("insufficient_funds"))
    );
    assert!(w
        .switch
        .transfer(bauhinia_fps::wire::parse_id(&failed.fps_transfer).ok_or("id")?)
        .await?
        .is_none());
    assert_eq!(balance(banks, payer, &from).await?, hkd(87_655));
    let theirs = PaymentOrder {
        id: uuid::Uuid::new_v4(),
        ..order.clone()
    };
    assert!(matches!(
        banks.pay(payee, theirs, "test").await,
        Err(BankError::AccountNotFound)
    ));
    let nobody = Payee::Proxy(ProxyKey::Mobile(
        MobileNumber::parse("+852 5555 0000").map_err(|e| e.0)?,
    ));
    let unknown = PaymentOrder {
        id: uuid::Uuid::new_v4(),
        payee: nobody,
        ..order.clone()
    };
    assert!(matches!(
        banks.pay(payer, unknown, "test").await,
        Err(BankError::PayeeNotFound)
    ));

    // A crash after the switch settled, before the payer's hold was posted and the payee
    // credited: recovery finishes the payment from what was written, and only once.
    let crashed = uuid::Uuid::new_v4();
    let bank = code("004")?;
    let step = |s| step_id(bank, crashed, s);
    let hold = Transfer {
        id: step(Step::Hold),
        debit_account: from.ledger_id(),
        credit_account: own_account(bank, FPS_POSITION, Currency::Hkd),
        amount: 1_000,
        currency: Currency::Hkd,
        kind: Kind::Pending { timeout_s: 300 },
        linked: false,
        code: bauhinia_fps::wire::Purpose::P2p.code(),
        user_data: crashed.as_u128(),
        reference: String::new(),
    };
    banks.ledger().submit(vec![hold], "test".into()).await?;
    let settle = Transfer {
        id: step(Step::Switch),
        debit_account: bank.settlement_account(Currency::Hkd),
        credit_account: code("387")?.settlement_account(Currency::Hkd),
        kind: Kind::Single,
        user_data: 0,
        amount: 1_000,
        currency: Currency::Hkd,
        linked: false,
        code: bauhinia_fps::wire::Purpose::P2p.code(),
        reference: String::new(),
    };
    w.switch
        .submit(vec![settle], Caller::Participant(bank))
        .await?;
    let id = crashed.hyphenated().to_string();
    let sealed = w.vault.seal(
        &format!("bank-payee:{id}"),
        payee_key.to_sealable().as_bytes(),
    )?;
    let row = PaymentRow {
        counterparty_name: "TAM C** K**".into(),
        counterparty_address: "+852-****0001".into(),
        ..unfinished(&id, &from, sealed, format_id(step(Step::Switch)))
    };
    write_unfinished(banks, payer, &row).await?;
    assert_eq!(
        balance(banks, payee, &to).await?,
        hkd(12_345),
        "not yet credited"
    );
    assert_eq!(banks.recover().await?, 1);
    assert_eq!(banks.recover().await?, 0);
    assert_eq!(balance(banks, payer, &from).await?, hkd(86_655));
    assert_eq!(balance(banks, payee, &to).await?, hkd(13_345));
    assert_eq!(
        banks.payment(payer, &id).await?.ok_or("payment")?.state,
        PaymentState::Settled
    );
    assert_eq!(banks.history(payee).await?.len(), 2);

    assert_books_balance(banks).await?;
    assert!(audit_count(db, "bank.payment.order").await? >= 3);
    assert_eq!(audit_count(db, "bank.payment.receive").await?, 2);
    assert_eq!(
        audit_count(db, "bank.deposit").await?,
        1,
        "a repeated deposit is audited once"
    );
    Ok(())
}

/// A customer at `bank` with `deposit` (minor units) in an HKD savings account.
async fn customer(
    banks: &Banks,
    bank: &str,
    owner: &str,
    name: &str,
    deposit: i64,
) -> Result<AccountNumber, Error> {
    let number = banks
        .open_account(
            code(bank)?,
            owner,
            name,
            Currency::Hkd,
            AccountKind::Savings,
            "test",
        )
        .await?;
    if deposit > 0 {
        banks
            .deposit(uuid::Uuid::new_v4(), &number, hkd(deposit), "test")
            .await?;
    }
    Ok(number)
}

fn ask(to: &AccountNumber, payer: &Payee, minor: i64, reference: &str) -> RequestOrder {
    RequestOrder {
        id: uuid::Uuid::new_v4(),
        to: to.clone(),
        payer: payer.clone(),
        amount: hkd(minor),
        reference: reference.to_owned(),
    }
}

/// Request money: the payee's bank asks the payer's through the switch; the payer sees it,
/// pays it once however often asked, or declines it; no one else may do either.
async fn requests_to_pay(db: &Database) -> Result<(), Error> {
    let w = world(db).await?;
    let banks = &w.banks;
    let (payer, payee, stranger) = ("resident:rq-payer", "resident:rq-payee", "resident:rq-x");
    let from = customer(banks, "004", payer, "LEUNG, Siu Ming", 100_000).await?;
    let to = customer(banks, "387", payee, "WONG, Mei Ling", 0).await?;
    let other = customer(banks, "004", stranger, "CHEUNG, Wai", 100_000).await?;
    let same_bank = customer(banks, "004", payee, "WONG, Mei Ling", 0).await?;
    let mobile = MobileNumber::parse("+852 9876 0101").map_err(|e| e.0)?;
    let key = ProxyKey::Mobile(mobile);
    banks
        .register_proxy(
            payer,
            &from,
            ProxyKind::Mobile,
            Some(key.clone()),
            "t",
            true,
        )
        .await?;
    let by_mobile = Payee::Proxy(key);

    // The request: made once however often sent, seen by both sides.
    let order = ask(&to, &by_mobile, 5_000, "Lunch 午餐");
    let made = banks.request_money(payee, order.clone(), payee).await?;
    assert_eq!(banks.request_money(payee, order, payee).await?.id, made.id);
    assert_eq!(made.status, RequestStatus::Pending);
    assert_eq!(made.payer_name, "LEUNG S** M**");
    assert_eq!(made.payer_address, "+852-****0101");
    let to_me = banks.requests_for(payer).await?;
    assert_eq!(to_me.len(), 1);
    let seen = to_me.first().ok_or("request")?;
    assert_eq!(
        (seen.payee_name.as_str(), seen.amount),
        ("WONG M** L**", hkd(5_000))
    );
    assert_eq!(seen.payee_account, to.masked());
    assert!(banks.requests_for(stranger).await?.is_empty());

    // Refused requests: from the payer's own bank, to an account number, more than nothing.
    let refused = [
        ask(&same_bank, &by_mobile, 100, ""),
        ask(&to, &Payee::Account(from.clone()), 100, ""),
        ask(&to, &by_mobile, 0, ""),
    ];
    for order in refused {
        let answer = banks.request_money(payee, order, payee).await;
        assert!(matches!(answer, Err(BankError::Invalid(_))), "{answer:?}");
    }

    // Someone else can neither pay nor decline it.
    let theirs = banks
        .pay_request(stranger, &made.id, &other, stranger)
        .await;
    assert!(
        matches!(theirs, Err(BankError::RequestNotFound)),
        "{theirs:?}"
    );
    let theirs = banks.decline_request(stranger, &made.id, stranger).await;
    assert!(
        matches!(theirs, Err(BankError::RequestNotFound)),
        "{theirs:?}"
    );

    // Paid twice, paid once: both books, both histories.
    let paid = banks.pay_request(payer, &made.id, &from, payer).await?;
    assert_eq!(paid.state, PaymentState::Settled, "{paid:?}");
    assert_eq!(paid.purpose, "request_to_pay");
    let again = banks.pay_request(payer, &made.id, &from, payer).await?;
    assert_eq!(again.id, paid.id);
    assert_eq!(balance(banks, payer, &from).await?, hkd(95_000));
    assert_eq!(balance(banks, payee, &to).await?, hkd(5_000));
    let out = banks.history(payer).await?;
    assert_eq!(out.len(), 1);
    let incoming = banks.history(payee).await?;
    let received = incoming.first().ok_or("payment in")?;
    assert!(!received.outgoing);
    assert_eq!(
        (received.amount, received.reference.as_str()),
        (hkd(5_000), "Lunch 午餐")
    );
    assert_eq!(received.counterparty_name, "LEUNG S** M**");
    assert!(banks.requests_for(payer).await?.is_empty());
    let mine = banks.requests_made(payee).await?;
    assert_eq!(mine.first().map(|r| r.status), Some(RequestStatus::Paid));

    // A second request, declined: the payee sees it so; it can no longer be paid.
    let second = banks
        .request_money(payee, ask(&to, &by_mobile, 2_000, ""), payee)
        .await?;
    let declined = banks.decline_request(payer, &second.id, payer).await?;
    assert_eq!(declined.status, RequestStatus::Declined);
    let mine = banks.requests_made(payee).await?;
    assert_eq!(
        mine.first().map(|r| r.status),
        Some(RequestStatus::Declined)
    );
    let late = banks.pay_request(payer, &second.id, &from, payer).await;
    assert!(
        matches!(late, Err(BankError::RequestState("declined"))),
        "{late:?}"
    );
    let late = banks.decline_request(payer, &second.id, payer).await;
    assert!(
        matches!(late, Err(BankError::RequestState("declined"))),
        "{late:?}"
    );
    assert_eq!(balance(banks, payer, &from).await?, hkd(95_000));

    // A payment of a request that a stop interrupted right after it was ordered: recovery
    // finishes it through the request (hold, the switch, post, credit), once.
    let third = banks
        .request_money(payee, ask(&to, &by_mobile, 1_000, "Taxi"), payee)
        .await?;
    let paying = request_payment_id(&third.id, &from);
    let id = paying.hyphenated().to_string();
    let destination = Destination::Request(third.id.clone());
    let sealed = w.vault.seal(
        &format!("bank-payee:{id}"),
        destination.to_sealable().as_bytes(),
    )?;
    let transfer = format_id(step_id(code("004")?, paying, Step::Switch));
    let row = PaymentRow {
        counterparty_name: "WONG M** L**".into(),
        counterparty_address: to.masked(),
        purpose: "request_to_pay".into(),
        reference: "Taxi".into(),
        ..unfinished(&id, &from, sealed, transfer)
    };
    write_unfinished(banks, payer, &row).await?;
    assert_eq!(banks.recover().await?, 1);
    assert_eq!(banks.recover().await?, 0);
    let mine = banks.requests_made(payee).await?;
    assert_eq!(mine.first().map(|r| r.status), Some(RequestStatus::Paid));
    let again = banks.pay_request(payer, &third.id, &from, payer).await?;
    assert_eq!((again.id, again.state), (id, PaymentState::Settled));
    assert_eq!(balance(banks, payer, &from).await?, hkd(94_000));
    assert_eq!(balance(banks, payee, &to).await?, hkd(6_000));

    assert_books_balance(banks).await?;
    assert_eq!(audit_count(db, "bank.request.create").await?, 3);
    assert_eq!(audit_count(db, "bank.request.decline").await?, 1);
    Ok(())
}

fn mandate(
    debtor: &AccountNumber,
    creditor: &AccountNumber,
    per: i64,
    monthly: i64,
) -> MandateOrder {
    MandateOrder {
        id: uuid::Uuid::new_v4(),
        debtor: debtor.clone(),
        creditor: creditor.clone(),
        per_debit: hkd(per),
        monthly: hkd(monthly),
    }
}

fn collection(minor: i64) -> Collection {
    Collection {
        id: uuid::Uuid::new_v4(),
        amount: hkd(minor),
        reference: "INV-7".to_owned(),
    }
}

/// eDDA: a standard mandate the debtor sets up, collections by the creditor's bank within its
/// limits (once however often sent), suspend, resume, cancel; a simplified mandate the
/// creditor's bank proposes, confirmed or rejected by the debtor; no one else moves either.
async fn mandates(db: &Database) -> Result<(), Error> {
    let w = world(db).await?;
    let banks = &w.banks;
    let (debtor, creditor, stranger) = (
        "resident:dd-debtor",
        "resident:dd-creditor",
        "resident:dd-x",
    );
    let from = customer(banks, "004", debtor, "MAK, Ho Yin", 100_000).await?;
    let to = customer(banks, "387", creditor, "GREEN ENERGY LTD", 0).await?;
    let near = customer(banks, "004", creditor, "GREEN ENERGY LTD", 0).await?;

    // Bad orders change nothing.
    let bad = [
        mandate(&from, &near, 100, 100),
        mandate(&from, &to, 20_000, 10_000),
        mandate(&from, &to, 0, 10_000),
    ];
    for order in bad {
        let answer = banks.set_up_mandate(debtor, order, debtor).await;
        assert!(matches!(answer, Err(BankError::Invalid(_))), "{answer:?}");
    }
    let theirs = banks
        .set_up_mandate(stranger, mandate(&from, &to, 100, 100), stranger)
        .await;
    assert!(
        matches!(theirs, Err(BankError::AccountNotFound)),
        "{theirs:?}"
    );
    assert!(banks.mandates_of(debtor).await?.is_empty());

    // A standard mandate: active at once, set up once however often sent.
    let order = mandate(&from, &to, 20_000, 30_000);
    let made = banks.set_up_mandate(debtor, order.clone(), debtor).await?;
    assert_eq!(
        banks.set_up_mandate(debtor, order, debtor).await?.id,
        made.id
    );
    assert_eq!(made.status, MandateStatus::Active);
    assert_eq!(made.creditor_name, "GREEN E** L**");
    assert_eq!(banks.mandates_of(debtor).await?.len(), 1);

    // Collections: once per id, within the per-debit and the month's limits.
    let first = collection(15_000);
    let paid = banks.collect(&made.id, first.clone(), "admin").await?;
    assert_eq!(paid.state, PaymentState::Settled, "{paid:?}");
    assert_eq!(banks.collect(&made.id, first, "admin").await?.id, paid.id);
    assert_eq!(balance(banks, debtor, &from).await?, hkd(85_000));
    assert_eq!(balance(banks, creditor, &to).await?, hkd(15_000));
    let out = banks.history(debtor).await?;
    assert_eq!(
        out.first().map(|p| p.purpose.as_str()),
        Some("direct_debit")
    );
    let incoming = banks.history(creditor).await?;
    assert_eq!(
        incoming.first().map(|p| (p.outgoing, p.amount)),
        Some((false, hkd(15_000)))
    );
    let over = banks.collect(&made.id, collection(25_000), "admin").await;
    assert!(matches!(over, Err(BankError::Invalid(_))), "{over:?}");
    let month = banks.collect(&made.id, collection(20_000), "admin").await?;
    assert_eq!(month.state, PaymentState::Failed);
    assert_eq!(month.reason.as_deref(), Some("mandate_limit_exceeded"));
    assert_eq!(balance(banks, debtor, &from).await?, hkd(85_000));
    let unknown = banks
        .collect(&uuid::Uuid::new_v4().to_string(), collection(100), "admin")
        .await;
    assert!(
        matches!(unknown, Err(BankError::MandateNotFound)),
        "{unknown:?}"
    );

    // Suspended, nothing is collected; resumed, again; cancelled, for good. Only the debtor moves it.
    let theirs = banks
        .move_mandate(stranger, &made.id, MandateAction::Suspend, stranger)
        .await;
    assert!(
        matches!(theirs, Err(BankError::MandateNotFound)),
        "{theirs:?}"
    );
    let moved = banks
        .move_mandate(debtor, &made.id, MandateAction::Suspend, debtor)
        .await?;
    assert_eq!(moved.status, MandateStatus::Suspended);
    let held = banks.collect(&made.id, collection(1_000), "admin").await;
    assert!(matches!(held, Err(BankError::MandateState(_))), "{held:?}");
    let moved = banks
        .move_mandate(debtor, &made.id, MandateAction::Resume, debtor)
        .await?;
    assert_eq!(moved.status, MandateStatus::Active);
    assert_eq!(
        banks
            .collect(&made.id, collection(1_000), "admin")
            .await?
            .state,
        PaymentState::Settled
    );
    let moved = banks
        .move_mandate(debtor, &made.id, MandateAction::Cancel, debtor)
        .await?;
    assert_eq!(moved.status, MandateStatus::Cancelled);
    let again = banks
        .move_mandate(debtor, &made.id, MandateAction::Resume, debtor)
        .await;
    assert!(
        matches!(again, Err(BankError::MandateState(_))),
        "{again:?}"
    );

    // Simplified: proposed by the creditor's bank, pending until the debtor confirms.
    let proposed = banks
        .propose_mandate(mandate(&from, &to, 5_000, 5_000), "admin")
        .await?;
    assert_eq!(proposed.status, MandateStatus::Pending);
    let early = banks
        .collect(&proposed.id, collection(1_000), "admin")
        .await;
    assert!(
        matches!(early, Err(BankError::MandateState(_))),
        "{early:?}"
    );
    let confirmed = banks
        .move_mandate(debtor, &proposed.id, MandateAction::Confirm, debtor)
        .await?;
    assert_eq!(confirmed.status, MandateStatus::Active);
    let other = banks
        .propose_mandate(mandate(&from, &to, 5_000, 5_000), "admin")
        .await?;
    let rejected = banks
        .move_mandate(debtor, &other.id, MandateAction::Reject, debtor)
        .await?;
    assert_eq!(rejected.status, MandateStatus::Rejected);
    assert_eq!(banks.mandates_of(debtor).await?.len(), 3);

    assert_eq!(balance(banks, debtor, &from).await?, hkd(84_000));
    assert_eq!(balance(banks, creditor, &to).await?, hkd(16_000));
    assert_books_balance(banks).await?;
    assert_eq!(audit_count(db, "bank.mandate.create").await?, 3);
    assert!(audit_count(db, "bank.mandate.move").await? >= 5);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn banks_on_sqlite() -> Result<(), Error> {
    let db = TestDb::sqlite().await?;
    conformance(&db.db).await?;
    requests_to_pay(&db.db).await?;
    mandates(&db.db).await?;
    db.cleanup().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn banks_on_postgres() -> Result<(), Error> {
    let Some(db) = TestDb::postgres().await? else {
        return Ok(());
    };
    conformance(&db.db).await?;
    requests_to_pay(&db.db).await?;
    mandates(&db.db).await?;
    db.cleanup().await?;
    println!("store conformance: postgres banks ok");
    Ok(())
}
