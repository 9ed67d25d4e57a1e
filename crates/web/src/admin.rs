//! The administrator's portal pages for 智方便 services (relying parties): sign in with the
//! administrator token, list the services, register one (the same validation as the API, every
//! failure named next to its field), disable one. Every change is audited by the provider.
//!
//! The token is kept in an HttpOnly, SameSite=Strict cookie scoped to `/admin`, so no other
//! page or site's request carries it.

use std::sync::Arc;

use askama::Template;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use bauhinia_core::admin::AdminToken;
use bauhinia_core::Lang;
use bauhinia_identity::jose::{Alg, JwkSet};
use bauhinia_identity::oidc::clients::{ClientError, Profile, Registration, Text3};
use bauhinia_identity::oidc::fields::{Field, Scope};
use bauhinia_identity::oidc::request::parse_params;
use bauhinia_identity::oidc::Provider;

use crate::page::{Page, Section};
use crate::prefs::Prefs;
use crate::render;
use crate::respond::see_other;

const ADMIN_COOKIE: &str = "bauhinia_admin";

#[derive(Debug, Clone)]
pub struct AdminPortalState {
    pub provider: Arc<Provider>,
    pub token: Arc<AdminToken>,
    /// Whether cookies must be `Secure` (the public URL is https).
    pub secure: bool,
}

pub fn router(state: AdminPortalState) -> Router {
    Router::new()
        .route("/admin", get(services_page))
        .route("/admin/login", post(login))
        .route("/admin/logout", post(logout))
        .route("/admin/services", post(register))
        .route("/admin/services/{id}/disable", post(disable))
        .with_state(state)
}

#[derive(Debug)]
pub struct AdminTexts {
    pub title: &'static str,
    pub token_label: &'static str,
    pub token_hint: &'static str,
    pub sign_in: &'static str,
    pub sign_out: &'static str,
    pub wrong_token: &'static str,
    pub services: &'static str,
    pub none: &'static str,
    pub register: &'static str,
    pub name: &'static str,
    pub profile: &'static str,
    pub redirect_uris: &'static str,
    pub post_logout_uris: &'static str,
    pub one_per_line: &'static str,
    pub jwks: &'static str,
    pub jwks_uri: &'static str,
    pub scopes: &'static str,
    pub fields: &'static str,
    pub purpose: &'static str,
    pub id_token_alg: &'static str,
    pub registered: &'static str,
    pub secret_once: &'static str,
    pub disable: &'static str,
    pub disabled: &'static str,
    pub active: &'static str,
    pub fix_errors: &'static str,
}

const ZH_HANT: AdminTexts = AdminTexts {
    title: "智方便服務管理",
    token_label: "管理員權杖",
    token_hint: "在伺服器的資料目錄 admin.token 檔案，或 BAUHINIA_ADMIN_TOKEN。",
    sign_in: "登入",
    sign_out: "登出",
    wrong_token: "權杖不正確。",
    services: "已登記服務",
    none: "尚未登記任何服務。",
    register: "登記新服務",
    name: "服務名稱",
    profile: "保安規格",
    redirect_uris: "重新導向網址",
    post_logout_uris: "登出後重新導向網址",
    one_per_line: "每行一個。",
    jwks: "公開金鑰（JWKS，JSON）",
    jwks_uri: "或 JWKS 網址",
    scopes: "範圍",
    fields: "可要求的個人資料",
    purpose: "用途（向市民顯示）",
    id_token_alg: "ID 權杖簽署演算法",
    registered: "服務已登記",
    secret_once: "客戶端密鑰只顯示這一次，請即妥善保存：",
    disable: "停用",
    disabled: "已停用",
    active: "使用中",
    fix_errors: "請更正以下項目：",
};

const ZH_HANS: AdminTexts = AdminTexts {
    title: "智方便服务管理",
    token_label: "管理员令牌",
    token_hint: "在服务器的数据目录 admin.token 文件，或 BAUHINIA_ADMIN_TOKEN。",
    sign_in: "登入",
    sign_out: "登出",
    wrong_token: "令牌不正确。",
    services: "已登记服务",
    none: "尚未登记任何服务。",
    register: "登记新服务",
    name: "服务名称",
    profile: "安全规格",
    redirect_uris: "重新导向网址",
    post_logout_uris: "登出后重新导向网址",
    one_per_line: "每行一个。",
    jwks: "公开密钥（JWKS，JSON）",
    jwks_uri: "或 JWKS 网址",
    scopes: "范围",
    fields: "可要求的个人资料",
    purpose: "用途（向市民显示）",
    id_token_alg: "ID 令牌签署算法",
    registered: "服务已登记",
    secret_once: "客户端密钥只显示这一次，请即妥善保存：",
    disable: "停用",
    disabled: "已停用",
    active: "使用中",
    fix_errors: "请更正以下项目：",
};

