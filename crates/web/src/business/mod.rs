//! The CorpID business section of the portal at `/business`: the businesses the signed-in
//! resident represents, and each business's dashboard — particulars, representatives and
//! roles, delegations given and held, licences, the signing policy and the signing history.
//!
//! Residents sign in as on the exchange's pages (the portal is a relying party of the
//! built-in OpenID Provider; one portal session serves every section). Every change goes
//! through [`CorpIdService`], which checks the caller and the rule in the change's own
//! transaction and audits it; this module decides nothing but what to show. A refusal is
//! shown on the page in its language with its stable `corpid.*` code, and nothing changes. A
//! business the resident does not represent now is a 404 page. An HKID typed into a form is
//! looked up and dropped: never logged, kept or shown again.

pub mod form;
pub mod texts;
mod views;

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, OriginalUri, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use bauhinia_core::{ErrorCode, Hkid, Problem};
use bauhinia_corpid::domain::{
    AccessRefusal, Brn, DelegationTerms, FieldFault, LicenceDraft, Role, SignatoriesRequired,
};
use bauhinia_corpid::store::LicenceRow;
use bauhinia_corpid::{Business, Caller, CorpIdError, CorpIdService};
use bauhinia_identity::corporate::Representation;
use bauhinia_identity::IdentityService;
use serde::Deserialize;

use crate::exchange::sessions::{PortalSession, PortalSessions};
use crate::exchange::{own_form, sign_in_first, signed_in, ExchangePortalState};
use crate::page::{Page, Section};
use crate::prefs::Prefs;
use crate::respond::{no_store, see_other};
use crate::{path_and_query, render};
use form::Fields;
use texts::BusinessTexts;
use views::{
    Choice, DelegationView, ErrorView, FormKind, LicenceView, Listed, Particulars,
    RepresentativeView, SignatureRecordView,
};

/// The list of the resident's businesses; where a signed-out post is sent after sign-in.
const HOME: &str = "/business";
/// The portal's sign-in, coming back to the list.
const SIGN_IN: &str = "/exchange/login?next=%2Fbusiness";

/// What the business pages need.
#[derive(Debug, Clone)]
pub struct BusinessPortalState {
    pub corpid: Arc<CorpIdService>,
    /// Representatives' names and masked HKIDs; the resident a grant names by HKID.
    pub identity: Arc<IdentityService>,
    /// The portal's sessions (shared with the exchange's pages).
    pub sessions: PortalSessions,
    /// The site's own origin: posts from any other are refused.
    pub origin: String,
}

impl BusinessPortalState {
    /// The business pages beside the exchange's, on the same portal sessions and sign-in.
    pub fn new(
        corpid: Arc<CorpIdService>,
        identity: Arc<IdentityService>,
        portal: &ExchangePortalState,
    ) -> BusinessPortalState {
        BusinessPortalState {
            corpid,
            identity,
            sessions: portal.rp.sessions.clone(),
            origin: portal.origin.clone(),
        }
    }
}

pub fn router(state: BusinessPortalState) -> Router {
    Router::new()
        .route(HOME, get(home))
        .route("/business/{brn}", get(dashboard))
        .route("/business/{brn}/representatives", post(grant))
        .route(
            "/business/{brn}/representatives/{resident}/role",
            post(change_role),
        )
        .route(
            "/business/{brn}/representatives/{resident}/revoke",
            get(confirm_revoke).post(revoke),
        )
        .route("/business/{brn}/delegations", post(delegate))
        .route(
            "/business/{brn}/delegations/{id}/revoke",
            get(confirm_revoke_delegation).post(revoke_delegation),
        )
        .route("/business/{brn}/licences", post(add_licence))
        .route(
            "/business/{brn}/licences/{id}",
            get(edit_licence).post(update_licence),
        )
        .route(
            "/business/{brn}/licences/{id}/remove",
            get(confirm_remove_licence).post(remove_licence),
        )
        .route("/business/{brn}/signing-policy", post(set_policy))
        .with_state(state)
}

fn now() -> i64 {
    bauhinia_core::background::now_ms() / 1_000
}

fn internal(cause: impl std::fmt::Display) -> Response {
    Problem::internal(&cause).into_response()
}

fn page(prefs: Prefs, title: &str, uri: &Uri) -> Page {
    Page::new(prefs, title, Section::Business, path_and_query(uri))
}

#[derive(Template)]
#[template(path = "business_message.html")]
struct MessageTemplate {
    page: Page,
    b: &'static BusinessTexts,
    title: String,
    body: String,
    code: Option<&'static str>,
    link: (String, String),
}

