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
mod signing;
pub mod texts;
mod views;

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
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
use bauhinia_corpid::signing::CompanySigning;
use bauhinia_corpid::store::LicenceRow;
use bauhinia_corpid::{Business, Caller, CorpIdError, CorpIdService};
use bauhinia_identity::corporate::Representation;
use bauhinia_identity::IdentityService;
use serde::Deserialize;

use crate::exchange::sessions::{PortalSession, PortalSessions};
use crate::exchange::{own_form_body, sign_in_first, signed_in, ExchangePortalState};
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
    /// Company signatures: started from the dashboard, listed in its history, verified.
    pub signing: Arc<CompanySigning>,
    /// The portal's own client id at the OpenID Provider: the service that asks for the
    /// signatures representatives start here.
    pub portal_client_id: String,
}

impl BusinessPortalState {
    /// The business pages beside the exchange's, on the same portal sessions and sign-in.
    pub fn new(
        corpid: Arc<CorpIdService>,
        identity: Arc<IdentityService>,
        signing: Arc<CompanySigning>,
        portal: &ExchangePortalState,
    ) -> BusinessPortalState {
        BusinessPortalState {
            corpid,
            identity,
            sessions: portal.rp.sessions.clone(),
            origin: portal.origin.clone(),
            signing,
            portal_client_id: portal.rp.client.client_id.clone(),
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
        .route("/business/{brn}/signatures", post(signing::start))
        .route("/business/{brn}/signatures/{id}", get(signing::download))
        .route(
            "/business/verify",
            get(signing::verify_form).post(signing::verify),
        )
        .route("/static/business-sign.js", get(sign_script))
        .with_state(state)
}

fn now() -> i64 {
    bauhinia_core::background::now_ms() / 1_000
}

/// Computes the chosen file's SHA-256 in the browser for the dashboard's signing form.
async fn sign_script() -> Response {
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/javascript; charset=utf-8",
            ),
            (axum::http::header::CACHE_CONTROL, crate::CACHE_ASSETS),
        ],
        include_str!("../../static/business-sign.js"),
    )
        .into_response()
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
        let request = Request::from_parts(parts, body);
        match own_form_body(&state.sessions, &signed.session, &state.origin, request).await? {
            Some(body) => Ok(SignedForm {
                signed,
                fields: Fields::parse(&body),
            }),
            None => {
                let b = BusinessTexts::get(prefs.lang);
                Err(message(
                    prefs,
                    &uri,
                    (b.csrf_title, b.csrf_body),
                    ErrorCode::ExchangePortalCsrf,
                    (HOME.to_owned(), b.back_list.to_owned()),
                ))
            }
        }
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

/// The `{brn}` of the request's path (empty without one: no business has it).
async fn path_brn(parts: &mut Parts, state: &BusinessPortalState) -> Result<String, Response> {
    let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
        .await
        .map_err(IntoResponse::into_response)?;
    Ok(params.get("brn").cloned().unwrap_or_default())
}

/// A page of a business the signed-in resident represents now (the `{brn}` of the path);
/// anyone else meets the sign-in or the 404 page.
struct Viewed {
    prefs: Prefs,
    uri: Uri,
    signed: Signed,
    opened: Opened,
}

impl FromRequestParts<BusinessPortalState> for Viewed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &BusinessPortalState,
    ) -> Result<Self, Self::Rejection> {
        let signed = Signed::from_request_parts(parts, state).await?;
        let prefs = Prefs::from_headers(&parts.headers);
        let uri = parts.uri.clone();
        let brn = path_brn(parts, state).await?;
        let opened = open(state, prefs, &uri, &signed, &brn).await?;
        Ok(Viewed {
            prefs,
            uri,
            signed,
            opened,
        })
    }
}

/// A form of the portal's own pages asking to change a business the resident represents now.
/// What it asks is done only for an administrator of the business ([`Change::checked`]);
/// the directory checks again in the change's own transaction.
struct Change {
    prefs: Prefs,
    uri: Uri,
    form: SignedForm,
    opened: Opened,
}

impl FromRequest<BusinessPortalState> for Change {
    type Rejection = Response;

    async fn from_request(
        request: Request,
        state: &BusinessPortalState,
    ) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let prefs = Prefs::from_headers(&parts.headers);
        let uri = parts.uri.clone();
        let brn = path_brn(&mut parts, state).await?;
        let form = SignedForm::from_request(Request::from_parts(parts, body), state).await?;
        let opened = open(state, prefs, &uri, &form.signed, &brn).await?;
        Ok(Change {
            prefs,
            uri,
            form,
            opened,
        })
    }
}

impl Change {
    fn brn(&self) -> &Brn {
        &self.opened.business.brn
    }

    fn caller(&self) -> Caller {
        self.form.signed.caller()
    }

