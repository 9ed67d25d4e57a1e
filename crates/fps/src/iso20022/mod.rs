//! ISO 20022 messages at FPS's participant interface: typed messages, their XML, and a parser
//! that says exactly what is wrong with a document.
//!
//! This module owns the messages' shape and nothing else: it reads and writes bytes, never a
//! database or a socket, and makes no payment decision (the switch does). It must never panic
//! on any input, expand an entity beyond XML's five predefined ones, accept a DTD, or hold an
//! amount in a float.
//!
//! - `xml` — bytes to an element tree (quick-xml, bounded) and back; sequence checking.
//! - `types` — texts, amounts, dates, codes, agents (3-digit participant codes), accounts.
//! - `pacs` — pacs.008.001.08, pacs.002.001.10, pacs.004.001.09, pacs.003.001.08.
//! - `pain` — pain.009.001.06 to pain.012.001.06 (eDDA mandates).
//! - `camt` — camt.053.001.08 and camt.054.001.08.
//!
//! Every message is a *profile* of its schema: element names, order and cardinality follow
//! the XSD, the subset FPS uses is accepted and anything else is refused by name. A written
//! message reads back as the same value.

mod camt;
mod error;
mod pacs;
mod pain;
mod types;
mod xml;

pub use camt::{
    balance_type, entry_status, AccountNotification, AccountStatement, Balance,
    BankTransactionCode, Entry, Notification, Period, References, Statement, StatementHeader,
    TransactionDetails, CAMT_053_NAMESPACE, CAMT_054_NAMESPACE,
};
pub use error::{Iso20022Error, QUOTED_VALUE_CHARS_MAX};
pub use pacs::{
    CreditTransfer, CreditTransferTransaction, DirectDebit, DirectDebitTransaction,
    OriginalGroupStatus, PaymentId, PaymentReturn, PaymentStatus, ReportHeader, ReturnTransaction,
    SettlementHeader, StatusReport, TransactionStatus, PACS_002_NAMESPACE, PACS_003_NAMESPACE,
    PACS_004_NAMESPACE, PACS_008_NAMESPACE, SETTLEMENT_METHOD,
};
pub use pain::{
    AcceptanceResult, Frequency, FrequencyCode, Mandate, MandateAcceptance,
    MandateAcceptanceDetails, MandateAmendment, MandateAmendmentDetails, MandateCancellation,
    MandateCancellationDetails, MandateInitiation, MandateReason, Occurrences, OriginalMandateId,
    SequenceType, PAIN_009_NAMESPACE, PAIN_010_NAMESPACE, PAIN_011_NAMESPACE, PAIN_012_NAMESPACE,
};
pub use types::{
    parse_currency, parse_decimal_minor, reason, Account, AccountId, Agent, Amount, ChargeBearer,
    CodeOrProprietary, CreditDebit, DateOrDateTime, IsoDate, IsoDateTime, Max105Text, Max140Text,
    Max2048Text, Max34Text, Max35Text, Max4Text, Max500Text, Max70Text, OneOrMore, OriginalGroup,
    OriginalMessage, ParticipantCode, Party, Proxy, ProxyType, ReasonInfo, Remittance, Text,
    HK_CLEARING_SYSTEM,
};
pub use xml::{DEPTH_MAX, INPUT_BYTES_MAX};

use xml::{one, seq, Node, Writer};

type Result<T> = std::result::Result<T, Iso20022Error>;

/// Any message this module reads, told apart by its namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    CreditTransfer(CreditTransfer),
    StatusReport(StatusReport),
    PaymentReturn(PaymentReturn),
    DirectDebit(DirectDebit),
    MandateInitiation(MandateInitiation),
    MandateAmendment(MandateAmendment),
    MandateCancellation(MandateCancellation),
    MandateAcceptance(MandateAcceptance),
    Statement(Statement),
    Notification(Notification),
}

/// Each message's namespace and the element under `Document`.
const MESSAGES: &[(&str, &str)] = &[
    (PACS_008_NAMESPACE, CreditTransfer::ROOT),
    (PACS_002_NAMESPACE, StatusReport::ROOT),
    (PACS_004_NAMESPACE, PaymentReturn::ROOT),
    (PACS_003_NAMESPACE, DirectDebit::ROOT),
    (PAIN_009_NAMESPACE, MandateInitiation::ROOT),
    (PAIN_010_NAMESPACE, MandateAmendment::ROOT),
    (PAIN_011_NAMESPACE, MandateCancellation::ROOT),
    (PAIN_012_NAMESPACE, MandateAcceptance::ROOT),
    (CAMT_053_NAMESPACE, Statement::ROOT),
    (CAMT_054_NAMESPACE, Notification::ROOT),
];

