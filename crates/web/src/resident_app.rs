//! The 智方便 app, as a mobile-friendly section of the portal (`/app`): it holds the resident's
//! passkey session. Signed out, it offers passkey sign-in and enrolment; signed in, it greets
//! the resident, lists their passkeys (remove, add) and signs out. The WebAuthn calls need the
//! browser's JavaScript API, so `static/app.js` drives them against the JSON API; everything
//! else (sign-out, removal, demo enrolment codes) is a plain form that works without it.
//!
//! Signing requests waiting for the resident are listed in the `requests` section of the
//! signed-in page (cross-device logins arrive by QR code or link: see `signin.rs`).

use askama::Template;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use bauhinia_core::extract::parse_json;
use bauhinia_core::{ErrorCode, Problem};
use bauhinia_identity::domain::Hkid;
use bauhinia_identity::session::token_from_headers;
use bauhinia_identity::{IdentityError, Resident, Session};
use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, UtcOffset};

use crate::page::{Page, Section};
use crate::prefs::Prefs;
use crate::texts::Texts;
use crate::{path_and_query, render, PortalState};

/// Hong Kong time, for the times the pages show.
const HONG_KONG: UtcOffset = time::macros::offset!(+8);
/// Pairs read from a form body at most.
const FORM_PAIRS_MAX: usize = 16;

fn shown_time(t: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    t.to_offset(HONG_KONG).format(format).unwrap_or_default()
}

#[derive(Debug)]
struct PasskeyView {
    id: String,
    name: String,
    created: String,
    last_used: Option<String>,
}

#[derive(Debug)]
struct SignedInView {
    name: String,
    hkid_masked: String,
    until: String,
    passkeys: Vec<PasskeyView>,
    only_one: bool,
    /// Signing requests waiting for this resident.
    requests: Vec<crate::signing_app::PendingView>,
    /// Company signing requests waiting for this resident as a business's signatory.
    company_requests: Vec<crate::company_signing_app::CompanyPendingView>,
}

#[derive(Template)]
#[template(path = "app.html")]
struct AppTemplate {
    page: Page,
    notice: Option<&'static str>,
    signed_in: Option<SignedInView>,
}

fn notice(t: &'static Texts, query: Option<&str>) -> Option<&'static str> {
    let key = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == "notice")
        .map(|(_, v)| v.into_owned())?;
    Some(match key.as_str() {
        "added" => t.app_notice_added,
        "removed" => t.app_notice_removed,
        "signed_out" => t.app_notice_signed_out,
        "last_passkey" => t.app_notice_last_passkey,
        "expired" => t.app_notice_expired,
        _ => return None,
    })
}

fn resident_name(resident: &Resident, prefs: Prefs) -> String {
    match (&resident.chinese_name, prefs.lang) {
        (Some(chinese), bauhinia_core::Lang::ZhHant | bauhinia_core::Lang::ZhHans) => {
            chinese.clone()
        }
        _ => resident.english_name.clone(),
    }
}

/// The live session of this request, if any.
pub(crate) async fn session(
    state: &PortalState,
    headers: &HeaderMap,
) -> Result<Option<Session>, Problem> {
    let Some(token) = token_from_headers(headers) else {
        return Ok(None);
    };
    state
        .passkeys
        .sessions()
        .find(token)
        .await
        .map_err(Problem::from)
}

/// `GET /app`: the app's home, signed in or not.
pub async fn home(
    State(state): State<PortalState>,
    prefs: Prefs,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let t = Texts::get(prefs.lang);
    let page = Page::new(prefs, t.app_title, Section::App, path_and_query(&uri));
    let mut notice = notice(t, uri.query());
    let session = match session(&state, &headers).await {
        Ok(session) => session,
        Err(problem) => return problem.into_response(),
    };
    let stale_cookie = session.is_none() && token_from_headers(&headers).is_some();
    if stale_cookie && notice.is_none() {
        notice = Some(t.app_notice_expired);
    }
    let signed_in = match session {
        Some(session) => match signed_in_view(&state, &session, prefs).await {
            Ok(view) => Some(view),
            Err(e) => return Problem::from(e).into_response(),
        },
        None => None,
    };
    let mut response = render(
        &AppTemplate {
            page,
            notice,
            signed_in,
        },
        StatusCode::OK,
    );
    if stale_cookie {
        forget_session(&state, &mut response);
    }
    no_store(&mut response);
    response
}