const EN: AdminTexts = AdminTexts {
    title: "iAM Smart services",
    token_label: "Administrator token",
    token_hint: "In the server's data directory (admin.token), or BAUHINIA_ADMIN_TOKEN.",
    sign_in: "Sign in",
    sign_out: "Sign out",
    wrong_token: "The token is not right.",
    services: "Registered services",
    none: "No service is registered yet.",
    register: "Register a service",
    name: "Service name",
    profile: "Security profile",
    redirect_uris: "Redirect URIs",
    post_logout_uris: "Post-logout redirect URIs",
    one_per_line: "One per line.",
    jwks: "Public keys (JWKS, JSON)",
    jwks_uri: "or JWKS URI",
    scopes: "Scopes",
    fields: "Personal data it may ask for",
    purpose: "Purpose (shown to residents)",
    id_token_alg: "ID token signing algorithm",
    registered: "Service registered",
    secret_once: "The client secret is shown only this once; store it safely now:",
    disable: "Disable",
    disabled: "Disabled",
    active: "Active",
    fix_errors: "Please correct:",
};

impl AdminTexts {
    pub fn get(lang: Lang) -> &'static AdminTexts {
        match lang {
            Lang::ZhHant => &ZH_HANT,
            Lang::ZhHans => &ZH_HANS,
            Lang::En => &EN,
        }
    }
}

#[derive(Debug)]
struct ServiceRow {
    client_id: String,
    name: String,
    profile: &'static str,
    redirect_uris: String,
    active: bool,
}

#[derive(Debug)]
struct Choice {
    value: &'static str,
    label: &'static str,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminTemplate {
    page: Page,
    a: &'static AdminTexts,
    signed_in: bool,
    wrong_token: bool,
    services: Vec<ServiceRow>,
    scopes: Vec<Choice>,
    fields: Vec<Choice>,
    errors: Vec<String>,
    registered: Option<(String, Option<String>)>,
}

fn signed_in(state: &AdminPortalState, headers: &HeaderMap) -> bool {
    crate::respond::cookie(headers, ADMIN_COOKIE).is_some_and(|t| state.token.verify(t))
}

