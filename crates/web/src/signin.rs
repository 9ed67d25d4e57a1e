//! The OpenID Provider's front channel: `/oauth2/authorize`, the page that waits for the
//! resident (passkey on this device, or a QR code for the 智方便 app on another), the consent
//! screen, the app's approval page, logout, and the resident's consent receipts.
//!
//! Every rule lives in `bauhinia_identity::oidc::Provider`; this module turns its answers into
//! pages and redirects (303, as FAPI 2.0 asks).

use std::collections::BTreeSet;
use std::sync::Arc;

use askama::Template;
use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bauhinia_core::Lang;
use bauhinia_identity::corporate::Representation;
use bauhinia_identity::oidc::fields::Field;
use bauhinia_identity::oidc::provider::{
    AuthContext, Interaction, InteractionError, InteractionStatus, NextStep, APP_APPROVE_PATH,
    INTERACTION_PATH,
};
use bauhinia_identity::oidc::request::{parse_params, RequestError};
use bauhinia_identity::oidc::Provider;
use bauhinia_identity::session::{token_from_headers, Session, SessionService};

use crate::page::{Page, Section};
use crate::prefs::Prefs;
use crate::render;
use crate::respond::see_other;

/// The cookie that binds an interaction to the browser that started it.
const INTERACTION_COOKIE: &str = "bauhinia_interaction";

#[derive(Debug, Clone)]
pub struct SignInState {
    pub provider: Arc<Provider>,
    pub sessions: SessionService,
}

pub fn router(state: SignInState) -> Router {
    Router::new()
        .route("/oauth2/authorize", get(authorize))
        .route("/oauth2/interaction/{id}", get(interaction_page))
        .route("/oauth2/interaction/{id}/status", get(interaction_status))
        .route("/oauth2/interaction/{id}/decision", post(decide))
        .route("/oauth2/interaction/{id}/cancel", post(cancel))
        .route("/oauth2/interaction/{id}/complete", get(complete))
        .route("/app/approve/{id}/{code}", get(app_page).post(app_decide))
        .route("/oauth2/logout", get(logout).post(logout))
        .route("/app/consents", get(consents_page))
        .route("/app/consents/{id}/revoke", post(revoke_consent))
        .route("/static/signin.js", get(script))
        .with_state(state)
}

/// The strings of these pages, one struct per language.
#[derive(Debug)]
pub struct SignInTexts {
    pub login_title: &'static str,
    pub login_intro: &'static str,
    pub qr_heading: &'static str,
    pub qr_help: &'static str,
    pub qr_link: &'static str,
    pub this_device_heading: &'static str,
    pub this_device_button: &'static str,
    pub waiting: &'static str,
    pub cancel: &'static str,
    pub consent_title: &'static str,
    pub consent_intro: &'static str,
    pub purpose: &'static str,
    pub fields_legend: &'static str,
    pub no_fields: &'static str,
    /// The legend of the business's data a corporate service asks for.
    pub business_fields_legend: &'static str,
    /// What corporate login always releases, said above the business's data.
    pub business_always: &'static str,
    pub approve: &'static str,
    pub reject: &'static str,
    pub approved_title: &'static str,
    pub approved_body: &'static str,
    pub rejected_title: &'static str,
    pub rejected_body: &'static str,
    pub expired_title: &'static str,
    pub expired_body: &'static str,
    pub finished_title: &'static str,
    pub finished_body: &'static str,
    pub wrong_browser_title: &'static str,
    pub wrong_browser_body: &'static str,
    pub not_found_title: &'static str,
    pub not_found_body: &'static str,
    pub request_error_title: &'static str,
    pub app_signin_needed: &'static str,
    pub app_signin_link: &'static str,
    pub reauth_needed: &'static str,
    pub signed_out_title: &'static str,
    pub signed_out_body: &'static str,
    pub consents_title: &'static str,
    pub consents_intro: &'static str,
    pub consents_none: &'static str,
    pub granted_on: &'static str,
    pub revoked_on: &'static str,
    pub revoke: &'static str,
    pub service: &'static str,
    pub business_one: &'static str,
    pub business_choose: &'static str,
    pub brn: &'static str,
    pub via_agent: &'static str,
    pub until: &'static str,
    pub role_administrator: &'static str,
    pub role_authorised_signatory: &'static str,
    pub role_user: &'static str,
    pub not_representative_title: &'static str,
    pub not_representative_body: &'static str,
    pub business_required: &'static str,
    pub business_not_offered: &'static str,
    pub business_not_requested: &'static str,
    pub consent_business: &'static str,
}

