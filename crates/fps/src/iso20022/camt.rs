//! Cash management reports to participants: camt.053.001.08 (statement, with opening and
//! closing balances) and camt.054.001.08 (debit/credit notification).
//!
//! The same profile rule as in `pacs`: the sequences list, in XSD order, the elements FPS uses.

use super::error::Iso20022Error;
use super::types::{
    read_value, Account, Amount, CodeOrProprietary, CreditDebit, DateOrDateTime, IsoDateTime,
    Max35Text, Max4Text, Max500Text, OneOrMore, Remittance,
};
use super::xml::{many, one, opt, seq, some, Field, Node, Writer, Xml};

type Result<T> = std::result::Result<T, Iso20022Error>;

pub const CAMT_053_NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08";
pub const CAMT_054_NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08";

/// `GroupHeader81`: the message id and when it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementHeader {
    pub message_id: Max35Text,
    pub created: IsoDateTime,
}

const STATEMENT_HEADER: &[Field] = &[one("MsgId"), one("CreDtTm")];

impl Xml for StatementHeader {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let s = seq(node, path, STATEMENT_HEADER)?;
        Ok(StatementHeader {
            message_id: s.req("MsgId")?,
            created: s.req("CreDtTm")?,
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| {
            w.el("MsgId", &self.message_id);
            w.el("CreDtTm", &self.created);
        });
    }
}

/// `Number` with no fraction (`ElctrncSeqNb`): up to 18 digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SequenceNumber(u64);

impl Xml for SequenceNumber {
    fn read(node: &Node, path: &str) -> Result<Self> {
        read_value(node, path, |text| {
            let bad = || "a sequence number is 1 to 18 digits".to_owned();
            if text.is_empty() || text.len() > 18 || !text.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            text.parse().map(SequenceNumber).map_err(|_| bad())
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.text(name, &self.0.to_string());
    }
}

/// `DateTimePeriod1`: the period a report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: IsoDateTime,
    pub to: IsoDateTime,
}

const PERIOD: &[Field] = &[one("FrDtTm"), one("ToDtTm")];

impl Xml for Period {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let s = seq(node, path, PERIOD)?;
        Ok(Period {
            from: s.req("FrDtTm")?,
            to: s.req("ToDtTm")?,
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| {
            w.el("FrDtTm", &self.from);
            w.el("ToDtTm", &self.to);
        });
    }
}

/// ISO balance type codes FPS writes (`ExternalBalanceType1Code`).
pub mod balance_type {
    /// Opening booked.
    pub const OPBD: &str = "OPBD";
    /// Closing booked.
    pub const CLBD: &str = "CLBD";
    /// Interim booked.
    pub const ITBD: &str = "ITBD";
    /// Closing available.
    pub const CLAV: &str = "CLAV";
}

/// One `Bal` (`CashBalance8`): the amount is never negative; `credit_debit` gives the sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    pub kind: CodeOrProprietary,
    pub amount: Amount,
    pub credit_debit: CreditDebit,
    pub date: DateOrDateTime,
}

const BALANCE: &[Field] = &[one("Tp"), one("Amt"), one("CdtDbtInd"), one("Dt")];
const BALANCE_TYPE: &[Field] = &[one("CdOrPrtry")];

impl Xml for Balance {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let s = seq(node, path, BALANCE)?;
        let (kind, kind_path) = s.child("Tp")?;
        Ok(Balance {
            kind: seq(kind, &kind_path, BALANCE_TYPE)?.req("CdOrPrtry")?,
            amount: s.req("Amt")?,
            credit_debit: s.req("CdtDbtInd")?,
            date: s.req("Dt")?,
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| {
            w.group("Tp", |w| w.el("CdOrPrtry", &self.kind));
            w.el("Amt", &self.amount);
            w.el("CdtDbtInd", &self.credit_debit);
            w.el("Dt", &self.date);
        });
    }
}

