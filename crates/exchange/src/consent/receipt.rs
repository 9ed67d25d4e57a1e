//! The owner's consent receipt: the Kantara Initiative Consent Receipt v1.1 fields (member
//! names as that specification spells them) and the ISO/IEC 27560 consent-record additions
//! (schema version, record id, the notice shown, lawful basis, retention, processing
//! locations, how to withdraw, and the history of consent events). Pure: built from a consent
//! and its events.

use bauhinia_core::Lang;
use serde::Serialize;

use super::domain::{rfc3339, Consent, ConsentEvent, Mode, Status, TimeUnit, EVENT_REQUEST};

/// Kantara Consent Receipt specification version.
pub const KANTARA_VERSION: &str = "KI-CR-v1.1.0";
/// The ISO/IEC 27560 record schema this receipt follows.
pub const ISO_27560_SCHEMA: &str = "ISO/IEC TS 27560:2023";
pub const JURISDICTION: &str = "HK";

/// A data controller as a receipt names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Controller {
    pub pii_controller: String,
    pub on_behalf: bool,
    pub contact: String,
    pub address: String,
    pub email: String,
    pub phone: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pii_controller_url: Option<String>,
}

impl Controller {
    /// A controller known only by name (a participant missing from the directory).
    pub fn named(name: &str) -> Controller {
        Controller {
            pii_controller: name.to_owned(),
            on_behalf: false,
            contact: String::new(),
            address: String::new(),
            email: String::new(),
            phone: String::new(),
            pii_controller_url: None,
        }
    }
}

/// What every receipt needs beyond the consent: who runs the gateway and where its policy is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptContext {
    pub operator: Controller,
    pub policy_url: String,
    /// Where the owner withdraws consent (the portal's dashboard).
    pub withdraw_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptPurpose {
    pub purpose: String,
    pub purpose_category: Vec<String>,
    pub consent_type: String,
    pub pii_category: Vec<String>,
    pub primary_purpose: bool,
    pub termination: String,
    pub third_party_disclosure: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub third_party_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptService {
    pub service: String,
    pub purposes: Vec<ReceiptPurpose>,
}

/// A consent event as ISO/IEC 27560 records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptEvent {
    pub time: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub by: String,
    /// `given`, `refused`, `withdrawn` or `expired`; absent for the request itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<&'static str>,
}

/// The receipt, rendered to JSON with `serde_json::to_value`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    // Kantara Consent Receipt v1.1
    pub version: &'static str,
    pub jurisdiction: &'static str,
    /// Unix seconds of the consent (the approval; the request while none).
    pub consent_timestamp: i64,
    pub collection_method: String,
    #[serde(rename = "consentReceiptID")]
    pub consent_receipt_id: String,
    pub language: &'static str,
    pub pii_principal_id: String,
    pub pii_controllers: Vec<Controller>,
    pub policy_url: String,
    pub services: Vec<ReceiptService>,
    pub sensitive: bool,
    pub spi_cat: Vec<String>,
    // ISO/IEC 27560
    pub schema_version: &'static str,
    pub record_id: String,
    pub notice: String,
    pub lawful_basis: &'static str,
    pub retention: String,
    pub processing_locations: Vec<&'static str>,
    pub withdrawal: String,
    pub status: Status,
    pub events: Vec<ReceiptEvent>,
}

fn date(at_s: i64) -> String {
    rfc3339(at_s).chars().take(10).collect()
}

fn unit_words(unit: TimeUnit, lang: Lang) -> &'static str {
    match (unit, lang) {
        (TimeUnit::Hour, Lang::En) => "hour",
        (TimeUnit::Day, Lang::En) => "day",
        (TimeUnit::Month, Lang::En) => "month",
        (TimeUnit::Year, Lang::En) => "year",
        (TimeUnit::Hour, _) => "小時",
        (TimeUnit::Day, _) => "日",
        (TimeUnit::Month, _) => "月",
        (TimeUnit::Year, _) => "年",
    }
}