const ZH_HANT: SignInTexts = SignInTexts {
    login_title: "以智方便登入",
    login_intro: "以下服務要求你登入：",
    qr_heading: "用另一部裝置上的智方便",
    qr_help: "用手機掃描二維碼，然後在智方便確認。",
    qr_link: "或在手機上開啟此連結",
    this_device_heading: "用這部裝置",
    this_device_button: "以通行密鑰登入",
    waiting: "正在等候你在智方便確認……",
    cancel: "取消登入",
    consent_title: "確認授權",
    consent_intro: "以下服務要求你授權：",
    purpose: "用途",
    fields_legend: "選擇要提供的個人資料",
    no_fields: "此服務只要求確認你的身份，不會取得其他個人資料。",
    business_fields_legend: "選擇要提供的企業資料",
    business_always: "服務會取得企業的註冊名稱、商業登記號碼及你在企業的角色。",
    approve: "同意並繼續",
    reject: "拒絕",
    approved_title: "已確認",
    approved_body: "請返回你的電腦繼續。",
    rejected_title: "已拒絕",
    rejected_body: "你已拒絕此要求，服務不會取得你的資料。",
    expired_title: "要求已逾時",
    expired_body: "此登入要求已逾時，請返回服務重新開始。",
    finished_title: "登入已完成",
    finished_body: "此登入要求已經處理完畢。",
    wrong_browser_title: "請用開始登入的瀏覽器",
    wrong_browser_body: "此登入要求屬於另一個瀏覽器。請返回服務重新開始。",
    not_found_title: "找不到登入要求",
    not_found_body: "此登入要求不存在或連結不正確。",
    request_error_title: "服務的登入要求無效",
    app_signin_needed: "請先在智方便以通行密鑰登入。",
    app_signin_link: "登入智方便",
    reauth_needed: "此服務要求你重新驗證身份，請再以通行密鑰登入。",
    signed_out_title: "已登出",
    signed_out_body: "你已登出智方便。",
    consents_title: "我的授權紀錄",
    consents_intro: "你曾向以下服務提供的個人資料。撤回授權後，服務不能再以此授權取得你的資料。",
    consents_none: "你未曾授權任何服務。",
    granted_on: "授權日期",
    revoked_on: "已撤回",
    revoke: "撤回授權",
    service: "服務",
    business_one: "你將代表以下企業登入",
    business_choose: "選擇你代表的企業",
    brn: "商業登記號碼",
    via_agent: "經代理",
    until: "有效至",
    role_administrator: "管理員",
    role_authorised_signatory: "獲授權簽署人",
    role_user: "使用者",
    not_representative_title: "未能以企業身份登入",
    not_representative_body: "你並非任何企業的代表，服務不會取得你的資料。",
    business_required: "請選擇你代表的企業。",
    business_not_offered: "你選擇的企業不在你現時可代表的企業之列。請返回上一頁再選擇。",
    business_not_requested: "此服務沒有要求以企業身份登入。",
    consent_business: "代表企業",
};

const ZH_HANS: SignInTexts = SignInTexts {
    login_title: "以智方便登入",
    login_intro: "以下服务要求你登入：",
    qr_heading: "用另一部装置上的智方便",
    qr_help: "用手机扫描二维码，然后在智方便确认。",
    qr_link: "或在手机上打开此链接",
    this_device_heading: "用这部装置",
    this_device_button: "以通行密钥登入",
    waiting: "正在等候你在智方便确认……",
    cancel: "取消登入",
    consent_title: "确认授权",
    consent_intro: "以下服务要求你授权：",
    purpose: "用途",
    fields_legend: "选择要提供的个人资料",
    no_fields: "此服务只要求确认你的身份，不会取得其他个人资料。",
    business_fields_legend: "选择要提供的企业资料",
    business_always: "服务会取得企业的注册名称、商业登记号码及你在企业的角色。",
    approve: "同意并继续",
    reject: "拒绝",
    approved_title: "已确认",
    approved_body: "请返回你的电脑继续。",
    rejected_title: "已拒绝",
    rejected_body: "你已拒绝此要求，服务不会取得你的资料。",
    expired_title: "要求已逾时",
    expired_body: "此登入要求已逾时，请返回服务重新开始。",
    finished_title: "登入已完成",
    finished_body: "此登入要求已经处理完毕。",
    wrong_browser_title: "请用开始登入的浏览器",
    wrong_browser_body: "此登入要求属于另一个浏览器。请返回服务重新开始。",
    not_found_title: "找不到登入要求",
    not_found_body: "此登入要求不存在或链接不正确。",
    request_error_title: "服务的登入要求无效",
    app_signin_needed: "请先在智方便以通行密钥登入。",
    app_signin_link: "登入智方便",
    reauth_needed: "此服务要求你重新验证身份，请再以通行密钥登入。",
    signed_out_title: "已登出",
    signed_out_body: "你已登出智方便。",
    consents_title: "我的授权纪录",
    consents_intro: "你曾向以下服务提供的个人资料。撤回授权后，服务不能再以此授权取得你的资料。",
    consents_none: "你未曾授权任何服务。",
    granted_on: "授权日期",
    revoked_on: "已撤回",
    revoke: "撤回授权",
    service: "服务",
    business_one: "你将代表以下企业登入",
    business_choose: "选择你代表的企业",
    brn: "商业登记号码",
    via_agent: "经代理",
    until: "有效至",
    role_administrator: "管理员",
    role_authorised_signatory: "获授权签署人",
    role_user: "用户",
    not_representative_title: "未能以企业身份登入",
    not_representative_body: "你并非任何企业的代表，服务不会取得你的资料。",
    business_required: "请选择你代表的企业。",
    business_not_offered: "你选择的企业不在你现时可代表的企业之列。请返回上一页再选择。",
    business_not_requested: "此服务没有要求以企业身份登入。",
    consent_business: "代表企业",
};

