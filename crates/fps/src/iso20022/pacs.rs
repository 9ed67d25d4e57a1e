//! Payments clearing and settlement: pacs.008.001.08 (credit transfer), pacs.002.001.10
//! (status report), pacs.004.001.09 (return) and pacs.003.001.08 (direct debit).
//!
//! Each sequence constant lists, in XSD order, the elements of that type that FPS uses; an
//! element of the schema that FPS does not use is refused by name, as a market-practice profile
//! does. Where FPS requires an element the schema leaves optional, the constant says so.

use super::error::Iso20022Error;
use super::types::{
    code_enum, one_or_more, read_value, Account, Agent, Amount, ChargeBearer, Count, IsoDate,
    IsoDateTime, Max35Text, OneOrMore, OriginalGroup, Party, ReasonInfo, Remittance,
};
use super::xml::{many, one, opt, seq, some, Field, Node, Seq, Writer, Xml};

type Result<T> = std::result::Result<T, Iso20022Error>;

pub const PACS_008_NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08";
pub const PACS_002_NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10";
pub const PACS_004_NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pacs.004.001.09";
pub const PACS_003_NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pacs.003.001.08";

// ---------------------------------------------------------------------------------------------
// The group header of the settling messages (pacs.008, pacs.003, pacs.004)

/// `GroupHeader93` (pacs.008), `GroupHeader94` (pacs.003) and `GroupHeader90` (pacs.004) agree
/// on the elements FPS uses. `NbOfTxs` is not stored: it is written from the number of
/// transactions and checked against it when read. `SttlmInf/SttlmMtd` is always `CLRG`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementHeader {
    pub message_id: Max35Text,
    pub created: IsoDateTime,
    pub settlement_date: Option<IsoDate>,
    pub instructing_agent: Option<Agent>,
    pub instructed_agent: Option<Agent>,
}

const SETTLEMENT_HEADER: &[Field] = &[
    one("MsgId"),
    one("CreDtTm"),
    one("NbOfTxs"),
    opt("IntrBkSttlmDt"),
    one("SttlmInf"),
    opt("InstgAgt"),
    opt("InstdAgt"),
];
const SETTLEMENT_INFO: &[Field] = &[one("SttlmMtd")];

/// FPS settles every transfer gross and in real time through the clearing system.
pub const SETTLEMENT_METHOD: &str = "CLRG";

impl SettlementHeader {
    /// Reads the header and checks `NbOfTxs` against the `transactions` the message carries.
    fn read(node: &Node, path: &str, transactions: usize) -> Result<Self> {
        let s = seq(node, path, SETTLEMENT_HEADER)?;
        let Count(declared) = s.req("NbOfTxs")?;
        if u64::try_from(transactions).ok() != Some(declared) {
            return Err(Iso20022Error::invalid(
                &s.path_of("NbOfTxs"),
                &declared.to_string(),
                format!("the message carries {transactions} transaction(s)"),
            ));
        }
        let (info, info_path) = s.child("SttlmInf")?;
        let info = seq(info, &info_path, SETTLEMENT_INFO)?;
        let (method, method_path) = info.child("SttlmMtd")?;
        read_value(method, &method_path, |text| match text {
            SETTLEMENT_METHOD => Ok(()),
            _ => Err(format!("FPS settles by clearing: {SETTLEMENT_METHOD}")),
        })?;
        Ok(SettlementHeader {
            message_id: s.req("MsgId")?,
            created: s.req("CreDtTm")?,
            settlement_date: s.opt("IntrBkSttlmDt")?,
            instructing_agent: s.opt("InstgAgt")?,
            instructed_agent: s.opt("InstdAgt")?,
        })
    }

    fn write(&self, w: &mut Writer, transactions: usize) {
        w.group("GrpHdr", |w| {
            w.el("MsgId", &self.message_id);
            w.el("CreDtTm", &self.created);
            w.text("NbOfTxs", &transactions.to_string());
            w.opt("IntrBkSttlmDt", &self.settlement_date);
            w.group("SttlmInf", |w| w.text("SttlmMtd", SETTLEMENT_METHOD));
            w.opt("InstgAgt", &self.instructing_agent);
            w.opt("InstdAgt", &self.instructed_agent);
        });
    }
}