/// The notice the owner is shown: what, who, why and for how long, in plain words.
pub fn notice(consent: &Consent, lang: Lang) -> String {
    let t = &consent.terms;
    let products = t
        .products
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let providers = t
        .providers
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let purpose = t.purpose.code.label();
    let (from, to) = (date(t.data_range.from_s), date(t.data_range.to_s));
    let (valid_from, until) = (date(t.validity.from_s), date(t.validity.to_s));
    let (n, unit) = (t.frequency.value, unit_words(t.frequency.unit, lang));
    let consumer = &t.consumer;
    match lang {
        Lang::En => {
            let verb = if t.mode == Mode::Store {
                "receive and keep"
            } else {
                "view"
            };
            format!(
                "{consumer} asks to {verb} your {products} held by {providers}, for: {} ({}). \
                 Data from {from} to {to}; at most {n} time(s) a {unit}; from {valid_from} \
                 until {until}, unless you revoke it sooner.",
                purpose.en, t.purpose.text
            )
        }
        Lang::ZhHant | Lang::ZhHans => {
            let label = if lang == Lang::ZhHant {
                purpose.zh_hant
            } else {
                purpose.zh_hans
            };
            format!(
                "{consumer} 要求取得 {providers} 持有的 {products}，用途：{label}（{}）。\
                 資料日期 {from} 至 {to}；每{unit}最多 {n} 次；有效期 {valid_from} 至 {until}，\
                 你可隨時撤回。",
                t.purpose.text
            )
        }
    }
}

fn state_of(kind: &str) -> Option<&'static str> {
    match kind {
        "approve" | "resume" => Some("given"),
        "reject" => Some("refused"),
        "revoke" | "pause" => Some("withdrawn"),
        "expire" => Some("expired"),
        _ => None,
    }
}

/// The receipt of `consent` with its history `events` (oldest first), in `lang`; `consumer` is
/// the consent's consumer as a controller (from the participants directory).
pub fn receipt(
    consent: &Consent,
    events: &[ConsentEvent],
    context: &ReceiptContext,
    consumer: &Controller,
    lang: Lang,
) -> Receipt {
    let t = &consent.terms;
    let approved = events.iter().rev().find(|e| e.kind == "approve");
    let consent_timestamp = approved.map_or(consent.created_at_s, |e| e.at_s);
    let termination = format!(
        "At {} or when the owner revokes it, whichever comes first.",
        rfc3339(t.validity.to_s)
    );
    let pii_category: Vec<String> = t.products.iter().map(|p| p.to_string()).collect();
    let services = t
        .providers
        .iter()
        .map(|provider| ReceiptService {
            service: format!("{} from {provider}", pii_category.join(", ")),
            purposes: vec![ReceiptPurpose {
                purpose: t.purpose.code.label().get(lang).to_owned(),
                purpose_category: vec![t.purpose.code.category().to_owned()],
                consent_type: "EXPLICIT".into(),
                pii_category: pii_category.clone(),
                primary_purpose: true,
                termination: termination.clone(),
                third_party_disclosure: true,
                third_party_name: Some(t.consumer.to_string()),
            }],
        })
        .collect();
    let retention = match t.data_life {
        Some(life) if t.mode == Mode::Store => format!(
            "The consumer may keep the data for {} {}(s); the gateway keeps none of it.",
            life.value,
            unit_words(life.unit, Lang::En)
        ),
        _ => "The consumer may view the data and must not keep it; the gateway keeps none of it."
            .into(),
    };
    let principal = match t.owner.company() {
        Some(company) => format!("company:{company}"),
        None => format!("resident:{}", t.owner.approver()),
    };
    Receipt {
        version: KANTARA_VERSION,
        jurisdiction: JURISDICTION,
        consent_timestamp,
        collection_method: "Approved by the owner at the Bauhinia portal after signing in with \
                            iAM Smart"
            .into(),
        consent_receipt_id: format!("{}-v{}", consent.id, consent.version),
        language: lang.tag(),
        pii_principal_id: principal,
        pii_controllers: vec![consumer.clone(), context.operator.clone()],
        policy_url: context.policy_url.clone(),
        services,
        sensitive: false,
        spi_cat: Vec::new(),
        schema_version: ISO_27560_SCHEMA,
        record_id: consent.id.to_string(),
        notice: notice(consent, lang),
        lawful_basis: "consent",
        retention,
        processing_locations: vec![JURISDICTION],
        withdrawal: format!(
            "Revoke or pause the consent at any time at {}.",
            context.withdraw_url
        ),
        status: consent.status,
        events: events
            .iter()
            .map(|e| ReceiptEvent {
                time: rfc3339(e.at_s),
                event_type: if e.kind == EVENT_REQUEST {
                    "requested".into()
                } else {
                    e.kind.clone()
                },
                by: e.actor.clone(),
                state: state_of(&e.kind),
            })
            .collect(),
    }
}
