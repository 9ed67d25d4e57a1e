//! The FPS participant console (`/fps/console`): a participant signs in with its API token and
//! sees its settlement positions per currency and searches its transfers (by id, counterparty,
//! currency and direction). The token is kept in an HttpOnly, SameSite=Strict cookie scoped to
//! `/fps/console`, so no other page or site's request carries it; it is never shown again.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use bauhinia_core::{Currency, Lang, Money};
use bauhinia_fps::switch::{ParticipantCode, CURRENCIES};
use bauhinia_fps::wire::{parse_id, TransferView};

use crate::page::{Page, Section};
use crate::prefs::Prefs;
use crate::respond::{no_store, see_other};
use crate::{render, PortalState};

const COOKIE: &str = "bauhinia_participant";
/// The most transfers a search shows.
const RESULTS_MAX: usize = 200;
/// Transfers read per currency for a search.
const SCAN_MAX: i64 = 500;

#[derive(Debug)]
pub struct ConsoleTexts {
    pub title: &'static str,
    pub intro: &'static str,
    pub token: &'static str,
    pub token_hint: &'static str,
    pub sign_in: &'static str,
    pub sign_out: &'static str,
    pub refused: &'static str,
    pub positions: &'static str,
    pub currency: &'static str,
    pub balance: &'static str,
    pub pending_debits: &'static str,
    pub pending_credits: &'static str,
    pub available: &'static str,
    pub transfers: &'static str,
    pub search_id: &'static str,
    pub counterparty: &'static str,
    pub direction: &'static str,
    pub direction_all: &'static str,
    pub direction_out: &'static str,
    pub direction_in: &'static str,
    pub any: &'static str,
    pub search: &'static str,
    pub none_found: &'static str,
    pub time: &'static str,
    pub amount: &'static str,
    pub purpose: &'static str,
    pub reference: &'static str,
}

const ZH_HANT: ConsoleTexts = ConsoleTexts {
    title: "轉數快參與者控制台",
    intro: "以參與者的 API 權杖登入，查看結算頭寸及搜尋轉帳。",
    token: "API 權杖",
    token_hint: "由營運者發出；只會保存在此瀏覽器的安全 cookie 中。",
    sign_in: "登入",
    sign_out: "登出",
    refused: "權杖無效或參與者已暫停。",
    positions: "結算頭寸",
    currency: "貨幣",
    balance: "結餘",
    pending_debits: "待支出",
    pending_credits: "待收入",
    available: "可用",
    transfers: "轉帳",
    search_id: "轉帳編號",
    counterparty: "對手參與者",
    direction: "方向",
    direction_all: "全部",
    direction_out: "支出",
    direction_in: "收入",
    any: "任何",
    search: "搜尋",
    none_found: "沒有符合的轉帳。",
    time: "時間",
    amount: "金額",
    purpose: "用途",
    reference: "備註",
};

const ZH_HANS: ConsoleTexts = ConsoleTexts {
    title: "转数快参与者控制台",
    intro: "以参与者的 API 令牌登入，查看结算头寸及搜寻转账。",
    token: "API 令牌",
    token_hint: "由营运者发出；只会保存在此浏览器的安全 cookie 中。",
    sign_in: "登入",
    sign_out: "登出",
    refused: "令牌无效或参与者已暂停。",
    positions: "结算头寸",
    currency: "货币",
    balance: "结余",
    pending_debits: "待支出",
    pending_credits: "待收入",
    available: "可用",
    transfers: "转账",
    search_id: "转账编号",
    counterparty: "对手参与者",
    direction: "方向",
    direction_all: "全部",
    direction_out: "支出",
    direction_in: "收入",
    any: "任何",
    search: "搜寻",
    none_found: "没有符合的转账。",
    time: "时间",
    amount: "金额",
    purpose: "用途",
    reference: "备注",
};