const EN: SignInTexts = SignInTexts {
    login_title: "Log in with iAM Smart",
    login_intro: "This service asks you to log in:",
    qr_heading: "With iAM Smart on another device",
    qr_help: "Scan the QR code with your phone, then confirm in iAM Smart.",
    qr_link: "Or open this link on your phone",
    this_device_heading: "On this device",
    this_device_button: "Log in with a passkey",
    waiting: "Waiting for you to confirm in iAM Smart…",
    cancel: "Cancel login",
    consent_title: "Confirm",
    consent_intro: "This service asks for your authorisation:",
    purpose: "Purpose",
    fields_legend: "Choose the personal data to provide",
    no_fields: "This service only asks to confirm who you are; it receives no other personal data.",
    business_fields_legend: "Choose the business's data to provide",
    business_always: "The service receives the business's registered names, its Business Registration number and your role in it.",
    approve: "Agree and continue",
    reject: "Reject",
    approved_title: "Confirmed",
    approved_body: "Go back to your computer to continue.",
    rejected_title: "Rejected",
    rejected_body: "You rejected this request; the service receives none of your data.",
    expired_title: "The request has timed out",
    expired_body: "This login request has timed out. Go back to the service and start again.",
    finished_title: "Login finished",
    finished_body: "This login request has already been dealt with.",
    wrong_browser_title: "Use the browser you started in",
    wrong_browser_body: "This login request belongs to another browser. Go back to the service and start again.",
    not_found_title: "Login request not found",
    not_found_body: "This login request does not exist, or the link is wrong.",
    request_error_title: "The service's login request is invalid",
    app_signin_needed: "First log in to iAM Smart with your passkey.",
    app_signin_link: "Log in to iAM Smart",
    reauth_needed: "This service asks you to confirm who you are again: log in with your passkey once more.",
    signed_out_title: "Logged out",
    signed_out_body: "You have logged out of iAM Smart.",
    consents_title: "My consents",
    consents_intro: "The personal data you have released to services. After you revoke a consent, the service can no longer obtain your data with it.",
    consents_none: "You have not released data to any service.",
    granted_on: "Granted",
    revoked_on: "Revoked",
    revoke: "Revoke",
    service: "Service",
    business_one: "You will log in for this business",
    business_choose: "Choose the business you act for",
    brn: "BRN",
    via_agent: "via agent",
    until: "until",
    role_administrator: "Administrator",
    role_authorised_signatory: "Authorised signatory",
    role_user: "User",
    not_representative_title: "Corporate login is not possible",
    not_representative_body: "You are not a representative of any business; the service receives none of your data.",
    business_required: "Choose the business you act for.",
    business_not_offered: "The business you chose is not one you may act for now. Go back and choose again.",
    business_not_requested: "This service did not ask for a corporate login.",
    consent_business: "For business",
};

impl SignInTexts {
    pub fn get(lang: Lang) -> &'static SignInTexts {
        match lang {
            Lang::ZhHant => &ZH_HANT,
            Lang::ZhHans => &ZH_HANS,
            Lang::En => &EN,
        }
    }

    /// A representative's role as the directory names it; a role this page does not know is
    /// shown as the directory wrote it rather than hidden.
    fn role<'a>(&self, role: &'a str) -> &'a str {
        match role {
            "administrator" => self.role_administrator,
            "authorised_signatory" => self.role_authorised_signatory,
            "user" => self.role_user,
            other => other,
        }
    }
}

#[derive(Debug)]
struct FieldView {
    id: &'static str,
    label: &'static str,
    essential: bool,
}

#[derive(Debug)]
struct ServiceView {
    name: String,
    purpose: String,
}

fn service_view(interaction: &Interaction, lang: Lang) -> ServiceView {
    let registration = &interaction.client.registration;
    ServiceView {
        name: registration.name.pick(lang).to_owned(),
        purpose: registration.purpose.pick(lang).to_owned(),
    }
}

/// One business on the consent screen (corporate login).
#[derive(Debug)]
struct BusinessView {
    id: String,
    brn: String,
    name: String,
    role: String,
    agent: Option<String>,
    until: Option<String>,
}

/// A Unix time as the date in Hong Kong, as the pages show an end date.
fn hong_kong_date(at: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(at)
        .map(|t| t.to_offset(time::macros::offset!(+8)).date().to_string())
        .unwrap_or_default()
}

fn business_views(businesses: &[Representation], lang: Lang) -> Vec<BusinessView> {
    let s = SignInTexts::get(lang);
    businesses
        .iter()
        .map(|b| BusinessView {
            id: b.business_id.clone(),
            brn: b.brn.clone(),
            name: match lang {
                Lang::ZhHant | Lang::ZhHans if !b.name_zh.trim().is_empty() => b.name_zh.clone(),
                _ => b.name_en.clone(),
            },
            role: s.role(&b.role).to_owned(),
            agent: b.via_agent_brn.clone(),
            until: b.valid_until.map(hong_kong_date),
        })
        .collect()
}

