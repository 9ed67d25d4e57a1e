//! The flow itself: pushed and front-channel authorization requests, the interaction that
//! waits for the resident (on this device or in the app), code issuance, the token endpoint's
//! two grants, userinfo, introspection, revocation and logout. HTTP lives in `http.rs`; this
//! file takes parsed parameters and header values and returns results or OAuth errors.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

use axum::http::HeaderMap;
use bauhinia_core::crypto::Vault;
use bauhinia_store::audit::{AuditEvent, Outcome};
use bauhinia_store::Database;
use serde::{Deserialize, Serialize};

use crate::corporate::{CorporateDirectory, Representation};
use crate::jose;
use crate::keys::{now, KeyRing};
use crate::oidc::client_auth::{self, Authenticated, RemoteJwks};
use crate::oidc::clients::{Client, Clients, Profile};
use crate::oidc::corporate::{self, Denial, GrantBusiness};
use crate::oidc::dpop::{self, Proof};
use crate::oidc::fields::{Field, Scope};
use crate::oidc::request::{self, param, AuthRequest, Prompt, RequestError};
use crate::oidc::store::{
    ConsentRow, FlowStore, GrantClaims, GrantRow, InteractionRow, NewGrant, NewToken, Redemption,
    Replay,
};
use crate::oidc::{
    random_token, token_hash, OAuthError, ACCESS_TOKEN_TTL_S, CODE_TTL_S, ID_TOKEN_TTL_S,
    INTERACTION_TTL_S, PAR_TTL_S, REFRESH_TOKEN_TTL_S, REQUEST_URI_PREFIX,
};
use crate::IdentityService;

pub const PAR_PATH: &str = "/oauth2/par";
pub const AUTHORIZE_PATH: &str = "/oauth2/authorize";
pub const TOKEN_PATH: &str = "/oauth2/token";
pub const USERINFO_PATH: &str = "/oauth2/userinfo";
pub const REVOKE_PATH: &str = "/oauth2/revoke";
pub const INTROSPECT_PATH: &str = "/oauth2/introspect";
pub const LOGOUT_PATH: &str = "/oauth2/logout";
pub const JWKS_PATH: &str = "/oauth2/jwks";
pub const INTERACTION_PATH: &str = "/oauth2/interaction";
/// The app's approval page for a cross-device request.
pub const APP_APPROVE_PATH: &str = "/app/approve";

/// The one authentication context class: a user-verified passkey.
pub const ACR_PASSKEY: &str = "urn:bauhinia:acr:passkey";

const PAIRWISE_CONTEXT: &str = "identity.pairwise_sub";
const APP_CODE_CONTEXT: &str = "identity.app_code";

/// How the resident authenticated, carried from the session to the grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthContext {
    pub auth_time: i64,
    pub acr: String,
    pub amr: Vec<String>,
    pub session_id: Option<String>,
}

/// What the resident decided, stored on the interaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Decision {
    fields: BTreeSet<Field>,
    auth: AuthContext,
    /// Corporate login: the business chosen, as the directory described it at approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    business: Option<Representation>,
}

/// An interaction as its pages need it.
#[derive(Debug, Clone)]
pub struct Interaction {
    pub id: String,
    pub client: Client,
    pub request: AuthRequest,
    pub status: InteractionStatus,
    pub created_at: i64,
    pub expires_at: i64,
    pub resident_id: Option<String>,
    browser_hash: Vec<u8>,
    /// Why the provider itself ended a rejected request, if it did.
    denial: Option<Denial>,
}

impl Interaction {
    /// The audit event of a step of this request refused to the resident.
    fn refused(&self, resident_id: &str, action: &'static str) -> AuditEvent {
        failure(
            format!("resident:{resident_id}"),
            action,
            format!("service:{}", self.client.client_id),
            serde_json::json!({ "interaction": self.id }),
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InteractionStatus {
    Pending,
    Approved,
    Rejected,
    Cancelled,
    Completed,
    Expired,
}

/// An interaction started at `/authorize`: where to send the browser, and the secret that
/// binds the interaction to it (set as a cookie).
#[derive(Debug, Clone)]
pub struct Started {
    pub interaction_id: String,
    pub browser_secret: String,
}

/// What the waiting page does next (see [`Provider::next_step`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextStep {
    /// Show the login choices (the app's QR code, a passkey on this device).
    Login,
    /// Show the consent screen. For corporate login, `businesses` are those the resident may
    /// act for now: one is shown and used; several are a required choice. Empty otherwise.
    Consent { businesses: Vec<Representation> },
    /// Approved already: go on to complete.
    Continue,
    /// End the request: send the browser here (the service, with an error).
    Redirect(String),
}

/// Why an interaction cannot be shown or continued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InteractionError {
    NotFound,
    /// Opened in another browser than the one that started it.
    WrongBrowser,
    /// Not in a state this step accepts.
    State(InteractionStatus),
    /// The resident must authenticate again first (`prompt=login`, `max_age`).
    ReauthenticationRequired,
    /// Fields beyond what the service asked for.
    FieldNotRequested(Field),
    /// Corporate login: the resident represents no business; the request has been ended
    /// with `access_denied` (audited).
    NotRepresentative,
    /// Corporate login: the resident acts for several businesses and must name one.
    BusinessRequired,
    /// Corporate login: the named business is not one the resident may act for now (forged,
    /// or the representation ended since the page was shown). Nothing was approved.
    BusinessNotOffered,
    /// A business was named for a request that did not ask for corporate login.
    BusinessNotRequested,
    Server(String),
}

/// A token response (RFC 6749 section 5.1).
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub refresh_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub scope: String,
}

#[derive(Debug)]
pub struct Provider {
    pub issuer: String,
    pub keys: Arc<KeyRing>,
    pub clients: Clients,
    remote: RemoteJwks,
    store: FlowStore,
    vault: Arc<Vault>,
    identity: Arc<IdentityService>,
    /// The business directory corporate login asks; set once by the binary after
    /// construction, because the directory is another crate's service built beside this one.
    corporate: OnceLock<Arc<dyn CorporateDirectory>>,
}

fn event(
    actor: String,
    action: &'static str,
    subject: String,
    detail: serde_json::Value,
) -> AuditEvent {
    AuditEvent {
        actor,
        action,
        subject,
        outcome: Outcome::Success,
        detail,
        request_id: None,
    }
}

/// An event that records a refusal or an ending the resident or service did not ask for.
fn failure(
    actor: String,
    action: &'static str,
    subject: String,
    detail: serde_json::Value,
) -> AuditEvent {
    AuditEvent {
        outcome: Outcome::Failure,
        ..event(actor, action, subject, detail)
    }
}

fn server(e: impl std::fmt::Display) -> OAuthError {
    OAuthError::server_error(&e)
}

/// Appends query parameters to a redirect URI that may already have a query.
pub fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    match url::Url::parse(uri) {
        Ok(mut url) => {
            {
                let mut query = url.query_pairs_mut();
                for (k, v) in pairs {
                    query.append_pair(k, v);
                }
            }
            url.to_string()
        }
        Err(_) => uri.to_owned(),
    }
}

impl Provider {
    pub async fn new(
        db: &Database,
        vault: Arc<Vault>,
        identity: Arc<IdentityService>,
        issuer: &str,
    ) -> Result<Provider, crate::keys::KeyError> {
        let keys = Arc::new(KeyRing::load(db, vault.clone()).await?);
        Ok(Provider {
            issuer: issuer.trim_end_matches('/').to_owned(),
            keys,
            clients: Clients::new(db, vault.clone()),
            remote: RemoteJwks::default(),
            store: FlowStore::new(db),
            vault,
            identity,
            corporate: OnceLock::new(),
        })
    }