const EN: ConsoleTexts = ConsoleTexts {
    title: "FPS participant console",
    intro: "Sign in with a participant's API token to see its settlement positions and search its transfers.",
    token: "API token",
    token_hint: "Issued by the operator; kept only in this browser's secure cookie.",
    sign_in: "Sign in",
    sign_out: "Sign out",
    refused: "The token is not valid, or the participant is suspended.",
    positions: "Settlement positions",
    currency: "Currency",
    balance: "Balance",
    pending_debits: "Pending debits",
    pending_credits: "Pending credits",
    available: "Available",
    transfers: "Transfers",
    search_id: "Transfer id",
    counterparty: "Counterparty",
    direction: "Direction",
    direction_all: "All",
    direction_out: "Paid",
    direction_in: "Received",
    any: "Any",
    search: "Search",
    none_found: "No transfer matches.",
    time: "Time",
    amount: "Amount",
    purpose: "Purpose",
    reference: "Reference",
};

impl ConsoleTexts {
    pub fn get(lang: Lang) -> &'static ConsoleTexts {
        match lang {
            Lang::ZhHant => &ZH_HANT,
            Lang::ZhHans => &ZH_HANS,
            Lang::En => &EN,
        }
    }
}

#[derive(Debug)]
struct PositionRow {
    currency: &'static str,
    balance: String,
    pending_debits: String,
    pending_credits: String,
    available: String,
}

#[derive(Debug)]
struct TransferRow {
    id: String,
    time: String,
    outgoing: bool,
    counterparty: String,
    amount: String,
    purpose: String,
    reference: String,
}

#[derive(Debug, Default)]
struct Search {
    id: String,
    counterparty: String,
    currency: String,
    direction: String,
}

#[derive(Template)]
#[template(path = "fps_console.html")]
struct ConsoleTemplate {
    page: Page,
    c: &'static ConsoleTexts,
    participant: Option<String>,
    refused: bool,
    positions: Vec<PositionRow>,
    transfers: Vec<TransferRow>,
    search: Search,
    counterparties: Vec<(String, String)>,
}

fn signed_in(state: &PortalState, headers: &HeaderMap) -> Option<ParticipantCode> {
    let token = crate::respond::cookie(headers, COOKIE)?;
    state.switch.authenticate(token)
}

fn query_value(query: &str, name: &str) -> String {
    form_urlencoded::parse(query.as_bytes())
        .take(16)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}

fn participant_name(state: &PortalState, code: ParticipantCode, lang: Lang) -> String {
    state
        .switch
        .participant(code)
        .map(|p| lang.pick(p.name_zh_hant, p.name_zh_hans, p.name_en))
        .unwrap_or_default()
}

/// `GET /fps/console`: the sign-in form, or the participant's positions and transfers.
pub async fn home(
    State(state): State<PortalState>,
    prefs: Prefs,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let refused = query_value(uri.query().unwrap_or(""), "refused") == "1";
    let code = signed_in(&state, &headers);
    page(&state, prefs, &uri, code, refused).await
}

async fn page(
    state: &PortalState,
    prefs: Prefs,
    uri: &axum::http::Uri,
    code: Option<ParticipantCode>,
    refused: bool,
) -> Response {
    let c = ConsoleTexts::get(prefs.lang);
    let query = uri.query().unwrap_or("");
    let search = Search {
        id: query_value(query, "id"),
        counterparty: query_value(query, "counterparty"),
        currency: query_value(query, "currency"),
        direction: query_value(query, "direction"),
    };
    let mut template = ConsoleTemplate {
        page: Page::new(prefs, c.title, Section::Pay, crate::path_and_query(uri)),
        c,
        participant: None,
        refused,
        positions: Vec::new(),
        transfers: Vec::new(),
        search,
        counterparties: Vec::new(),
    };
    if let Some(code) = code {
        template.participant = Some(format!(
            "{} ({})",
            participant_name(state, code, prefs.lang),
            code.as_str()
        ));
        template.counterparties = state
            .switch
            .participants()
            .into_iter()
            .filter(|p| p.code != code)
            .map(|p| (p.code.as_str(), participant_name(state, p.code, prefs.lang)))
            .collect();
        match positions(state, code).await {
            Ok(rows) => template.positions = rows,
            Err(response) => return response,
        }
        match transfers(state, code, &template.search).await {
            Ok(rows) => template.transfers = rows,
            Err(response) => return response,
        }
    }
    no_store(render(&template, StatusCode::OK))
}