async fn signed_in_view(
    state: &PortalState,
    session: &Session,
    prefs: Prefs,
) -> Result<SignedInView, IdentityError> {
    let resident = state.passkeys.resident(&session.resident_id).await?;
    let passkeys: Vec<PasskeyView> = state
        .passkeys
        .passkeys(&session.resident_id)
        .await?
        .into_iter()
        .map(|p| PasskeyView {
            id: p.id,
            name: p.name,
            created: shown_time(p.created_at),
            last_used: p.last_used_at.map(shown_time),
        })
        .collect();
    let requests = crate::signing_app::pending(state, &session.resident_id, prefs).await;
    let company_requests =
        crate::company_signing_app::pending(state, &session.resident_id, prefs.lang).await;
    Ok(SignedInView {
        requests,
        company_requests,
        name: resident_name(&resident, prefs),
        hkid_masked: resident.hkid_masked,
        until: shown_time(session.expires_at),
        only_one: passkeys.len() <= 1,
        passkeys,
    })
}

/// Pages about a person's session must not be kept by caches or the back button's cache.
fn no_store(response: &mut Response) {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

fn forget_session(state: &PortalState, response: &mut Response) {
    if let Ok(clear) = HeaderValue::from_str(&state.passkeys.sessions().clearing_cookie()) {
        response.headers_mut().append(header::SET_COOKIE, clear);
    }
}

/// Form posts are accepted from this site's own pages only.
pub(crate) fn same_origin(state: &PortalState, headers: &HeaderMap) -> Result<(), Problem> {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if state.passkeys.sessions().accepts_origin(origin) {
        Ok(())
    } else {
        Err(Problem::new(ErrorCode::IdentityCrossOrigin))
    }
}

fn form_value(body: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(body)
        .take(FORM_PAIRS_MAX)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn see_other(location: &'static str) -> Response {
    Redirect::to(location).into_response()
}

/// `POST /app/logout`: ends the session, forgets the cookie, back to the app.
pub async fn logout(State(state): State<PortalState>, headers: HeaderMap) -> Response {
    if let Err(refused) = same_origin(&state, &headers) {
        return refused.into_response();
    }
    if let Some(token) = token_from_headers(&headers) {
        if let Err(e) = state.passkeys.sessions().end(token).await {
            return Problem::from(e).into_response();
        }
    }
    let mut response = see_other("/app?notice=signed_out");
    forget_session(&state, &mut response);
    response
}

/// `POST /app/passkeys/remove` (form field `passkey_id`): removes one of the signed-in
/// resident's passkeys, never the last.
pub async fn remove(State(state): State<PortalState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(refused) = same_origin(&state, &headers) {
        return refused.into_response();
    }
    let session = match session(&state, &headers).await {
        Ok(Some(session)) => session,
        Ok(None) => return see_other("/app?notice=expired"),
        Err(problem) => return problem.into_response(),
    };
    let passkey_id = form_value(&body, "passkey_id").unwrap_or_default();
    match state.passkeys.remove(&session, &passkey_id).await {
        Ok(()) => see_other("/app?notice=removed"),
        Err(IdentityError::LastPasskey) => see_other("/app?notice=last_passkey"),
        Err(IdentityError::PasskeyNotFound(_)) => see_other("/app"),
        Err(e) => Problem::from(e).into_response(),
    }
}

#[derive(Debug)]
struct DemoResident {
    id: String,
    name: String,
    hkid_masked: String,
}

#[derive(Debug)]
struct IssuedView {
    name: String,
    hkid_masked: String,
    code: String,
    until: String,
}

#[derive(Template)]
#[template(path = "app_enrol.html")]
struct EnrolTemplate {
    page: Page,
    hkid: String,
    code: String,
    issued: Option<IssuedView>,
    demo_residents: Vec<DemoResident>,
}

/// The demo residents, as registered (empty outside demo mode).
async fn demo_residents(state: &PortalState) -> Result<Vec<(Hkid, Resident)>, IdentityError> {
    let mut found = Vec::new();
    if !state.demo {
        return Ok(found);
    }
    for draft in bauhinia_identity::demo::residents() {
        let Ok(hkid) = Hkid::parse(&draft.hkid) else {
            continue;
        };
        if let Some(resident) = state.identity.find_by_hkid(&hkid).await? {
            found.push((hkid, resident));
        }
    }
    Ok(found)
}

/// The enrolment page. Its address for the language links is always `/app/enrol`, also when it
/// answers the demo code's POST (a GET of that address would be refused).
async fn enrol_page(
    state: &PortalState,
    prefs: Prefs,
    issued: Option<(Hkid, IssuedView)>,
) -> Response {
    let t = Texts::get(prefs.lang);
    let page = Page::new(prefs, t.enrol_title, Section::App, "/app/enrol");
    let demo = match demo_residents(state).await {
        Ok(demo) => demo,
        Err(e) => return Problem::from(e).into_response(),
    };
    let (hkid, code, issued) = match issued {
        Some((hkid, view)) => (hkid.expose(), view.code.clone(), Some(view)),
        None => (String::new(), String::new(), None),
    };
    let mut response = render(
        &EnrolTemplate {
            page,
            hkid,
            code,
            issued,
            demo_residents: demo
                .into_iter()
                .map(|(_, r)| DemoResident {
                    name: resident_name(&r, prefs),
                    id: r.id,
                    hkid_masked: r.hkid_masked,
                })
                .collect(),
        },
        StatusCode::OK,
    );
    no_store(&mut response);
    response
}

/// `GET /app/enrol`: enrolment with an HKID and a one-time code.
pub async fn enrol(State(state): State<PortalState>, prefs: Prefs) -> Response {
    enrol_page(&state, prefs, None).await
}

/// Who a demo enrolment code is for: a demo resident's id, or their HKID.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoCodeRequest {
    #[serde(default)]
    pub resident_id: Option<String>,
    #[serde(default)]
    pub hkid: Option<String>,
}

/// A demo enrolment code (demo data only: the HKID is a made-up one).
#[derive(Debug, Serialize)]
pub struct DemoCodeResponse {
    pub resident_id: String,
    pub hkid: String,
    pub hkid_masked: String,
    pub code: String,
    pub expires_at: String,
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        })
}