impl Message {
    /// The message's XML namespace, e.g. `urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08`.
    pub fn namespace(&self) -> &'static str {
        match self {
            Self::CreditTransfer(_) => PACS_008_NAMESPACE,
            Self::StatusReport(_) => PACS_002_NAMESPACE,
            Self::PaymentReturn(_) => PACS_004_NAMESPACE,
            Self::DirectDebit(_) => PACS_003_NAMESPACE,
            Self::MandateInitiation(_) => PAIN_009_NAMESPACE,
            Self::MandateAmendment(_) => PAIN_010_NAMESPACE,
            Self::MandateCancellation(_) => PAIN_011_NAMESPACE,
            Self::MandateAcceptance(_) => PAIN_012_NAMESPACE,
            Self::Statement(_) => CAMT_053_NAMESPACE,
            Self::Notification(_) => CAMT_054_NAMESPACE,
        }
    }

    /// The message identifier, e.g. `pacs.008.001.08`.
    pub fn name(&self) -> &'static str {
        let namespace = self.namespace();
        namespace.rsplit(':').next().unwrap_or(namespace)
    }

    /// The document as UTF-8 XML with an XML declaration, two-space indented.
    pub fn to_xml(&self) -> String {
        let root = MESSAGES
            .iter()
            .find(|(ns, _)| *ns == self.namespace())
            .map_or("", |(_, root)| root);
        Writer::document(self.namespace(), root, |w| match self {
            Self::CreditTransfer(m) => m.write(w),
            Self::StatusReport(m) => m.write(w),
            Self::PaymentReturn(m) => m.write(w),
            Self::DirectDebit(m) => m.write(w),
            Self::MandateInitiation(m) => m.write(w),
            Self::MandateAmendment(m) => m.write(w),
            Self::MandateCancellation(m) => m.write(w),
            Self::MandateAcceptance(m) => m.write(w),
            Self::Statement(m) => m.write(w),
            Self::Notification(m) => m.write(w),
        })
    }
}

/// Parses any supported message, choosing it by the `Document` element's namespace.
pub fn parse(xml: &[u8]) -> Result<Message> {
    let document = xml::read_document(xml)?;
    let Some(&(namespace, _)) = MESSAGES.iter().find(|(ns, _)| *ns == document.namespace) else {
        let expected: Vec<&str> = MESSAGES.iter().map(|(ns, _)| *ns).collect();
        return Err(Iso20022Error::WrongNamespace {
            path: "/Document".to_owned(),
            expected: format!("one of {}", expected.join(", ")),
            found: document.namespace,
        });
    };
    decode(namespace, &document.root)
}

fn decode(namespace: &str, root: &Node) -> Result<Message> {
    Ok(match namespace {
        PACS_008_NAMESPACE => {
            Message::CreditTransfer(body(root, CreditTransfer::ROOT, CreditTransfer::read)?)
        }
        PACS_002_NAMESPACE => {
            Message::StatusReport(body(root, StatusReport::ROOT, StatusReport::read)?)
        }
        PACS_004_NAMESPACE => {
            Message::PaymentReturn(body(root, PaymentReturn::ROOT, PaymentReturn::read)?)
        }
        PACS_003_NAMESPACE => {
            Message::DirectDebit(body(root, DirectDebit::ROOT, DirectDebit::read)?)
        }
        PAIN_009_NAMESPACE => Message::MandateInitiation(body(
            root,
            MandateInitiation::ROOT,
            MandateInitiation::read,
        )?),
        PAIN_010_NAMESPACE => {
            Message::MandateAmendment(body(root, MandateAmendment::ROOT, MandateAmendment::read)?)
        }
        PAIN_011_NAMESPACE => Message::MandateCancellation(body(
            root,
            MandateCancellation::ROOT,
            MandateCancellation::read,
        )?),
        PAIN_012_NAMESPACE => Message::MandateAcceptance(body(
            root,
            MandateAcceptance::ROOT,
            MandateAcceptance::read,
        )?),
        CAMT_053_NAMESPACE => Message::Statement(body(root, Statement::ROOT, Statement::read)?),
        _ => Message::Notification(body(root, Notification::ROOT, Notification::read)?),
    })
}

