//! Every hand-written sample parses, through `parse` and its own entry point, to the values
//! it spells out, and survives a write and a read.

use bauhinia_core::money::Currency;
use bauhinia_fps::iso20022::{self as iso, reason, Message, PaymentStatus, ProxyType};

use crate::{TestResult, SAMPLES};

fn sample(name: &str) -> Result<&'static [u8], String> {
    SAMPLES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, bytes)| *bytes)
        .ok_or_else(|| format!("no sample {name}"))
}

#[test]
fn every_sample_parses_and_round_trips() -> TestResult {
    for (name, bytes) in SAMPLES {
        let message = iso::parse(bytes).map_err(|e| format!("{name}: {e}"))?;
        assert_eq!(message.name(), *name);
        let written = message.to_xml();
        let again = iso::parse(written.as_bytes()).map_err(|e| format!("{name} rewritten: {e}"))?;
        assert_eq!(again, message, "{name}");
        assert_eq!(again.to_xml(), written, "{name}: writing is stable");
        iso::fuzz_parse(bytes);
    }
    Ok(())
}

#[test]
fn credit_transfer_values() -> TestResult {
    let bytes = sample("pacs.008.001.08")?;
    let message = iso::parse_credit_transfer(bytes)?;
    assert_eq!(iso::parse(bytes)?, Message::CreditTransfer(message.clone()));
    assert_eq!(message.header.message_id.as_str(), "004-20260301-000001");
    assert_eq!(
        message.header.created.to_iso_text(),
        "2026-03-01T10:15:30.123+08:00"
    );
    let [tx] = message.transactions.as_slice() else {
        return Err("one transaction expected".into());
    };
    assert_eq!(tx.amount.minor(), 123_450);
    assert_eq!(tx.amount.currency(), Currency::Hkd);
    assert_eq!(tx.payment_id.transaction_id.as_str(), "FPS2026030100000001");
    assert_eq!(tx.debtor_agent.participant.as_str(), "004");
    assert_eq!(tx.creditor_agent.participant.as_str(), "012");
    assert_eq!(tx.debtor.name.as_ref().map(|n| n.as_str()), Some("陳大文"));
    let proxy = tx.creditor_account.as_ref().and_then(|a| a.proxy.as_ref());
    assert_eq!(
        proxy.map(|p| (p.kind, p.id.as_str())),
        Some((ProxyType::Mobile, "+852-91234567"))
    );
    let remittance = tx
        .remittance
        .as_ref()
        .map(|r| r.unstructured.clone())
        .unwrap_or_default();
    assert_eq!(
        remittance.first().map(|t| t.as_str()),
        Some("Dinner & drinks <Sat>")
    );
    Ok(())
}

#[test]
fn status_report_values() -> TestResult {
    let report = iso::parse_status_report(sample("pacs.002.001.10")?)?;
    assert_eq!(
        report.groups.first().and_then(|g| g.number_of_transactions),
        Some(2)
    );
    let statuses: Vec<_> = report.transactions.iter().map(|t| t.status).collect();
    assert_eq!(
        statuses,
        [
            Some(PaymentStatus::AcceptedSettlementCompleted),
            Some(PaymentStatus::Rejected)
        ]
    );
    let rejected = report
        .transactions
        .get(1)
        .ok_or("two transactions expected")?;
    let code = rejected.reasons.first().and_then(|r| r.reason.as_ref());
    assert!(code.is_some_and(|c| c.is_code(reason::AM04)));
    assert_eq!(reason::meaning(reason::AM04), Some("insufficient funds"));
    Ok(())
}

#[test]
fn return_and_direct_debit_values() -> TestResult {
    let returned = iso::parse_payment_return(sample("pacs.004.001.09")?)?;
    let tx = returned
        .transactions
        .as_slice()
        .first()
        .ok_or("a returned transaction")?;
    // `1234.5` and `1234.50` are the same amount.
    assert_eq!(
        tx.returned_amount,
        tx.original_amount.ok_or("an original amount")?
    );
    assert!(tx
        .reasons
        .first()
        .and_then(|r| r.reason.as_ref())
        .is_some_and(|c| c.is_code("AC04")));

    let debit = iso::parse_direct_debit(sample("pacs.003.001.08")?)?;
    let tx = debit
        .transactions
        .as_slice()
        .first()
        .ok_or("a direct debit")?;
    assert_eq!(tx.mandate_id.as_str(), "EDDA-024-000123");
    assert_eq!(tx.amount.minor(), 45_670);
    assert_eq!(debit.header.created.offset, None);
    Ok(())
}