/// The fields asked for, the resident's own (`business` false) or the business's (true), in
/// the order of the vocabulary.
fn field_views(interaction: &Interaction, lang: Lang, business: bool) -> Vec<FieldView> {
    interaction
        .request
        .fields()
        .into_iter()
        .filter(|f| f.corporate() == business)
        .map(|f| FieldView {
            id: f.as_str(),
            label: f.label(lang),
            essential: interaction.request.essential_fields.contains(&f),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "signin_login.html")]
struct LoginTemplate {
    page: Page,
    s: &'static SignInTexts,
    service: ServiceView,
    id: String,
    app_link: String,
    qr_svg: String,
    reauth: bool,
    /// Where app.js goes after a passkey login: back here.
    next_path: String,
}

#[derive(Template)]
#[template(path = "signin_consent.html")]
struct ConsentTemplate {
    page: Page,
    s: &'static SignInTexts,
    service: ServiceView,
    fields: Vec<FieldView>,
    business_fields: Vec<FieldView>,
    businesses: Vec<BusinessView>,
    action: String,
}

#[derive(Debug)]
struct ConsentView {
    id: String,
    service: String,
    fields: Vec<&'static str>,
    purpose: String,
    granted: String,
    revoked: Option<String>,
    /// Corporate login: the BRN and role the resident acted with.
    business: Option<String>,
}

#[derive(Template)]
#[template(path = "signin_consents.html")]
struct ConsentsTemplate {
    page: Page,
    s: &'static SignInTexts,
    consents: Vec<ConsentView>,
}

fn page(prefs: Prefs, title: &str, uri: &axum::http::Uri) -> Page {
    Page::new(
        prefs,
        title,
        Section::Other,
        uri.path_and_query().map_or("/", |pq| pq.as_str()),
    )
}

fn message(
    prefs: Prefs,
    uri: &axum::http::Uri,
    status: StatusCode,
    title: &str,
    body: &str,
) -> Response {
    crate::respond::message(page(prefs, title, uri), status, title, body)
}

async fn current_session(state: &SignInState, headers: &HeaderMap) -> Option<Session> {
    let token = token_from_headers(headers)?;
    state.sessions.find(token).await.ok().flatten()
}

fn auth_context(session: &Session) -> AuthContext {
    AuthContext {
        auth_time: session.auth_time.unix_timestamp(),
        acr: session.acr.clone(),
        amr: session.amr.clone(),
        session_id: Some(session.id.clone()),
    }
}

fn interaction_error(prefs: Prefs, uri: &axum::http::Uri, error: &InteractionError) -> Response {
    let s = SignInTexts::get(prefs.lang);
    match error {
        InteractionError::NotFound => message(
            prefs,
            uri,
            StatusCode::NOT_FOUND,
            s.not_found_title,
            s.not_found_body,
        ),
        InteractionError::WrongBrowser => message(
            prefs,
            uri,
            StatusCode::BAD_REQUEST,
            s.wrong_browser_title,
            s.wrong_browser_body,
        ),
        InteractionError::State(InteractionStatus::Expired) => message(
            prefs,
            uri,
            StatusCode::GONE,
            s.expired_title,
            s.expired_body,
        ),
        InteractionError::State(_) => message(
            prefs,
            uri,
            StatusCode::CONFLICT,
            s.finished_title,
            s.finished_body,
        ),
        InteractionError::ReauthenticationRequired => message(
            prefs,
            uri,
            StatusCode::UNAUTHORIZED,
            s.login_title,
            s.reauth_needed,
        ),
        InteractionError::FieldNotRequested(field) => message(
            prefs,
            uri,
            StatusCode::BAD_REQUEST,
            s.request_error_title,
            &format!("{} ({})", field.label(prefs.lang), field.as_str()),
        ),
        InteractionError::NotRepresentative => message(
            prefs,
            uri,
            StatusCode::FORBIDDEN,
            s.not_representative_title,
            s.not_representative_body,
        ),
        InteractionError::BusinessRequired => message(
            prefs,
            uri,
            StatusCode::BAD_REQUEST,
            s.request_error_title,
            s.business_required,
        ),
        InteractionError::BusinessNotOffered => message(
            prefs,
            uri,
            StatusCode::FORBIDDEN,
            s.request_error_title,
            s.business_not_offered,
        ),
        InteractionError::BusinessNotRequested => message(
            prefs,
            uri,
            StatusCode::BAD_REQUEST,
            s.request_error_title,
            s.business_not_requested,
        ),
        InteractionError::Server(why) => bauhinia_core::Problem::internal(why).into_response(),
    }
}

/// `GET /oauth2/authorize`.
async fn authorize(
    State(state): State<SignInState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
) -> Response {
    let params = parse_params(query.unwrap_or_default().as_bytes());
    match state.provider.authorize(&params).await {
        Ok(started) => {
            let path = format!("{INTERACTION_PATH}/{}", started.interaction_id);
            let mut response = see_other(&path);
            let cookie = format!(
                "{INTERACTION_COOKIE}={}; Path={path}; Max-Age={}; HttpOnly; SameSite=Lax{}",
                started.browser_secret,
                bauhinia_identity::oidc::INTERACTION_TTL_S,
                if state.provider.issuer.starts_with("https://") {
                    "; Secure"
                } else {
                    ""
                }
            );
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            response
        }
        Err(RequestError::Redirect {
            redirect_uri,
            state: st,
            error,
        }) => see_other(&state.provider.request_error_redirect(
            &redirect_uri,
            st.as_deref(),
            &error,
        )),
        Err(RequestError::Unredirectable(error)) => {
            let s = SignInTexts::get(prefs.lang);
            message(
                prefs,
                &uri,
                StatusCode::BAD_REQUEST,
                s.request_error_title,
                &format!("{}: {}", error.error, error.error_description),
            )
        }
    }
}

async fn load(
    state: &SignInState,
    id: &str,
    headers: &HeaderMap,
) -> Result<Interaction, InteractionError> {
    let secret = crate::respond::cookie(headers, INTERACTION_COOKIE)
        .ok_or(InteractionError::WrongBrowser)?;
    state.provider.interaction(id, Some(secret)).await
}

/// A simple QR code of `text` as inline SVG.
fn qr_svg(text: &str) -> String {
    match qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(240, 240)
            .quiet_zone(true)
            .build(),
        Err(_) => String::new(),
    }
}

