//! 一网通办: the portal. Server-rendered pages (askama templates compiled into the binary), in
//! Traditional Chinese (default), Simplified Chinese and English, every asset served from the
//! binary itself — no CDN, no front-end build. No page needs JavaScript except for the one thing
//! only JavaScript can do: the WebAuthn (passkey) calls of the 智方便 app (`static/app.js`).
//! Scripts elsewhere only save typing: the business dashboard's signing form computes a file's
//! SHA-256 in the browser (`static/business-sign.js`), and without it the hash can be pasted.
//!
//! Pages call the services' public functions; no business rule lives here.

pub mod admin;
mod apidoc;
pub mod business;
pub mod company_signing_app;
mod console;
pub mod exchange;
mod funding;
pub mod opendata;
mod page;
mod payments;
mod prefs;
pub mod resident_app;
mod respond;
pub mod signin;
pub mod signing_app;
pub mod texts;

use std::sync::Arc;

use askama::Template;
use axum::extract::{OriginalUri, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use bauhinia_core::{ErrorCode, Lang};
use bauhinia_funding::domain::{match_profile, Status};
use bauhinia_funding::FundingService;
use bauhinia_identity::{IdentityService, PasskeyService};

pub use page::{Page, Section};
pub use prefs::Prefs;

use crate::funding::{Answers, FormView};

#[derive(Debug, Clone)]
pub struct PortalState {
    pub funding: Arc<FundingService>,
    pub identity: Arc<IdentityService>,
    pub passkeys: Arc<PasskeyService>,
    /// Signing requests waiting for the resident, and service names.
    pub signing: Arc<bauhinia_identity::SigningService>,
    /// Company signing requests waiting for a representative, and their approval.
    pub company_signing: Arc<bauhinia_corpid::signing::CompanySigning>,
    pub provider: Arc<bauhinia_identity::oidc::Provider>,
    /// The OpenAPI document, for the API reference page.
    pub openapi: Arc<serde_json::Value>,
    /// Whether demo data is loaded: the questionnaire then offers example profiles, and the
    /// app's enrolment page hands out codes for the demo residents.
    pub demo: bool,
    /// The hosted banks (the resident's accounts and payments, `/pay`).
    pub banks: Arc<bauhinia_bank::Banks>,
    /// The FPS switch: participants' names, the participant console.
    pub switch: Arc<bauhinia_fps::switch::Switch>,
    /// Whether cookies set by the portal must be `Secure` (the public URL is https).
    pub secure_cookies: bool,
}

/// The portal's routes. The binary adds the API routes beside them.
pub fn router(state: PortalState) -> Router {
    let mut router = Router::new()
        .route("/", get(home))
        .route("/funding", get(funding_form))
        .route("/funding/results", get(funding_results))
        .route("/prefs", get(prefs::set_prefs))
        .route("/docs/api", get(api_reference))
        .route("/docs/errors", get(error_codes))
        .route("/static/portal.css", get(stylesheet))
        .route("/static/bauhinia.svg", get(logo))
        .route("/static/app.js", get(app_script))
        .route("/app", get(resident_app::home))
        .route("/app/enrol", get(resident_app::enrol))
        .route(
            "/app/sign/{id}",
            get(signing_app::sign_page).post(signing_app::sign_decide),
        )
        .route(
            "/app/company-sign/{id}",
            get(company_signing_app::sign_page).post(company_signing_app::sign_decide),
        )
        .route("/fps/console", get(console::home))
        .route("/fps/console/login", post(console::login))
        .route("/fps/console/logout", post(console::logout))
        .route("/pay", get(payments::home))
        .route("/pay/accounts", post(payments::open_account))
        .route("/pay/proxies", post(payments::register_proxy))
        .route("/pay/send", get(payments::send_form).post(payments::send))
        .route("/pay/send/review", post(payments::review))
        .route("/pay/payments/{id}", get(payments::receipt))
        .route("/pay/receive", get(payments::receive))
        .route(
            "/pay/request",
            get(payments::request_form).post(payments::request),
        )
        .route(
            "/pay/mandates",
            get(payments::mandates).post(payments::set_up_mandate),
        )
        .route("/pay/mandates/{id}/{action}", post(payments::move_mandate))
        .route("/pay/requests/{id}/pay", post(payments::pay_request))
        .route(
            "/pay/requests/{id}/decline",
            post(payments::decline_request),
        )
        .route("/app/logout", post(resident_app::logout))
        .route("/app/passkeys/remove", post(resident_app::remove));
    if state.demo {
        router = router.route("/app/demo/enrolment-code", post(resident_app::demo_code));
    }
    router.with_state(state)
}

fn render(template: &impl Template, status: StatusCode) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => bauhinia_core::Problem::internal(&e).into_response(),
    }
}