/// A page with one message, its stable code, and a way on.
fn message(
    prefs: Prefs,
    uri: &Uri,
    (title, body): (&str, &str),
    code: ErrorCode,
    link: (String, String),
) -> Response {
    no_store(render(
        &MessageTemplate {
            page: page(prefs, title, uri),
            b: BusinessTexts::get(prefs.lang),
            title: title.to_owned(),
            body: body.to_owned(),
            code: Some(code.code()),
            link,
        },
        code.status(),
    ))
}

/// The 404 page of a business the resident does not represent (or that does not exist).
fn not_found(prefs: Prefs, uri: &Uri) -> Response {
    let b = BusinessTexts::get(prefs.lang);
    message(
        prefs,
        uri,
        (b.not_found_title, b.not_found_body),
        ErrorCode::CorpidBusinessNotFound,
        (HOME.to_owned(), b.back_list.to_owned()),
    )
}

/// A resident signed in to the portal. Anyone else is sent to sign in and brought back.
struct Signed {
    session: PortalSession,
}

impl Signed {
    fn resident(&self) -> &str {
        &self.session.resident_id
    }

    fn caller(&self) -> Caller {
        Caller::Resident(self.session.resident_id.clone())
    }
}

impl FromRequestParts<BusinessPortalState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &BusinessPortalState,
    ) -> Result<Self, Self::Rejection> {
        match signed_in(&state.sessions, &parts.headers).await? {
            Some((session, _)) => Ok(Signed { session }),
            None => Err(sign_in_first(parts, HOME)),
        }
    }
}

/// A form posted by a signed-in resident from one of the portal's own pages (its origin and
/// the session's anti-forgery token), with its fields. Anything else is refused with
/// `exchange.portal_csrf` (the portal's one anti-forgery code) and changes nothing.
struct SignedForm {
    signed: Signed,
    fields: Fields,
}

impl FromRequest<BusinessPortalState> for SignedForm {
    type Rejection = Response;

    async fn from_request(
        request: Request,
        state: &BusinessPortalState,
    ) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let signed = Signed::from_request_parts(&mut parts, state).await?;
        let prefs = Prefs::from_headers(&parts.headers);
        let uri = parts.uri.clone();
        let headers = parts.headers.clone();
        let body = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let fields = Fields::parse(&body);
        if !own_form(
            &state.sessions,
            &signed.session,
            &state.origin,
            &headers,
            fields.get("csrf"),
        ) {
            let b = BusinessTexts::get(prefs.lang);
            return Err(message(
                prefs,
                &uri,
                (b.csrf_title, b.csrf_body),
                ErrorCode::ExchangePortalCsrf,
                (HOME.to_owned(), b.back_list.to_owned()),
            ));
        }
        Ok(SignedForm { signed, fields })
    }
}

/// A business the resident represents now, and how.
struct Opened {
    business: Business,
    me: Representation,
}

impl Opened {
    /// Administration is never delegated: only the business's own administrators change it.
    fn administers(&self) -> bool {
        self.me.role == Role::Administrator.as_str() && self.me.via_agent_brn.is_none()
    }

    fn path(&self) -> String {
        format!("/business/{}", self.business.brn)
    }
}

/// The business `brn` if the resident represents it now; else the 404 page.
async fn open(
    state: &BusinessPortalState,
    prefs: Prefs,
    uri: &Uri,
    signed: &Signed,
    brn: &str,
) -> Result<Opened, Response> {
    let Ok(brn) = Brn::parse(brn) else {
        return Err(not_found(prefs, uri));
    };
    match state.corpid.visible(signed.resident(), &brn, now()).await {
        Ok((business, me)) => Ok(Opened { business, me }),
        Err(CorpIdError::BusinessNotFound) => Err(not_found(prefs, uri)),
        Err(e) => Err(internal(e)),
    }
}

/// `BRN name` of an agent business, for "through agent …"; the BRN alone if it cannot be read.
async fn agent_label(state: &BusinessPortalState, brn: &str) -> String {
    let name = match Brn::parse(brn) {
        Ok(parsed) => state.corpid.business(&parsed).await.ok(),
        Err(_) => None,
    };
    match name {
        Some(business) => format!("{brn} {}", business.name_en),
        None => brn.to_owned(),
    }
}

#[derive(Template)]
#[template(path = "business_home.html")]
struct HomeTemplate {
    page: Page,
    b: &'static BusinessTexts,
    signed_in: bool,
    businesses: Vec<Listed>,
    sign_in: &'static str,
    csrf: String,
}