/// `GET /oauth2/interaction/{id}`: the login choices, or the consent screen once signed in.
async fn interaction_page(
    State(state): State<SignInState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let interaction = match load(&state, &id, &headers).await {
        Ok(i) => i,
        Err(e) => return interaction_error(prefs, &uri, &e),
    };
    if interaction.status != InteractionStatus::Pending {
        return match interaction.status {
            InteractionStatus::Completed => interaction_error(
                prefs,
                &uri,
                &InteractionError::State(InteractionStatus::Completed),
            ),
            _ => see_other(&format!("{INTERACTION_PATH}/{id}/complete")),
        };
    }
    let s = SignInTexts::get(prefs.lang);
    let session = current_session(&state, &headers).await;
    let signed_in = session
        .as_ref()
        .map(|s| (s.resident_id.as_str(), auth_context(s)));
    match state.provider.next_step(&interaction, signed_in).await {
        Err(e) => interaction_error(prefs, &uri, &e),
        Ok(NextStep::Redirect(location)) => see_other(&location),
        Ok(NextStep::Continue) => see_other(&format!("{INTERACTION_PATH}/{id}/complete")),
        Ok(NextStep::Consent { businesses }) => {
            let template = ConsentTemplate {
                page: page(prefs, s.consent_title, &uri),
                s,
                service: service_view(&interaction, prefs.lang),
                fields: field_views(&interaction, prefs.lang, false),
                business_fields: field_views(&interaction, prefs.lang, true),
                businesses: business_views(&businesses, prefs.lang),
                action: format!("{INTERACTION_PATH}/{id}/decision"),
            };
            render(&template, StatusCode::OK)
        }
        Ok(NextStep::Login) => {
            let app_link = state.provider.url(&format!(
                "{APP_APPROVE_PATH}/{id}/{}",
                state.provider.app_code(&interaction)
            ));
            let template = LoginTemplate {
                page: page(prefs, s.login_title, &uri),
                s,
                service: service_view(&interaction, prefs.lang),
                id: id.clone(),
                qr_svg: qr_svg(&app_link),
                app_link,
                reauth: session.is_some(),
                next_path: uri.path().to_owned(),
            };
            render(&template, StatusCode::OK)
        }
    }
}

/// `GET /oauth2/interaction/{id}/status`: what the waiting page polls.
async fn interaction_status(
    State(state): State<SignInState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let status = match load(&state, &id, &headers).await {
        Ok(i) => serde_json::json!({ "status": i.status }),
        Err(InteractionError::NotFound) => {
            return (
                StatusCode::NOT_FOUND,
                Json(serde_json::json!({ "status": "not_found" })),
            )
                .into_response()
        }
        Err(InteractionError::WrongBrowser) => {
            return (
                StatusCode::FORBIDDEN,
                Json(serde_json::json!({ "status": "wrong_browser" })),
            )
                .into_response()
        }
        Err(e) => return bauhinia_core::Problem::internal(&format!("{e:?}")).into_response(),
    };
    let mut response = Json(status).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The consent form's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DecisionForm {
    approve: bool,
    fields: BTreeSet<Field>,
    /// Corporate login: the business chosen (the directory's id), at most one.
    business: Option<String>,
}

/// The approve/reject form: `decision`, the released `field`s and, for corporate login, the
/// chosen `business`.
fn parse_decision(body: &[u8]) -> Result<DecisionForm, String> {
    let params = parse_params(body);
    let approve = match params.get("decision").map(Vec::as_slice) {
        Some([d]) if d == "approve" => true,
        Some([d]) if d == "reject" => false,
        _ => return Err("decision must be approve or reject".into()),
    };
    let mut fields = BTreeSet::new();
    for name in params.get("field").into_iter().flatten() {
        fields.insert(Field::parse(name).ok_or_else(|| format!("unknown field {name:?}"))?);
    }
    let business = match params.get("business").map(Vec::as_slice) {
        None | Some([]) => None,
        Some([id]) if id.is_empty() => None,
        Some([id]) => Some(id.clone()),
        Some(_) => return Err("business is given more than once".into()),
    };
    Ok(DecisionForm {
        approve,
        fields,
        business,
    })
}

async fn apply_decision(
    state: &SignInState,
    interaction: &Interaction,
    session: &Session,
    body: &[u8],
) -> Result<bool, Result<InteractionError, String>> {
    let form = parse_decision(body).map_err(Err)?;
    let approve = form.approve;
    if approve {
        state
            .provider
            .approve_as(
                interaction,
                &session.resident_id,
                form.fields,
                form.business.as_deref(),
                auth_context(session),
            )
            .await
            .map_err(Ok)?;
    } else {
        state
            .provider
            .refuse(interaction, Some(&session.resident_id))
            .await
            .map_err(Ok)?;
    }
    Ok(approve)
}

/// `POST /oauth2/interaction/{id}/decision`: the consent screen's answer on this device.
async fn decide(
    State(state): State<SignInState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let interaction = match load(&state, &id, &headers).await {
        Ok(i) => i,
        Err(e) => return interaction_error(prefs, &uri, &e),
    };
    let Some(session) = current_session(&state, &headers).await else {
        return see_other(&format!("{INTERACTION_PATH}/{id}"));
    };
    match apply_decision(&state, &interaction, &session, &body).await {
        Ok(_) => see_other(&format!("{INTERACTION_PATH}/{id}/complete")),
        Err(Ok(e)) => interaction_error(prefs, &uri, &e),
        Err(Err(why)) => {
            let s = SignInTexts::get(prefs.lang);
            message(
                prefs,
                &uri,
                StatusCode::BAD_REQUEST,
                s.request_error_title,
                &why,
            )
        }
    }
}