fn path_and_query(uri: &axum::http::Uri) -> &str {
    uri.path_and_query().map_or("/", |pq| pq.as_str())
}

#[derive(Debug)]
struct ServiceCard {
    key: &'static str,
    name: &'static str,
    english: &'static str,
    description: &'static str,
    href: &'static str,
    available: bool,
}

fn services(lang: Lang) -> Vec<ServiceCard> {
    let pick = |hant, hans, en| lang.pick(hant, hans, en);
    let card = |key, name, english, description, href, available| ServiceCard {
        key,
        name,
        english,
        description,
        href,
        available,
    };
    vec![
        card("funding", pick("資助易", "资助易", "Funding Easy"), "Funding Easy",
            pick("按你的業務找出合適的政府資助計劃、最高資助額及原因。", "按你的业务找出合适的政府资助计划、最高资助额及原因。", "Find the government funding schemes that fit your business, with the maximum grant and why."),
            "/funding", true),
        card("identity", pick("智方便", "智方便", "iAM Smart"), "iAM Smart",
            pick("一個數碼身份登入 1,300 多項網上服務、授權填表及數碼簽署。", "一个数码身份登入 1,300 多项网上服务、授权填表及数码签署。", "One digital identity for 1,300+ e-services, consented form filling and digital signing."),
            "/app", true),
        card("corpid", pick("數碼企業身份", "数码企业身份", "CorpID"), "Digital Corporate Identity (CorpID)",
            pick("企業認證身分及簽署；管理你代表的企業的代表、代理及牌照。", "企业认证身分及签署；管理你代表的企业的代表、代理及牌照。", "Businesses authenticate and sign; manage the representatives, agents and licences of the businesses you represent."),
            "/business", true),
        card("exchange", pick("授權數據交換閘、商業數據通、戶口互聯", "授权数据交换闸、商业数据通、户口互联", "Consented data exchange"), "CDEG · CDI · IADS",
            pick("在你同意下，於政府、企業及銀行之間分享數據。", "在你同意下，于政府、企业及银行之间分享数据。", "Data shared between government, businesses and banks only with your consent."),
            "/exchange", true),
        card("fps", pick("轉數快", "转数快", "Faster Payment System"), "FPS",
            pick("以手機號碼、電郵或轉數快識別碼即時付款，支援港元及人民幣。", "以手机号码、电邮或转数快识别码即时付款，支援港元及人民币。", "Instant payments by mobile number, email or FPS ID, in HKD and RMB."),
            "/pay", true),
        card("bank-api", pick("銀行業開放 API", "银行业开放 API", "Banking Open API"), "Banking Open API",
            pick("銀行產品資料、帳戶資料及交易的開放應用程式介面。", "银行产品资料、帐户资料及交易的开放应用程序接口。", "Open APIs for bank products, account information and transactions."),
            "", false),
        card("opendata", pick("開放數據", "开放数据", "Open data"), "DATA.GOV.HK · CSDI",
            pick("搜尋開放數據集、預覽表格及經 API 使用，包括空間數據。", "搜索开放数据集、预览表格及经 API 使用，包括空间数据。", "Search open datasets, preview their tables and use them through APIs, spatial data included."),
            "/opendata", true),
    ]
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomeTemplate {
    page: Page,
    services: Vec<ServiceCard>,
}

async fn home(prefs: Prefs, OriginalUri(uri): OriginalUri) -> Response {
    let page = Page::new(
        prefs,
        texts::Texts::get(prefs.lang).nav_home,
        Section::Home,
        path_and_query(&uri),
    );
    render(
        &HomeTemplate {
            page,
            services: services(prefs.lang),
        },
        StatusCode::OK,
    )
}

#[derive(Template)]
#[template(path = "funding_form.html")]
struct FundingFormTemplate {
    page: Page,
    form: FormView,
    examples: Vec<funding::Example>,
}

fn form_page(
    state: &PortalState,
    prefs: Prefs,
    uri: &axum::http::Uri,
    form: FormView,
    status: StatusCode,
) -> Response {
    let t = texts::Texts::get(prefs.lang);
    let page = Page::new(prefs, t.nav_funding, Section::Funding, path_and_query(uri));
    let examples = if state.demo {
        funding::examples(prefs.lang)
    } else {
        Vec::new()
    };
    render(
        &FundingFormTemplate {
            page,
            form,
            examples,
        },
        status,
    )
}

/// The questionnaire, pre-filled from the query (the "change your answers" link).
async fn funding_form(
    State(state): State<PortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let form = Answers::parse(uri.query().unwrap_or("")).view(prefs.lang, &[]);
    form_page(&state, prefs, &uri, form, StatusCode::OK)
}

#[derive(Debug)]
struct ResultView {
    id: String,
    name: String,
    status: &'static str,
    status_key: &'static str,
    max_grant: String,
    summary: String,
    source: String,
    reasons: Vec<String>,
}

#[derive(Template)]
#[template(path = "funding_results.html")]
struct FundingResultsTemplate {
    page: Page,
    query: String,
    eligible: Vec<ResultView>,
    ineligible: Vec<ResultView>,
}

async fn funding_results(
    State(state): State<PortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let Some(query) = uri.query().filter(|q| !q.is_empty()) else {
        return Redirect::to("/funding").into_response();
    };
    let profile = match Answers::parse(query).validate(prefs.lang) {
        Ok(profile) => profile,
        Err(form) => {
            return form_page(&state, prefs, &uri, *form, StatusCode::UNPROCESSABLE_ENTITY)
        }
    };
    let catalogue = state.funding.catalogue();
    let outcome = match_profile(catalogue.schemes(), &profile);
    let lang = prefs.lang;
    let t = texts::Texts::get(lang);
    let view = |scheme: &bauhinia_funding::domain::Scheme,
                max_grant: String,
                reasons: Vec<String>| ResultView {
        id: scheme.id.to_string(),
        name: scheme.name.get(lang).to_owned(),
        status: scheme.status.label(lang),
        status_key: status_key(scheme.status),
        max_grant,
        summary: scheme.summary.get(lang).to_owned(),
        source: scheme.source.clone(),
        reasons,
    };
    let eligible = outcome
        .eligible
        .iter()
        .map(|e| {
            let grant = e
                .max_grant
                .map_or_else(|| t.not_stated.to_owned(), |m| m.display_grouped());
            view(
                e.scheme,
                grant,
                e.reasons.iter().map(|r| r.text(lang)).collect(),
            )
        })
        .collect();
    let ineligible = outcome
        .ineligible
        .iter()
        .map(|i| {
            view(
                i.scheme,
                String::new(),
                i.reasons.iter().map(|r| r.text(lang)).collect(),
            )
        })
        .collect();
    let page = Page::new(
        prefs,
        t.results_title,
        Section::Funding,
        path_and_query(&uri),
    );
    render(
        &FundingResultsTemplate {
            page,
            query: query.to_owned(),
            eligible,
            ineligible,
        },
        StatusCode::OK,
    )
}

fn status_key(status: Status) -> &'static str {
    match status {
        Status::Open | Status::Ongoing => "available",
        Status::Planned => "coming",
        Status::Closed => "closed",
        Status::NotStated => "unknown",
    }
}