#[test]
fn mandate_values() -> TestResult {
    let initiation = iso::parse_mandate_initiation(sample("pain.009.001.06")?)?;
    let mandate = initiation.mandates.as_slice().first().ok_or("a mandate")?;
    assert_eq!(mandate.max_amount.map(|a| a.minor()), Some(500_000));
    assert_eq!(
        mandate.occurrences.as_ref().and_then(|o| o.frequency),
        Some(iso::Frequency::Every(iso::FrequencyCode::Monthly))
    );
    let amendment = iso::parse_mandate_amendment(sample("pain.010.001.06")?)?;
    let details = amendment
        .amendments
        .as_slice()
        .first()
        .ok_or("an amendment")?;
    assert_eq!(details.mandate.max_amount.map(|a| a.minor()), Some(800_000));
    assert!(!details.mandate.tracking);
    let cancellation = iso::parse_mandate_cancellation(sample("pain.011.001.06")?)?;
    let details = cancellation
        .cancellations
        .as_slice()
        .first()
        .ok_or("a cancellation")?;
    assert!(details.reason.reason.is_code(reason::CUST));
    let acceptance = iso::parse_mandate_acceptance(sample("pain.012.001.06")?)?;
    let accepted: Vec<bool> = acceptance
        .reports
        .as_slice()
        .iter()
        .map(|r| r.result.accepted)
        .collect();
    assert_eq!(accepted, [true, false]);
    Ok(())
}

#[test]
fn statement_and_notification_values() -> TestResult {
    let statement = iso::parse_statement(sample("camt.053.001.08")?)?;
    let stmt = statement
        .statements
        .as_slice()
        .first()
        .ok_or("a statement")?;
    let kinds: Vec<&str> = stmt
        .balances
        .as_slice()
        .iter()
        .map(|b| b.kind.value())
        .collect();
    assert_eq!(kinds, [iso::balance_type::OPBD, iso::balance_type::CLBD]);
    let closing = stmt.balances.as_slice().get(1).ok_or("a closing balance")?;
    assert_eq!(closing.amount.minor(), 99_876_550);
    assert_eq!(stmt.electronic_sequence, Some(60));
    let entry = stmt.entries.first().ok_or("an entry")?;
    assert_eq!(entry.credit_debit, iso::CreditDebit::Debit);
    assert!(entry.status.is_code(iso::entry_status::BOOKED));
    let refs = entry
        .details
        .first()
        .and_then(|d| d.references.as_ref())
        .ok_or("references")?;
    assert_eq!(
        refs.transaction_id.as_ref().map(|t| t.as_str()),
        Some("FPS2026030100000001")
    );

    let notification = iso::parse_notification(sample("camt.054.001.08")?)?;
    let ntfctn = notification
        .notifications
        .as_slice()
        .first()
        .ok_or("a notification")?;
    assert_eq!(ntfctn.account.currency, Some(Currency::Cny));
    let entry = ntfctn.entries.first().ok_or("an entry")?;
    assert_eq!(
        (entry.amount.minor(), entry.amount.currency()),
        (8_880, Currency::Cny)
    );
    Ok(())
}

#[test]
fn a_typed_entry_point_refuses_another_message() -> TestResult {
    let error = iso::parse_credit_transfer(sample("pacs.002.001.10")?)
        .err()
        .ok_or("refused")?;
    assert_eq!(
        error,
        iso::Iso20022Error::WrongNamespace {
            path: "/Document".to_owned(),
            expected: iso::PACS_008_NAMESPACE.to_owned(),
            found: iso::PACS_002_NAMESPACE.to_owned(),
        }
    );
    Ok(())
}