/// `BkTxCd/Domn`: domain, family and sub-family codes (e.g. `PMNT` / `RCDT` / `DMCT`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankTransactionCode {
    pub domain: Max4Text,
    pub family: Max4Text,
    pub sub_family: Max4Text,
}

const BANK_TRANSACTION_CODE: &[Field] = &[one("Domn")];
const DOMAIN: &[Field] = &[one("Cd"), one("Fmly")];
const FAMILY: &[Field] = &[one("Cd"), one("SubFmlyCd")];

impl Xml for BankTransactionCode {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let (domain, domain_path) = seq(node, path, BANK_TRANSACTION_CODE)?.child("Domn")?;
        let domain = seq(domain, &domain_path, DOMAIN)?;
        let (family, family_path) = domain.child("Fmly")?;
        let family = seq(family, &family_path, FAMILY)?;
        Ok(BankTransactionCode {
            domain: domain.req("Cd")?,
            family: family.req("Cd")?,
            sub_family: family.req("SubFmlyCd")?,
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| {
            w.group("Domn", |w| {
                w.el("Cd", &self.domain);
                w.group("Fmly", |w| {
                    w.el("Cd", &self.family);
                    w.el("SubFmlyCd", &self.sub_family);
                });
            });
        });
    }
}

/// `Refs` (`TransactionReferences6`): the ids that tie an entry to its payment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct References {
    pub message_id: Option<Max35Text>,
    pub account_servicer_reference: Option<Max35Text>,
    pub instruction_id: Option<Max35Text>,
    pub end_to_end_id: Option<Max35Text>,
    pub transaction_id: Option<Max35Text>,
    pub mandate_id: Option<Max35Text>,
    pub clearing_reference: Option<Max35Text>,
}

const REFERENCES: &[Field] = &[
    opt("MsgId"),
    opt("AcctSvcrRef"),
    opt("InstrId"),
    opt("EndToEndId"),
    opt("TxId"),
    opt("MndtId"),
    opt("ClrSysRef"),
];

impl Xml for References {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let s = seq(node, path, REFERENCES)?;
        Ok(References {
            message_id: s.opt("MsgId")?,
            account_servicer_reference: s.opt("AcctSvcrRef")?,
            instruction_id: s.opt("InstrId")?,
            end_to_end_id: s.opt("EndToEndId")?,
            transaction_id: s.opt("TxId")?,
            mandate_id: s.opt("MndtId")?,
            clearing_reference: s.opt("ClrSysRef")?,
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| {
            w.opt("MsgId", &self.message_id);
            w.opt("AcctSvcrRef", &self.account_servicer_reference);
            w.opt("InstrId", &self.instruction_id);
            w.opt("EndToEndId", &self.end_to_end_id);
            w.opt("TxId", &self.transaction_id);
            w.opt("MndtId", &self.mandate_id);
            w.opt("ClrSysRef", &self.clearing_reference);
        });
    }
}

/// `TxDtls` (`EntryTransaction10`): one payment within an entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TransactionDetails {
    pub references: Option<References>,
    pub amount: Option<Amount>,
    pub credit_debit: Option<CreditDebit>,
    pub remittance: Option<Remittance>,
    pub additional_info: Option<Max500Text>,
}

const TRANSACTION_DETAILS: &[Field] = &[
    opt("Refs"),
    opt("Amt"),
    opt("CdtDbtInd"),
    opt("RmtInf"),
    opt("AddtlTxInf"),
];

impl Xml for TransactionDetails {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let s = seq(node, path, TRANSACTION_DETAILS)?;
        Ok(TransactionDetails {
            references: s.opt("Refs")?,
            amount: s.opt("Amt")?,
            credit_debit: s.opt("CdtDbtInd")?,
            remittance: s.opt("RmtInf")?,
            additional_info: s.opt("AddtlTxInf")?,
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| {
            w.opt("Refs", &self.references);
            w.opt("Amt", &self.amount);
            w.opt("CdtDbtInd", &self.credit_debit);
            w.opt("RmtInf", &self.remittance);
            w.opt("AddtlTxInf", &self.additional_info);
        });
    }
}

