//! What the owner's pages show, made from the exchange's types: names from the directory and
//! the product catalogue in the page's language, times in Hong Kong Time, and which buttons a
//! status allows (asked of the lifecycle table, not decided here).

use std::collections::HashMap;

use bauhinia_core::Lang;
use bauhinia_exchange::chain::StoredRecord;
use bauhinia_exchange::consent::domain::{
    transition, Action, Consent, FetchType, Mode, ParticipantId, ProductId, Status,
};
use bauhinia_exchange::consent::receipt::{Controller, Receipt};
use bauhinia_exchange::consent::store::UseRecord;
use bauhinia_exchange::Exchange;

use super::texts::{duration, frequency, ExchangeTexts};

/// Participants' names, looked up once per page.
pub struct Names<'a> {
    exchange: &'a Exchange,
    lang: Lang,
    known: HashMap<String, String>,
}

impl<'a> Names<'a> {
    pub fn new(exchange: &'a Exchange, lang: Lang) -> Names<'a> {
        Names {
            exchange,
            lang,
            known: HashMap::new(),
        }
    }

    /// The participant's name in the page's language; its id if the directory lacks it.
    pub async fn participant(&mut self, id: &ParticipantId) -> String {
        if let Some(name) = self.known.get(id.as_str()) {
            return name.clone();
        }
        let name = match self.exchange.directory().get(id.as_str()).await {
            Ok(p) => p.name.get(self.lang).to_owned(),
            Err(_) => id.to_string(),
        };
        self.known.insert(id.to_string(), name.clone());
        name
    }

    /// The consumer as a receipt names a data controller.
    pub async fn controller(&mut self, id: &ParticipantId) -> Controller {
        Controller::named(&self.participant(id).await)
    }
}

fn product_name(id: &ProductId, lang: Lang) -> String {
    bauhinia_exchange::products::ProductId::parse(id.as_str())
        .map_or_else(|| id.to_string(), |p| p.name().get(lang).to_owned())
}

const HKT: time::UtcOffset = time::macros::offset!(+8);

fn at_hkt(at_s: i64) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::from_unix_timestamp(at_s)
        .ok()
        .map(|t| t.to_offset(HKT))
}

/// `2026-11-24 14:05` in Hong Kong Time.
pub fn shown_time(at_s: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    at_hkt(at_s)
        .and_then(|t| t.format(format).ok())
        .unwrap_or_default()
}

/// `2026-11-24` in Hong Kong Time.
pub fn shown_date(at_s: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    at_hkt(at_s)
        .and_then(|t| t.format(format).ok())
        .unwrap_or_default()
}

#[derive(Debug)]
pub struct UseView {
    pub at: String,
    pub provider: String,
    pub products: Vec<String>,
    pub range: String,
}

#[derive(Debug)]
pub struct ConsentView {
    pub id: String,
    pub consumer: String,
    pub purpose_label: String,
    pub purpose_text: String,
    pub products: Vec<String>,
    pub providers: Vec<String>,
    pub company: Option<String>,
    pub validity: String,
    pub data_range: String,
    pub frequency: String,
    pub mode: String,
    pub fetch_type: &'static str,
    pub status: &'static str,
    /// `pending`, `active`, … for the badge's style and tests.
    pub status_key: String,
    pub deadline: String,
    pub pending: bool,
    pub can_pause: bool,
    pub can_resume: bool,
    pub can_revoke: bool,
    pub uses: Vec<UseView>,
}

fn allows(status: Status, action: Action) -> bool {
    transition(status, action).is_ok()
}