/// `GET /business`: sign in, or the businesses the resident represents now.
async fn home(
    State(state): State<BusinessPortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let b = BusinessTexts::get(prefs.lang);
    let session = match signed_in(&state.sessions, &headers).await {
        Ok(found) => found.map(|(session, _)| session),
        Err(response) => return response,
    };
    let mut businesses = Vec::new();
    if let Some(session) = &session {
        let list = match state
            .corpid
            .representations_at(&session.resident_id, now())
            .await
        {
            Ok(list) => list,
            Err(e) => return internal(e),
        };
        for r in &list {
            let agent = match &r.via_agent_brn {
                Some(brn) => Some(agent_label(&state, brn).await),
                None => None,
            };
            businesses.push(views::listed(r, agent, prefs.lang));
        }
    }
    no_store(render(
        &HomeTemplate {
            page: page(prefs, b.title, &uri),
            b,
            signed_in: session.is_some(),
            businesses,
            sign_in: SIGN_IN,
            csrf: session.map(|s| s.csrf).unwrap_or_default(),
        },
        StatusCode::OK,
    ))
}

#[derive(Template)]
#[template(path = "business_dashboard.html")]
struct DashboardTemplate {
    page: Page,
    b: &'static BusinessTexts,
    p: Particulars,
    my_role: String,
    via: Option<String>,
    admin: bool,
    representatives: Vec<RepresentativeView>,
    given: Vec<DelegationView>,
    held: Vec<DelegationView>,
    licences: Vec<LicenceView>,
    /// Company signatures: filled by company signing when it is built; empty until then.
    history: Vec<SignatureRecordView>,
    roles: Vec<Choice>,
    delegable: Vec<Choice>,
    statuses: Vec<Choice>,
    notice: Option<&'static str>,
    error: Option<ErrorView>,
    /// What the refused form held (never an HKID), to show it again.
    refill: Fields,
    /// Where the licence form posts, and its button.
    licence_action: String,
    licence_button: &'static str,
    csrf: String,
}

impl DashboardTemplate {
    fn err(&self, id: &str) -> Option<&str> {
        self.error.as_ref().and_then(|e| e.about(id))
    }

    fn value(&self, name: &str) -> &str {
        self.refill.get(name)
    }
}

/// A refused form: what to say, with which status, and what it held.
struct Failure {
    status: StatusCode,
    error: ErrorView,
    refill: Fields,
}

fn notice(done: &str, b: &BusinessTexts) -> Option<&'static str> {
    Some(match done {
        "granted" => b.done_granted,
        "role" => b.done_role,
        "revoked" => b.done_revoked,
        "delegated" => b.done_delegated,
        "delegation_revoked" => b.done_delegation_revoked,
        "licence_added" => b.done_licence_added,
        "licence_updated" => b.done_licence_updated,
        "licence_removed" => b.done_licence_removed,
        "policy" => b.done_policy,
        _ => return None,
    })
}

/// The business's representatives with their names and masked HKIDs.
async fn representatives(
    state: &BusinessPortalState,
    opened: &Opened,
    me: &str,
    lang: bauhinia_core::Lang,
) -> Result<Vec<RepresentativeView>, Response> {
    let b = BusinessTexts::get(lang);
    let rows = state
        .corpid
        .representatives(&opened.business.id)
        .await
        .map_err(internal)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let person = state
            .identity
            .resident(&row.resident_id)
            .await
            .map_err(internal)?;
        let name = match (lang, person.chinese_name) {
            (bauhinia_core::Lang::En, _) | (_, None) => person.english_name,
            (_, Some(chinese)) => format!("{chinese} {}", person.english_name),
        };
        out.push(RepresentativeView {
            me: row.resident_id == me,
            resident_id: row.resident_id,
            name,
            hkid_masked: person.hkid_masked,
            role: b.role_named(&row.role),
            role_key: row.role,
            since: crate::exchange::views::shown_date(row.granted_at_s),
        });
    }
    Ok(out)
}

async fn dashboard_page(
    state: &BusinessPortalState,
    prefs: Prefs,
    uri: &Uri,
    signed: &Signed,
    opened: Opened,
    notice: Option<&'static str>,
    failure: Option<Failure>,
) -> Response {
    let lang = prefs.lang;
    let b = BusinessTexts::get(lang);
    let representatives = match representatives(state, &opened, signed.resident(), lang).await {
        Ok(list) => list,
        Err(response) => return response,
    };
    let delegations = match state.corpid.delegations(&opened.business.id).await {
        Ok(rows) => rows,
        Err(e) => return internal(e),
    };
    let licences = match state.corpid.licences(&opened.business.id).await {
        Ok(rows) => rows,
        Err(e) => return internal(e),
    };
    let (given, held) = views::delegations(&delegations, &opened.business.id, now(), lang);
    let via = match &opened.me.via_agent_brn {
        Some(brn) => Some(agent_label(state, brn).await),
        None => None,
    };
    let (status, error, refill) = match failure {
        Some(f) => (f.status, Some(f.error), f.refill),
        None => (StatusCode::OK, None, Fields::default()),
    };
    let p = views::particulars(&opened.business, lang);
    no_store(render(
        &DashboardTemplate {
            page: page(prefs, &p.name, uri),
            b,
            my_role: b.role_named(&opened.me.role),
            via,
            admin: opened.administers(),
            representatives,
            given,
            held,
            licences: licences.iter().map(|l| views::licence(l, lang)).collect(),
            history: Vec::new(),
            roles: views::roles(lang),
            delegable: views::delegable_roles(lang),
            statuses: views::licence_statuses(lang),
            notice,
            error,
            refill,
            licence_action: format!("{}/licences", opened.path()),
            licence_button: b.add_licence_button,
            csrf: signed.session.csrf.clone(),
            p,
        },
        status,
    ))
}