/// Reads a message body `{GrpHdr, <transactions>+}` whose header counts the transactions.
fn read_settling<T: Xml>(
    node: &Node,
    path: &str,
    body: &'static [Field],
    transactions: &str,
) -> Result<(SettlementHeader, OneOrMore<T>)> {
    let s = seq(node, path, body)?;
    let (header, header_path) = s.child("GrpHdr")?;
    let header = SettlementHeader::read(header, &header_path, s.count(transactions))?;
    let items = one_or_more(s.all(transactions)?, s.path_of(transactions))?;
    Ok((header, items))
}

// ---------------------------------------------------------------------------------------------
// pacs.008.001.08 FIToFICstmrCdtTrf

/// `PaymentIdentification7`. FPS requires `TxId` (its clearing reference), which the schema
/// leaves optional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentId {
    pub instruction_id: Option<Max35Text>,
    pub end_to_end_id: Max35Text,
    pub transaction_id: Max35Text,
}

const PAYMENT_ID: &[Field] = &[opt("InstrId"), one("EndToEndId"), one("TxId")];

impl Xml for PaymentId {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let s = seq(node, path, PAYMENT_ID)?;
        Ok(PaymentId {
            instruction_id: s.opt("InstrId")?,
            end_to_end_id: s.req("EndToEndId")?,
            transaction_id: s.req("TxId")?,
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| {
            w.opt("InstrId", &self.instruction_id);
            w.el("EndToEndId", &self.end_to_end_id);
            w.el("TxId", &self.transaction_id);
        });
    }
}

/// One `CdtTrfTxInf` (`CreditTransferTransaction39`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditTransferTransaction {
    pub payment_id: PaymentId,
    pub amount: Amount,
    pub settlement_date: Option<IsoDate>,
    pub accepted: Option<IsoDateTime>,
    pub charge_bearer: ChargeBearer,
    pub instructing_agent: Option<Agent>,
    pub instructed_agent: Option<Agent>,
    pub debtor: Party,
    pub debtor_account: Option<Account>,
    pub debtor_agent: Agent,
    pub creditor_agent: Agent,
    pub creditor: Party,
    /// The payee's account, or (in `Prxy`) the proxy the payer addressed the payee by.
    pub creditor_account: Option<Account>,
    pub remittance: Option<Remittance>,
}

const CREDIT_TRANSFER_TX: &[Field] = &[
    one("PmtId"),
    one("IntrBkSttlmAmt"),
    opt("IntrBkSttlmDt"),
    opt("AccptncDtTm"),
    one("ChrgBr"),
    opt("InstgAgt"),
    opt("InstdAgt"),
    one("Dbtr"),
    opt("DbtrAcct"),
    one("DbtrAgt"),
    one("CdtrAgt"),
    one("Cdtr"),
    opt("CdtrAcct"),
    opt("RmtInf"),
];

impl Xml for CreditTransferTransaction {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let s = seq(node, path, CREDIT_TRANSFER_TX)?;
        Ok(CreditTransferTransaction {
            payment_id: s.req("PmtId")?,
            amount: s.req("IntrBkSttlmAmt")?,
            settlement_date: s.opt("IntrBkSttlmDt")?,
            accepted: s.opt("AccptncDtTm")?,
            charge_bearer: s.req("ChrgBr")?,
            instructing_agent: s.opt("InstgAgt")?,
            instructed_agent: s.opt("InstdAgt")?,
            debtor: s.req("Dbtr")?,
            debtor_account: s.opt("DbtrAcct")?,
            debtor_agent: s.req("DbtrAgt")?,
            creditor_agent: s.req("CdtrAgt")?,
            creditor: s.req("Cdtr")?,
            creditor_account: s.opt("CdtrAcct")?,
            remittance: s.opt("RmtInf")?,
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| {
            w.el("PmtId", &self.payment_id);
            w.el("IntrBkSttlmAmt", &self.amount);
            w.opt("IntrBkSttlmDt", &self.settlement_date);
            w.opt("AccptncDtTm", &self.accepted);
            w.el("ChrgBr", &self.charge_bearer);
            w.opt("InstgAgt", &self.instructing_agent);
            w.opt("InstdAgt", &self.instructed_agent);
            w.el("Dbtr", &self.debtor);
            w.opt("DbtrAcct", &self.debtor_account);
            w.el("DbtrAgt", &self.debtor_agent);
            w.el("CdtrAgt", &self.creditor_agent);
            w.el("Cdtr", &self.creditor);
            w.opt("CdtrAcct", &self.creditor_account);
            w.opt("RmtInf", &self.remittance);
        });
    }
}