/// Checks the `Document` element and reads its one child, the message, with `read`.
fn body<T>(root: &Node, message: &'static str, read: fn(&Node, &str) -> Result<T>) -> Result<T> {
    if root.name != "Document" {
        return Err(Iso20022Error::UnexpectedElement {
            path: "/".to_owned(),
            found: root.name.clone(),
            expected: "Document".to_owned(),
        });
    }
    let fields = [one(message)];
    let (node, path) = seq(root, "/Document", &fields)?.child(message)?;
    read(node, &path)
}

/// Parses a document that must be the message in `namespace`.
fn parse_one<T>(
    xml: &[u8],
    namespace: &'static str,
    message: &'static str,
    read: fn(&Node, &str) -> Result<T>,
) -> Result<T> {
    let document = xml::read_document(xml)?;
    if document.namespace != namespace {
        return Err(Iso20022Error::WrongNamespace {
            path: "/Document".to_owned(),
            expected: namespace.to_owned(),
            found: document.namespace,
        });
    }
    body(&document.root, message, read)
}

pub fn parse_credit_transfer(xml: &[u8]) -> Result<CreditTransfer> {
    parse_one(
        xml,
        PACS_008_NAMESPACE,
        CreditTransfer::ROOT,
        CreditTransfer::read,
    )
}

pub fn parse_status_report(xml: &[u8]) -> Result<StatusReport> {
    parse_one(
        xml,
        PACS_002_NAMESPACE,
        StatusReport::ROOT,
        StatusReport::read,
    )
}

pub fn parse_payment_return(xml: &[u8]) -> Result<PaymentReturn> {
    parse_one(
        xml,
        PACS_004_NAMESPACE,
        PaymentReturn::ROOT,
        PaymentReturn::read,
    )
}

pub fn parse_direct_debit(xml: &[u8]) -> Result<DirectDebit> {
    parse_one(
        xml,
        PACS_003_NAMESPACE,
        DirectDebit::ROOT,
        DirectDebit::read,
    )
}

pub fn parse_mandate_initiation(xml: &[u8]) -> Result<MandateInitiation> {
    parse_one(
        xml,
        PAIN_009_NAMESPACE,
        MandateInitiation::ROOT,
        MandateInitiation::read,
    )
}

pub fn parse_mandate_amendment(xml: &[u8]) -> Result<MandateAmendment> {
    parse_one(
        xml,
        PAIN_010_NAMESPACE,
        MandateAmendment::ROOT,
        MandateAmendment::read,
    )
}

pub fn parse_mandate_cancellation(xml: &[u8]) -> Result<MandateCancellation> {
    parse_one(
        xml,
        PAIN_011_NAMESPACE,
        MandateCancellation::ROOT,
        MandateCancellation::read,
    )
}

pub fn parse_mandate_acceptance(xml: &[u8]) -> Result<MandateAcceptance> {
    parse_one(
        xml,
        PAIN_012_NAMESPACE,
        MandateAcceptance::ROOT,
        MandateAcceptance::read,
    )
}

pub fn parse_statement(xml: &[u8]) -> Result<Statement> {
    parse_one(xml, CAMT_053_NAMESPACE, Statement::ROOT, Statement::read)
}

pub fn parse_notification(xml: &[u8]) -> Result<Notification> {
    parse_one(
        xml,
        CAMT_054_NAMESPACE,
        Notification::ROOT,
        Notification::read,
    )
}

/// The entry point for a coverage-guided fuzz target: parses `data`, and for anything that
/// parses, checks that writing it and parsing the result gives the same message and the same
/// text again.
///
/// # Panics
///
/// Only on a real inconsistency: a message that does not survive write → parse.
#[allow(clippy::panic)] // Panicking is how a fuzz target reports a finding.
pub fn fuzz_parse(data: &[u8]) {
    let Ok(message) = parse(data) else {
        return;
    };
    let written = message.to_xml();
    if written.len() > INPUT_BYTES_MAX {
        // The written form can be longer than the input (indentation, escapes); past the input
        // limit it cannot be read back by design.
        return;
    }
    match parse(written.as_bytes()) {
        Ok(again) if again == message => {
            let rewritten = again.to_xml();
            if rewritten != written {
                panic!("writing is not stable:\n{written}\n---\n{rewritten}");
            }
        }
        Ok(again) => panic!("write → parse changed the message:\n{message:?}\n---\n{again:?}"),
        Err(e) => panic!("a written message does not parse: {e}\n{written}"),
    }
}