/// `POST /oauth2/interaction/{id}/cancel`.
async fn cancel(
    State(state): State<SignInState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let interaction = match load(&state, &id, &headers).await {
        Ok(i) => i,
        Err(e) => return interaction_error(prefs, &uri, &e),
    };
    match state.provider.refuse(&interaction, None).await {
        Ok(()) | Err(InteractionError::State(_)) => {
            see_other(&format!("{INTERACTION_PATH}/{id}/complete"))
        }
        Err(e) => interaction_error(prefs, &uri, &e),
    }
}

/// `GET /oauth2/interaction/{id}/complete`: back to the service with a code or an error. After
/// a cross-device approval this browser also gets a session, so the next login is silent.
async fn complete(
    State(state): State<SignInState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let interaction = match load(&state, &id, &headers).await {
        Ok(i) => i,
        Err(e) => return interaction_error(prefs, &uri, &e),
    };
    let needs_session = interaction.status == InteractionStatus::Approved
        && current_session(&state, &headers).await.is_none();
    let resident = interaction.resident_id.clone();
    match state.provider.complete(&interaction).await {
        Ok(location) => {
            let mut response = see_other(&location);
            if let (true, Some(resident)) = (needs_session, resident) {
                let acr = bauhinia_identity::session::ACR_PASSKEY;
                if let Ok((token, _)) = state
                    .sessions
                    .create(&resident, acr, &bauhinia_identity::session::AMR_PASSKEY)
                    .await
                {
                    if let Ok(value) = HeaderValue::from_str(&state.sessions.cookie(&token)) {
                        response.headers_mut().append(header::SET_COOKIE, value);
                    }
                }
            }
            response
        }
        Err(e) => interaction_error(prefs, &uri, &e),
    }
}

#[derive(Template)]
#[template(path = "app_approve.html")]
struct AppApproveTemplate {
    page: Page,
    s: &'static SignInTexts,
    service: ServiceView,
    fields: Vec<FieldView>,
    business_fields: Vec<FieldView>,
    businesses: Vec<BusinessView>,
    action: String,
    signed_in: bool,
    reauth: bool,
    next_path: String,
}

