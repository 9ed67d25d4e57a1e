//! Mandates for FPS direct debits (eDDA): pain.009.001.06 (initiation), pain.010.001.06
//! (amendment), pain.011.001.06 (cancellation) and pain.012.001.06 (acceptance report).
//!
//! The same profile rule as in `pacs`: the sequences list, in XSD order, the elements FPS uses.

use super::error::Iso20022Error;
use super::pacs::ReportHeader;
use super::types::{
    code_enum, one_or_more, read_value, Account, Agent, Amount, CodeOrProprietary, IsoDate,
    Max105Text, Max35Text, OneOrMore, OriginalMessage, Party,
};
use super::xml::{choice, many, one, opt, seq, some, Field, Node, Writer, Xml};

type Result<T> = std::result::Result<T, Iso20022Error>;

pub const PAIN_009_NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.009.001.06";
pub const PAIN_010_NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.010.001.06";
pub const PAIN_011_NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.011.001.06";
pub const PAIN_012_NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.012.001.06";

code_enum!(
    /// `SequenceType2Code`: recurring or one-off collections.
    SequenceType, "a sequence type" { Recurring = "RCUR", OneOff = "OOFF" }
);

code_enum!(
    /// `Frequency6Code`.
    FrequencyCode, "a frequency" {
        Yearly = "YEAR",
        Monthly = "MNTH",
        Quarterly = "QURT",
        SemiAnnual = "MIAN",
        Weekly = "WEEK",
        Daily = "DAIL",
        AdHoc = "ADHO",
        IntraDay = "INDA",
        Fortnightly = "FRTN",
    }
);

/// `Frequency36Choice`: a plain frequency, or a number of collections per period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    Every(FrequencyCode),
    /// `Prd`: `count` collections per `period`. FPS takes whole counts (the schema's
    /// `CntPerPrd` is a decimal).
    PerPeriod {
        period: FrequencyCode,
        count: u32,
    },
}

const PERIOD: &[Field] = &[one("Tp"), one("CntPerPrd")];

fn parse_count(text: &str) -> std::result::Result<u32, String> {
    let bad = || "a whole number of collections from 1 to 999999999".to_owned();
    if text.is_empty() || text.len() > 9 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match text.parse::<u32>() {
        Ok(0) | Err(_) => Err(bad()),
        Ok(count) => Ok(count),
    }
}

impl Xml for Frequency {
    fn read(node: &Node, path: &str) -> Result<Self> {
        match choice(node, path, &["Tp", "Prd"])? {
            ("Tp", child, path) => FrequencyCode::read(child, &path).map(Self::Every),
            (_, child, path) => {
                let s = seq(child, &path, PERIOD)?;
                let (count, count_path) = s.child("CntPerPrd")?;
                Ok(Self::PerPeriod {
                    period: s.req("Tp")?,
                    count: read_value(count, &count_path, parse_count)?,
                })
            }
        }
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| match self {
            Self::Every(code) => w.el("Tp", code),
            Self::PerPeriod { period, count } => w.group("Prd", |w| {
                w.el("Tp", period);
                w.text("CntPerPrd", &count.to_string());
            }),
        });
    }
}

/// `MandateOccurrences4`: when collections happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrences {
    pub sequence: SequenceType,
    pub frequency: Option<Frequency>,
    pub first_collection: Option<IsoDate>,
    pub final_collection: Option<IsoDate>,
}

const OCCURRENCES: &[Field] = &[
    one("SeqTp"),
    opt("Frqcy"),
    opt("FrstColltnDt"),
    opt("FnlColltnDt"),
];

impl Xml for Occurrences {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let s = seq(node, path, OCCURRENCES)?;
        Ok(Occurrences {
            sequence: s.req("SeqTp")?,
            frequency: s.opt("Frqcy")?,
            first_collection: s.opt("FrstColltnDt")?,
            final_collection: s.opt("FnlColltnDt")?,
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| {
            w.el("SeqTp", &self.sequence);
            w.opt("Frqcy", &self.frequency);
            w.opt("FrstColltnDt", &self.first_collection);
            w.opt("FnlColltnDt", &self.final_collection);
        });
    }
}

