//! The addressing API under `/api/v1/fps/proxies`: participants (their API token; the operator
//! is refused) register, change and remove proxies for their own customers, and look payees up
//! — one at a time, or up to 1,000 in a bulk lookup (the only lookup that takes an HKID, for
//! payroll). A proxy never travels in the URL path, which is logged: keys go in the body, or
//! in the query string of the one GET.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bauhinia_core::extract::ApiJson;
use bauhinia_core::{ErrorCode, Problem, ProblemDocument};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::domain::{
    self, AccountReference, Consent, ConsentChannel, LookupMode, LookupPurpose, ProxyKey,
    ProxyKind, ProxyStatus, BULK_LOOKUP_MAX,
};
use super::service::{BulkAnswer, Found, ProxyChange, ProxyError, Registered, Registration};
use super::ProxyService;
use crate::http::{FpsCaller, FpsState};
use crate::switch::{Caller, ParticipantCode};

const TAG: &str = "fps";
/// 1,000 keys of at most 320 characters, with their JSON.
const BULK_BODY_MAX: usize = 512 * 1024;

#[derive(Debug, Clone)]
pub struct ProxyState {
    pub fps: FpsState,
    pub proxies: Arc<ProxyService>,
}

pub fn router(state: ProxyState) -> OpenApiRouter {
    let bulk = OpenApiRouter::new()
        .routes(routes!(bulk_lookup))
        .layer(DefaultBodyLimit::max(BULK_BODY_MAX))
        .with_state(state.clone());
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(change))
        .routes(routes!(remove))
        .routes(routes!(registration))
        .routes(routes!(lookup_get, lookup_post))
        .with_state(state)
        .merge(bulk)
}

/// A participant, proven by its API token. The operator's token is refused (403): proxies are
/// registered and looked up by participants for their customers.
#[derive(Debug, Clone, Copy)]
pub struct ParticipantCaller(pub ParticipantCode);

impl FromRequestParts<ProxyState> for ParticipantCaller {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ProxyState,
    ) -> Result<ParticipantCaller, Response> {
        let FpsCaller(caller) =
            <FpsCaller as FromRequestParts<FpsState>>::from_request_parts(parts, &state.fps)
                .await?;
        match caller {
            Caller::Participant(code) => Ok(ParticipantCaller(code)),
            Caller::Operator => Err(Problem::new(ErrorCode::FpsProxyForbidden)
                .detail("the operator neither registers nor looks up proxies: use a participant's token")
                .into_response()),
        }
    }
}

/// The kind of proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProxyKindName {
    /// A Hong Kong mobile number (`+852-91234567`; common forms accepted).
    Mobile,
    /// An email address (the domain is lower-cased).
    Email,
    /// An FPS ID, issued by the system (7 or 9 digits).
    FpsId,
    /// An HKID number: registered by participants for institutions' payees; looked up only in
    /// bulk with purpose `payroll`.
    Hkid,
}

impl From<ProxyKindName> for ProxyKind {
    fn from(k: ProxyKindName) -> ProxyKind {
        match k {
            ProxyKindName::Mobile => ProxyKind::Mobile,
            ProxyKindName::Email => ProxyKind::Email,
            ProxyKindName::FpsId => ProxyKind::FpsId,
            ProxyKindName::Hkid => ProxyKind::Hkid,
        }
    }
}

impl From<ProxyKind> for ProxyKindName {
    fn from(k: ProxyKind) -> ProxyKindName {
        match k {
            ProxyKind::Mobile => ProxyKindName::Mobile,
            ProxyKind::Email => ProxyKindName::Email,
            ProxyKind::FpsId => ProxyKindName::FpsId,
            ProxyKind::Hkid => ProxyKindName::Hkid,
        }
    }
}

/// Why the payer looks the payee up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LookupPurposeName {
    /// Person to person.
    P2p,
    /// Paying a merchant.
    Merchant,
    /// An institution paying individuals (salaries): the only purpose for HKID lookups.
    Payroll,
}

impl From<LookupPurposeName> for LookupPurpose {
    fn from(p: LookupPurposeName) -> LookupPurpose {
        match p {
            LookupPurposeName::P2p => LookupPurpose::P2p,
            LookupPurposeName::Merchant => LookupPurpose::Merchant,
            LookupPurposeName::Payroll => LookupPurpose::Payroll,
        }
    }
}