async fn page_for(
    state: &AdminPortalState,
    prefs: Prefs,
    uri: &axum::http::Uri,
    signed_in: bool,
    wrong_token: bool,
    errors: Vec<String>,
    registered: Option<(String, Option<String>)>,
) -> Response {
    let a = AdminTexts::get(prefs.lang);
    let services = if signed_in {
        match state.provider.clients.list().await {
            Ok(list) => list
                .into_iter()
                .map(|c| ServiceRow {
                    name: c.registration.name.pick(prefs.lang).to_owned(),
                    profile: c.registration.profile.as_str(),
                    redirect_uris: c.registration.redirect_uris.join(" "),
                    active: c.active,
                    client_id: c.client_id,
                })
                .collect(),
            Err(e) => return bauhinia_core::Problem::internal(&e).into_response(),
        }
    } else {
        Vec::new()
    };
    let template = AdminTemplate {
        page: Page::new(prefs, a.title, Section::Other, uri.path()),
        a,
        signed_in,
        wrong_token,
        services,
        scopes: Scope::ALL
            .iter()
            .map(|s| Choice {
                value: s.as_str(),
                label: s.as_str(),
            })
            .collect(),
        fields: Field::ALL
            .iter()
            .map(|f| Choice {
                value: f.as_str(),
                label: f.label(prefs.lang),
            })
            .collect(),
        errors,
        registered,
    };
    let status = if wrong_token {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    let mut response = render(&template, status);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn services_page(
    State(state): State<AdminPortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let signed_in = signed_in(&state, &headers);
    page_for(&state, prefs, &uri, signed_in, false, Vec::new(), None).await
}

async fn login(
    State(state): State<AdminPortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    body: axum::body::Bytes,
) -> Response {
    let params = parse_params(&body);
    let token = params
        .get("token")
        .and_then(|v| v.first())
        .map(|t| t.trim().to_owned())
        .unwrap_or_default();
    if !state.token.verify(&token) {
        tracing::warn!("administrator sign-in refused");
        return page_for(&state, prefs, &uri, false, true, Vec::new(), None).await;
    }
    let mut response = see_other("/admin");
    let cookie = format!(
        "{ADMIN_COOKIE}={token}; Path=/admin; Max-Age=3600; HttpOnly; SameSite=Strict{}",
        if state.secure { "; Secure" } else { "" }
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

async fn logout() -> Response {
    let mut response = see_other("/admin");
    response.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "bauhinia_admin=; Path=/admin; Max-Age=0; HttpOnly; SameSite=Strict",
        ),
    );
    response
}

fn lines(text: Option<&String>) -> Vec<String> {
    text.map(|t| {
        t.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    })
    .unwrap_or_default()
}

/// The registration form, as a [`Registration`]; malformed JSON keys are a named error.
fn registration_from_form(body: &[u8]) -> Result<Registration, Vec<String>> {
    let params = parse_params(body);
    let one = |name: &str| {
        params
            .get(name)
            .and_then(|v| v.first())
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    };
    let text3 = |prefix: &str| Text3 {
        zh_hant: one(&format!("{prefix}_zh_hant")),
        zh_hans: one(&format!("{prefix}_zh_hans")),
        en: one(&format!("{prefix}_en")),
    };
    let mut errors = Vec::new();
    let profile = match one("profile").as_str() {
        "fapi2" => Profile::Fapi2,
        "basic" => Profile::Basic,
        _ => {
            errors.push("/profile: basic or fapi2".to_owned());
            Profile::Basic
        }
    };
    let jwks_text = one("jwks");
    let jwks = if jwks_text.is_empty() {
        None
    } else {
        match serde_json::from_str::<JwkSet>(&jwks_text) {
            Ok(set) => Some(set),
            Err(e) => {
                errors.push(format!("/jwks: not a JWK Set: {e}"));
                None
            }
        }
    };
    let jwks_uri = Some(one("jwks_uri")).filter(|u| !u.is_empty());
    let mut scopes = Vec::new();
    for s in params.get("scope").into_iter().flatten() {
        match Scope::parse(s) {
            Some(scope) => scopes.push(scope),
            None => errors.push(format!("/scopes: unknown scope {s:?}")),
        }
    }
    let mut fields = Vec::new();
    for f in params.get("field").into_iter().flatten() {
        match Field::parse(f) {
            Some(field) => fields.push(field),
            None => errors.push(format!("/fields: unknown field {f:?}")),
        }
    }
    let id_token_signed_response_alg = match one("id_token_alg").as_str() {
        "" | "ES256" => None,
        "RS256" => Some(Alg::RS256),
        other => {
            errors.push(format!(
                "/id_token_signed_response_alg: {other:?} is not ES256 or RS256"
            ));
            None
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Registration {
        name: text3("name"),
        profile,
        redirect_uris: lines(params.get("redirect_uris").and_then(|v| v.first())),
        post_logout_redirect_uris: lines(
            params
                .get("post_logout_redirect_uris")
                .and_then(|v| v.first()),
        ),
        jwks,
        jwks_uri,
        scopes,
        fields,
        purpose: text3("purpose"),
        id_token_signed_response_alg,
    })
}

async fn register(
    State(state): State<AdminPortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !signed_in(&state, &headers) {
        return page_for(&state, prefs, &uri, false, true, Vec::new(), None).await;
    }
    let registration = match registration_from_form(&body) {
        Ok(r) => r,
        Err(errors) => return page_for(&state, prefs, &uri, true, false, errors, None).await,
    };
    match state
        .provider
        .clients
        .register(registration, "admin:portal")
        .await
    {
        Ok((client, secret)) => {
            page_for(
                &state,
                prefs,
                &uri,
                true,
                false,
                Vec::new(),
                Some((client.client_id, secret)),
            )
            .await
        }
        Err(ClientError::Invalid(errors)) => {
            let errors = errors
                .iter()
                .map(|e| format!("{}: {}", e.field(), e.detail))
                .collect();
            page_for(&state, prefs, &uri, true, false, errors, None).await
        }
        Err(e) => bauhinia_core::Problem::from(e).into_response(),
    }
}

async fn disable(
    State(state): State<AdminPortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !signed_in(&state, &headers) {
        return page_for(&state, prefs, &uri, false, true, Vec::new(), None).await;
    }
    match state.provider.clients.disable(&id, "admin:portal").await {
        Ok(()) | Err(ClientError::NotFound(_)) => see_other("/admin"),
        Err(e) => bauhinia_core::Problem::from(e).into_response(),
    }
}