/// A mandate (`Mndt`): the payer's authorisation for the payee to collect, up to `max_amount`
/// per collection. FPS requires `MndtReqId` in amendments too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mandate {
    pub mandate_id: Option<Max35Text>,
    pub request_id: Max35Text,
    pub occurrences: Option<Occurrences>,
    pub tracking: bool,
    pub collection_amount: Option<Amount>,
    pub max_amount: Option<Amount>,
    pub creditor: Party,
    pub creditor_account: Option<Account>,
    pub creditor_agent: Option<Agent>,
    pub debtor: Party,
    pub debtor_account: Option<Account>,
    pub debtor_agent: Option<Agent>,
    pub reference: Option<Max35Text>,
}

const MANDATE: &[Field] = &[
    opt("MndtId"),
    one("MndtReqId"),
    opt("Ocrncs"),
    one("TrckgInd"),
    opt("ColltnAmt"),
    opt("MaxAmt"),
    one("Cdtr"),
    opt("CdtrAcct"),
    opt("CdtrAgt"),
    one("Dbtr"),
    opt("DbtrAcct"),
    opt("DbtrAgt"),
    opt("MndtRef"),
];

impl Xml for Mandate {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let s = seq(node, path, MANDATE)?;
        Ok(Mandate {
            mandate_id: s.opt("MndtId")?,
            request_id: s.req("MndtReqId")?,
            occurrences: s.opt("Ocrncs")?,
            tracking: s.req("TrckgInd")?,
            collection_amount: s.opt("ColltnAmt")?,
            max_amount: s.opt("MaxAmt")?,
            creditor: s.req("Cdtr")?,
            creditor_account: s.opt("CdtrAcct")?,
            creditor_agent: s.opt("CdtrAgt")?,
            debtor: s.req("Dbtr")?,
            debtor_account: s.opt("DbtrAcct")?,
            debtor_agent: s.opt("DbtrAgt")?,
            reference: s.opt("MndtRef")?,
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| {
            w.opt("MndtId", &self.mandate_id);
            w.el("MndtReqId", &self.request_id);
            w.opt("Ocrncs", &self.occurrences);
            w.el("TrckgInd", &self.tracking);
            w.opt("ColltnAmt", &self.collection_amount);
            w.opt("MaxAmt", &self.max_amount);
            w.el("Cdtr", &self.creditor);
            w.opt("CdtrAcct", &self.creditor_account);
            w.opt("CdtrAgt", &self.creditor_agent);
            w.el("Dbtr", &self.debtor);
            w.opt("DbtrAcct", &self.debtor_account);
            w.opt("DbtrAgt", &self.debtor_agent);
            w.opt("MndtRef", &self.reference);
        });
    }
}

/// Why a mandate is amended, cancelled or rejected: a `Rsn` choice (required) and free text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MandateReason {
    pub reason: CodeOrProprietary,
    pub additional_info: Vec<Max105Text>,
}

const MANDATE_REASON: &[Field] = &[one("Rsn"), many("AddtlInf")];

impl Xml for MandateReason {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let s = seq(node, path, MANDATE_REASON)?;
        Ok(MandateReason {
            reason: s.req("Rsn")?,
            additional_info: s.all("AddtlInf")?,
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| {
            w.el("Rsn", &self.reason);
            w.all("AddtlInf", &self.additional_info);
        });
    }
}

/// `OrgnlMndt`: FPS refers to the original mandate by its id (`OrgnlMndtId`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginalMandateId(pub Max35Text);

impl Xml for OriginalMandateId {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let (_, child, path) = choice(node, path, &["OrgnlMndtId"])?;
        Max35Text::read(child, &path).map(OriginalMandateId)
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| w.el("OrgnlMndtId", &self.0));
    }
}