#[derive(Template)]
#[template(path = "api.html")]
struct ApiTemplate {
    page: Page,
    openapi_version: String,
    operations: Vec<apidoc::Operation>,
    schemas: Vec<apidoc::SchemaView>,
}

async fn api_reference(
    State(state): State<PortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let t = texts::Texts::get(prefs.lang);
    let page = Page::new(prefs, t.api_title, Section::Docs, path_and_query(&uri));
    let doc = &state.openapi;
    let openapi_version = doc
        .get("openapi")
        .and_then(|v| v.as_str())
        .unwrap_or("3.1.0")
        .to_owned();
    render(
        &ApiTemplate {
            page,
            openapi_version,
            operations: apidoc::operations(doc),
            schemas: apidoc::schemas(doc),
        },
        StatusCode::OK,
    )
}

#[derive(Template)]
#[template(path = "errors.html")]
struct ErrorsTemplate {
    page: Page,
    codes: Vec<(&'static str, u16, &'static str)>,
}

async fn error_codes(prefs: Prefs, OriginalUri(uri): OriginalUri) -> Response {
    let t = texts::Texts::get(prefs.lang);
    let page = Page::new(prefs, t.errors_title, Section::Docs, path_and_query(&uri));
    let codes = ErrorCode::ALL
        .iter()
        .map(|c| (c.code(), c.status().as_u16(), c.title()))
        .collect();
    render(&ErrorsTemplate { page, codes }, StatusCode::OK)
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundTemplate {
    page: Page,
}

/// The HTML 404 page, for paths outside the APIs.
pub fn not_found_page(prefs: Prefs, uri: &axum::http::Uri) -> Response {
    let t = texts::Texts::get(prefs.lang);
    let page = Page::new(
        prefs,
        t.not_found_title,
        Section::Other,
        path_and_query(uri),
    );
    render(&NotFoundTemplate { page }, StatusCode::NOT_FOUND)
}

const CACHE_ASSETS: &str = "public, max-age=3600";

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, CACHE_ASSETS),
        ],
        include_str!("../static/portal.css"),
    )
        .into_response()
}

async fn app_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, CACHE_ASSETS),
        ],
        include_str!("../static/app.js"),
    )
        .into_response()
}

async fn logo() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, CACHE_ASSETS),
        ],
        include_str!("../static/bauhinia.svg"),
    )
        .into_response()
}
