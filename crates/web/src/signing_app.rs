//! Signing in the 智方便 app: the resident sees which service asks them to sign which document
//! (its name and SHA-256), and approves or rejects. On the first approval the resident's
//! signing key and certificate are made (audited), then the signature.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use bauhinia_core::{Lang, Problem};
use bauhinia_identity::session::token_from_headers;
use bauhinia_identity::signing::SigningRequest;
use bauhinia_identity::Session;

use crate::page::{Page, Section};
use crate::prefs::Prefs;
use crate::respond::no_store;
use crate::{render, PortalState};

/// A signing request waiting for the resident, as the app lists it.
#[derive(Debug)]
pub struct PendingView {
    pub id: String,
    pub service: String,
    pub document_name: String,
}

#[derive(Debug)]
pub struct SignTexts {
    pub title: &'static str,
    pub intro: &'static str,
    pub document: &'static str,
    pub hash: &'static str,
    pub anonymous: &'static str,
    pub certificate_note: &'static str,
    pub approve: &'static str,
    pub reject: &'static str,
    pub signed: &'static str,
    pub rejected: &'static str,
    pub gone: &'static str,
}

const ZH_HANT: SignTexts = SignTexts {
    title: "數碼簽署",
    intro: "以下服務要求你以數碼簽署確認文件：",
    document: "文件",
    hash: "文件指紋（SHA-256）",
    anonymous: "此要求只限持有相關身份證號碼的人士簽署。",
    certificate_note: "首次簽署時，智方便會為你簽發簽署證書。",
    approve: "簽署",
    reject: "拒絕",
    signed: "已簽署，服務會收到你的數碼簽署。",
    rejected: "你已拒絕簽署。",
    gone: "此簽署要求已不存在、已處理或已逾時。",
};

const ZH_HANS: SignTexts = SignTexts {
    title: "数码签署",
    intro: "以下服务要求你以数码签署确认文件：",
    document: "文件",
    hash: "文件指纹（SHA-256）",
    anonymous: "此要求只限持有相关身份证号码的人士签署。",
    certificate_note: "首次签署时，智方便会为你签发签署证书。",
    approve: "签署",
    reject: "拒绝",
    signed: "已签署，服务会收到你的数码签署。",
    rejected: "你已拒绝签署。",
    gone: "此签署要求已不存在、已处理或已逾时。",
};

const EN: SignTexts = SignTexts {
    title: "Digital signing",
    intro: "This service asks you to sign a document:",
    document: "Document",
    hash: "Document fingerprint (SHA-256)",
    anonymous: "Only the holder of a particular HKID can sign this request.",
    certificate_note: "On your first signature, iAM Smart issues your signing certificate.",
    approve: "Sign",
    reject: "Reject",
    signed: "Signed: the service receives your digital signature.",
    rejected: "You rejected the request.",
    gone: "This signing request does not exist, has been dealt with, or has timed out.",
};

impl SignTexts {
    pub fn get(lang: Lang) -> &'static SignTexts {
        match lang {
            Lang::ZhHant => &ZH_HANT,
            Lang::ZhHans => &ZH_HANS,
            Lang::En => &EN,
        }
    }
}

#[derive(Template)]
#[template(path = "app_sign.html")]
struct SignTemplate {
    page: Page,
    s: &'static SignTexts,
    service: String,
    document_name: String,
    hash: String,
    anonymous: bool,
    enrolled: bool,
    action: String,
}

pub(crate) async fn service_name(state: &PortalState, client_id: &str, lang: Lang) -> String {
    match state.provider.clients.get(client_id).await {
        Ok(Some(client)) => client.registration.name.pick(lang).to_owned(),
        _ => client_id.to_owned(),
    }
}

/// The signing requests waiting for a resident (empty if they cannot be read: the app page
/// still shows).
pub async fn pending(state: &PortalState, resident_id: &str, prefs: Prefs) -> Vec<PendingView> {
    let requests = match state.signing.pending_for(resident_id).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "could not list pending signing requests");
            return Vec::new();
        }
    };
    let mut views = Vec::new();
    for r in requests {
        views.push(PendingView {
            service: service_name(state, &r.client_id, prefs.lang).await,
            document_name: r.document_name.as_str().to_owned(),
            id: r.id,
        });
    }
    views
}

async fn session(state: &PortalState, headers: &HeaderMap) -> Option<Session> {
    let token = token_from_headers(headers)?;
    state.passkeys.sessions().find(token).await.ok().flatten()
}

async fn request_for(state: &PortalState, session: &Session, id: &str) -> Option<SigningRequest> {
    state
        .signing
        .pending_for(&session.resident_id)
        .await
        .ok()?
        .into_iter()
        .find(|r| r.id == id)
}

fn message(
    prefs: Prefs,
    uri: &axum::http::Uri,
    status: StatusCode,
    title: &str,
    body: &str,
) -> Response {
    crate::respond::message(
        Page::new(prefs, title, Section::App, uri.path()),
        status,
        title,
        body,
    )
}

/// `GET /app/sign/{id}`.
pub async fn sign_page(
    State(state): State<PortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let s = SignTexts::get(prefs.lang);
    let Some(session) = session(&state, &headers).await else {
        return Redirect::to("/app").into_response();
    };
    let Some(request) = request_for(&state, &session, &id).await else {
        return message(prefs, &uri, StatusCode::NOT_FOUND, s.title, s.gone);
    };
    let enrolled = matches!(
        state.signing.certificate_for(&session.resident_id).await,
        Ok(Some(_))
    );
    let template = SignTemplate {
        page: Page::new(prefs, s.title, Section::App, uri.path()),
        s,
        service: service_name(&state, &request.client_id, prefs.lang).await,
        document_name: request.document_name.as_str().to_owned(),
        hash: request.document_hash.to_hex(),
        anonymous: request.anonymous,
        enrolled,
        action: uri.path().to_owned(),
    };
    no_store(render(&template, StatusCode::OK))
}

/// `POST /app/sign/{id}`: `decision=approve|reject`.
pub async fn sign_decide(
    State(state): State<PortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let s = SignTexts::get(prefs.lang);
    let Some(session) = session(&state, &headers).await else {
        return Redirect::to("/app").into_response();
    };
    if !state
        .passkeys
        .sessions()
        .accepts_origin(headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()))
    {
        return Problem::new(bauhinia_core::ErrorCode::IdentityCrossOrigin).into_response();
    }
    let approve = form_urlencoded::parse(&body).any(|(k, v)| k == "decision" && v == "approve");
    let resident = &session.resident_id;
    let result = if approve {
        if matches!(state.signing.certificate_for(resident).await, Ok(None)) {
            if let Err(e) = state
                .signing
                .enrol(resident, &format!("resident:{resident}"))
                .await
            {
                return Problem::from(e).into_response();
            }
        }
        state.signing.approve(&id, resident).await
    } else {
        state.signing.reject(&id, resident).await
    };
    match result {
        Ok(_) if approve => message(prefs, &uri, StatusCode::OK, s.title, s.signed),
        Ok(_) => message(prefs, &uri, StatusCode::OK, s.title, s.rejected),
        Err(e) => {
            let problem = Problem::from(e);
            if problem.status() >= 500 {
                return problem.into_response();
            }
            message(prefs, &uri, StatusCode::CONFLICT, s.title, s.gone)
        }
    }
}