/// pacs.008.001.08: one or more customer credit transfers between participants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditTransfer {
    pub header: SettlementHeader,
    pub transactions: OneOrMore<CreditTransferTransaction>,
}

const CREDIT_TRANSFER: &[Field] = &[one("GrpHdr"), some("CdtTrfTxInf")];

impl CreditTransfer {
    pub const ROOT: &'static str = "FIToFICstmrCdtTrf";

    pub(crate) fn read(node: &Node, path: &str) -> Result<Self> {
        let (header, transactions) = read_settling(node, path, CREDIT_TRANSFER, "CdtTrfTxInf")?;
        Ok(CreditTransfer {
            header,
            transactions,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        self.header.write(w, self.transactions.len());
        w.all("CdtTrfTxInf", self.transactions.as_slice());
    }
}

// ---------------------------------------------------------------------------------------------
// pacs.002.001.10 FIToFIPmtStsRpt

code_enum!(
    /// `ExternalPaymentTransactionStatus1Code` / `ExternalPaymentGroupStatus1Code`: the statuses
    /// FPS reports.
    PaymentStatus, "an FPS payment status" {
        ReceivedTechnicallyValid = "ACTC",
        AcceptedCustomerProfile = "ACCP",
        AcceptedSettlementInProcess = "ACSP",
        AcceptedSettlementCompleted = "ACSC",
        Pending = "PDNG",
        Rejected = "RJCT",
        PartiallyAccepted = "PART",
    }
);

/// The header of a report (`GroupHeader91`): no count, no settlement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportHeader {
    pub message_id: Max35Text,
    pub created: IsoDateTime,
    pub instructing_agent: Option<Agent>,
    pub instructed_agent: Option<Agent>,
}

const REPORT_HEADER: &[Field] = &[
    one("MsgId"),
    one("CreDtTm"),
    opt("InstgAgt"),
    opt("InstdAgt"),
];

impl Xml for ReportHeader {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let s = seq(node, path, REPORT_HEADER)?;
        Ok(ReportHeader {
            message_id: s.req("MsgId")?,
            created: s.req("CreDtTm")?,
            instructing_agent: s.opt("InstgAgt")?,
            instructed_agent: s.opt("InstdAgt")?,
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| {
            w.el("MsgId", &self.message_id);
            w.el("CreDtTm", &self.created);
            w.opt("InstgAgt", &self.instructing_agent);
            w.opt("InstdAgt", &self.instructed_agent);
        });
    }
}

/// `OrgnlGrpInfAndSts` (`OriginalGroupHeader17`): the status of a whole original message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginalGroupStatus {
    pub message_id: Max35Text,
    pub message_name: Max35Text,
    pub created: Option<IsoDateTime>,
    pub number_of_transactions: Option<u64>,
    pub status: Option<PaymentStatus>,
    pub reasons: Vec<ReasonInfo>,
}

const ORIGINAL_GROUP_STATUS: &[Field] = &[
    one("OrgnlMsgId"),
    one("OrgnlMsgNmId"),
    opt("OrgnlCreDtTm"),
    opt("OrgnlNbOfTxs"),
    opt("GrpSts"),
    many("StsRsnInf"),
];

impl Xml for OriginalGroupStatus {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let s = seq(node, path, ORIGINAL_GROUP_STATUS)?;
        Ok(OriginalGroupStatus {
            message_id: s.req("OrgnlMsgId")?,
            message_name: s.req("OrgnlMsgNmId")?,
            created: s.opt("OrgnlCreDtTm")?,
            number_of_transactions: s.opt::<Count>("OrgnlNbOfTxs")?.map(|c| c.0),
            status: s.opt("GrpSts")?,
            reasons: s.all("StsRsnInf")?,
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| {
            w.el("OrgnlMsgId", &self.message_id);
            w.el("OrgnlMsgNmId", &self.message_name);
            w.opt("OrgnlCreDtTm", &self.created);
            w.opt("OrgnlNbOfTxs", &self.number_of_transactions.map(Count));
            w.opt("GrpSts", &self.status);
            w.all("StsRsnInf", &self.reasons);
        });
    }
}