async fn positions(
    state: &PortalState,
    code: ParticipantCode,
) -> Result<Vec<PositionRow>, Response> {
    let accounts = state.switch.positions(code).await.map_err(|e| {
        axum::response::IntoResponse::into_response(bauhinia_core::Problem::from(e))
    })?;
    let to_i64 = |v: i128| i64::try_from(v).unwrap_or(i64::MAX);
    Ok(accounts
        .iter()
        .map(|a| {
            let (c, t) = (a.currency, a.totals);
            let text = |minor: i64| Money::from_minor(minor, c).to_decimal_string();
            PositionRow {
                currency: c.code(),
                balance: text(to_i64(t.balance())),
                pending_debits: text(t.debits_pending),
                pending_credits: text(t.credits_pending),
                available: text(to_i64(t.available())),
            }
        })
        .collect())
}

/// The participant's accepted transfers matching the search, newest first.
async fn transfers(
    state: &PortalState,
    code: ParticipantCode,
    search: &Search,
) -> Result<Vec<TransferRow>, Response> {
    let failed = |e: bauhinia_fps::switch::SwitchError| {
        axum::response::IntoResponse::into_response(bauhinia_core::Problem::from(e))
    };
    let own = code.as_str();
    let mut found = Vec::new();
    if !search.id.is_empty() {
        if let Some(id) = parse_id(&search.id) {
            if let Some(r) = state.switch.transfer(id).await.map_err(failed)? {
                found.push((0, r));
            }
        }
    } else {
        for currency in CURRENCIES {
            if !search.currency.is_empty() && search.currency != currency.code() {
                continue;
            }
            let account = code.settlement_account(currency);
            found.extend(
                state
                    .switch
                    .history(account, None, SCAN_MAX)
                    .await
                    .map_err(failed)?,
            );
        }
        found.sort_by_key(|(seq, _)| std::cmp::Reverse(*seq));
    }
    Ok(found
        .iter()
        .map(|(_, r)| (TransferView::from_recorded(r), r.timestamp_ns))
        // A participant sees only transfers it is party to.
        .filter(|(v, _)| {
            v.debtor.as_deref() == Some(own.as_str()) || v.creditor.as_deref() == Some(own.as_str())
        })
        .filter_map(|(v, at_ns)| {
            let outgoing = v.debtor.as_deref() == Some(own.as_str());
            let other = if outgoing {
                v.creditor.clone()
            } else {
                v.debtor.clone()
            }
            .unwrap_or_default();
            let wanted = (search.counterparty.is_empty() || search.counterparty == other)
                && match search.direction.as_str() {
                    "out" => outgoing,
                    "in" => !outgoing,
                    _ => true,
                };
            wanted.then(|| TransferRow {
                time: hong_kong_time(at_ns),
                id: v.id,
                outgoing,
                counterparty: other,
                amount: format!(
                    "{}{} {}",
                    if outgoing { "−" } else { "+" },
                    currency_code(v.currency),
                    v.amount
                ),
                purpose: serde_json::to_value(v.purpose)
                    .ok()
                    .and_then(|p| p.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                reference: v.reference,
            })
        })
        .take(RESULTS_MAX)
        .collect())
}

/// `2026-11-24 13:48:08` in Hong Kong time.
fn hong_kong_time(at_ns: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(at_ns))
        .map(|t| t.to_offset(time::macros::offset!(+8)))
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_default()
}

fn currency_code(c: Currency) -> &'static str {
    c.code()
}

/// `POST /fps/console/login`: `token=…`.
pub async fn login(State(state): State<PortalState>, body: Bytes) -> Response {
    let token = form_urlencoded::parse(&body)
        .take(4)
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default();
    if state.switch.authenticate(&token).is_none() {
        tracing::warn!("FPS console sign-in refused");
        return see_other("/fps/console?refused=1");
    }
    let mut response = see_other("/fps/console");
    let cookie = format!(
        "{COOKIE}={token}; Path=/fps/console; Max-Age=3600; HttpOnly; SameSite=Strict{}",
        if state.secure_cookies { "; Secure" } else { "" }
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `POST /fps/console/logout`.
pub async fn logout() -> Response {
    let mut response = see_other("/fps/console");
    response.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "bauhinia_participant=; Path=/fps/console; Max-Age=0; HttpOnly; SameSite=Strict",
        ),
    );
    response
}
