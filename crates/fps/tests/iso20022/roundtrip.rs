//! typed → XML → typed is the identity, for every message type, through `parse` and through
//! the message's own entry point.

use bauhinia_fps::iso20022::{self as iso, Message};
use proptest::prelude::*;

use crate::strategies;

fn round_trip(message: &Message) -> Result<(), TestCaseError> {
    let xml = message.to_xml();
    let parsed =
        iso::parse(xml.as_bytes()).map_err(|e| TestCaseError::fail(format!("{e}\n{xml}")))?;
    prop_assert_eq!(&parsed, message);
    prop_assert_eq!(parsed.to_xml(), xml);
    Ok(())
}

/// The typed entry point gives the same value as `parse`.
fn typed<T: PartialEq + std::fmt::Debug + Clone>(
    message: &T,
    wrap: fn(T) -> Message,
    parse: fn(&[u8]) -> Result<T, iso::Iso20022Error>,
) -> Result<(), TestCaseError> {
    let wrapped = wrap(message.clone());
    round_trip(&wrapped)?;
    let parsed =
        parse(wrapped.to_xml().as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&parsed, message);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn credit_transfer(m in strategies::credit_transfer()) {
        typed(&m, Message::CreditTransfer, iso::parse_credit_transfer)?;
    }

    #[test]
    fn status_report(m in strategies::status_report()) {
        typed(&m, Message::StatusReport, iso::parse_status_report)?;
    }

    #[test]
    fn payment_return(m in strategies::payment_return()) {
        typed(&m, Message::PaymentReturn, iso::parse_payment_return)?;
    }

    #[test]
    fn direct_debit(m in strategies::direct_debit()) {
        typed(&m, Message::DirectDebit, iso::parse_direct_debit)?;
    }

    #[test]
    fn mandate_initiation(m in strategies::mandate_initiation()) {
        typed(&m, Message::MandateInitiation, iso::parse_mandate_initiation)?;
    }

    #[test]
    fn mandate_amendment(m in strategies::mandate_amendment()) {
        typed(&m, Message::MandateAmendment, iso::parse_mandate_amendment)?;
    }

    #[test]
    fn mandate_cancellation(m in strategies::mandate_cancellation()) {
        typed(&m, Message::MandateCancellation, iso::parse_mandate_cancellation)?;
    }

    #[test]
    fn mandate_acceptance(m in strategies::mandate_acceptance()) {
        typed(&m, Message::MandateAcceptance, iso::parse_mandate_acceptance)?;
    }

    #[test]
    fn statement(m in strategies::statement()) {
        typed(&m, Message::Statement, iso::parse_statement)?;
    }

    #[test]
    fn notification(m in strategies::notification()) {
        typed(&m, Message::Notification, iso::parse_notification)?;
    }

    /// Amount text is exact: every amount written reads back to the same minor units, and the
    /// parser agrees with integer arithmetic on any decimal text with up to two places.
    #[test]
    fn amounts_are_exact(whole in 0..10_000_000_000_000_000_i64, cents in 0..100_i64, zeros in 0..4_usize) {
        let text = format!("{whole}.{cents:02}{}", "0".repeat(zeros));
        prop_assert_eq!(iso::parse_decimal_minor(&text), Ok(whole * 100 + cents));
    }
}