    fn field(&self, name: &str) -> &str {
        self.form.fields.get(name)
    }

    /// `action`'s answer if the resident administers the business; else the refusal, and
    /// `action` never runs (a future does nothing until awaited), so a non-administrator
    /// learns nothing from it — not even whether an HKID is registered.
    /// The refusal is audited as `audited_as`, as the directory audits the refusals it makes.
    async fn checked<T, E: Into<Failed>>(
        &self,
        state: &BusinessPortalState,
        audited_as: &'static str,
        action: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<(), Failed> {
        if !self.opened.administers() {
            let refusal = AccessRefusal::NotAdministrator;
            state
                .corpid
                .record_refusal(self.brn(), audited_as, &self.caller(), refusal)
                .await
                .map_err(|e| Failed::Broken(e.to_string()))?;
            return Err(CorpIdError::Access(refusal).into());
        }
        action.await.map(|_| ()).map_err(Into::into)
    }

    /// What the form comes to: on success back to the dashboard's `section` with the `done`
    /// notice; on a refusal the dashboard again, with the error summary and the form as it
    /// was sent (nothing changed); a business no longer represented is the 404 page.
    async fn finish(
        self,
        state: &BusinessPortalState,
        kind: FormKind,
        (done, section): (&str, &str),
        result: Result<(), Failed>,
    ) -> Response {
        let Change {
            prefs,
            uri,
            form,
            opened,
        } = self;
        let error = match result {
            Ok(()) => return see_other(&format!("{}?done={done}#{section}", opened.path())),
            Err(Failed::Broken(cause)) => return internal(cause),
            Err(Failed::Refused(
                CorpIdError::BusinessNotFound | CorpIdError::Access(AccessRefusal::NotActive),
            )) => return not_found(prefs, &uri),
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
        dashboard_page(
            state,
            prefs,
            &uri,
            &form.signed,
            opened,
            None,
            Some(failure),
        )
        .await
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
    /// The business's company signatures, newest first.
    history: Vec<SignatureRecordView>,
    g: &'static signing::SigningTexts,
    /// Whether the resident may start a signature for the business.
    can_sign: bool,
    kinds: Vec<Choice>,
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
    let history = match signing::history(state, &opened, signed.resident(), lang).await {
        Ok(history) => history,
        Err(response) => return response,
    };
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
            history,
            g: signing::SigningTexts::get(lang),
            can_sign: signing::may_sign(&opened),
            kinds: signing::kinds(lang),
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
    Query(query): Query<DashboardQuery>,
    v: Viewed,
) -> Response {
    let b = BusinessTexts::get(v.prefs.lang);
    let notice = query.done.as_deref().and_then(|d| notice(d, b));
    dashboard_page(&state, v.prefs, &v.uri, &v.signed, v.opened, notice, None).await
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

/// The resident with the HKID of the form, granted its role. Only ever run for an
/// administrator (inside [`Change::checked`]).
async fn grant_by_hkid(state: &BusinessPortalState, change: &Change) -> Result<(), Failed> {
    let (hkid, role) = both(
        Hkid::parse(change.field("hkid")).map_err(|_| FieldFault::new("/hkid", "an HKID")),
        Role::parse(change.field("role")).ok_or_else(|| FieldFault::new("/role", "a role")),
    )?;
    let resident = state
        .identity
        .find_by_hkid(&hkid)
        .await
        .map_err(|e| Failed::Broken(e.to_string()))?
        .ok_or(CorpIdError::ResidentNotFound)?;
    let caller = change.caller();
    Ok(state
        .corpid
        .grant(change.brn(), &resident.id, role, &caller, now())
        .await?)
}

/// `POST /business/{brn}/representatives`: grant a role to the resident with an HKID.
async fn grant(State(state): State<BusinessPortalState>, change: Change) -> Response {
    let result = change
        .checked(&state, "corpid.role.grant", grant_by_hkid(&state, &change))
        .await;
    let to = ("granted", "representatives");
    change.finish(&state, FormKind::Grant, to, result).await
}

/// `POST /business/{brn}/representatives/{resident}/role`.
async fn change_role(
    State(state): State<BusinessPortalState>,
    Path((_, resident)): Path<(String, String)>,
    change: Change,
) -> Response {
    let caller = change.caller();
    let role =
        Role::parse(change.field("role")).ok_or_else(|| CorpIdError::field("/role", "a role"));
    let result = change
        .checked(&state, "corpid.role.change", async {
            let role = role?;
            state
                .corpid
                .change_role(change.brn(), &resident, role, &caller, now())
                .await
        })
        .await;
    let to = ("role", "representatives");
    change.finish(&state, FormKind::Role, to, result).await
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

/// The confirmation before something goes: `what`, and a form that posts back to this path.
fn confirm_page(
    v: &Viewed,
    (title, body, button): (&'static str, &'static str, &'static str),
    what: String,
) -> Response {
    no_store(render(
        &ConfirmTemplate {
            page: page(v.prefs, title, &v.uri),
            b: BusinessTexts::get(v.prefs.lang),
            title,
            body,
            what,
            action: v.uri.path().to_owned(),
            button,
            back: v.opened.path(),
            csrf: v.signed.session.csrf.clone(),
        },
        StatusCode::OK,
    ))
}

/// The page of a refusal on a page of its own (not the dashboard), with a way back to it.
fn refused_page(v: &Viewed, (title, code): (&str, ErrorCode)) -> Response {
    let b = BusinessTexts::get(v.prefs.lang);
    message(
        v.prefs,
        &v.uri,
        (title, b.nothing_changed),
        code,
        (v.opened.path(), b.back.to_owned()),
    )
}

/// `GET /business/{brn}/representatives/{resident}/revoke`: are you sure?
async fn confirm_revoke(
    State(state): State<BusinessPortalState>,
    Path((_, resident)): Path<(String, String)>,
    v: Viewed,
) -> Response {
    let b = BusinessTexts::get(v.prefs.lang);
    let listed = match representatives(&state, &v.opened, v.signed.resident(), v.prefs.lang).await {
        Ok(list) => list.into_iter().find(|r| r.resident_id == resident),
        Err(response) => return response,
    };
    let Some(who) = listed else {
        let refusal = (
            b.err_representative_not_found,
            ErrorCode::CorpidRepresentativeNotFound,
        );
        return refused_page(&v, refusal);
    };
    let what = format!("{} ({}) · {}", who.name, who.hkid_masked, who.role);
    confirm_page(
        &v,
        (b.confirm_revoke_title, b.confirm_revoke_body, b.revoke),
        what,
    )
}

/// `POST /business/{brn}/representatives/{resident}/revoke`.
async fn revoke(
    State(state): State<BusinessPortalState>,
    Path((_, resident)): Path<(String, String)>,
    change: Change,
) -> Response {
    let caller = change.caller();
    let action = state.corpid.revoke(change.brn(), &resident, &caller, now());
    let result = change.checked(&state, "corpid.role.revoke", action).await;
    let to = ("revoked", "representatives");
    change.finish(&state, FormKind::Revoke, to, result).await
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
async fn delegate(State(state): State<BusinessPortalState>, change: Change) -> Response {
    let at = now();
    let caller = change.caller();
    let terms = delegation_terms(&change.form.fields, at);
    let result = change
        .checked(&state, "corpid.delegation.create", async {
            let (agent, terms) = terms?;
            state
                .corpid
                .create_delegation(change.brn(), &agent, &terms, &caller, at)
                .await
        })
        .await;
    let to = ("delegated", "delegations");
    change
        .finish(&state, FormKind::Delegation, to, result)
        .await
}

/// `GET /business/{brn}/delegations/{id}/revoke`: are you sure?
async fn confirm_revoke_delegation(
    State(state): State<BusinessPortalState>,
    Path((_, id)): Path<(String, String)>,
    v: Viewed,
) -> Response {
    let rows = match state.corpid.delegations(&v.opened.business.id).await {
        Ok(rows) => rows,
        Err(e) => return internal(e),
    };
    let b = BusinessTexts::get(v.prefs.lang);
    let (given, _) = views::delegations(&rows, &v.opened.business.id, now(), v.prefs.lang);
    let Some(d) = given.into_iter().find(|d| d.id == id && d.revocable) else {
        return refused_page(
            &v,
            (
                b.err_delegation_not_found,
                ErrorCode::CorpidDelegationNotFound,
            ),
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
    confirm_page(&v, texts, what)
}

/// `POST /business/{brn}/delegations/{id}/revoke`.
async fn revoke_delegation(
    State(state): State<BusinessPortalState>,
    Path((_, id)): Path<(String, String)>,
    change: Change,
) -> Response {
    let caller = change.caller();
    let action = state
        .corpid
        .revoke_delegation(change.brn(), &id, &caller, now());
    let result = change
        .checked(&state, "corpid.delegation.revoke", action)
        .await;
    let to = ("delegation_revoked", "delegations");
    change
        .finish(&state, FormKind::RevokeDelegation, to, result)
        .await
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
async fn add_licence(State(state): State<BusinessPortalState>, change: Change) -> Response {
    let caller = change.caller();
    let draft = licence_draft(&change.form.fields);
    let action = state
        .corpid
        .add_licence(change.brn(), &draft, &caller, now());
    let result = change.checked(&state, "corpid.licence.add", action).await;
    let to = ("licence_added", "licences");
    change.finish(&state, FormKind::Licence, to, result).await
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

/// The licence's own edit page: `refill` in the form, and the refusal that brought it back.
fn licence_page(
    (prefs, uri, csrf): (Prefs, &Uri, &str),
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
            csrf: csrf.to_owned(),
        },
        status,
    ))
}

/// `GET /business/{brn}/licences/{id}`: the licence's edit form (administrators).
async fn edit_licence(
    State(state): State<BusinessPortalState>,
    Path((_, id)): Path<(String, String)>,
    v: Viewed,
) -> Response {
    let b = BusinessTexts::get(v.prefs.lang);
    if !v.opened.administers() {
        return refused_page(
            &v,
            (b.err_not_administrator, ErrorCode::CorpidNotAdministrator),
        );
    }
    match licence_of(&state, &v.opened, &id).await {
        Ok(Some(row)) => {
            let at = (v.prefs, &v.uri, v.signed.session.csrf.as_str());
            licence_page(at, &v.opened, licence_fields(&row), None)
        }
        Ok(None) => refused_page(
            &v,
            (b.err_licence_not_found, ErrorCode::CorpidLicenceNotFound),
        ),
        Err(response) => response,
    }
}

/// `POST /business/{brn}/licences/{id}`: replace the licence's record; a refusal shows the
/// edit form again with what was sent.
async fn update_licence(
    State(state): State<BusinessPortalState>,
    Path((_, id)): Path<(String, String)>,
    change: Change,
) -> Response {
    let caller = change.caller();
    let draft = licence_draft(&change.form.fields);
    let action = state
        .corpid
        .update_licence(change.brn(), &id, &draft, &caller, now());
    let error = match change
        .checked(&state, "corpid.licence.update", action)
        .await
    {
        Ok(()) => {
            return see_other(&format!(
                "{}?done=licence_updated#licences",
                change.opened.path()
            ))
        }
        Err(Failed::Refused(error)) => error,
        Err(Failed::Broken(cause)) => return internal(cause),
    };
    let kind = match error {
        // The dashboard says these (a licence gone, a business no longer represented, …).
        CorpIdError::Invalid(_) | CorpIdError::LicenceExists => FormKind::Licence,
        _ => {
            return change
                .finish(&state, FormKind::RemoveLicence, ("", ""), Err(error.into()))
                .await
        }
    };
    match views::explain(&error, kind, change.prefs.lang) {
        Some((code, view)) => {
            let at = (
                change.prefs,
                &change.uri,
                change.form.signed.session.csrf.as_str(),
            );
            let refill = change.form.fields.clone().refillable();
            licence_page(at, &change.opened, refill, Some((code.status(), view)))
        }
        None => internal(error),
    }
}

/// `GET /business/{brn}/licences/{id}/remove`: are you sure?
async fn confirm_remove_licence(
    State(state): State<BusinessPortalState>,
    Path((_, id)): Path<(String, String)>,
    v: Viewed,
) -> Response {
    let b = BusinessTexts::get(v.prefs.lang);
    let row = match licence_of(&state, &v.opened, &id).await {
        Ok(Some(row)) => row,
        Ok(None) => {
            return refused_page(
                &v,
                (b.err_licence_not_found, ErrorCode::CorpidLicenceNotFound),
            )
        }
        Err(response) => return response,
    };
    let what = format!("{} · {} · {}", row.licence_type, row.number, row.issuer);
    confirm_page(
        &v,
        (b.confirm_licence_title, b.confirm_licence_body, b.remove),
        what,
    )
}

/// `POST /business/{brn}/licences/{id}/remove`.
async fn remove_licence(
    State(state): State<BusinessPortalState>,
    Path((_, id)): Path<(String, String)>,
    change: Change,
) -> Response {
    let caller = change.caller();
    let action = state.corpid.remove_licence(change.brn(), &id, &caller);
    let result = change
        .checked(&state, "corpid.licence.remove", action)
        .await;
    let to = ("licence_removed", "licences");
    change
        .finish(&state, FormKind::RemoveLicence, to, result)
        .await
}

/// `POST /business/{brn}/signing-policy`: one or two signatories.
async fn set_policy(State(state): State<BusinessPortalState>, change: Change) -> Response {
    let caller = change.caller();
    let required = change
        .field("signatories_required")
        .parse::<i64>()
        .ok()
        .and_then(SignatoriesRequired::new)
        .ok_or_else(|| CorpIdError::field("/signatories_required", "1 or 2"));
    let result = change
        .checked(&state, "corpid.signing_policy.set", async {
            state
                .corpid
                .set_signing_policy(change.brn(), required?, &caller, now())
                .await
        })
        .await;
    change
        .finish(&state, FormKind::Policy, ("policy", "policy"), result)
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