/// ISO entry status codes (`ExternalEntryStatus1Code`).
pub mod entry_status {
    pub const BOOKED: &str = "BOOK";
    pub const PENDING: &str = "PDNG";
    pub const INFORMATION: &str = "INFO";
    pub const FUTURE: &str = "FUTR";
}

/// One `Ntry` (`ReportEntry10`). FPS writes all of an entry's transactions in one
/// `NtryDtls` and accepts at most one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub reference: Option<Max35Text>,
    pub amount: Amount,
    pub credit_debit: CreditDebit,
    pub status: CodeOrProprietary,
    pub booking_date: Option<DateOrDateTime>,
    pub value_date: Option<DateOrDateTime>,
    pub account_servicer_reference: Option<Max35Text>,
    pub bank_transaction_code: BankTransactionCode,
    pub details: Vec<TransactionDetails>,
    pub additional_info: Option<Max500Text>,
}

const ENTRY: &[Field] = &[
    opt("NtryRef"),
    one("Amt"),
    one("CdtDbtInd"),
    one("Sts"),
    opt("BookgDt"),
    opt("ValDt"),
    opt("AcctSvcrRef"),
    one("BkTxCd"),
    opt("NtryDtls"),
    opt("AddtlNtryInf"),
];
const ENTRY_DETAILS: &[Field] = &[many("TxDtls")];

impl Xml for Entry {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let s = seq(node, path, ENTRY)?;
        let details = match s.opt_child("NtryDtls") {
            Some((details, details_path)) => {
                seq(details, &details_path, ENTRY_DETAILS)?.all("TxDtls")?
            }
            None => Vec::new(),
        };
        Ok(Entry {
            reference: s.opt("NtryRef")?,
            amount: s.req("Amt")?,
            credit_debit: s.req("CdtDbtInd")?,
            status: s.req("Sts")?,
            booking_date: s.opt("BookgDt")?,
            value_date: s.opt("ValDt")?,
            account_servicer_reference: s.opt("AcctSvcrRef")?,
            bank_transaction_code: s.req("BkTxCd")?,
            details,
            additional_info: s.opt("AddtlNtryInf")?,
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| {
            w.opt("NtryRef", &self.reference);
            w.el("Amt", &self.amount);
            w.el("CdtDbtInd", &self.credit_debit);
            w.el("Sts", &self.status);
            w.opt("BookgDt", &self.booking_date);
            w.opt("ValDt", &self.value_date);
            w.opt("AcctSvcrRef", &self.account_servicer_reference);
            w.el("BkTxCd", &self.bank_transaction_code);
            if !self.details.is_empty() {
                w.group("NtryDtls", |w| w.all("TxDtls", &self.details));
            }
            w.opt("AddtlNtryInf", &self.additional_info);
        });
    }
}

// ---------------------------------------------------------------------------------------------
// camt.053.001.08 BkToCstmrStmt

/// One `Stmt` (`AccountStatement9`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountStatement {
    pub id: Max35Text,
    pub electronic_sequence: Option<u64>,
    pub created: Option<IsoDateTime>,
    pub period: Option<Period>,
    pub account: Account,
    pub balances: OneOrMore<Balance>,
    pub entries: Vec<Entry>,
    pub additional_info: Option<Max500Text>,
}

const STATEMENT: &[Field] = &[
    one("Id"),
    opt("ElctrncSeqNb"),
    opt("CreDtTm"),
    opt("FrToDt"),
    one("Acct"),
    some("Bal"),
    many("Ntry"),
    opt("AddtlStmtInf"),
];