/// Where the customer consented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsentChannelName {
    Branch,
    Online,
    MobileApp,
    Phone,
}

impl From<ConsentChannelName> for ConsentChannel {
    fn from(c: ConsentChannelName) -> ConsentChannel {
        match c {
            ConsentChannelName::Branch => ConsentChannel::Branch,
            ConsentChannelName::Online => ConsentChannel::Online,
            ConsentChannelName::MobileApp => ConsentChannel::MobileApp,
            ConsentChannelName::Phone => ConsentChannel::Phone,
        }
    }
}

/// A status a participant may set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProxySettableStatus {
    Active,
    /// Not found by lookups until made active again.
    Suspended,
}

/// The customer's notice and consent.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProxyConsentDoc {
    /// When the customer consented (RFC 3339), not in the future.
    #[schema(example = "2026-02-01T10:00:00+08:00")]
    pub at: String,
    /// The version of the notice the customer was shown.
    #[schema(example = "v3")]
    pub version: String,
    pub channel: ConsentChannelName,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProxyRegisterRequest {
    pub kind: ProxyKindName,
    /// The proxy; left out for an FPS ID, which the system issues.
    pub key: Option<String>,
    /// The participant's own reference to the customer's account (1 to 34 characters). Shown
    /// only to this participant.
    pub account_reference: String,
    /// The customer's name (English, surname first, or Chinese): only its mask is kept.
    pub display_name: String,
    pub consent: ProxyConsentDoc,
    /// Take the default over from another participant where the key is registered (the
    /// customer's choice). Without it, such a registration is kept but not the default.
    #[serde(default)]
    pub set_default: bool,
}

/// A proxy, named by kind and key.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProxyKeyDoc {
    pub kind: ProxyKindName,
    pub key: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProxyChangeRequest {
    pub kind: ProxyKindName,
    pub key: String,
    pub account_reference: Option<String>,
    pub display_name: Option<String>,
    /// `true`: make this the key's default (taking it from another participant); `false`: stop
    /// being the default (not for FPS IDs).
    pub set_default: Option<bool>,
    pub status: Option<ProxySettableStatus>,
    /// A new consent (for example to a new notice version).
    pub consent: Option<ProxyConsentDoc>,
}

/// The consent on record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProxyConsentView {
    /// Unix seconds.
    pub at_s: i64,
    pub version: String,
    pub channel: String,
}

/// A participant's own registration.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProxyRegistrationDoc {
    pub kind: ProxyKindName,
    /// The normalised proxy (an FPS ID as issued); an HKID only masked.
    pub key: String,
    pub participant: String,
    pub account_reference: String,
    /// The name as lookups show it.
    pub masked_name: String,
    /// Whether lookups of the key answer this registration.
    pub default: bool,
    /// `active` or `suspended`.
    pub status: String,
    /// The participant whose default this registration has just taken over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaced: Option<String>,
    pub consent: ProxyConsentView,
}

impl From<Registered> for ProxyRegistrationDoc {
    fn from(r: Registered) -> ProxyRegistrationDoc {
        let key = match &r.key {
            ProxyKey::Hkid(_) => r.key.masked(),
            other => other.canonical(),
        };
        ProxyRegistrationDoc {
            kind: r.key.kind().into(),
            key,
            participant: r.participant.as_str(),
            account_reference: r.account,
            masked_name: r.masked_name,
            default: r.is_default,
            status: r.status.as_str().to_owned(),
            replaced: r.replaced.map(|p| p.as_str()),
            consent: ProxyConsentView {
                at_s: r.consent_at_s,
                version: r.consent_version,
                channel: r.consent_channel,
            },
        }
    }
}

/// The payee a proxy addresses.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProxyPayeeDoc {
    pub kind: ProxyKindName,
    /// The 3-digit code of the participant holding the account.
    pub participant: String,
    pub participant_name: String,
    /// The payee's masked name, such as `CHAN T** M**` or `陳*明`.
    pub masked_name: String,
    /// Only when the caller is that participant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_reference: Option<String>,
}