/// Reads `{GrpHdr, <items>+}`.
fn read_items<T: Xml>(
    node: &Node,
    path: &str,
    body: &'static [Field],
    items: &str,
) -> Result<(ReportHeader, OneOrMore<T>)> {
    let s = seq(node, path, body)?;
    let header = s.req("GrpHdr")?;
    Ok((header, one_or_more(s.all(items)?, s.path_of(items))?))
}

// ---------------------------------------------------------------------------------------------
// pain.009.001.06 MndtInitnReq

/// pain.009.001.06: requests to set up mandates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MandateInitiation {
    pub header: ReportHeader,
    pub mandates: OneOrMore<Mandate>,
}

const MANDATE_INITIATION: &[Field] = &[one("GrpHdr"), some("Mndt")];

impl MandateInitiation {
    pub const ROOT: &'static str = "MndtInitnReq";

    pub(crate) fn read(node: &Node, path: &str) -> Result<Self> {
        let (header, mandates) = read_items(node, path, MANDATE_INITIATION, "Mndt")?;
        Ok(MandateInitiation { header, mandates })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.el("GrpHdr", &self.header);
        w.all("Mndt", self.mandates.as_slice());
    }
}

// ---------------------------------------------------------------------------------------------
// pain.010.001.06 MndtAmdmntReq

/// `UndrlygAmdmntDtls`: the mandate as it should now read, and which one it replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MandateAmendmentDetails {
    pub original_message: Option<OriginalMessage>,
    pub reason: MandateReason,
    pub mandate: Mandate,
    pub original_mandate: OriginalMandateId,
}

const AMENDMENT_DETAILS: &[Field] = &[
    opt("OrgnlMsgInf"),
    one("AmdmntRsn"),
    one("Mndt"),
    one("OrgnlMndt"),
];

impl Xml for MandateAmendmentDetails {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let s = seq(node, path, AMENDMENT_DETAILS)?;
        Ok(MandateAmendmentDetails {
            original_message: s.opt("OrgnlMsgInf")?,
            reason: s.req("AmdmntRsn")?,
            mandate: s.req("Mndt")?,
            original_mandate: s.req("OrgnlMndt")?,
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| {
            w.opt("OrgnlMsgInf", &self.original_message);
            w.el("AmdmntRsn", &self.reason);
            w.el("Mndt", &self.mandate);
            w.el("OrgnlMndt", &self.original_mandate);
        });
    }
}

/// pain.010.001.06: requests to amend mandates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MandateAmendment {
    pub header: ReportHeader,
    pub amendments: OneOrMore<MandateAmendmentDetails>,
}

const MANDATE_AMENDMENT: &[Field] = &[one("GrpHdr"), some("UndrlygAmdmntDtls")];

impl MandateAmendment {
    pub const ROOT: &'static str = "MndtAmdmntReq";

    pub(crate) fn read(node: &Node, path: &str) -> Result<Self> {
        let (header, amendments) = read_items(node, path, MANDATE_AMENDMENT, "UndrlygAmdmntDtls")?;
        Ok(MandateAmendment { header, amendments })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.el("GrpHdr", &self.header);
        w.all("UndrlygAmdmntDtls", self.amendments.as_slice());
    }
}

// ---------------------------------------------------------------------------------------------
// pain.011.001.06 MndtCxlReq

/// `UndrlygCxlDtls`: which mandate to cancel, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MandateCancellationDetails {
    pub original_message: Option<OriginalMessage>,
    pub reason: MandateReason,
    pub original_mandate: OriginalMandateId,
}

const CANCELLATION_DETAILS: &[Field] = &[opt("OrgnlMsgInf"), one("CxlRsn"), one("OrgnlMndt")];

impl Xml for MandateCancellationDetails {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let s = seq(node, path, CANCELLATION_DETAILS)?;
        Ok(MandateCancellationDetails {
            original_message: s.opt("OrgnlMsgInf")?,
            reason: s.req("CxlRsn")?,
            original_mandate: s.req("OrgnlMndt")?,
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| {
            w.opt("OrgnlMsgInf", &self.original_message);
            w.el("CxlRsn", &self.reason);
            w.el("OrgnlMndt", &self.original_mandate);
        });
    }
}