/// `TxInfAndSts` (`PaymentTransaction110`): the status of one original transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionStatus {
    pub status_id: Option<Max35Text>,
    pub original_group: Option<OriginalGroup>,
    pub original_instruction_id: Option<Max35Text>,
    pub original_end_to_end_id: Option<Max35Text>,
    pub original_transaction_id: Option<Max35Text>,
    pub status: Option<PaymentStatus>,
    /// Why, as ISO external reason codes (`AM04` insufficient funds, `AC01`, `DUPL`, …).
    pub reasons: Vec<ReasonInfo>,
    pub accepted: Option<IsoDateTime>,
    pub clearing_reference: Option<Max35Text>,
    pub instructing_agent: Option<Agent>,
    pub instructed_agent: Option<Agent>,
}

const TRANSACTION_STATUS: &[Field] = &[
    opt("StsId"),
    opt("OrgnlGrpInf"),
    opt("OrgnlInstrId"),
    opt("OrgnlEndToEndId"),
    opt("OrgnlTxId"),
    opt("TxSts"),
    many("StsRsnInf"),
    opt("AccptncDtTm"),
    opt("ClrSysRef"),
    opt("InstgAgt"),
    opt("InstdAgt"),
];

impl Xml for TransactionStatus {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let s = seq(node, path, TRANSACTION_STATUS)?;
        Ok(TransactionStatus {
            status_id: s.opt("StsId")?,
            original_group: s.opt("OrgnlGrpInf")?,
            original_instruction_id: s.opt("OrgnlInstrId")?,
            original_end_to_end_id: s.opt("OrgnlEndToEndId")?,
            original_transaction_id: s.opt("OrgnlTxId")?,
            status: s.opt("TxSts")?,
            reasons: s.all("StsRsnInf")?,
            accepted: s.opt("AccptncDtTm")?,
            clearing_reference: s.opt("ClrSysRef")?,
            instructing_agent: s.opt("InstgAgt")?,
            instructed_agent: s.opt("InstdAgt")?,
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| {
            w.opt("StsId", &self.status_id);
            w.opt("OrgnlGrpInf", &self.original_group);
            w.opt("OrgnlInstrId", &self.original_instruction_id);
            w.opt("OrgnlEndToEndId", &self.original_end_to_end_id);
            w.opt("OrgnlTxId", &self.original_transaction_id);
            w.opt("TxSts", &self.status);
            w.all("StsRsnInf", &self.reasons);
            w.opt("AccptncDtTm", &self.accepted);
            w.opt("ClrSysRef", &self.clearing_reference);
            w.opt("InstgAgt", &self.instructing_agent);
            w.opt("InstdAgt", &self.instructed_agent);
        });
    }
}

/// pacs.002.001.10: the status of earlier messages or of their transactions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReport {
    pub header: ReportHeader,
    pub groups: Vec<OriginalGroupStatus>,
    pub transactions: Vec<TransactionStatus>,
}

const STATUS_REPORT: &[Field] = &[
    one("GrpHdr"),
    many("OrgnlGrpInfAndSts"),
    many("TxInfAndSts"),
];

impl StatusReport {
    pub const ROOT: &'static str = "FIToFIPmtStsRpt";