impl Xml for AccountStatement {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let s = seq(node, path, STATEMENT)?;
        Ok(AccountStatement {
            id: s.req("Id")?,
            electronic_sequence: s.opt::<SequenceNumber>("ElctrncSeqNb")?.map(|n| n.0),
            created: s.opt("CreDtTm")?,
            period: s.opt("FrToDt")?,
            account: s.req("Acct")?,
            balances: super::types::one_or_more(s.all("Bal")?, s.path_of("Bal"))?,
            entries: s.all("Ntry")?,
            additional_info: s.opt("AddtlStmtInf")?,
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| {
            w.el("Id", &self.id);
            w.opt(
                "ElctrncSeqNb",
                &self.electronic_sequence.map(SequenceNumber),
            );
            w.opt("CreDtTm", &self.created);
            w.opt("FrToDt", &self.period);
            w.el("Acct", &self.account);
            w.all("Bal", self.balances.as_slice());
            w.all("Ntry", &self.entries);
            w.opt("AddtlStmtInf", &self.additional_info);
        });
    }
}

/// camt.053.001.08: account statements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub header: StatementHeader,
    pub statements: OneOrMore<AccountStatement>,
}

const STATEMENT_MESSAGE: &[Field] = &[one("GrpHdr"), some("Stmt")];

impl Statement {
    pub const ROOT: &'static str = "BkToCstmrStmt";

    pub(crate) fn read(node: &Node, path: &str) -> Result<Self> {
        let s = seq(node, path, STATEMENT_MESSAGE)?;
        Ok(Statement {
            header: s.req("GrpHdr")?,
            statements: super::types::one_or_more(s.all("Stmt")?, s.path_of("Stmt"))?,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.el("GrpHdr", &self.header);
        w.all("Stmt", self.statements.as_slice());
    }
}

// ---------------------------------------------------------------------------------------------
// camt.054.001.08 BkToCstmrDbtCdtNtfctn

/// One `Ntfctn` (`AccountNotification17`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountNotification {
    pub id: Max35Text,
    pub electronic_sequence: Option<u64>,
    pub created: Option<IsoDateTime>,
    pub period: Option<Period>,
    pub account: Account,
    pub entries: Vec<Entry>,
    pub additional_info: Option<Max500Text>,
}

const NOTIFICATION: &[Field] = &[
    one("Id"),
    opt("ElctrncSeqNb"),
    opt("CreDtTm"),
    opt("FrToDt"),
    one("Acct"),
    many("Ntry"),
    opt("AddtlNtfctnInf"),
];

impl Xml for AccountNotification {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let s = seq(node, path, NOTIFICATION)?;
        Ok(AccountNotification {
            id: s.req("Id")?,
            electronic_sequence: s.opt::<SequenceNumber>("ElctrncSeqNb")?.map(|n| n.0),
            created: s.opt("CreDtTm")?,
            period: s.opt("FrToDt")?,
            account: s.req("Acct")?,
            entries: s.all("Ntry")?,
            additional_info: s.opt("AddtlNtfctnInf")?,
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| {
            w.el("Id", &self.id);
            w.opt(
                "ElctrncSeqNb",
                &self.electronic_sequence.map(SequenceNumber),
            );
            w.opt("CreDtTm", &self.created);
            w.opt("FrToDt", &self.period);
            w.el("Acct", &self.account);
            w.all("Ntry", &self.entries);
            w.opt("AddtlNtfctnInf", &self.additional_info);
        });
    }
}

/// camt.054.001.08: debit and credit notifications.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub header: StatementHeader,
    pub notifications: OneOrMore<AccountNotification>,
}

const NOTIFICATION_MESSAGE: &[Field] = &[one("GrpHdr"), some("Ntfctn")];

impl Notification {
    pub const ROOT: &'static str = "BkToCstmrDbtCdtNtfctn";

    pub(crate) fn read(node: &Node, path: &str) -> Result<Self> {
        let s = seq(node, path, NOTIFICATION_MESSAGE)?;
        Ok(Notification {
            header: s.req("GrpHdr")?,
            notifications: super::types::one_or_more(s.all("Ntfctn")?, s.path_of("Ntfctn"))?,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.el("GrpHdr", &self.header);
        w.all("Ntfctn", self.notifications.as_slice());
    }
}