#[derive(Debug, Deserialize)]
struct DashboardQuery {
    done: Option<String>,
}

/// `GET /business/{brn}`: the business's dashboard (read-only but for administrators).
async fn dashboard(
    State(state): State<BusinessPortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Path(brn): Path<String>,
    Query(query): Query<DashboardQuery>,
    signed: Signed,
) -> Response {
    let opened = match open(&state, prefs, &uri, &signed, &brn).await {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let b = BusinessTexts::get(prefs.lang);
    let notice = query.done.as_deref().and_then(|d| notice(d, b));
    dashboard_page(&state, prefs, &uri, &signed, opened, notice, None).await
}

/// Why a form's change did not happen: the directory refused it (shown on the page), or
/// something failed that is not the resident's to mend (an internal error).
enum Failed {
    Refused(CorpIdError),
    Broken(String),
}

impl From<CorpIdError> for Failed {
    fn from(error: CorpIdError) -> Failed {
        Failed::Refused(error)
    }
}

/// Every fault of both, or the value of each.
fn both<A, B>(a: Result<A, FieldFault>, b: Result<B, FieldFault>) -> Result<(A, B), CorpIdError> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (a, b) => Err(CorpIdError::Invalid(
            [a.err(), b.err()].into_iter().flatten().collect(),
        )),
    }
}

/// What a posted form comes to: on success back to the dashboard's `section` with the
/// `done` notice; on a refusal the dashboard again, with the error summary and the form as
/// it was sent (nothing changed); a business no longer represented is the 404 page.
#[allow(clippy::too_many_arguments)]
async fn finish(
    state: &BusinessPortalState,
    prefs: Prefs,
    uri: &Uri,
    form: SignedForm,
    opened: Opened,
    kind: FormKind,
    result: Result<(), Failed>,
    (done, section): (&str, &str),
) -> Response {
    let error = match result {
        Ok(()) => return see_other(&format!("{}?done={done}#{section}", opened.path())),
        Err(Failed::Broken(cause)) => return internal(cause),
        Err(Failed::Refused(
            CorpIdError::BusinessNotFound | CorpIdError::Access(AccessRefusal::NotActive),
        )) => return not_found(prefs, uri),
        Err(Failed::Refused(error)) => error,
    };
    let Some((code, view)) = views::explain(&error, kind, prefs.lang) else {
        return internal(error);
    };
    tracing::info!(code = code.code(), "business form refused");
    let failure = Failure {
        status: code.status(),
        error: view,
        refill: form.fields.refillable(),
    };
    dashboard_page(state, prefs, uri, &form.signed, opened, None, Some(failure)).await
}

/// The refusal a non-administrator meets before their form is read (the directory checks
/// again in the change's own transaction).
fn administrators_only(opened: &Opened) -> Result<(), Failed> {
    if opened.administers() {
        Ok(())
    } else {
        Err(CorpIdError::Access(AccessRefusal::NotAdministrator).into())
    }
}

async fn grant_by_hkid(
    state: &BusinessPortalState,
    opened: &Opened,
    form: &SignedForm,
) -> Result<(), Failed> {
    // Checked before the HKID is looked up, so a non-administrator cannot learn who is
    // registered; the directory checks again in the change's transaction.
    administrators_only(opened)?;
    let (hkid, role) = both(
        Hkid::parse(form.fields.get("hkid")).map_err(|_| FieldFault::new("/hkid", "an HKID")),
        Role::parse(form.fields.get("role")).ok_or_else(|| FieldFault::new("/role", "a role")),
    )?;
    let resident = state
        .identity
        .find_by_hkid(&hkid)
        .await
        .map_err(|e| Failed::Broken(e.to_string()))?
        .ok_or(CorpIdError::ResidentNotFound)?;
    Ok(state
        .corpid
        .grant(
            &opened.business.brn,
            &resident.id,
            role,
            &form.signed.caller(),
            now(),
        )
        .await?)
}