    pub(crate) fn read(node: &Node, path: &str) -> Result<Self> {
        let s = seq(node, path, STATUS_REPORT)?;
        Ok(StatusReport {
            header: s.req("GrpHdr")?,
            groups: s.all("OrgnlGrpInfAndSts")?,
            transactions: s.all("TxInfAndSts")?,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.el("GrpHdr", &self.header);
        w.all("OrgnlGrpInfAndSts", &self.groups);
        w.all("TxInfAndSts", &self.transactions);
    }
}

// ---------------------------------------------------------------------------------------------
// pacs.004.001.09 PmtRtr

/// One returned transaction (`TxInf`, `PaymentTransaction112`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnTransaction {
    pub return_id: Option<Max35Text>,
    pub original_group: Option<OriginalGroup>,
    pub original_instruction_id: Option<Max35Text>,
    pub original_end_to_end_id: Option<Max35Text>,
    pub original_transaction_id: Option<Max35Text>,
    pub original_amount: Option<Amount>,
    pub returned_amount: Amount,
    pub settlement_date: Option<IsoDate>,
    pub charge_bearer: Option<ChargeBearer>,
    pub instructing_agent: Option<Agent>,
    pub instructed_agent: Option<Agent>,
    pub reasons: Vec<ReasonInfo>,
}

const RETURN_TRANSACTION: &[Field] = &[
    opt("RtrId"),
    opt("OrgnlGrpInf"),
    opt("OrgnlInstrId"),
    opt("OrgnlEndToEndId"),
    opt("OrgnlTxId"),
    opt("OrgnlIntrBkSttlmAmt"),
    one("RtrdIntrBkSttlmAmt"),
    opt("IntrBkSttlmDt"),
    opt("ChrgBr"),
    opt("InstgAgt"),
    opt("InstdAgt"),
    many("RtrRsnInf"),
];

impl Xml for ReturnTransaction {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let s = seq(node, path, RETURN_TRANSACTION)?;
        Ok(ReturnTransaction {
            return_id: s.opt("RtrId")?,
            original_group: s.opt("OrgnlGrpInf")?,
            original_instruction_id: s.opt("OrgnlInstrId")?,
            original_end_to_end_id: s.opt("OrgnlEndToEndId")?,
            original_transaction_id: s.opt("OrgnlTxId")?,
            original_amount: s.opt("OrgnlIntrBkSttlmAmt")?,
            returned_amount: s.req("RtrdIntrBkSttlmAmt")?,
            settlement_date: s.opt("IntrBkSttlmDt")?,
            charge_bearer: s.opt("ChrgBr")?,
            instructing_agent: s.opt("InstgAgt")?,
            instructed_agent: s.opt("InstdAgt")?,
            reasons: s.all("RtrRsnInf")?,
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| {
            w.opt("RtrId", &self.return_id);
            w.opt("OrgnlGrpInf", &self.original_group);
            w.opt("OrgnlInstrId", &self.original_instruction_id);
            w.opt("OrgnlEndToEndId", &self.original_end_to_end_id);
            w.opt("OrgnlTxId", &self.original_transaction_id);
            w.opt("OrgnlIntrBkSttlmAmt", &self.original_amount);
            w.el("RtrdIntrBkSttlmAmt", &self.returned_amount);
            w.opt("IntrBkSttlmDt", &self.settlement_date);
            w.opt("ChrgBr", &self.charge_bearer);
            w.opt("InstgAgt", &self.instructing_agent);
            w.opt("InstdAgt", &self.instructed_agent);
            w.all("RtrRsnInf", &self.reasons);
        });
    }
}

/// pacs.004.001.09: funds returned to the previous participant. FPS requires at least one
/// `TxInf` (the schema allows none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentReturn {
    pub header: SettlementHeader,
    pub transactions: OneOrMore<ReturnTransaction>,
}

const PAYMENT_RETURN: &[Field] = &[one("GrpHdr"), some("TxInf")];

impl PaymentReturn {
    pub const ROOT: &'static str = "PmtRtr";