/// The view of a consent, with `uses` (newest first) for the dashboard.
pub async fn consent(
    consent: &Consent,
    uses: &[UseRecord],
    names: &mut Names<'_>,
    lang: Lang,
) -> ConsentView {
    let x = ExchangeTexts::get(lang);
    let t = &consent.terms;
    let mut providers = Vec::with_capacity(t.providers.len());
    for p in &t.providers {
        providers.push(names.participant(p).await);
    }
    let mut use_views = Vec::with_capacity(uses.len());
    for u in uses {
        use_views.push(UseView {
            at: shown_time(u.at_s),
            provider: names.participant(&u.provider).await,
            products: u.products.iter().map(|p| product_name(p, lang)).collect(),
            range: format!(
                "{} – {}",
                shown_date(u.range.from_s),
                shown_date(u.range.to_s)
            ),
        });
    }
    let mode = match (t.mode, t.data_life) {
        (Mode::Store, Some(life)) => {
            format!(
                "{} ({})",
                x.mode_store,
                duration(lang, life.value, life.unit)
            )
        }
        (Mode::Store, None) => x.mode_store.to_owned(),
        (Mode::View, _) => x.mode_view.to_owned(),
    };
    let status = consent.status;
    ConsentView {
        id: consent.id.to_string(),
        consumer: names.participant(&t.consumer).await,
        purpose_label: t.purpose.code.label().get(lang).to_owned(),
        purpose_text: t.purpose.text.clone(),
        products: t.products.iter().map(|p| product_name(p, lang)).collect(),
        providers,
        company: t.owner.company().map(ToString::to_string),
        validity: format!(
            "{} – {}",
            shown_time(t.validity.from_s),
            shown_time(t.validity.to_s)
        ),
        data_range: format!(
            "{} – {}",
            shown_date(t.data_range.from_s),
            shown_date(t.data_range.to_s)
        ),
        frequency: frequency(lang, t.frequency.value, t.frequency.unit),
        mode,
        fetch_type: match t.fetch_type {
            FetchType::Onetime => x.fetch_onetime,
            FetchType::Periodic => x.fetch_periodic,
        },
        status: x.status(status),
        status_key: status.as_str().to_ascii_lowercase(),
        deadline: shown_time(consent.approval_deadline_s),
        pending: status == Status::Pending,
        can_pause: allows(status, Action::Pause),
        can_resume: allows(status, Action::Resume),
        can_revoke: allows(status, Action::Revoke),
        uses: use_views,
    }
}

/// The consumer's page with the consent's id and status added, so it knows the answer; `None`
/// if the stored address does not parse (it was checked when the request was made).
pub fn return_link(return_url: &str, consent: &Consent) -> Option<String> {
    let mut url = url::Url::parse(return_url).ok()?;
    url.query_pairs_mut()
        .append_pair("consent_id", consent.id.as_str())
        .append_pair("status", consent.status.as_str());
    Some(url.to_string())
}

#[derive(Debug)]
pub struct LogRow {
    pub seq: i64,
    pub at: String,
    pub kind: String,
    pub actor: String,
    pub consent: String,
}

pub fn log_row(record: &StoredRecord) -> LogRow {
    LogRow {
        seq: record.seq,
        at: shown_time(record.at_s),
        kind: record.kind.clone(),
        actor: record.actor.clone(),
        consent: record.consent.clone().unwrap_or_default(),
    }
}

#[derive(Debug)]
pub struct ReceiptEventView {
    pub time: String,
    pub kind: String,
    pub by: String,
    pub state: &'static str,
}

#[derive(Debug)]
pub struct ReceiptView {
    pub receipt_id: String,
    pub version: &'static str,
    pub schema: &'static str,
    pub status: &'static str,
    pub notice: String,
    pub controllers: Vec<String>,
    pub retention: String,
    pub withdrawal: String,
    pub lawful_basis: &'static str,
    pub events: Vec<ReceiptEventView>,
}

pub fn receipt(receipt: &Receipt) -> ReceiptView {
    ReceiptView {
        receipt_id: receipt.consent_receipt_id.clone(),
        version: receipt.version,
        schema: receipt.schema_version,
        status: receipt.status.as_str(),
        notice: receipt.notice.clone(),
        controllers: receipt
            .pii_controllers
            .iter()
            .map(|c| c.pii_controller.clone())
            .collect(),
        retention: receipt.retention.clone(),
        withdrawal: receipt.withdrawal.clone(),
        lawful_basis: receipt.lawful_basis,
        events: receipt
            .events
            .iter()
            .map(|e| ReceiptEventView {
                time: e.time.clone(),
                kind: e.event_type.clone(),
                by: e.by.clone(),
                state: e.state.unwrap_or(""),
            })
            .collect(),
    }
}