/// `POST /business/{brn}/representatives`: grant a role to the resident with an HKID.
async fn grant(
    State(state): State<BusinessPortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Path(brn): Path<String>,
    form: SignedForm,
) -> Response {
    let opened = match open(&state, prefs, &uri, &form.signed, &brn).await {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let result = grant_by_hkid(&state, &opened, &form).await;
    let to = ("granted", "representatives");
    finish(
        &state,
        prefs,
        &uri,
        form,
        opened,
        FormKind::Grant,
        result,
        to,
    )
    .await
}

/// `POST /business/{brn}/representatives/{resident}/role`.
async fn change_role(
    State(state): State<BusinessPortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Path((brn, resident)): Path<(String, String)>,
    form: SignedForm,
) -> Response {
    let opened = match open(&state, prefs, &uri, &form.signed, &brn).await {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let result = match (
        administrators_only(&opened),
        Role::parse(form.fields.get("role")),
    ) {
        (Err(refused), _) => Err(refused),
        (Ok(()), Some(role)) => state
            .corpid
            .change_role(
                &opened.business.brn,
                &resident,
                role,
                &form.signed.caller(),
                now(),
            )
            .await
            .map_err(Failed::from),
        (Ok(()), None) => Err(CorpIdError::field("/role", "a role").into()),
    };
    let to = ("role", "representatives");
    finish(
        &state,
        prefs,
        &uri,
        form,
        opened,
        FormKind::Role,
        result,
        to,
    )
    .await
}

#[derive(Template)]
#[template(path = "business_confirm.html")]
struct ConfirmTemplate {
    page: Page,
    b: &'static BusinessTexts,
    title: &'static str,
    body: &'static str,
    /// What is about to go, as the dashboard lists it.
    what: String,
    action: String,
    button: &'static str,
    back: String,
    csrf: String,
}

fn confirm_page(
    prefs: Prefs,
    uri: &Uri,
    signed: &Signed,
    opened: &Opened,
    (title, body, button): (&'static str, &'static str, &'static str),
    what: String,
) -> Response {
    no_store(render(
        &ConfirmTemplate {
            page: page(prefs, title, uri),
            b: BusinessTexts::get(prefs.lang),
            title,
            body,
            what,
            action: uri.path().to_owned(),
            button,
            back: opened.path(),
            csrf: signed.session.csrf.clone(),
        },
        StatusCode::OK,
    ))
}

/// `GET /business/{brn}/representatives/{resident}/revoke`: are you sure?
async fn confirm_revoke(
    State(state): State<BusinessPortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Path((brn, resident)): Path<(String, String)>,
    signed: Signed,
) -> Response {
    let opened = match open(&state, prefs, &uri, &signed, &brn).await {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let listed = match representatives(&state, &opened, signed.resident(), prefs.lang).await {
        Ok(list) => list.into_iter().find(|r| r.resident_id == resident),
        Err(response) => return response,
    };
    let b = BusinessTexts::get(prefs.lang);
    let Some(who) = listed else {
        return message(
            prefs,
            &uri,
            (b.err_representative_not_found, b.nothing_changed),
            ErrorCode::CorpidRepresentativeNotFound,
            (opened.path(), b.back.to_owned()),
        );
    };
    let what = format!("{} ({}) · {}", who.name, who.hkid_masked, who.role);
    let texts = (b.confirm_revoke_title, b.confirm_revoke_body, b.revoke);
    confirm_page(prefs, &uri, &signed, &opened, texts, what)
}

/// `POST /business/{brn}/representatives/{resident}/revoke`.
async fn revoke(
    State(state): State<BusinessPortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Path((brn, resident)): Path<(String, String)>,
    form: SignedForm,
) -> Response {
    let opened = match open(&state, prefs, &uri, &form.signed, &brn).await {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let result = match administrators_only(&opened) {
        Ok(()) => state
            .corpid
            .revoke(
                &opened.business.brn,
                &resident,
                &form.signed.caller(),
                now(),
            )
            .await
            .map_err(Failed::from),
        Err(refused) => Err(refused),
    };
    let to = ("revoked", "representatives");
    finish(
        &state,
        prefs,
        &uri,
        form,
        opened,
        FormKind::Revoke,
        result,
        to,
    )
    .await
}

/// The delegation a form asks for: the agent and the terms, every fault named.
fn delegation_terms(fields: &Fields, at: i64) -> Result<(Brn, DelegationTerms), CorpIdError> {
    let mut faults = Vec::new();
    let agent = Brn::parse(fields.get("agent_brn"))
        .map_err(|e| faults.push(FieldFault::new("/agent_brn", e.to_string())))
        .ok();
    let role = Role::parse(fields.get("delegation_role"));
    let terms = match form::delegation_span(fields.get("valid_from"), fields.get("valid_until")) {
        Ok((from, until)) => DelegationTerms::new(role, from, until, at)
            .map_err(|errors| faults.extend(errors))
            .ok(),
        Err(errors) => {
            faults.extend(errors);
            if role.is_none_or(|r| !r.delegable()) {
                faults.push(FieldFault::new("/role", "a delegable role"));
            }
            None
        }
    };
    match (agent, terms) {
        (Some(agent), Some(terms)) if faults.is_empty() => Ok((agent, terms)),
        _ => Err(CorpIdError::Invalid(faults)),
    }
}

/// `POST /business/{brn}/delegations`: delegate a role to an agent business.
async fn delegate(
    State(state): State<BusinessPortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Path(brn): Path<String>,
    form: SignedForm,
) -> Response {
    let opened = match open(&state, prefs, &uri, &form.signed, &brn).await {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let at = now();
    let result = match administrators_only(&opened)
        .and_then(|()| delegation_terms(&form.fields, at).map_err(Failed::from))
    {
        Ok((agent, terms)) => state
            .corpid
            .create_delegation(
                &opened.business.brn,
                &agent,
                &terms,
                &form.signed.caller(),
                at,
            )
            .await
            .map(|_| ())
            .map_err(Failed::from),
        Err(refused) => Err(refused),
    };
    let to = ("delegated", "delegations");
    finish(
        &state,
        prefs,
        &uri,
        form,
        opened,
        FormKind::Delegation,
        result,
        to,
    )
    .await
}

/// `GET /business/{brn}/delegations/{id}/revoke`: are you sure?
async fn confirm_revoke_delegation(
    State(state): State<BusinessPortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Path((brn, id)): Path<(String, String)>,
    signed: Signed,
) -> Response {
    let opened = match open(&state, prefs, &uri, &signed, &brn).await {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let rows = match state.corpid.delegations(&opened.business.id).await {
        Ok(rows) => rows,
        Err(e) => return internal(e),
    };
    let b = BusinessTexts::get(prefs.lang);
    let (given, _) = views::delegations(&rows, &opened.business.id, now(), prefs.lang);
    let Some(d) = given.into_iter().find(|d| d.id == id && d.revocable) else {
        return message(
            prefs,
            &uri,
            (b.err_delegation_not_found, b.nothing_changed),
            ErrorCode::CorpidDelegationNotFound,
            (opened.path(), b.back.to_owned()),
        );
    };
    let what = format!(
        "{} {} · {} · {} – {}",
        d.other_brn, d.other_name, d.role, d.from, d.until
    );
    let texts = (
        b.confirm_delegation_title,
        b.confirm_delegation_body,
        b.revoke,
    );
    confirm_page(prefs, &uri, &signed, &opened, texts, what)
}

/// `POST /business/{brn}/delegations/{id}/revoke`.
async fn revoke_delegation(
    State(state): State<BusinessPortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Path((brn, id)): Path<(String, String)>,
    form: SignedForm,
) -> Response {
    let opened = match open(&state, prefs, &uri, &form.signed, &brn).await {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let result = match administrators_only(&opened) {
        Ok(()) => state
            .corpid
            .revoke_delegation(&opened.business.brn, &id, &form.signed.caller(), now())
            .await
            .map_err(Failed::from),
        Err(refused) => Err(refused),
    };
    let to = ("delegation_revoked", "delegations");
    let kind = FormKind::RevokeDelegation;
    finish(&state, prefs, &uri, form, opened, kind, result, to).await
}

/// The licence a form describes (checked by the directory).
fn licence_draft(fields: &Fields) -> LicenceDraft {
    let until = fields.get("licence_until").trim();
    LicenceDraft {
        licence_type: fields.get("licence_type").to_owned(),
        number: fields.get("number").to_owned(),
        issuer: fields.get("issuer").to_owned(),
        valid_from: fields.get("licence_from").to_owned(),
        valid_until: (!until.is_empty()).then(|| until.to_owned()),
        status: fields.get("status").to_owned(),
        shared: fields.get("shared") == "yes",
    }
}

/// `POST /business/{brn}/licences`: add a licence.
async fn add_licence(
    State(state): State<BusinessPortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Path(brn): Path<String>,
    form: SignedForm,
) -> Response {
    let opened = match open(&state, prefs, &uri, &form.signed, &brn).await {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let result = match administrators_only(&opened) {
        Ok(()) => state
            .corpid
            .add_licence(
                &opened.business.brn,
                &licence_draft(&form.fields),
                &form.signed.caller(),
                now(),
            )
            .await
            .map(|_| ())
            .map_err(Failed::from),
        Err(refused) => Err(refused),
    };
    let to = ("licence_added", "licences");
    finish(
        &state,
        prefs,
        &uri,
        form,
        opened,
        FormKind::Licence,
        result,
        to,
    )
    .await
}

/// The licence `id` of the business, if it keeps one.
async fn licence_of(
    state: &BusinessPortalState,
    opened: &Opened,
    id: &str,
) -> Result<Option<LicenceRow>, Response> {
    let rows = state
        .corpid
        .licences(&opened.business.id)
        .await
        .map_err(internal)?;
    Ok(rows.into_iter().find(|l| l.id == id))
}

/// A licence's record as the edit form's fields.
fn licence_fields(row: &LicenceRow) -> Fields {
    let mut body = form_urlencoded::Serializer::new(String::new());
    body.append_pair("licence_type", &row.licence_type)
        .append_pair("number", &row.number)
        .append_pair("issuer", &row.issuer)
        .append_pair("licence_from", &row.valid_from)
        .append_pair("licence_until", row.valid_until.as_deref().unwrap_or(""))
        .append_pair("status", &row.status);
    if row.shared != 0 {
        body.append_pair("shared", "yes");
    }
    Fields::parse(body.finish().as_bytes())
}

#[derive(Template)]
#[template(path = "business_licence.html")]
struct LicenceTemplate {
    page: Page,
    b: &'static BusinessTexts,
    business: String,
    back: String,
    statuses: Vec<Choice>,
    error: Option<ErrorView>,
    refill: Fields,
    licence_action: String,
    licence_button: &'static str,
    csrf: String,
}

impl LicenceTemplate {
    fn err(&self, id: &str) -> Option<&str> {
        self.error.as_ref().and_then(|e| e.about(id))
    }

    fn value(&self, name: &str) -> &str {
        self.refill.get(name)
    }
}

fn licence_page(
    prefs: Prefs,
    uri: &Uri,
    signed: &Signed,
    opened: &Opened,
    refill: Fields,
    failure: Option<(StatusCode, ErrorView)>,
) -> Response {
    let b = BusinessTexts::get(prefs.lang);
    let (status, error) = match failure {
        Some((status, error)) => (status, Some(error)),
        None => (StatusCode::OK, None),
    };
    no_store(render(
        &LicenceTemplate {
            page: page(prefs, b.edit_licence_title, uri),
            b,
            business: views::particulars(&opened.business, prefs.lang).name,
            back: opened.path(),
            statuses: views::licence_statuses(prefs.lang),
            error,
            refill,
            licence_action: uri.path().to_owned(),
            licence_button: b.save,
            csrf: signed.session.csrf.clone(),
        },
        status,
    ))
}

/// The page a non-administrator meets on a page that only changes the business.
fn not_administrator(prefs: Prefs, uri: &Uri, opened: &Opened) -> Response {
    let b = BusinessTexts::get(prefs.lang);
    message(
        prefs,
        uri,
        (b.err_not_administrator, b.nothing_changed),
        ErrorCode::CorpidNotAdministrator,
        (opened.path(), b.back.to_owned()),
    )
}

fn licence_not_found(prefs: Prefs, uri: &Uri, opened: &Opened) -> Response {
    let b = BusinessTexts::get(prefs.lang);
    message(
        prefs,
        uri,
        (b.err_licence_not_found, b.nothing_changed),
        ErrorCode::CorpidLicenceNotFound,
        (opened.path(), b.back.to_owned()),
    )
}

/// `GET /business/{brn}/licences/{id}`: the licence's edit form (administrators).
async fn edit_licence(
    State(state): State<BusinessPortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Path((brn, id)): Path<(String, String)>,
    signed: Signed,
) -> Response {
    let opened = match open(&state, prefs, &uri, &signed, &brn).await {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    if !opened.administers() {
        return not_administrator(prefs, &uri, &opened);
    }
    match licence_of(&state, &opened, &id).await {
        Ok(Some(row)) => licence_page(prefs, &uri, &signed, &opened, licence_fields(&row), None),
        Ok(None) => licence_not_found(prefs, &uri, &opened),
        Err(response) => response,
    }
}

/// `POST /business/{brn}/licences/{id}`: replace the licence's record; a refusal shows the
/// edit form again with what was sent.
async fn update_licence(
    State(state): State<BusinessPortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Path((brn, id)): Path<(String, String)>,
    form: SignedForm,
) -> Response {
    let opened = match open(&state, prefs, &uri, &form.signed, &brn).await {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    if !opened.administers() {
        return not_administrator(prefs, &uri, &opened);
    }
    let result = state
        .corpid
        .update_licence(
            &opened.business.brn,
            &id,
            &licence_draft(&form.fields),
            &form.signed.caller(),
            now(),
        )
        .await;
    match result {
        Ok(()) => see_other(&format!("{}?done=licence_updated#licences", opened.path())),
        Err(CorpIdError::BusinessNotFound | CorpIdError::Access(AccessRefusal::NotActive)) => {
            not_found(prefs, &uri)
        }
        Err(CorpIdError::LicenceNotFound) => licence_not_found(prefs, &uri, &opened),
        Err(error) => match views::explain(&error, FormKind::Licence, prefs.lang) {
            Some((code, view)) => {
                let refill = form.fields.refillable();
                let failure = Some((code.status(), view));
                licence_page(prefs, &uri, &form.signed, &opened, refill, failure)
            }
            None => internal(error),
        },
    }
}

/// `GET /business/{brn}/licences/{id}/remove`: are you sure?
async fn confirm_remove_licence(
    State(state): State<BusinessPortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Path((brn, id)): Path<(String, String)>,
    signed: Signed,
) -> Response {
    let opened = match open(&state, prefs, &uri, &signed, &brn).await {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let row = match licence_of(&state, &opened, &id).await {
        Ok(Some(row)) => row,
        Ok(None) => return licence_not_found(prefs, &uri, &opened),
        Err(response) => return response,
    };
    let b = BusinessTexts::get(prefs.lang);
    let what = format!("{} · {} · {}", row.licence_type, row.number, row.issuer);
    let texts = (b.confirm_licence_title, b.confirm_licence_body, b.remove);
    confirm_page(prefs, &uri, &signed, &opened, texts, what)
}

/// `POST /business/{brn}/licences/{id}/remove`.
async fn remove_licence(
    State(state): State<BusinessPortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Path((brn, id)): Path<(String, String)>,
    form: SignedForm,
) -> Response {
    let opened = match open(&state, prefs, &uri, &form.signed, &brn).await {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let result = match administrators_only(&opened) {
        Ok(()) => state
            .corpid
            .remove_licence(&opened.business.brn, &id, &form.signed.caller())
            .await
            .map_err(Failed::from),
        Err(refused) => Err(refused),
    };
    let to = ("licence_removed", "licences");
    let kind = FormKind::RemoveLicence;
    finish(&state, prefs, &uri, form, opened, kind, result, to).await
}

/// `POST /business/{brn}/signing-policy`: one or two signatories.
async fn set_policy(
    State(state): State<BusinessPortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Path(brn): Path<String>,
    form: SignedForm,
) -> Response {
    let opened = match open(&state, prefs, &uri, &form.signed, &brn).await {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let required = form
        .fields
        .get("signatories_required")
        .parse::<i64>()
        .ok()
        .and_then(SignatoriesRequired::new);
    let result = match administrators_only(&opened).map(|()| required) {
        Err(refused) => Err(refused),
        Ok(Some(required)) => state
            .corpid
            .set_signing_policy(&opened.business.brn, required, &form.signed.caller(), now())
            .await
            .map_err(Failed::from),
        Ok(None) => Err(CorpIdError::field("/signatories_required", "1 or 2").into()),
    };
    let to = ("policy", "policy");
    finish(
        &state,
        prefs,
        &uri,
        form,
        opened,
        FormKind::Policy,
        result,
        to,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delegation_form_names_every_fault() {
        let fields = Fields::parse(
            b"agent_brn=12&delegation_role=administrator&valid_from=2027-01-01&valid_until=soon",
        );
        let Err(CorpIdError::Invalid(faults)) = delegation_terms(&fields, 1_790_000_000) else {
            panic!("refused");
        };
        let named: Vec<&str> = faults.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(named, ["/agent_brn", "/valid_until", "/role"]);
        let fields = Fields::parse(
            b"agent_brn=91000003&delegation_role=user&valid_from=2027-01-01&valid_until=2027-12-31",
        );
        let (agent, terms) = delegation_terms(&fields, 1_790_000_000).expect("valid");
        assert_eq!(agent.as_str(), "91000003");
        assert_eq!(terms.role, Role::User);
        assert_eq!(form::last_day(terms.valid_until), "2027-12-31");
    }

    #[test]
    fn a_licence_form_is_read_as_the_directory_reads_a_licence() {
        let fields = Fields::parse(
            b"licence_type=Restaurant&number=FE-1&issuer=FEHD&licence_from=2026-01-01&licence_until=&status=valid",
        );
        let draft = licence_draft(&fields);
        assert_eq!(draft.valid_until, None);
        assert!(!draft.shared);
        assert!(draft.validate().is_ok());
    }
}