/// Reads the request as JSON or as a form, as its content type says.
pub fn parse_demo_request(json: bool, body: &[u8]) -> Result<DemoCodeRequest, Problem> {
    if json {
        return parse_json(body);
    }
    Ok(DemoCodeRequest {
        resident_id: form_value(body, "resident_id"),
        hkid: form_value(body, "hkid"),
    })
}

/// `POST /app/demo/enrolment-code` (demo mode only): issues an enrolment code for a demo
/// resident named by `resident_id` or `hkid`, as a form (the enrol page comes back filled in)
/// or as JSON (`{resident_id, hkid, hkid_masked, code, expires_at}`), for developers and tests.
pub async fn demo_code(
    State(state): State<PortalState>,
    prefs: Prefs,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = same_origin(&state, &headers) {
        return refused.into_response();
    }
    let json = wants_json(&headers);
    let request = match parse_demo_request(json, &body) {
        Ok(request) => request,
        Err(problem) => return problem.into_response(),
    };
    let demo = match demo_residents(&state).await {
        Ok(demo) => demo,
        Err(e) => return Problem::from(e).into_response(),
    };
    let wanted_hkid = request.hkid.as_deref().and_then(|h| Hkid::parse(h).ok());
    let chosen = demo.into_iter().find(|(hkid, resident)| {
        request.resident_id.as_deref() == Some(resident.id.as_str())
            || wanted_hkid.as_ref() == Some(hkid)
    });
    let Some((hkid, resident)) = chosen else {
        return Problem::new(ErrorCode::IdentityResidentNotFound)
            .detail("name a demo resident by resident_id or hkid")
            .into_response();
    };
    let issued = match state
        .passkeys
        .issue_enrolment_code(&resident.id, "system:demo")
        .await
    {
        Ok(issued) => issued,
        Err(e) => return Problem::from(e).into_response(),
    };
    if json {
        let mut response = axum::Json(DemoCodeResponse {
            resident_id: resident.id.clone(),
            hkid: hkid.expose(),
            hkid_masked: resident.hkid_masked.clone(),
            code: issued.code.expose().to_owned(),
            expires_at: bauhinia_identity::clock::to_text(issued.expires_at),
        })
        .into_response();
        no_store(&mut response);
        return response;
    }
    let view = IssuedView {
        name: resident_name(&resident, prefs),
        hkid_masked: resident.hkid_masked.clone(),
        code: issued.code.expose().to_owned(),
        until: shown_time(issued.expires_at),
    };
    enrol_page(&state, prefs, Some((hkid, view))).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_demo_requests() {
        let form = parse_demo_request(false, b"resident_id=abc&x=1").expect("form");
        assert_eq!(form.resident_id.as_deref(), Some("abc"));
        let json = parse_demo_request(true, br#"{"hkid":"A123456(3)"}"#).expect("json");
        assert_eq!(json.hkid.as_deref(), Some("A123456(3)"));
        let bad = parse_demo_request(true, br#"{"who":1}"#).expect_err("unknown field");
        assert_eq!(bad.code, "request.unknown_field");
    }

    #[test]
    fn times_are_shown_in_hong_kong() {
        let t = time::macros::datetime!(2026-11-23 23:30 UTC);
        assert_eq!(shown_time(t), "2026-11-24 07:30");
    }

    proptest! {
        /// Whatever body arrives, as JSON or as a form, parsing answers a value or a 4xx problem.
        #[test]
        fn demo_request_parsers_never_panic(body in proptest::collection::vec(any::<u8>(), 0..300), json in any::<bool>()) {
            if let Err(problem) = parse_demo_request(json, &body) {
                prop_assert!((400..500).contains(&problem.status()));
            }
        }

        #[test]
        fn notices_are_only_the_known_ones(query in "\\PC{0,40}") {
            let shown = notice(Texts::get(bauhinia_core::Lang::En), Some(&query));
            if let Some(text) = shown {
                prop_assert!(text.ends_with('.'));
            }
        }
    }
}