    pub(crate) fn read(node: &Node, path: &str) -> Result<Self> {
        let (header, transactions) = read_settling(node, path, PAYMENT_RETURN, "TxInf")?;
        Ok(PaymentReturn {
            header,
            transactions,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        self.header.write(w, self.transactions.len());
        w.all("TxInf", self.transactions.as_slice());
    }
}

// ---------------------------------------------------------------------------------------------
// pacs.003.001.08 FIToFICstmrDrctDbt

/// One `DrctDbtTxInf` (`DirectDebitTransactionInformation24`). FPS direct debits run against an
/// eDDA mandate, so `DrctDbtTx/MndtRltdInf/MndtId` is required here (optional in the schema).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectDebitTransaction {
    pub payment_id: PaymentId,
    pub amount: Amount,
    pub settlement_date: Option<IsoDate>,
    pub charge_bearer: ChargeBearer,
    pub mandate_id: Max35Text,
    pub mandate_signed: Option<IsoDate>,
    pub creditor: Party,
    pub creditor_account: Option<Account>,
    pub creditor_agent: Agent,
    pub instructing_agent: Option<Agent>,
    pub instructed_agent: Option<Agent>,
    pub debtor: Party,
    pub debtor_account: Account,
    pub debtor_agent: Agent,
    pub remittance: Option<Remittance>,
}

const DIRECT_DEBIT_TX: &[Field] = &[
    one("PmtId"),
    one("IntrBkSttlmAmt"),
    opt("IntrBkSttlmDt"),
    one("ChrgBr"),
    one("DrctDbtTx"),
    one("Cdtr"),
    opt("CdtrAcct"),
    one("CdtrAgt"),
    opt("InstgAgt"),
    opt("InstdAgt"),
    one("Dbtr"),
    one("DbtrAcct"),
    one("DbtrAgt"),
    opt("RmtInf"),
];
const DIRECT_DEBIT: &[Field] = &[one("MndtRltdInf")];
const MANDATE_RELATED: &[Field] = &[one("MndtId"), opt("DtOfSgntr")];

fn read_mandate(s: &Seq<'_>) -> Result<(Max35Text, Option<IsoDate>)> {
    let (debit, debit_path) = s.child("DrctDbtTx")?;
    let (related, related_path) = seq(debit, &debit_path, DIRECT_DEBIT)?.child("MndtRltdInf")?;
    let related = seq(related, &related_path, MANDATE_RELATED)?;
    Ok((related.req("MndtId")?, related.opt("DtOfSgntr")?))
}

impl Xml for DirectDebitTransaction {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let s = seq(node, path, DIRECT_DEBIT_TX)?;
        let (mandate_id, mandate_signed) = read_mandate(&s)?;
        Ok(DirectDebitTransaction {
            payment_id: s.req("PmtId")?,
            amount: s.req("IntrBkSttlmAmt")?,
            settlement_date: s.opt("IntrBkSttlmDt")?,
            charge_bearer: s.req("ChrgBr")?,
            mandate_id,
            mandate_signed,
            creditor: s.req("Cdtr")?,
            creditor_account: s.opt("CdtrAcct")?,
            creditor_agent: s.req("CdtrAgt")?,
            instructing_agent: s.opt("InstgAgt")?,
            instructed_agent: s.opt("InstdAgt")?,
            debtor: s.req("Dbtr")?,
            debtor_account: s.req("DbtrAcct")?,
            debtor_agent: s.req("DbtrAgt")?,
            remittance: s.opt("RmtInf")?,
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| {
            w.el("PmtId", &self.payment_id);
            w.el("IntrBkSttlmAmt", &self.amount);
            w.opt("IntrBkSttlmDt", &self.settlement_date);
            w.el("ChrgBr", &self.charge_bearer);
            w.group("DrctDbtTx", |w| {
                w.group("MndtRltdInf", |w| {
                    w.el("MndtId", &self.mandate_id);
                    w.opt("DtOfSgntr", &self.mandate_signed);
                });
            });
            w.el("Cdtr", &self.creditor);
            w.opt("CdtrAcct", &self.creditor_account);
            w.el("CdtrAgt", &self.creditor_agent);
            w.opt("InstgAgt", &self.instructing_agent);
            w.opt("InstdAgt", &self.instructed_agent);
            w.el("Dbtr", &self.debtor);
            w.el("DbtrAcct", &self.debtor_account);
            w.el("DbtrAgt", &self.debtor_agent);
            w.opt("RmtInf", &self.remittance);
        });
    }
}

/// pacs.003.001.08: direct debits a creditor's participant collects from debtors' participants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectDebit {
    pub header: SettlementHeader,
    pub transactions: OneOrMore<DirectDebitTransaction>,
}

const DIRECT_DEBIT_MESSAGE: &[Field] = &[one("GrpHdr"), some("DrctDbtTxInf")];

impl DirectDebit {
    pub const ROOT: &'static str = "FIToFICstmrDrctDbt";

    pub(crate) fn read(node: &Node, path: &str) -> Result<Self> {
        let (header, transactions) =
            read_settling(node, path, DIRECT_DEBIT_MESSAGE, "DrctDbtTxInf")?;
        Ok(DirectDebit {
            header,
            transactions,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        self.header.write(w, self.transactions.len());
        w.all("DrctDbtTxInf", self.transactions.as_slice());
    }
}