impl From<Found> for ProxyPayeeDoc {
    fn from(f: Found) -> ProxyPayeeDoc {
        ProxyPayeeDoc {
            kind: f.kind.into(),
            participant: f.participant.as_str(),
            participant_name: f.participant_name,
            masked_name: f.masked_name,
            account_reference: f.account,
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProxyLookupRequest {
    pub kind: ProxyKindName,
    /// The proxy (mobile, email or FPS ID; HKIDs only in bulk).
    pub key: String,
    /// `p2p` unless said.
    pub purpose: Option<LookupPurposeName>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProxyBulkLookupRequest {
    pub purpose: LookupPurposeName,
    /// 1 to 1,000 proxies.
    pub keys: Vec<ProxyKeyDoc>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProxyBulkStatus {
    Found,
    NotFound,
    /// The key is malformed (`detail` says how).
    Invalid,
    /// The key may not be looked up for this purpose (an HKID outside payroll).
    Forbidden,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProxyBulkResult {
    pub status: ProxyBulkStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payee: Option<ProxyPayeeDoc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProxyBulkLookupResponse {
    /// One per key, in the request's order.
    pub results: Vec<ProxyBulkResult>,
}

fn now_s() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

fn parse_key(
    kind: ProxyKindName,
    text: &str,
    pointer: &str,
    errors: &mut Vec<(String, String)>,
) -> Option<ProxyKey> {
    ProxyKey::parse(kind.into(), text)
        .map_err(|e| errors.push((pointer.to_owned(), e.0.to_owned())))
        .ok()
}

fn parse_consent(
    doc: &ProxyConsentDoc,
    pointer: &str,
    errors: &mut Vec<(String, String)>,
) -> Option<Consent> {
    let Ok(at) = OffsetDateTime::parse(doc.at.trim(), &Rfc3339) else {
        errors.push((
            format!("{pointer}/at"),
            "must be an RFC 3339 time, such as 2026-02-01T10:00:00+08:00".into(),
        ));
        return None;
    };
    Consent::new(
        at.unix_timestamp(),
        &doc.version,
        doc.channel.into(),
        now_s(),
    )
    .map_err(|(field, why)| errors.push((format!("{pointer}/{field}"), why.to_owned())))
    .ok()
}

fn parse_account(text: &str, errors: &mut Vec<(String, String)>) -> Option<AccountReference> {
    AccountReference::parse(text)
        .map_err(|why| errors.push(("/account_reference".into(), why.to_owned())))
        .ok()
}

fn invalid(errors: Vec<(String, String)>) -> Problem {
    ProxyError::Invalid(errors).into()
}

/// Registers a proxy for one of the calling participant's customers, pointing to one of its
/// accounts, with the customer's consent. An FPS ID is issued by the system (leave `key` out)
/// and returned. A key already registered at another participant is registered without being
/// the default unless `set_default` is true. Participants only.
#[utoipa::path(post, path = "/api/v1/fps/proxies", tag = TAG,
    request_body = ProxyRegisterRequest,
    security(("fps_token" = [])),
    responses((status = 201, description = "Registered", body = ProxyRegistrationDoc),
        (status = 400, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "This participant already registered the key (`fps.proxy_exists`)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 415, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (`fps.proxy_invalid`)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 503, body = ProblemDocument, content_type = "application/problem+json")))]
async fn register(
    State(state): State<ProxyState>,
    ParticipantCaller(participant): ParticipantCaller,
    ApiJson(request): ApiJson<ProxyRegisterRequest>,
) -> Result<(StatusCode, Json<ProxyRegistrationDoc>), Problem> {
    let mut errors = Vec::new();
    let key = match (&request.key, request.kind) {
        (Some(_), ProxyKindName::FpsId) => {
            errors.push((
                "/key".into(),
                "FPS IDs are issued by the system: leave the key out".into(),
            ));
            None
        }
        (Some(text), kind) => parse_key(kind, text, "/key", &mut errors),
        (None, ProxyKindName::FpsId) => None,
        (None, _) => {
            errors.push(("/key".into(), "is required for this kind".into()));
            None
        }
    };
    let account = parse_account(&request.account_reference, &mut errors);
    let consent = parse_consent(&request.consent, "/consent", &mut errors);
    if let Err(why) = domain::mask_name(&request.display_name) {
        errors.push(("/display_name".into(), why.to_owned()));
    }
    let (Some(account), Some(consent), true) = (account, consent, errors.is_empty()) else {
        return Err(invalid(errors));
    };
    let registered = state
        .proxies
        .register(
            participant,
            Registration {
                kind: request.kind.into(),
                key,
                account,
                display_name: request.display_name,
                consent,
                set_default: request.set_default,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(registered.into())))
}

/// Changes the calling participant's registration of a proxy: account reference, name,
/// default, status (active or suspended) or consent. Participants only.
#[utoipa::path(post, path = "/api/v1/fps/proxies/change", tag = TAG,
    request_body = ProxyChangeRequest,
    security(("fps_token" = [])),
    responses((status = 200, description = "Changed", body = ProxyRegistrationDoc),
        (status = 400, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "This participant has no such registration (`fps.proxy_not_found`)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 415, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 503, body = ProblemDocument, content_type = "application/problem+json")))]
async fn change(
    State(state): State<ProxyState>,
    ParticipantCaller(participant): ParticipantCaller,
    ApiJson(request): ApiJson<ProxyChangeRequest>,
) -> Result<Json<ProxyRegistrationDoc>, Problem> {
    let mut errors = Vec::new();
    let key = parse_key(request.kind, &request.key, "/key", &mut errors);
    let account = request
        .account_reference
        .as_deref()
        .map(|a| parse_account(a, &mut errors));
    let consent = request
        .consent
        .as_ref()
        .map(|c| parse_consent(c, "/consent", &mut errors));
    if let Some(Err(why)) = request.display_name.as_deref().map(domain::mask_name) {
        errors.push(("/display_name".into(), why.to_owned()));
    }
    let Some(key) = key.filter(|_| errors.is_empty()) else {
        return Err(invalid(errors));
    };
    let change = ProxyChange {
        account: account.flatten(),
        display_name: request.display_name,
        set_default: request.set_default,
        status: request.status.map(|s| match s {
            ProxySettableStatus::Active => ProxyStatus::Active,
            ProxySettableStatus::Suspended => ProxyStatus::Suspended,
        }),
        consent: consent.flatten(),
    };
    let registered = state.proxies.change(participant, &key, change).await?;
    Ok(Json(registered.into()))
}

/// Removes the calling participant's registration of a proxy. A removed FPS ID is retired,
/// never issued again. Removing the default does not make another registration the default.
/// Participants only.
#[utoipa::path(post, path = "/api/v1/fps/proxies/remove", tag = TAG,
    request_body = ProxyKeyDoc,
    security(("fps_token" = [])),
    responses((status = 204, description = "Removed"),
        (status = 400, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 415, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 503, body = ProblemDocument, content_type = "application/problem+json")))]
async fn remove(
    State(state): State<ProxyState>,
    ParticipantCaller(participant): ParticipantCaller,
    ApiJson(request): ApiJson<ProxyKeyDoc>,
) -> Result<StatusCode, Problem> {
    let mut errors = Vec::new();
    let Some(key) = parse_key(request.kind, &request.key, "/key", &mut errors) else {
        return Err(invalid(errors));
    };
    state.proxies.remove(participant, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The calling participant's own registration of a proxy, with its account reference.
/// Participants only.
#[utoipa::path(post, path = "/api/v1/fps/proxies/registration", tag = TAG,
    request_body = ProxyKeyDoc,
    security(("fps_token" = [])),
    responses((status = 200, body = ProxyRegistrationDoc),
        (status = 400, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 415, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 503, body = ProblemDocument, content_type = "application/problem+json")))]
async fn registration(
    State(state): State<ProxyState>,
    ParticipantCaller(participant): ParticipantCaller,
    ApiJson(request): ApiJson<ProxyKeyDoc>,
) -> Result<Json<ProxyRegistrationDoc>, Problem> {
    let mut errors = Vec::new();
    let Some(key) = parse_key(request.kind, &request.key, "/key", &mut errors) else {
        return Err(invalid(errors));
    };
    let registered = state.proxies.registration(participant, &key).await?;
    Ok(Json(registered.into()))
}

async fn lookup_one(
    state: &ProxyState,
    participant: ParticipantCode,
    request: ProxyLookupRequest,
) -> Result<Json<ProxyPayeeDoc>, Problem> {
    let mut errors = Vec::new();
    let Some(key) = parse_key(request.kind, &request.key, "/key", &mut errors) else {
        return Err(invalid(errors));
    };
    let purpose = request.purpose.map_or(LookupPurpose::P2p, Into::into);
    state
        .proxies
        .lookup(participant, &key, purpose, LookupMode::Single)
        .await?
        .map(|found| Json(found.into()))
        .ok_or_else(|| Problem::new(ErrorCode::FpsProxyNotFound))
}

/// Finds the payee a proxy addresses: the participant and the masked name (the account
/// reference only to the participant holding it). Mobile, email or FPS ID; an HKID is refused
/// (403; HKIDs only in a bulk lookup for payroll). The key is in the query string, never the
/// path. Participants only.
#[utoipa::path(get, path = "/api/v1/fps/proxies/lookup", tag = TAG,
    params(ProxyLookupRequest),
    security(("fps_token" = [])),
    responses((status = 200, body = ProxyPayeeDoc),
        (status = 400, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No active default registration (`fps.proxy_not_found`)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 503, body = ProblemDocument, content_type = "application/problem+json")))]
async fn lookup_get(
    State(state): State<ProxyState>,
    ParticipantCaller(participant): ParticipantCaller,
    query: Result<Query<ProxyLookupRequest>, QueryRejection>,
) -> Result<Json<ProxyPayeeDoc>, Problem> {
    let Query(request) =
        query.map_err(|e| Problem::new(ErrorCode::InvalidQuery).detail(e.body_text()))?;
    lookup_one(&state, participant, request).await
}

/// The same lookup with the proxy in the body.
#[utoipa::path(post, path = "/api/v1/fps/proxies/lookup", tag = TAG,
    request_body = ProxyLookupRequest,
    security(("fps_token" = [])),
    responses((status = 200, body = ProxyPayeeDoc),
        (status = 400, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 415, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 503, body = ProblemDocument, content_type = "application/problem+json")))]
async fn lookup_post(
    State(state): State<ProxyState>,
    ParticipantCaller(participant): ParticipantCaller,
    ApiJson(request): ApiJson<ProxyLookupRequest>,
) -> Result<Json<ProxyPayeeDoc>, Problem> {
    lookup_one(&state, participant, request).await
}

/// Looks up 1 to 1,000 proxies at once (a payroll or bulk-payment file), answering each in
/// order: found (participant and masked name), not found, invalid or forbidden. HKIDs are
/// looked up only here, and only with purpose `payroll`. Participants only.
#[utoipa::path(post, path = "/api/v1/fps/proxies/lookup/bulk", tag = TAG,
    request_body = ProxyBulkLookupRequest,
    security(("fps_token" = [])),
    responses((status = 200, body = ProxyBulkLookupResponse),
        (status = 400, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 415, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "No keys or more than 1,000 (`fps.proxy_invalid`)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 503, body = ProblemDocument, content_type = "application/problem+json")))]
async fn bulk_lookup(
    State(state): State<ProxyState>,
    ParticipantCaller(participant): ParticipantCaller,
    ApiJson(request): ApiJson<ProxyBulkLookupRequest>,
) -> Result<Json<ProxyBulkLookupResponse>, Problem> {
    if request.keys.is_empty() || request.keys.len() > BULK_LOOKUP_MAX {
        return Err(invalid(vec![(
            "/keys".into(),
            format!("must hold 1 to {BULK_LOOKUP_MAX} proxies"),
        )]));
    }
    let keys: Vec<_> = request
        .keys
        .iter()
        .map(|k| ProxyKey::parse(k.kind.into(), &k.key))
        .collect();
    let answers = state
        .proxies
        .lookup_many(participant, &keys, request.purpose.into())
        .await?;
    let results = answers
        .into_iter()
        .map(|answer| match answer {
            BulkAnswer::Found(found) => ProxyBulkResult {
                status: ProxyBulkStatus::Found,
                payee: Some(found.into()),
                detail: None,
            },
            BulkAnswer::NotFound => ProxyBulkResult {
                status: ProxyBulkStatus::NotFound,
                payee: None,
                detail: None,
            },
            BulkAnswer::Invalid(why) => ProxyBulkResult {
                status: ProxyBulkStatus::Invalid,
                payee: None,
                detail: Some(why.to_owned()),
            },
            BulkAnswer::Forbidden(why) => ProxyBulkResult {
                status: ProxyBulkStatus::Forbidden,
                payee: None,
                detail: Some(why.to_owned()),
            },
        })
        .collect();
    Ok(Json(ProxyBulkLookupResponse { results }))
}