/// pain.011.001.06: requests to cancel mandates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MandateCancellation {
    pub header: ReportHeader,
    pub cancellations: OneOrMore<MandateCancellationDetails>,
}

const MANDATE_CANCELLATION: &[Field] = &[one("GrpHdr"), some("UndrlygCxlDtls")];

impl MandateCancellation {
    pub const ROOT: &'static str = "MndtCxlReq";

    pub(crate) fn read(node: &Node, path: &str) -> Result<Self> {
        let (header, cancellations) =
            read_items(node, path, MANDATE_CANCELLATION, "UndrlygCxlDtls")?;
        Ok(MandateCancellation {
            header,
            cancellations,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.el("GrpHdr", &self.header);
        w.all("UndrlygCxlDtls", self.cancellations.as_slice());
    }
}

// ---------------------------------------------------------------------------------------------
// pain.012.001.06 MndtAccptncRpt

/// `AccptncRslt`: accepted, or rejected with a reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptanceResult {
    pub accepted: bool,
    pub reject_reason: Option<CodeOrProprietary>,
    pub additional_info: Vec<Max105Text>,
}

const ACCEPTANCE_RESULT: &[Field] = &[one("Accptd"), opt("RjctRsn"), many("AddtlRjctRsnInf")];

impl Xml for AcceptanceResult {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let s = seq(node, path, ACCEPTANCE_RESULT)?;
        Ok(AcceptanceResult {
            accepted: s.req("Accptd")?,
            reject_reason: s.opt("RjctRsn")?,
            additional_info: s.all("AddtlRjctRsnInf")?,
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| {
            w.el("Accptd", &self.accepted);
            w.opt("RjctRsn", &self.reject_reason);
            w.all("AddtlRjctRsnInf", &self.additional_info);
        });
    }
}

/// `UndrlygAccptncDtls`. FPS requires `OrgnlMndt`, so a report always names its mandate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MandateAcceptanceDetails {
    pub original_message: Option<OriginalMessage>,
    pub result: AcceptanceResult,
    pub original_mandate: OriginalMandateId,
}

const ACCEPTANCE_DETAILS: &[Field] = &[opt("OrgnlMsgInf"), one("AccptncRslt"), one("OrgnlMndt")];

impl Xml for MandateAcceptanceDetails {
    fn read(node: &Node, path: &str) -> Result<Self> {
        let s = seq(node, path, ACCEPTANCE_DETAILS)?;
        Ok(MandateAcceptanceDetails {
            original_message: s.opt("OrgnlMsgInf")?,
            result: s.req("AccptncRslt")?,
            original_mandate: s.req("OrgnlMndt")?,
        })
    }

    fn write(&self, w: &mut Writer, name: &str) {
        w.group(name, |w| {
            w.opt("OrgnlMsgInf", &self.original_message);
            w.el("AccptncRslt", &self.result);
            w.el("OrgnlMndt", &self.original_mandate);
        });
    }
}

/// pain.012.001.06: whether mandates were accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MandateAcceptance {
    pub header: ReportHeader,
    pub reports: OneOrMore<MandateAcceptanceDetails>,
}

const MANDATE_ACCEPTANCE: &[Field] = &[one("GrpHdr"), some("UndrlygAccptncDtls")];

impl MandateAcceptance {
    pub const ROOT: &'static str = "MndtAccptncRpt";

    pub(crate) fn read(node: &Node, path: &str) -> Result<Self> {
        let (header, reports) = read_items(node, path, MANDATE_ACCEPTANCE, "UndrlygAccptncDtls")?;
        Ok(MandateAcceptance { header, reports })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.el("GrpHdr", &self.header);
        w.all("UndrlygAccptncDtls", self.reports.as_slice());
    }
}