    /// Gives the provider the business directory, enabling the `corpid` scope. Once only:
    /// a second directory is handed back unused.
    pub fn set_corporate_directory(
        &self,
        directory: Arc<dyn CorporateDirectory>,
    ) -> Result<(), Arc<dyn CorporateDirectory>> {
        self.corporate.set(directory)
    }

    fn directory(&self) -> Option<&dyn CorporateDirectory> {
        self.corporate.get().map(|d| d.as_ref())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    pub fn store(&self) -> &FlowStore {
        &self.store
    }

    /// Authenticates a service on one of Bauhinia's own back-channel APIs (signing requests)
    /// exactly as at the token endpoint, recording the assertion against replay.
    pub async fn authenticate_service(
        &self,
        headers: &HeaderMap,
        params: &BTreeMap<String, Vec<String>>,
    ) -> Result<Client, OAuthError> {
        let auth = self.authenticate(headers, params).await?;
        self.after_start(Some(&auth), None)?;
        if let Some(replay) = &auth.replay {
            if self
                .store
                .record_replays(std::slice::from_ref(replay))
                .await?
                .is_some()
            {
                return Err(OAuthError::invalid_client(
                    "client assertion was used before (jti replay)",
                ));
            }
        }
        Ok(auth.client)
    }

    /// The resident a service knows by its pairwise `sub` (from an earlier login).
    pub async fn resident_for_subject(
        &self,
        client_id: &str,
        subject: &str,
    ) -> Result<Option<String>, OAuthError> {
        Ok(self.store.resident_for_subject(client_id, subject).await?)
    }

    /// OpenID Provider metadata (OpenID Connect Discovery 1.0, RFC 8414).
    pub fn discovery(&self) -> serde_json::Value {
        let claims: Vec<&str> = [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "acr",
            "amr",
            "sid",
        ]
        .into_iter()
        .chain(
            Field::ALL
                .iter()
                .filter(|f| !f.corporate() || self.directory().is_some())
                .map(|f| f.as_str()),
        )
        .chain(
            corporate::CLAIMS
                .into_iter()
                .filter(|_| self.directory().is_some()),
        )
        .collect();
        // `corpid` and its data are offered only when there is a directory to answer them.
        let scopes: Vec<&str> = Scope::ALL
            .iter()
            .filter(|s| !s.corporate() || self.directory().is_some())
            .map(|s| s.as_str())
            .collect();
        serde_json::json!({
            "issuer": self.issuer,
            "authorization_endpoint": self.url(AUTHORIZE_PATH),
            "pushed_authorization_request_endpoint": self.url(PAR_PATH),
            "require_pushed_authorization_requests": false,
            "token_endpoint": self.url(TOKEN_PATH),
            "userinfo_endpoint": self.url(USERINFO_PATH),
            "jwks_uri": self.url(JWKS_PATH),
            "revocation_endpoint": self.url(REVOKE_PATH),
            "introspection_endpoint": self.url(INTROSPECT_PATH),
            "end_session_endpoint": self.url(LOGOUT_PATH),
            "scopes_supported": scopes,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["ES256", "RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic"],
            "token_endpoint_auth_signing_alg_values_supported": ["ES256", "PS256"],
            "revocation_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic"],
            "revocation_endpoint_auth_signing_alg_values_supported": ["ES256", "PS256"],
            "introspection_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic"],
            "introspection_endpoint_auth_signing_alg_values_supported": ["ES256", "PS256"],
            "code_challenge_methods_supported": ["S256"],
            "dpop_signing_alg_values_supported": ["ES256", "PS256"],
            "authorization_response_iss_parameter_supported": true,
            "claims_parameter_supported": true,
            "request_parameter_supported": false,
            "request_uri_parameter_supported": false,
            "claims_supported": claims,
            "acr_values_supported": [ACR_PASSKEY],
            "prompt_values_supported": ["none", "login", "consent"],
            "ui_locales_supported": ["zh-Hant", "zh-Hans", "en"],
            "claims_locales_supported": ["en", "zh-Hant"],
        })
    }

    async fn authenticate(
        &self,
        headers: &HeaderMap,
        params: &BTreeMap<String, Vec<String>>,
    ) -> Result<Authenticated, OAuthError> {
        client_auth::authenticate(&self.clients, &self.remote, headers, params, &self.issuer).await
    }

    /// The DPoP proof of a back-channel request, if it sent one (FAPI 2.0 clients must: the
    /// caller checks) of a back-channel request.
    fn proof(
        &self,
        dpop_values: &[&str],
        path: &str,
        access_token: Option<&str>,
    ) -> Result<Option<Proof>, OAuthError> {
        if dpop_values.is_empty() {
            return Ok(None);
        }
        dpop::verify(dpop_values, "POST", &self.url(path), access_token).map(Some)
    }

    /// Where seen JWT ids live in memory (the embedded database), ids seen before this process
    /// started are unknown: an assertion or proof made before the start is refused instead.
    fn after_start(
        &self,
        auth: Option<&Authenticated>,
        proof: Option<&Proof>,
    ) -> Result<(), OAuthError> {
        let Some(started) = self.store.replays_remembered_since() else {
            return Ok(());
        };
        let before = |t: i64| t < started - crate::oidc::CLOCK_SKEW_S;
        if auth.and_then(|a| a.issued_at).is_some_and(before) {
            return Err(OAuthError::invalid_client(
                "client assertion was made before the server started; make a new one",
            ));
        }
        if proof.is_some_and(|p| before(p.iat)) {
            return Err(OAuthError::invalid_dpop_proof(
                "DPoP proof was made before the server started; make a new one",
            ));
        }
        Ok(())
    }

    fn replays(auth: &Authenticated, proof: Option<&Proof>) -> (Vec<Replay>, Option<usize>) {
        let mut replays = Vec::new();
        if let Some(r) = &auth.replay {
            replays.push(r.clone());
        }
        let dpop_index = proof.map(|p| {
            replays.push((p.replay_scope(), p.jti.clone(), p.replay_expiry()));
            replays.len() - 1
        });
        (replays, dpop_index)
    }

    fn replay_error(index: usize, dpop_index: Option<usize>) -> OAuthError {
        if Some(index) == dpop_index {
            OAuthError::invalid_dpop_proof("DPoP proof was used before (jti replay)")
        } else {
            OAuthError::invalid_client("client assertion was used before (jti replay)")
        }
    }

    /// `POST /oauth2/par` (RFC 9126).
    pub async fn push(
        &self,
        headers: &HeaderMap,
        params: &BTreeMap<String, Vec<String>>,
        dpop_values: &[&str],
    ) -> Result<(String, i64), OAuthError> {
        let auth = self.authenticate(headers, params).await?;
        let proof = self.proof(dpop_values, PAR_PATH, None)?;
        self.after_start(Some(&auth), proof.as_ref())?;
        let request = request::validate(
            Some(&auth.client),
            params,
            true,
            proof.as_ref().map(|p| p.jkt.clone()),
        )
        .map_err(RequestError::into_oauth)?;
        self.corporate_available(&request)?;
        let request_uri = format!("{REQUEST_URI_PREFIX}{}", random_token().map_err(server)?);
        let document = serde_json::to_string(&request).map_err(server)?;
        let (replays, dpop_index) = Self::replays(&auth, proof.as_ref());
        if let Some(i) = self
            .store
            .insert_par(
                &token_hash(&request_uri),
                &auth.client.client_id,
                &document,
                now() + PAR_TTL_S,
                &replays,
            )
            .await?
        {
            return Err(Self::replay_error(i, dpop_index));
        }
        Ok((request_uri, PAR_TTL_S))
    }

    /// `GET /oauth2/authorize`: checks the request (or takes the pushed one) and starts an
    /// interaction bound to this browser.
    pub async fn authorize(
        &self,
        params: &BTreeMap<String, Vec<String>>,
    ) -> Result<Started, RequestError> {
        let unredirectable = RequestError::Unredirectable;
        let client_id = param(params, "client_id")
            .map_err(unredirectable)?
            .ok_or_else(|| unredirectable(OAuthError::invalid_request("client_id is required")))?;
        let client = self
            .clients
            .get(client_id)
            .await
            .map_err(|e| unredirectable(server(e)))?
            .filter(|c| c.active)
            .ok_or_else(|| {
                unredirectable(OAuthError::invalid_request("unknown or disabled client_id"))
            })?;
        let request = match param(params, "request_uri").map_err(unredirectable)? {
            Some(uri) => {
                let stored = if uri.starts_with(REQUEST_URI_PREFIX) {
                    self.store
                        .take_par(&token_hash(uri), &client.client_id)
                        .await
                        .map_err(|e| unredirectable(server(e)))?
                } else {
                    None
                };
                let stored = stored.ok_or_else(|| {
                    unredirectable(OAuthError::invalid_request_uri(
                        "request_uri is unknown, expired, already used, or another client's",
                    ))
                })?;
                serde_json::from_str::<AuthRequest>(&stored)
                    .map_err(|e| unredirectable(server(e)))?
            }
            None => request::validate(Some(&client), params, false, None)?,
        };
        self.corporate_available(&request)
            .map_err(|error| RequestError::Redirect {
                redirect_uri: request.redirect_uri.clone(),
                state: request.state.clone(),
                error,
            })?;
        let browser_secret = random_token().map_err(|e| unredirectable(server(e)))?;
        let at = now();
        let row = InteractionRow {
            id: uuid::Uuid::new_v4().to_string(),
            browser_hash: token_hash(&browser_secret),
            client_id: client.client_id.clone(),
            request: serde_json::to_string(&request).map_err(|e| unredirectable(server(e)))?,
            status: "pending".into(),
            created_at: at,
            expires_at: at + INTERACTION_TTL_S,
            resident_id: None,
            decision: None,
        };
        self.store
            .insert_interaction(&row)
            .await
            .map_err(|e| unredirectable(server(e)))?;
        Ok(Started {
            interaction_id: row.id,
            browser_secret,
        })
    }

    /// A request for `corpid` needs a directory to ask.
    fn corporate_available(&self, request: &AuthRequest) -> Result<(), OAuthError> {
        if request.corporate() && self.directory().is_none() {
            return Err(OAuthError::invalid_scope(corporate::NOT_AVAILABLE));
        }
        Ok(())
    }

    /// Loads an interaction; `browser_secret` (when given) must be the one it was started with.
    pub async fn interaction(
        &self,
        id: &str,
        browser_secret: Option<&str>,
    ) -> Result<Interaction, InteractionError> {
        let row = self
            .store
            .interaction(id)
            .await
            .map_err(|e| InteractionError::Server(e.to_string()))?
            .ok_or(InteractionError::NotFound)?;
        if let Some(secret) = browser_secret {
            if !openssl::memcmp::eq(&token_hash(secret), &row.browser_hash) {
                return Err(InteractionError::WrongBrowser);
            }
        }
        let client = self
            .clients
            .get(&row.client_id)
            .await
            .map_err(|e| InteractionError::Server(e.to_string()))?
            .ok_or(InteractionError::NotFound)?;
        let request: AuthRequest = serde_json::from_str(&row.request)
            .map_err(|e| InteractionError::Server(e.to_string()))?;
        let status = match row.status.as_str() {
            "pending" if row.expires_at <= now() => InteractionStatus::Expired,
            "pending" => InteractionStatus::Pending,
            "approved" => InteractionStatus::Approved,
            "rejected" => InteractionStatus::Rejected,
            "cancelled" => InteractionStatus::Cancelled,
            _ => InteractionStatus::Completed,
        };
        let denial = match (status, &row.decision) {
            (InteractionStatus::Rejected, Some(text)) => serde_json::from_str(text).ok(),
            _ => None,
        };
        Ok(Interaction {
            id: row.id,
            client,
            request,
            status,
            created_at: row.created_at,
            expires_at: row.expires_at,
            resident_id: row.resident_id,
            browser_hash: row.browser_hash,
            denial,
        })
    }

    /// The code the app link carries for a cross-device approval: a keyed hash of the
    /// interaction and its browser binding, so the link cannot be guessed from the id.
    pub fn app_code(&self, interaction: &Interaction) -> String {
        let mut input = interaction.id.as_bytes().to_vec();
        input.extend_from_slice(&interaction.browser_hash);
        jose::b64(&self.vault.lookup_hash(APP_CODE_CONTEXT, &input))
    }

    /// Opens an interaction from the app link.
    pub async fn interaction_for_app(
        &self,
        id: &str,
        code: &str,
    ) -> Result<Interaction, InteractionError> {
        let interaction = self.interaction(id, None).await?;
        if !openssl::memcmp::eq(self.app_code(&interaction).as_bytes(), code.as_bytes())
            || code.len() != self.app_code(&interaction).len()
        {
            return Err(InteractionError::NotFound);
        }
        Ok(interaction)
    }

    /// Whether an authentication satisfies the request's freshness (`prompt=login`, `max_age`).
    pub fn fresh_enough(&self, interaction: &Interaction, auth: &AuthContext) -> bool {
        let login_again = interaction.request.prompt.contains(&Prompt::Login)
            && auth.auth_time < interaction.created_at;
        let too_old = interaction
            .request
            .max_age
            .is_some_and(|max| now() - auth.auth_time > max);
        !(login_again || too_old)
    }

    /// The resident's existing consent that already covers this request, if any: for
    /// corporate login, only a consent given for the same `business`.
    pub async fn covering_consent(
        &self,
        interaction: &Interaction,
        resident_id: &str,
        business: Option<&str>,
    ) -> Result<Option<ConsentRow>, InteractionError> {
        let wanted = interaction.request.fields();
        let consents = self
            .store
            .active_consents(resident_id, Some(&interaction.client.client_id))
            .await
            .map_err(|e| InteractionError::Server(e.to_string()))?;
        Ok(consents.into_iter().find(|c| {
            c.revoked_at.is_none()
                && c.corp_business_id.as_deref() == business
                && serde_json::from_str::<BTreeSet<Field>>(&c.fields)
                    .is_ok_and(|f| wanted.is_subset(&f))
        }))
    }

    /// What the waiting page does next, for a resident signed in with `auth` (or nobody):
    /// continue at once when an earlier consent covers the request (unless `prompt=consent`),
    /// show the consent screen, or show the login choices; with `prompt=none`, end the request
    /// with `login_required` or `consent_required` instead of showing anything. A corporate
    /// request of a resident who represents no business ends with `access_denied`; one who
    /// represents several is always shown the choice.
    pub async fn next_step(
        &self,
        interaction: &Interaction,
        signed_in: Option<(&str, AuthContext)>,
    ) -> Result<NextStep, InteractionError> {
        let request = &interaction.request;
        let silent_only = request.prompt.contains(&Prompt::None);
        let refuse_with = |error: OAuthError| async move {
            // Already decided (raced, expired): the redirect still tells the service.
            let _ = self.refuse(interaction, None).await;
            Ok(NextStep::Redirect(self.error_redirect(request, &error)))
        };
        let Some((resident_id, auth)) =
            signed_in.filter(|(_, a)| self.fresh_enough(interaction, a))
        else {
            if silent_only {
                return refuse_with(OAuthError::login_required("the resident is not logged in"))
                    .await;
            }
            return Ok(NextStep::Login);
        };
        let businesses = match self.businesses_for(interaction, resident_id).await {
            Err(InteractionError::NotRepresentative) => {
                return Ok(NextStep::Redirect(self.error_redirect(
                    request,
                    &OAuthError::access_denied(corporate::NOT_REPRESENTATIVE),
                )))
            }
            other => other?,
        };
        let only = match businesses.as_slice() {
            [one] => Some(one.business_id.as_str()),
            _ => None,
        };
        let choice_needed = businesses.len() > 1;
        let covered = !choice_needed
            && self
                .covering_consent(interaction, resident_id, only)
                .await?
                .is_some();
        if covered && !request.prompt.contains(&Prompt::Consent) {
            self.approve_as(interaction, resident_id, request.fields(), only, auth)
                .await?;
            return Ok(NextStep::Continue);
        }
        if silent_only {
            return refuse_with(OAuthError::consent_required(
                "the resident has not consented to this request",
            ))
            .await;
        }
        Ok(NextStep::Consent { businesses })
    }

    /// The businesses a corporate request may be approved for: those the resident represents
    /// now, sorted by BRN. Empty for a request without `corpid`. A resident who represents
    /// none ends the request here (`access_denied`, audited) and gets
    /// [`InteractionError::NotRepresentative`].
    pub async fn businesses_for(
        &self,
        interaction: &Interaction,
        resident_id: &str,
    ) -> Result<Vec<Representation>, InteractionError> {
        if !interaction.request.corporate() {
            return Ok(Vec::new());
        }
        let directory = self
            .directory()
            .ok_or_else(|| InteractionError::Server(corporate::NOT_AVAILABLE.into()))?;
        let businesses = directory
            .representations(resident_id, now())
            .await
            .map_err(|e| InteractionError::Server(e.to_string()))?;
        if !businesses.is_empty() {
            return Ok(businesses);
        }
        let denial = serde_json::to_string(&Denial::NotRepresentative)
            .map_err(|e| InteractionError::Server(e.to_string()))?;
        let audit = interaction.refused(resident_id, "identity.corporate.not_representative");
        // A request decided already (raced, expired) keeps its decision; the resident is told
        // the same either way.
        self.store
            .decide(
                &interaction.id,
                "rejected",
                Some(resident_id),
                Some(&denial),
                &audit,
            )
            .await
            .map_err(|e| InteractionError::Server(e.to_string()))?;
        Err(InteractionError::NotRepresentative)
    }

    /// The resident approves, releasing `fields` (a subset of what was asked). For corporate
    /// login, see [`Provider::approve_as`]; here the only business is taken.
    pub async fn approve(
        &self,
        interaction: &Interaction,
        resident_id: &str,
        fields: BTreeSet<Field>,
        auth: AuthContext,
    ) -> Result<(), InteractionError> {
        self.approve_as(interaction, resident_id, fields, None, auth)
            .await
    }

    /// The resident approves, releasing `fields` and, for corporate login, acting for
    /// `business` (the directory's id): it must be one the resident represents now, checked
    /// with the directory again here, since the page's form comes from outside. Without
    /// `business` a corporate request is approved only for a resident with exactly one.
    pub async fn approve_as(
        &self,
        interaction: &Interaction,
        resident_id: &str,
        fields: BTreeSet<Field>,
        business: Option<&str>,
        auth: AuthContext,
    ) -> Result<(), InteractionError> {
        if interaction.status != InteractionStatus::Pending {
            return Err(InteractionError::State(interaction.status));
        }
        if !self.fresh_enough(interaction, &auth) {
            return Err(InteractionError::ReauthenticationRequired);
        }
        let asked = interaction.request.fields();
        if let Some(extra) = fields.iter().find(|f| !asked.contains(f)) {
            return Err(InteractionError::FieldNotRequested(*extra));
        }
        let business = self
            .chosen_business(interaction, resident_id, business)
            .await?;
        let mut detail = serde_json::json!({ "interaction": interaction.id, "fields": fields, "scope": interaction.request.scope_string() });
        if let (Some(object), Some(chosen)) = (detail.as_object_mut(), &business) {
            object.insert("business".into(), corporate::audit_detail(chosen));
        }
        let decision = serde_json::to_string(&Decision {
            fields,
            auth,
            business,
        })
        .map_err(|e| InteractionError::Server(e.to_string()))?;
        let audit = event(
            format!("resident:{resident_id}"),
            "identity.consent.approve",
            format!("service:{}", interaction.client.client_id),
            detail,
        );
        let changed = self
            .store
            .decide(
                &interaction.id,
                "approved",
                Some(resident_id),
                Some(&decision),
                &audit,
            )
            .await
            .map_err(|e| InteractionError::Server(e.to_string()))?;
        if changed {
            Ok(())
        } else {
            Err(InteractionError::State(InteractionStatus::Expired))
        }
    }

    /// The business an approval acts for, checked with the directory now. A business named
    /// but not in force is refused and the refusal audited.
    async fn chosen_business(
        &self,
        interaction: &Interaction,
        resident_id: &str,
        business: Option<&str>,
    ) -> Result<Option<Representation>, InteractionError> {
        if !interaction.request.corporate() {
            return match business {
                None => Ok(None),
                Some(_) => Err(InteractionError::BusinessNotRequested),
            };
        }
        let Some(business_id) = business else {
            return match self
                .businesses_for(interaction, resident_id)
                .await?
                .as_slice()
            {
                [one] => Ok(Some(one.clone())),
                _ => Err(InteractionError::BusinessRequired),
            };
        };
        let directory = self
            .directory()
            .ok_or_else(|| InteractionError::Server(corporate::NOT_AVAILABLE.into()))?;
        let found = if business_id.chars().count() <= corporate::BUSINESS_ID_MAX_CHARS {
            directory
                .representation(resident_id, business_id, now())
                .await
                .map_err(|e| InteractionError::Server(e.to_string()))?
                .filter(|r| r.business_id == business_id)
        } else {
            None
        };
        if found.is_none() {
            let audit = interaction.refused(resident_id, "identity.corporate.choice_refused");
            self.store
                .audit(&audit)
                .await
                .map_err(|e| InteractionError::Server(e.to_string()))?;
            return Err(InteractionError::BusinessNotOffered);
        }
        Ok(found)
    }

    /// The resident rejects (`resident_id`), or the browser cancels (`None`).
    pub async fn refuse(
        &self,
        interaction: &Interaction,
        resident_id: Option<&str>,
    ) -> Result<(), InteractionError> {
        if interaction.status != InteractionStatus::Pending {
            return Err(InteractionError::State(interaction.status));
        }
        let (status, actor, action) = match resident_id {
            Some(r) => (
                "rejected",
                format!("resident:{r}"),
                "identity.consent.reject",
            ),
            None => ("cancelled", "browser".to_owned(), "identity.login.cancel"),
        };
        let audit = event(
            actor,
            action,
            format!("service:{}", interaction.client.client_id),
            serde_json::json!({ "interaction": interaction.id }),
        );
        let changed = self
            .store
            .decide(&interaction.id, status, resident_id, None, &audit)
            .await
            .map_err(|e| InteractionError::Server(e.to_string()))?;
        if changed {
            Ok(())
        } else {
            Err(InteractionError::State(InteractionStatus::Expired))
        }
    }

    fn error_redirect(&self, request: &AuthRequest, error: &OAuthError) -> String {
        self.request_error_redirect(&request.redirect_uri, request.state.as_deref(), error)
    }

    /// Where to send the browser for an authorization error that may be redirected.
    pub fn request_error_redirect(
        &self,
        redirect_uri: &str,
        state: Option<&str>,
        error: &OAuthError,
    ) -> String {
        let mut pairs = vec![
            ("error", error.error),
            ("error_description", error.error_description.as_str()),
        ];
        if let Some(state) = state {
            pairs.push(("state", state));
        }
        pairs.push(("iss", &self.issuer));
        with_query(redirect_uri, &pairs)
    }

    /// Finishes an interaction in the browser that started it: issues the code and returns the
    /// redirect to the service, or the error redirect for a rejected, cancelled or timed-out
    /// request.
    pub async fn complete(&self, interaction: &Interaction) -> Result<String, InteractionError> {
        let request = &interaction.request;
        match interaction.status {
            InteractionStatus::Rejected => {
                let why = match interaction.denial {
                    Some(Denial::NotRepresentative) => corporate::NOT_REPRESENTATIVE,
                    None => "the resident rejected the request",
                };
                return Ok(self.error_redirect(request, &OAuthError::access_denied(why)));
            }
            InteractionStatus::Cancelled => {
                return Ok(self.error_redirect(
                    request,
                    &OAuthError::access_denied("the login was cancelled"),
                ))
            }
            InteractionStatus::Expired => {
                return Ok(
                    self.error_redirect(request, &OAuthError::access_denied("the login timed out"))
                )
            }
            InteractionStatus::Approved => {}
            other => return Err(InteractionError::State(other)),
        }
        let row = self
            .store
            .interaction(&interaction.id)
            .await
            .map_err(|e| InteractionError::Server(e.to_string()))?
            .ok_or(InteractionError::NotFound)?;
        let (Some(resident_id), Some(decision)) = (row.resident_id, row.decision) else {
            return Err(InteractionError::Server(
                "approved interaction without a decision".into(),
            ));
        };
        let decision: Decision =
            serde_json::from_str(&decision).map_err(|e| InteractionError::Server(e.to_string()))?;
        let business = decision.business.as_ref();
        let claims = GrantClaims {
            userinfo: request
                .userinfo_fields
                .intersection(&decision.fields)
                .copied()
                .collect(),
            id_token: request
                .id_token_fields
                .intersection(&decision.fields)
                .copied()
                .collect(),
        };
        let existing = self
            .store
            .active_consents(&resident_id, Some(&interaction.client.client_id))
            .await
            .map_err(|e| InteractionError::Server(e.to_string()))?
            .into_iter()
            .find(|c| {
                c.revoked_at.is_none()
                    && c.corp_business_id.as_deref() == business.map(|b| b.business_id.as_str())
                    && c.scope == request.scope_string()
                    && serde_json::from_str::<BTreeSet<Field>>(&c.fields)
                        .is_ok_and(|f| f == decision.fields)
            });
        let at = now();
        let consent = match &existing {
            Some(_) => None,
            None => Some(ConsentRow {
                id: uuid::Uuid::new_v4().to_string(),
                resident_id: resident_id.clone(),
                client_id: interaction.client.client_id.clone(),
                scope: request.scope_string(),
                fields: serde_json::to_string(&decision.fields)
                    .map_err(|e| InteractionError::Server(e.to_string()))?,
                purpose: serde_json::to_string(&interaction.client.registration.purpose)
                    .map_err(|e| InteractionError::Server(e.to_string()))?,
                granted_at: at,
                revoked_at: None,
                corp_business_id: business.map(|b| b.business_id.clone()),
                corp_brn: business.map(|b| b.brn.clone()),
                corp_role: business.map(|b| b.role.clone()),
            }),
        };
        let consent_id = existing.as_ref().or(consent.as_ref()).map(|c| c.id.clone());
        let grant = GrantRow {
            id: uuid::Uuid::new_v4().to_string(),
            resident_id: resident_id.clone(),
            client_id: interaction.client.client_id.clone(),
            consent_id,
            scope: request.scope_string(),
            claims: serde_json::to_string(&claims)
                .map_err(|e| InteractionError::Server(e.to_string()))?,
            auth_time: decision.auth.auth_time,
            acr: decision.auth.acr.clone(),
            amr: serde_json::to_string(&decision.auth.amr)
                .map_err(|e| InteractionError::Server(e.to_string()))?,
            session_id: decision.auth.session_id.clone(),
            revoked_at: None,
            subject: Some(self.pairwise_sub(&interaction.client.client_id, &resident_id)),
            corp_business_id: business.map(|b| b.business_id.clone()),
            corp_brn: business.map(|b| b.brn.clone()),
        };
        let code = random_token().map_err(|e| InteractionError::Server(e.to_string()))?;
        let code_row = crate::oidc::store::CodeRow {
            grant_id: grant.id.clone(),
            client_id: interaction.client.client_id.clone(),
            redirect_uri: request.redirect_uri.clone(),
            code_challenge: request.code_challenge.clone(),
            nonce: request.nonce.clone(),
            dpop_jkt: request.dpop_jkt.clone(),
            expires_at: at + CODE_TTL_S,
            used_at: None,
        };
        let mut detail = serde_json::json!({
            "grant": grant.id, "acr": grant.acr, "auth_time": grant.auth_time,
            "released": decision.fields, "consent": grant.consent_id,
        });
        if let (Some(object), Some(chosen)) = (detail.as_object_mut(), business) {
            object.insert("business".into(), corporate::audit_detail(chosen));
        }
        let audit = event(
            format!("resident:{resident_id}"),
            "identity.login",
            format!("service:{}", interaction.client.client_id),
            detail,
        );
        let new = NewGrant {
            grant: &grant,
            code_hash: &token_hash(&code),
            code: &code_row,
            consent: consent.as_ref(),
        };
        let done = self
            .store
            .complete(&interaction.id, &new, &audit)
            .await
            .map_err(|e| InteractionError::Server(e.to_string()))?;
        if !done {
            return Err(InteractionError::State(InteractionStatus::Completed));
        }
        let mut pairs = vec![("code", code.as_str())];
        if let Some(state) = &request.state {
            pairs.push(("state", state));
        }
        pairs.push(("iss", &self.issuer));
        Ok(with_query(&request.redirect_uri, &pairs))
    }

    /// The pairwise subject identifier of a resident at a service (iAM Smart's tokenised ID).
    pub fn pairwise_sub(&self, client_id: &str, resident_id: &str) -> String {
        let input = format!("{client_id}\u{0}{resident_id}");
        jose::b64(&self.vault.lookup_hash(PAIRWISE_CONTEXT, input.as_bytes()))
    }

    fn new_tokens(&self, jkt: Option<&str>) -> Result<(String, String, Vec<NewToken>), OAuthError> {
        let access = random_token().map_err(server)?;
        let refresh = random_token().map_err(server)?;
        let at = now();
        let tokens = vec![
            NewToken {
                hash: token_hash(&access),
                kind: "access",
                jkt: jkt.map(str::to_owned),
                expires_at: at + ACCESS_TOKEN_TTL_S,
            },
            NewToken {
                hash: token_hash(&refresh),
                kind: "refresh",
                jkt: jkt.map(str::to_owned),
                expires_at: at + REFRESH_TOKEN_TTL_S,
            },
        ];
        Ok((access, refresh, tokens))
    }

    /// `POST /oauth2/token`.
    pub async fn token(
        &self,
        headers: &HeaderMap,
        params: &BTreeMap<String, Vec<String>>,
        dpop_values: &[&str],
    ) -> Result<TokenResponse, OAuthError> {
        let grant_type = param(params, "grant_type")?
            .ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
        if !matches!(grant_type, "authorization_code" | "refresh_token") {
            return Err(OAuthError::unsupported_grant_type(format!(
                "grant_type {grant_type:?} is not supported"
            )));
        }
        let auth = self.authenticate(headers, params).await?;
        let proof = self.proof(dpop_values, TOKEN_PATH, None)?;
        self.after_start(Some(&auth), proof.as_ref())?;
        if auth.client.registration.profile == Profile::Fapi2 && proof.is_none() {
            return Err(OAuthError::invalid_dpop_proof(
                "this FAPI 2.0 client must send a DPoP proof",
            ));
        }
        let (replays, dpop_index) = Self::replays(&auth, proof.as_ref());
        let jkt = proof.as_ref().map(|p| p.jkt.clone());
        let (access, refresh, tokens) = self.new_tokens(jkt.as_deref())?;
        let client_id = auth.client.client_id.clone();
        let audit = event(
            format!("service:{client_id}"),
            "identity.token.issue",
            String::new(),
            serde_json::json!({ "grant_type": grant_type, "dpop": jkt.is_some() }),
        );
        let grant = match grant_type {
            "authorization_code" => {
                let code = param(params, "code")?
                    .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
                let grant = self.store.grant_for_code(&token_hash(code)).await?;
                let business = self.corporate_check(&client_id, grant).await?;
                let redirect_uri = param(params, "redirect_uri")?.map(str::to_owned);
                let verifier = param(params, "code_verifier")?.map(str::to_owned);
                let (proof_jkt, client) = (jkt.clone(), client_id.clone());
                let outcome = self
                    .store
                    .redeem_code(&token_hash(code), &replays, &audit, move |code, grant| {
                        if code.client_id != client {
                            return Err(OAuthError::invalid_grant("the code was issued to another client"));
                        }
                        if code.expires_at <= now() {
                            return Err(OAuthError::invalid_grant("the code has expired"));
                        }
                        if grant.revoked_at.is_some() {
                            return Err(OAuthError::invalid_grant("the grant has been revoked"));
                        }
                        if redirect_uri.as_deref() != Some(code.redirect_uri.as_str()) {
                            return Err(OAuthError::invalid_grant("redirect_uri does not match the authorization request"));
                        }
                        let Some(verifier) = verifier.as_deref() else {
                            return Err(OAuthError::invalid_grant("code_verifier is required (PKCE)"));
                        };
                        if !request::pkce_matches(verifier, &code.code_challenge) {
                            return Err(OAuthError::invalid_grant("code_verifier does not match the code_challenge"));
                        }
                        if let Some(bound) = &code.dpop_jkt {
                            if proof_jkt.as_deref() != Some(bound.as_str()) {
                                return Err(OAuthError::invalid_dpop_proof("the DPoP key is not the one the authorization request was bound to"));
                            }
                        }
                        Ok((tokens, ()))
                    })
                    .await?;
                match outcome {
                    Redemption::Replayed(i) => return Err(Self::replay_error(i, dpop_index)),
                    Redemption::Unknown => {
                        return Err(OAuthError::invalid_grant("the code is not valid"))
                    }
                    Redemption::Reused => {
                        return Err(OAuthError::invalid_grant(
                            "the code was used before; tokens issued from it are revoked",
                        ))
                    }
                    Redemption::Refused(error) => return Err(error),
                    Redemption::Issued(code, grant, ()) => (*grant, code.nonce, business),
                }
            }
            _ => {
                let token = param(params, "refresh_token")?
                    .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
                let grant = self.store.token(&token_hash(token)).await?.map(|(_, g)| g);
                self.corporate_check(&client_id, grant).await?;
                let (proof_jkt, client) = (jkt.clone(), client_id.clone());
                let outcome = self
                    .store
                    .rotate_refresh(&token_hash(token), &replays, &audit, move |token, grant| {
                        if token.client_id != client {
                            return Err(OAuthError::invalid_grant(
                                "the refresh token was issued to another client",
                            ));
                        }
                        if grant.revoked_at.is_some() || token.revoked_at.is_some() {
                            return Err(OAuthError::invalid_grant(
                                "the refresh token has been revoked",
                            ));
                        }
                        if token.expires_at <= now() {
                            return Err(OAuthError::invalid_grant("the refresh token has expired"));
                        }
                        if let Some(bound) = &token.jkt {
                            if proof_jkt.as_deref() != Some(bound.as_str()) {
                                return Err(OAuthError::invalid_dpop_proof(
                                    "the refresh token is bound to another DPoP key",
                                ));
                            }
                        }
                        Ok((tokens, ()))
                    })
                    .await?;
                match outcome {
                    Redemption::Replayed(i) => return Err(Self::replay_error(i, dpop_index)),
                    Redemption::Unknown => {
                        return Err(OAuthError::invalid_grant("the refresh token is not valid"))
                    }
                    Redemption::Reused => {
                        return Err(OAuthError::invalid_grant(
                            "the refresh token was used before; the grant is revoked",
                        ))
                    }
                    Redemption::Refused(error) => return Err(error),
                    Redemption::Issued(_, grant, ()) => (*grant, None, None),
                }
            }
        };
        // Only the code exchange issues an ID token; `first` carries its nonce and business.
        let (grant, nonce, business) = grant;
        let first = grant_type == "authorization_code";
        let id_token = if first {
            Some(
                self.id_token(
                    &auth.client,
                    &grant,
                    nonce.as_deref(),
                    &access,
                    business.as_ref(),
                )
                .await?,
            )
        } else {
            None
        };
        Ok(TokenResponse {
            access_token: access,
            token_type: if jkt.is_some() { "DPoP" } else { "Bearer" },
            expires_in: ACCESS_TOKEN_TTL_S,
            refresh_token: refresh,
            id_token,
            scope: grant.scope.clone(),
        })
    }

    /// Before a corporate grant issues tokens: the resident must still represent its business.
    /// If not, the grant and every token from it are revoked (audited) and the request refused
    /// with `invalid_grant`. A grant of another client, or revoked already, is left for the
    /// redemption to refuse. A revocation landing between this check and the redemption's
    /// commit is caught at the next refresh, userinfo or introspection.
    async fn corporate_check(
        &self,
        client_id: &str,
        grant: Option<GrantRow>,
    ) -> Result<Option<Representation>, OAuthError> {
        let Some(grant) = grant.filter(|g| g.client_id == client_id && g.revoked_at.is_none())
        else {
            return Ok(None);
        };
        match self.grant_business(&grant).await? {
            GrantBusiness::Personal => Ok(None),
            GrantBusiness::InForce(representation) => Ok(Some(representation)),
            GrantBusiness::Ended => {
                self.end_corporate_grant(&grant, "token").await?;
                Err(OAuthError::invalid_grant(corporate::ENDED))
            }
        }
    }

    /// What the directory says now about the business a grant was made for.
    async fn grant_business(&self, grant: &GrantRow) -> Result<GrantBusiness, OAuthError> {
        let Some(business_id) = &grant.corp_business_id else {
            return Ok(GrantBusiness::Personal);
        };
        // A corporate grant outlives a start without a directory only as a configuration
        // mistake: refuse for now rather than revoke what the directory might still allow.
        let directory = self
            .directory()
            .ok_or_else(|| server(corporate::NOT_AVAILABLE))?;
        let found = directory
            .representation(&grant.resident_id, business_id, now())
            .await
            .map_err(server)?;
        Ok(match found {
            Some(r) if r.business_id == *business_id => GrantBusiness::InForce(r),
            _ => GrantBusiness::Ended,
        })
    }

    /// Revokes a corporate grant whose representation has ended, audited with the BRN and the
    /// endpoint that found out.
    async fn end_corporate_grant(
        &self,
        grant: &GrantRow,
        endpoint: &'static str,
    ) -> Result<(), OAuthError> {
        let audit = failure(
            format!("service:{}", grant.client_id),
            "identity.corporate.representation_ended",
            format!("grant:{}", grant.id),
            serde_json::json!({ "brn": grant.corp_brn, "endpoint": endpoint }),
        );
        self.store
            .revoke_grant(
                &grant.id,
                "the representation of the business ended",
                &audit,
            )
            .await?;
        Ok(())
    }

    async fn id_token(
        &self,
        client: &Client,
        grant: &GrantRow,
        nonce: Option<&str>,
        access_token: &str,
        business: Option<&Representation>,
    ) -> Result<String, OAuthError> {
        if grant.corp_business_id.is_some() && business.is_none() {
            return Err(server("a corporate grant reached the ID token unchecked"));
        }
        let at = now();
        let alg = client.registration.id_token_alg();
        let mut claims = serde_json::json!({
            "iss": self.issuer,
            "sub": self.pairwise_sub(&client.client_id, &grant.resident_id),
            "aud": client.client_id,
            "exp": at + ID_TOKEN_TTL_S,
            "iat": at,
            "auth_time": grant.auth_time,
            "acr": grant.acr,
            "amr": grant.amr(),
            "at_hash": at_hash(access_token),
        });
        if let (Some(object), Some(nonce)) = (claims.as_object_mut(), nonce) {
            object.insert("nonce".into(), nonce.into());
        }
        if let (Some(object), Some(sid)) = (claims.as_object_mut(), &grant.session_id) {
            object.insert("sid".into(), sid.clone().into());
        }
        let fields = grant.claims().map_err(server)?.id_token;
        if !fields.is_empty() {
            let released = self.released(&grant.resident_id, &fields, business).await?;
            if let Some(object) = claims.as_object_mut() {
                object.extend(released);
            }
        }
        if let (Some(object), Some(business)) = (claims.as_object_mut(), business) {
            object.extend(corporate::claims(business));
        }
        self.keys.sign(alg, Some("JWT"), &claims).map_err(server)
    }

    /// The values of released fields, as claims: the resident's own from the identity service,
    /// the business's from the directory. `business` is the representation found in force
    /// just now (`None` for a personal grant, which has no business fields to release).
    async fn released(
        &self,
        resident_id: &str,
        fields: &[Field],
        business: Option<&Representation>,
    ) -> Result<serde_json::Map<String, serde_json::Value>, OAuthError> {
        let (personal, of_business): (Vec<Field>, Vec<Field>) =
            fields.iter().partition(|f| !f.corporate());
        let mut claims = self.released_personal(resident_id, &personal).await?;
        if let Some(business) = business {
            claims.extend(self.released_business(business, &of_business).await?);
        }
        Ok(claims)
    }

    /// The business's fields, read from the directory now: the particulars (when one of
    /// theirs is asked for) and the licences the business marked shared.
    async fn released_business(
        &self,
        business: &Representation,
        fields: &[Field],
    ) -> Result<serde_json::Map<String, serde_json::Value>, OAuthError> {
        if fields.is_empty() {
            return Ok(serde_json::Map::new());
        }
        let directory = self
            .directory()
            .ok_or_else(|| server(corporate::NOT_AVAILABLE))?;
        let particulars = if fields.iter().any(|f| *f != Field::CorpLicences) {
            let found = directory
                .particulars(&business.brn)
                .await
                .map_err(server)?
                .filter(|p| p.business_id == business.business_id)
                .ok_or_else(|| {
                    server("the directory has no particulars of a business it represents")
                })?;
            Some(found)
        } else {
            None
        };
        let licences = if fields.contains(&Field::CorpLicences) {
            Some(
                directory
                    .shared_licences(&business.brn)
                    .await
                    .map_err(server)?,
            )
        } else {
            None
        };
        Ok(corporate::business_claims(
            fields,
            particulars.as_ref(),
            licences.as_deref(),
        ))
    }

    /// The resident's own fields.
    async fn released_personal(
        &self,
        resident_id: &str,
        fields: &[Field],
    ) -> Result<serde_json::Map<String, serde_json::Value>, OAuthError> {
        let resident = self.identity.resident(resident_id).await.map_err(server)?;
        let mut claims = serde_json::Map::new();
        for field in fields {
            let value: serde_json::Value = match field {
                Field::Hkid => self
                    .identity
                    .release_hkid(resident_id)
                    .await
                    .map_err(server)?
                    .expose()
                    .into(),
                Field::EnglishName => resident.english_name.clone().into(),
                Field::ChineseName => resident.chinese_name.clone().into(),
                Field::DateOfBirth => resident.date_of_birth.clone().into(),
                Field::Gender => resident.gender.clone().into(),
                Field::Mobile => resident.mobile.clone().into(),
                Field::Email => resident.email.clone().into(),
                Field::ResidentialAddress => resident.residential_address.lines.clone().into(),
                Field::PostalAddress => resident
                    .postal_address
                    .as_ref()
                    .map(|a| a.lines.clone())
                    .into(),
                // The business's fields are `released_business`'s.
                Field::CorpForm
                | Field::CorpStatus
                | Field::CorpAddress
                | Field::CorpRegisteredOn
                | Field::CorpLicences => serde_json::Value::Null,
            };
            if !value.is_null() {
                claims.insert(field.as_str().to_owned(), value);
            }
        }
        Ok(claims)
    }

    /// Finds a live access token presented at a resource, checking its DPoP binding.
    async fn access_token(
        &self,
        authorization: Option<&str>,
        dpop_values: &[&str],
        method: &str,
        path: &str,
    ) -> Result<(crate::oidc::store::TokenRow, GrantRow), ResourceError> {
        let authorization = authorization.ok_or(ResourceError::Missing)?;
        let (scheme, token) = authorization
            .split_once(' ')
            .ok_or(ResourceError::Missing)?;
        let token = token.trim();
        let dpop_scheme = scheme.eq_ignore_ascii_case("DPoP");
        if !dpop_scheme && !scheme.eq_ignore_ascii_case("Bearer") {
            return Err(ResourceError::Missing);
        }
        let (row, grant) = self
            .store
            .token(&token_hash(token))
            .await
            .map_err(|e| ResourceError::Server(e.to_string()))?
            .ok_or(ResourceError::Invalid("the access token is not valid"))?;
        let at = now();
        if row.kind != "access" || row.revoked_at.is_some() || grant.revoked_at.is_some() {
            return Err(ResourceError::Invalid("the access token has been revoked"));
        }
        if row.expires_at <= at {
            return Err(ResourceError::Invalid("the access token has expired"));
        }
        match (&row.jkt, dpop_scheme) {
            (Some(bound), true) => {
                let proof = dpop::verify(dpop_values, method, &self.url(path), Some(token))
                    .map_err(ResourceError::Proof)?;
                if &proof.jkt != bound {
                    return Err(ResourceError::Proof(OAuthError::invalid_dpop_proof(
                        "the DPoP proof is signed by another key than the token is bound to",
                    )));
                }
                self.after_start(None, Some(&proof))
                    .map_err(ResourceError::Proof)?;
                let replay = (
                    proof.replay_scope(),
                    proof.jti.clone(),
                    proof.replay_expiry(),
                );
                if self
                    .store
                    .record_replays(&[replay])
                    .await
                    .map_err(|e| ResourceError::Server(e.to_string()))?
                    .is_some()
                {
                    return Err(ResourceError::Proof(OAuthError::invalid_dpop_proof(
                        "DPoP proof was used before (jti replay)",
                    )));
                }
            }
            (Some(_), false) => {
                return Err(ResourceError::Invalid(
                    "this access token is DPoP-bound: use the DPoP scheme with a proof",
                ))
            }
            (None, true) => {
                return Err(ResourceError::Invalid(
                    "this access token is not DPoP-bound",
                ))
            }
            (None, false) => {}
        }
        Ok((row, grant))
    }

    /// `GET|POST /oauth2/userinfo`.
    pub async fn userinfo(
        &self,
        authorization: Option<&str>,
        dpop_values: &[&str],
        method: &str,
    ) -> Result<serde_json::Value, ResourceError> {
        let (_, grant) = self
            .access_token(authorization, dpop_values, method, USERINFO_PATH)
            .await?;
        let business = match self
            .grant_business(&grant)
            .await
            .map_err(|e| ResourceError::Server(e.to_string()))?
        {
            GrantBusiness::Personal => None,
            GrantBusiness::InForce(representation) => Some(representation),
            GrantBusiness::Ended => {
                self.end_corporate_grant(&grant, "userinfo")
                    .await
                    .map_err(|e| ResourceError::Server(e.to_string()))?;
                return Err(ResourceError::Invalid(corporate::ENDED));
            }
        };
        let fields = grant
            .claims()
            .map_err(|e| ResourceError::Server(e.to_string()))?
            .userinfo;
        let mut claims = self
            .released(&grant.resident_id, &fields, business.as_ref())
            .await
            .map_err(|e| ResourceError::Server(e.to_string()))?;
        if let Some(business) = &business {
            claims.extend(corporate::claims(business));
        }
        claims.insert(
            "sub".into(),
            self.pairwise_sub(&grant.client_id, &grant.resident_id)
                .into(),
        );
        Ok(serde_json::Value::Object(claims))
    }

    /// `POST /oauth2/introspect` (RFC 7662). A service sees only its own tokens.
    pub async fn introspect(
        &self,
        headers: &HeaderMap,
        params: &BTreeMap<String, Vec<String>>,
    ) -> Result<serde_json::Value, OAuthError> {
        let auth = self.authenticate(headers, params).await?;
        self.after_start(Some(&auth), None)?;
        if let Some(replay) = &auth.replay {
            if self
                .store
                .record_replays(std::slice::from_ref(replay))
                .await?
                .is_some()
            {
                return Err(OAuthError::invalid_client(
                    "client assertion was used before (jti replay)",
                ));
            }
        }
        let token = param(params, "token")?
            .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
        let inactive = serde_json::json!({ "active": false });
        let Some((row, grant)) = self.store.token(&token_hash(token)).await? else {
            return Ok(inactive);
        };
        let at = now();
        let live = row.client_id == auth.client.client_id
            && row.revoked_at.is_none()
            && grant.revoked_at.is_none()
            && row.used_at.is_none()
            && row.expires_at > at;
        if !live {
            return Ok(inactive);
        }
        let business = match self.grant_business(&grant).await? {
            GrantBusiness::Personal => None,
            GrantBusiness::InForce(representation) => Some(representation),
            GrantBusiness::Ended => {
                self.end_corporate_grant(&grant, "introspection").await?;
                return Ok(inactive);
            }
        };
        let mut answer = serde_json::json!({
            "active": true,
            "iss": self.issuer,
            "client_id": row.client_id,
            "aud": row.client_id,
            "sub": self.pairwise_sub(&row.client_id, &grant.resident_id),
            "scope": row.scope,
            "iat": row.issued_at,
            "exp": row.expires_at,
            "auth_time": grant.auth_time,
            "acr": grant.acr,
            "token_type": match (row.kind.as_str(), &row.jkt) {
                ("refresh", _) => "refresh_token",
                (_, Some(_)) => "DPoP",
                _ => "Bearer",
            },
        });
        if let (Some(object), Some(jkt)) = (answer.as_object_mut(), &row.jkt) {
            object.insert("cnf".into(), serde_json::json!({ "jkt": jkt }));
        }
        if let (Some(object), Some(business)) = (answer.as_object_mut(), &business) {
            object.extend(corporate::claims(business));
        }
        Ok(answer)
    }

    /// `POST /oauth2/revoke` (RFC 7009): always 200 for a token the caller may not see.
    pub async fn revoke(
        &self,
        headers: &HeaderMap,
        params: &BTreeMap<String, Vec<String>>,
    ) -> Result<(), OAuthError> {
        let auth = self.authenticate(headers, params).await?;
        self.after_start(Some(&auth), None)?;
        if let Some(replay) = &auth.replay {
            if self
                .store
                .record_replays(std::slice::from_ref(replay))
                .await?
                .is_some()
            {
                return Err(OAuthError::invalid_client(
                    "client assertion was used before (jti replay)",
                ));
            }
        }
        let token = param(params, "token")?
            .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
        let audit = event(
            format!("service:{}", auth.client.client_id),
            "identity.token.revoke",
            String::new(),
            serde_json::json!({}),
        );
        self.store
            .revoke(&token_hash(token), &auth.client.client_id, &audit)
            .await?;
        Ok(())
    }

    /// RP-initiated logout: checks `id_token_hint` (any published key, expiry ignored) and
    /// `post_logout_redirect_uri`; returns the session id to end and where to go after.
    pub async fn logout(
        &self,
        params: &BTreeMap<String, Vec<String>>,
    ) -> Result<LogoutPlan, OAuthError> {
        let hint = param(params, "id_token_hint")?;
        let claims = match hint {
            Some(hint) => Some(self.keys.verify_own(hint).map_err(|_| {
                OAuthError::invalid_request("id_token_hint is not an ID token this provider issued")
            })?),
            None => None,
        };
        let hinted_client = claims
            .as_ref()
            .and_then(|c| c.get("aud"))
            .and_then(|a| a.as_str())
            .map(str::to_owned);
        if claims
            .as_ref()
            .and_then(|c| c.get("iss"))
            .and_then(|i| i.as_str())
            != Some(self.issuer.as_str())
            && claims.is_some()
        {
            return Err(OAuthError::invalid_request(
                "id_token_hint was issued by another provider",
            ));
        }
        let client_id = match (param(params, "client_id")?, hinted_client) {
            (Some(a), Some(b)) if a != b => {
                return Err(OAuthError::invalid_request(
                    "client_id does not match id_token_hint",
                ))
            }
            (Some(a), _) => Some(a.to_owned()),
            (None, b) => b,
        };
        let redirect = match param(params, "post_logout_redirect_uri")? {
            None => None,
            Some(uri) => {
                let client = match &client_id {
                    Some(id) => self.clients.get(id).await.map_err(server)?,
                    None => None,
                }
                .ok_or_else(|| {
                    OAuthError::invalid_request(
                        "post_logout_redirect_uri needs id_token_hint or client_id",
                    )
                })?;
                if !client
                    .registration
                    .post_logout_redirect_uris
                    .iter()
                    .any(|r| r == uri)
                {
                    return Err(OAuthError::invalid_request(
                        "post_logout_redirect_uri is not registered for this client",
                    ));
                }
                let mut pairs = Vec::new();
                if let Some(state) = param(params, "state")? {
                    pairs.push(("state", state));
                }
                Some(with_query(uri, &pairs))
            }
        };
        let session_id = claims
            .as_ref()
            .and_then(|c| c.get("sid"))
            .and_then(|s| s.as_str())
            .map(str::to_owned);
        Ok(LogoutPlan {
            session_id,
            redirect,
            client_id,
        })
    }

    /// Ends the grants of a session, audited.
    pub async fn end_session_grants(
        &self,
        session_id: &str,
        resident_id: &str,
    ) -> Result<(), OAuthError> {
        let audit = event(
            format!("resident:{resident_id}"),
            "identity.logout",
            format!("session:{session_id}"),
            serde_json::json!({}),
        );
        self.store.revoke_session_grants(session_id, &audit).await?;
        Ok(())
    }

    /// The resident's consent receipts.
    pub async fn consents(&self, resident_id: &str) -> Result<Vec<ConsentRow>, OAuthError> {
        Ok(self.store.active_consents(resident_id, None).await?)
    }

    /// Revokes a consent receipt and every grant made under it.
    pub async fn revoke_consent(
        &self,
        resident_id: &str,
        consent_id: &str,
    ) -> Result<bool, OAuthError> {
        let audit = event(
            format!("resident:{resident_id}"),
            "identity.consent.revoke",
            format!("consent:{consent_id}"),
            serde_json::json!({}),
        );
        Ok(self
            .store
            .revoke_consent(consent_id, resident_id, &audit)
            .await?)
    }
}

/// `at_hash`: the left half of the SHA-256 of the access token, base64url (OIDC Core 3.1.3.6
/// for ES256 and RS256).
fn at_hash(access_token: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(access_token.as_bytes());
    jose::b64(digest.get(..16).unwrap_or_default())
}

/// What logout should do.
#[derive(Debug, Clone)]
pub struct LogoutPlan {
    pub session_id: Option<String>,
    pub redirect: Option<String>,
    pub client_id: Option<String>,
}

/// An error at a protected resource (RFC 6750 section 3, RFC 9449 section 7.1).
#[derive(Debug, Clone)]
pub enum ResourceError {
    Missing,
    Invalid(&'static str),
    Proof(OAuthError),
    Server(String),
}