/// `GET /app/approve/{id}/{code}`: the app's view of a request from another device.
async fn app_page(
    State(state): State<SignInState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Path((id, code)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let s = SignInTexts::get(prefs.lang);
    let interaction = match state.provider.interaction_for_app(&id, &code).await {
        Ok(i) => i,
        Err(e) => return interaction_error(prefs, &uri, &e),
    };
    match interaction.status {
        InteractionStatus::Pending => {}
        InteractionStatus::Approved => {
            return message(
                prefs,
                &uri,
                StatusCode::OK,
                s.approved_title,
                s.approved_body,
            )
        }
        InteractionStatus::Rejected => {
            return message(
                prefs,
                &uri,
                StatusCode::OK,
                s.rejected_title,
                s.rejected_body,
            )
        }
        other => return interaction_error(prefs, &uri, &InteractionError::State(other)),
    }
    let session = current_session(&state, &headers).await;
    let reauth = session
        .as_ref()
        .is_some_and(|s| !state.provider.fresh_enough(&interaction, &auth_context(s)));
    let signed_in = session.as_ref().filter(|_| !reauth);
    // Corporate login: once the resident is known, the businesses they may act for (or the
    // end of the request when they represent none).
    let businesses = match signed_in {
        Some(session) => match state
            .provider
            .businesses_for(&interaction, &session.resident_id)
            .await
        {
            Ok(businesses) => businesses,
            Err(e) => return interaction_error(prefs, &uri, &e),
        },
        None => Vec::new(),
    };
    let template = AppApproveTemplate {
        page: page(prefs, s.consent_title, &uri),
        s,
        service: service_view(&interaction, prefs.lang),
        fields: field_views(&interaction, prefs.lang, false),
        business_fields: field_views(&interaction, prefs.lang, true),
        businesses: business_views(&businesses, prefs.lang),
        action: uri.path().to_owned(),
        signed_in: signed_in.is_some(),
        reauth,
        next_path: uri.path().to_owned(),
    };
    render(&template, StatusCode::OK)
}

/// `POST /app/approve/{id}/{code}`: the resident's answer in the app.
async fn app_decide(
    State(state): State<SignInState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Path((id, code)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let s = SignInTexts::get(prefs.lang);
    let interaction = match state.provider.interaction_for_app(&id, &code).await {
        Ok(i) => i,
        Err(e) => return interaction_error(prefs, &uri, &e),
    };
    let Some(session) = current_session(&state, &headers).await else {
        return see_other(uri.path());
    };
    match apply_decision(&state, &interaction, &session, &body).await {
        Ok(true) => message(
            prefs,
            &uri,
            StatusCode::OK,
            s.approved_title,
            s.approved_body,
        ),
        Ok(false) => message(
            prefs,
            &uri,
            StatusCode::OK,
            s.rejected_title,
            s.rejected_body,
        ),
        Err(Ok(e)) => interaction_error(prefs, &uri, &e),
        Err(Err(why)) => message(
            prefs,
            &uri,
            StatusCode::BAD_REQUEST,
            s.request_error_title,
            &why,
        ),
    }
}

/// `GET|POST /oauth2/logout`: RP-initiated logout.
async fn logout(
    State(state): State<SignInState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let mut input = query.unwrap_or_default().into_bytes();
    if !body.is_empty() {
        if !input.is_empty() {
            input.push(b'&');
        }
        input.extend_from_slice(&body);
    }
    let params = parse_params(&input);
    let s = SignInTexts::get(prefs.lang);
    let plan = match state.provider.logout(&params).await {
        Ok(plan) => plan,
        Err(e) => {
            return message(
                prefs,
                &uri,
                StatusCode::BAD_REQUEST,
                s.request_error_title,
                &format!("{}: {}", e.error, e.error_description),
            )
        }
    };
    let session = current_session(&state, &headers).await;
    if let Some(session) = &session {
        if plan
            .session_id
            .as_deref()
            .is_none_or(|sid| sid == session.id)
        {
            if let Some(token) = token_from_headers(&headers) {
                let _ = state.sessions.end(token).await;
            }
            let _ = state
                .provider
                .end_session_grants(&session.id, &session.resident_id)
                .await;
        }
    }
    let mut response = match &plan.redirect {
        Some(location) => see_other(location),
        None => message(
            prefs,
            &uri,
            StatusCode::OK,
            s.signed_out_title,
            s.signed_out_body,
        ),
    };
    if let Ok(value) = HeaderValue::from_str(&state.sessions.clearing_cookie()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `GET /app/consents`: the resident's consent receipts.
async fn consents_page(
    State(state): State<SignInState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let s = SignInTexts::get(prefs.lang);
    let Some(session) = current_session(&state, &headers).await else {
        return see_other("/app");
    };
    let receipts = match state.provider.consents(&session.resident_id).await {
        Ok(r) => r,
        Err(e) => return bauhinia_core::Problem::internal(&e).into_response(),
    };
    let date = |t: i64| {
        time::OffsetDateTime::from_unix_timestamp(t)
            .map(|d| d.date().to_string())
            .unwrap_or_default()
    };
    let mut consents = Vec::new();
    for r in receipts {
        let service = match state.provider.clients.get(&r.client_id).await {
            Ok(Some(c)) => c.registration.name.pick(prefs.lang).to_owned(),
            _ => r.client_id.clone(),
        };
        let fields: BTreeSet<Field> = serde_json::from_str(&r.fields).unwrap_or_default();
        let purpose: Option<bauhinia_identity::oidc::clients::Text3> =
            serde_json::from_str(&r.purpose).ok();
        consents.push(ConsentView {
            id: r.id.clone(),
            service,
            fields: fields.iter().map(|f| f.label(prefs.lang)).collect(),
            purpose: purpose
                .map(|p| p.pick(prefs.lang).to_owned())
                .unwrap_or_default(),
            granted: date(r.granted_at),
            revoked: r.revoked_at.map(date),
            business: r.corp_brn.as_ref().map(|brn| {
                let role = r
                    .corp_role
                    .as_deref()
                    .map(|role| s.role(role))
                    .unwrap_or_default();
                format!("{} {brn} · {role}", s.brn)
            }),
        });
    }
    render(
        &ConsentsTemplate {
            page: page(prefs, s.consents_title, &uri),
            s,
            consents,
        },
        StatusCode::OK,
    )
}

/// `POST /app/consents/{id}/revoke`.
async fn revoke_consent(
    State(state): State<SignInState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(session) = current_session(&state, &headers).await else {
        return see_other("/app");
    };
    if !state
        .sessions
        .accepts_origin(headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()))
    {
        let s = SignInTexts::get(prefs.lang);
        return message(
            prefs,
            &uri,
            StatusCode::FORBIDDEN,
            s.request_error_title,
            "cross-origin request refused",
        );
    }
    match state
        .provider
        .revoke_consent(&session.resident_id, &id)
        .await
    {
        Ok(_) => see_other("/app/consents"),
        Err(e) => bauhinia_core::Problem::internal(&e).into_response(),
    }
}

async fn script() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
        ],
        include_str!("../static/signin.js"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bauhinia_core::crypto::{MasterKey, Vault};
    use bauhinia_identity::corporate::{CorporateDirectory, DirectoryFuture};
    use bauhinia_identity::oidc::clients::{Profile, Registration, Text3};
    use bauhinia_identity::oidc::fields::Scope;
    use bauhinia_identity::IdentityService;
    use bauhinia_store::testing::TestDb;
    use proptest::prelude::*;
    use tower::ServiceExt as _;

    /// The businesses of every resident: the page only needs a fixed answer.
    #[derive(Debug)]
    struct Fixed(Vec<Representation>);

    impl CorporateDirectory for Fixed {
        fn representations<'a>(
            &'a self,
            _resident_id: &'a str,
            _at: i64,
        ) -> DirectoryFuture<'a, Vec<Representation>> {
            Box::pin(async move { Ok(self.0.clone()) })
        }

        fn representation<'a>(
            &'a self,
            _resident_id: &'a str,
            business_id: &'a str,
            _at: i64,
        ) -> DirectoryFuture<'a, Option<Representation>> {
            Box::pin(async move {
                Ok(self
                    .0
                    .iter()
                    .find(|r| r.business_id == business_id)
                    .cloned())
            })
        }

        /// The consent page shows which data would be released, never the data itself.
        fn particulars<'a>(
            &'a self,
            _brn: &'a str,
        ) -> DirectoryFuture<'a, Option<bauhinia_identity::corporate::Particulars>> {
            Box::pin(async move { Ok(None) })
        }

        fn shared_licences<'a>(
            &'a self,
            _brn: &'a str,
        ) -> DirectoryFuture<'a, Vec<bauhinia_identity::corporate::SharedLicence>> {
            Box::pin(async move { Ok(Vec::new()) })
        }
    }

    fn business(id: &str, brn: &str, agent: Option<&str>) -> Representation {
        Representation {
            business_id: id.into(),
            brn: brn.into(),
            name_en: format!("Business {brn}"),
            name_zh: format!("企業{brn}"),
            role: "authorised_signatory".into(),
            via_agent_brn: agent.map(str::to_owned),
            valid_until: agent.map(|_| 4_102_444_800),
        }
    }

    fn text(s: &str) -> Text3 {
        Text3 {
            zh_hant: s.into(),
            zh_hans: s.into(),
            en: s.into(),
        }
    }

    async fn send(
        router: &Router,
        request: axum::http::Request<axum::body::Body>,
    ) -> (StatusCode, String) {
        let response = router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let body = http_body_util::BodyExt::collect(response.into_body())
            .await
            .unwrap()
            .to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// Cross-device corporate login: the app's approval page shows the businesses as a
    /// required choice, refuses one not offered, and approves the one chosen.
    #[tokio::test]
    async fn the_app_approval_page_carries_the_choice_of_business() {
        let test = TestDb::sqlite().await.unwrap();
        let db = &test.db;
        let vault = Arc::new(Vault::new(&MasterKey::generate()));
        let identity = Arc::new(IdentityService::new(db, vault.clone()));
        let today = time::Date::from_calendar_date(2026, time::Month::November, 23).unwrap();
        let resident = identity
            .register(&bauhinia_identity::demo::residents()[0], "test", today)
            .await
            .unwrap();
        let provider = Arc::new(
            Provider::new(db, vault, identity, "https://id.example.test")
                .await
                .unwrap(),
        );
        let directory = Fixed(vec![
            business("biz-a", "12345678", None),
            business("biz-b", "23456789", Some("87654321")),
        ]);
        provider
            .set_corporate_directory(Arc::new(directory))
            .unwrap();
        let registration = Registration {
            name: text("Corporate service"),
            profile: Profile::Basic,
            redirect_uris: vec!["https://service.example.test/cb".into()],
            post_logout_redirect_uris: vec![],
            jwks: None,
            jwks_uri: None,
            scopes: vec![Scope::Openid, Scope::Corpid],
            fields: vec![],
            purpose: text("Testing"),
            id_token_signed_response_alg: None,
        };
        let (client, _) = provider
            .clients
            .register(registration, "admin")
            .await
            .unwrap();
        let started = provider
            .authorize(&parse_params(
                format!(
                    "client_id={}&response_type=code&redirect_uri=https%3A%2F%2Fservice.example.test%2Fcb\
                     &scope=openid+corpid&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\
                     &code_challenge_method=S256",
                    client.client_id
                )
                .as_bytes(),
            ))
            .await
            .unwrap();
        let interaction = provider
            .interaction(&started.interaction_id, None)
            .await
            .unwrap();
        let path = format!(
            "{APP_APPROVE_PATH}/{}/{}",
            interaction.id,
            provider.app_code(&interaction)
        );
        let sessions = SessionService::new(db);
        let (token, _) = sessions
            .create(
                &resident.id,
                bauhinia_identity::session::ACR_PASSKEY,
                &bauhinia_identity::session::AMR_PASSKEY,
            )
            .await
            .unwrap();
        let cookie = format!("{}={token}", bauhinia_identity::SESSION_COOKIE);
        let router = router(SignInState {
            provider: provider.clone(),
            sessions,
        });
        let request = |method: &str, body: &str| {
            axum::http::Request::builder()
                .method(method)
                .uri(&path)
                .header(header::COOKIE, &cookie)
                .header(header::ACCEPT_LANGUAGE, "en")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(axum::body::Body::from(body.to_owned()))
                .unwrap()
        };

        let (status, page) = send(&router, request("GET", "")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains(EN.business_choose), "{page}");
        for id in ["biz-a", "biz-b"] {
            assert!(
                page.contains(&format!(r#"name="business" value="{id}" required>"#)),
                "{id} offered, not preselected: {page}"
            );
        }
        assert!(page.contains("12345678") && page.contains("23456789"));
        assert!(page.contains("via agent 87654321") && page.contains("until 2100-01-01"));
        assert!(page.contains(EN.role_authorised_signatory));

        let pending = || async {
            provider
                .interaction(&interaction.id, None)
                .await
                .unwrap()
                .status
        };
        let (status, _) = send(
            &router,
            request("POST", "decision=approve&business=biz-forged"),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(pending().await, InteractionStatus::Pending);
        let (status, _) = send(&router, request("POST", "decision=approve")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "a choice is required");
        assert_eq!(pending().await, InteractionStatus::Pending);
        let (status, page) =
            send(&router, request("POST", "decision=approve&business=biz-b")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(pending().await, InteractionStatus::Approved);
        test.cleanup().await.unwrap();
    }

    proptest! {
        /// Whatever the form holds, it is read into a decision or refused with a reason.
        #[test]
        fn decision_forms_never_panic(body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_decision(&body);
        }

        #[test]
        fn a_business_is_read_back_exactly(id in "[A-Za-z0-9-]{1,64}") {
            let body = format!("decision=approve&business={id}");
            let form = parse_decision(body.as_bytes());
            prop_assert_eq!(form.map(|f| f.business), Ok(Some(id.clone())));
            let twice = format!("{body}&business={id}");
            prop_assert!(parse_decision(twice.as_bytes()).is_err());
        }
    }
}
