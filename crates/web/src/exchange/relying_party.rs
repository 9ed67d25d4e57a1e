//! The portal as a relying party of the built-in OpenID Provider: a basic first-party service
//! registered on first start (its client id and secret remembered in `bauhinia_meta`, the
//! secret sealed by the vault), the authorization request (state, nonce, PKCE S256), and the
//! callback — the code redeemed in process through [`Provider::token`] exactly as a service's
//! back channel would (`client_secret_basic`, the verifier), the ID token checked (signature
//! with the provider's keys, `iss`, `aud`, `nonce`, `exp`), and `sub` mapped back to the
//! resident.
//!
//! It never follows a `next` that is not a local path, and never logs a secret, a state, a
//! code or a token.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bauhinia_core::crypto::Vault;
use bauhinia_identity::oidc::clients::{Profile, Registration, Text3};
use bauhinia_identity::oidc::Provider;
use bauhinia_store::{Database, StoreError};

use super::sessions::{random_secret, Login, PortalSessions};

/// Where the portal remembers its registration.
const META_KEY: &str = "portal_client";
const SECRET_CONTEXT: &str = "portal.client_secret";
const ACTOR: &str = "system:portal";
/// Where a login goes when it was given no (acceptable) `next`.
pub const DEFAULT_NEXT: &str = "/exchange/consents";
/// Clock skew allowed on an ID token's `iat`.
const IAT_SKEW_S: i64 = 60;

#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the portal's registration: {0}")]
    Client(String),
    #[error("the portal's sealed client secret does not open: {0}")]
    Secret(String),
}

/// Why a callback was refused: each a stable word for the audit log.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("the login's state does not match this browser's")]
    StateMismatch,
    #[error("no login is waiting for this state (unknown, used or expired)")]
    UnknownState,
    #[error("the provider answered an error: {0}")]
    Provider(String),
    #[error("the callback names another issuer")]
    WrongIssuer,
    #[error("the callback carries no code")]
    NoCode,
    #[error("the code was refused: {0}")]
    Token(String),
    #[error("the ID token was refused: {0}")]
    IdToken(&'static str),
    #[error("the subject is not known to belong to a resident")]
    UnknownSubject,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl LoginError {
    pub fn reason(&self) -> &'static str {
        match self {
            LoginError::StateMismatch => "state_mismatch",
            LoginError::UnknownState => "unknown_state",
            LoginError::Provider(_) => "provider_error",
            LoginError::WrongIssuer => "wrong_issuer",
            LoginError::NoCode => "no_code",
            LoginError::Token(_) => "code_refused",
            LoginError::IdToken(_) => "id_token_invalid",
            LoginError::UnknownSubject => "unknown_subject",
            LoginError::Store(_) => "store",
        }
    }
}

/// The portal's registration at the provider.
#[derive(Clone)]
pub struct PortalClient {
    pub client_id: String,
    secret: String,
    pub redirect_uri: String,
}

impl std::fmt::Debug for PortalClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalClient")
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Remembered {
    client_id: String,
    /// base64 of the sealed secret.
    secret_sealed: String,
}

fn registration(redirect_uri: &str) -> Registration {
    let text = |zh_hant: &str, zh_hans: &str, en: &str| Text3 {
        zh_hant: zh_hant.into(),
        zh_hans: zh_hans.into(),
        en: en.into(),
    };
    Registration {
        name: text("一網通辦", "一网通办", "Bauhinia One-stop Portal"),
        profile: Profile::Basic,
        redirect_uris: vec![redirect_uri.to_owned()],
        post_logout_redirect_uris: Vec::new(),
        jwks: None,
        jwks_uri: None,
        scopes: Vec::new(),
        fields: Vec::new(),
        purpose: text(
            "登入一網通辦，查看及管理你授權分享的數據。",
            "登入一网通办，查看及管理你授权分享的数据。",
            "Log in to the portal to review and manage the data you have agreed to share.",
        ),
        id_token_signed_response_alg: None,
    }
}

impl PortalClient {
    /// The portal's registration: the one remembered, brought up to date with the public URL,
    /// or — on first start, or if it was removed — a new one, remembered (idempotent).
    pub async fn ensure(
        db: &Database,
        vault: &Vault,
        provider: &Provider,
        public_url: &str,
    ) -> Result<PortalClient, RegistrationError> {
        let redirect_uri = format!(
            "{}{}",
            public_url.trim_end_matches('/'),
            super::CALLBACK_PATH
        );
        if let Some(client) = Self::remembered(db, vault, provider, &redirect_uri).await? {
            return Ok(client);
        }
        let (client, secret) = provider
            .clients
            .register(registration(&redirect_uri), ACTOR)
            .await
            .map_err(|e| RegistrationError::Client(e.to_string()))?;
        let secret = secret
            .ok_or_else(|| RegistrationError::Client("a basic service has a secret".into()))?;
        let sealed = vault
            .seal(SECRET_CONTEXT, secret.as_bytes())
            .map_err(|e| RegistrationError::Secret(e.to_string()))?;
        let remembered = Remembered {
            client_id: client.client_id.clone(),
            secret_sealed: STANDARD.encode(sealed),
        };
        let text = serde_json::to_string(&remembered)
            .map_err(|e| RegistrationError::Client(e.to_string()))?;
        db.set_meta(META_KEY, &text).await?;
        tracing::info!(client_id = %client.client_id, "registered the portal with the OpenID Provider");
        Ok(PortalClient {
            client_id: client.client_id,
            secret,
            redirect_uri,
        })
    }

    async fn remembered(
        db: &Database,
        vault: &Vault,
        provider: &Provider,
        redirect_uri: &str,
    ) -> Result<Option<PortalClient>, RegistrationError> {
        let Some(text) = db.meta(META_KEY).await? else {
            return Ok(None);
        };
        let remembered: Remembered = serde_json::from_str(&text)
            .map_err(|e| RegistrationError::Client(format!("{META_KEY}: {e}")))?;
        let Some(client) = provider
            .clients
            .get(&remembered.client_id)
            .await
            .map_err(|e| RegistrationError::Client(e.to_string()))?
            .filter(|c| c.active)
        else {
            return Ok(None);
        };
        let sealed = STANDARD
            .decode(&remembered.secret_sealed)
            .map_err(|e| RegistrationError::Secret(e.to_string()))?;
        let secret = vault
            .open(SECRET_CONTEXT, &sealed)
            .ok()
            .and_then(|s| String::from_utf8(s).ok())
            .ok_or_else(|| RegistrationError::Secret("wrong master key?".into()))?;
        let wanted = registration(redirect_uri);
        if client.registration.redirect_uris != wanted.redirect_uris
            || client.registration.name != wanted.name
        {
            // The public URL changed since the last start (the callback moved with it), or
            // this version names the portal otherwise.
            provider
                .clients
                .update(&client.client_id, wanted, ACTOR)
                .await
                .map_err(|e| RegistrationError::Client(e.to_string()))?;
        }
        Ok(Some(PortalClient {
            client_id: client.client_id,
            secret,
            redirect_uri: redirect_uri.to_owned(),
        }))
    }
}

/// Only a local path is followed after login (the rule of [`crate::prefs::safe_next`]: `/x`,
/// never `//host`, `/\host`, a scheme, or control characters); anything else goes to
/// [`DEFAULT_NEXT`].
pub fn local_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if crate::prefs::safe_next(Some(n)) == n => n,
        _ => DEFAULT_NEXT,
    }
}

/// The relying party: the registration, the provider it talks to, and the sessions it makes.
#[derive(Debug, Clone)]
pub struct RelyingParty {
    pub client: PortalClient,
    pub provider: Arc<Provider>,
    pub sessions: PortalSessions,
}

/// The start of a login: where to send the browser, and the state for its cookie.
#[derive(Debug)]
pub struct LoginStart {
    pub location: String,
    pub state: String,
}

/// The end of a login: the session's token and where to go.
#[derive(Debug)]
pub struct LoginDone {
    pub token: String,
    pub next: String,
}

/// What the callback received.
#[derive(Debug, Default)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub iss: Option<String>,
}

impl RelyingParty {
    /// Keeps a new login (nonce, PKCE verifier, `next`) and builds the authorization request.
    pub async fn start(&self, next: Option<&str>) -> Result<LoginStart, StoreError> {
        let login = Login {
            nonce: random_secret(),
            verifier: random_secret(),
            next: local_next(next).to_owned(),
        };
        let challenge = bauhinia_identity::jose::sha256_b64(login.verifier.as_bytes());
        let state = self.sessions.begin_login(&login).await?;
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &self.client.client_id)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", &self.client.redirect_uri)
            .append_pair("scope", "openid")
            .append_pair("state", &state)
            .append_pair("nonce", &login.nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .finish();
        Ok(LoginStart {
            location: format!("/oauth2/authorize?{query}"),
            state,
        })
    }

    /// Finishes a login from the callback: the state must be this browser's (`cookie_state`)
    /// and waiting; the code is redeemed; the ID token checked; a session made. Every outcome
    /// is audited (success with the session, failure with its reason).
    pub async fn finish(
        &self,
        callback: &Callback,
        cookie_state: Option<&str>,
    ) -> Result<LoginDone, LoginError> {
        let outcome = self.try_finish(callback, cookie_state).await;
        if let Err(error) = &outcome {
            tracing::warn!(reason = error.reason(), "portal login refused: {error}");
            self.sessions
                .login_failed(error.reason(), &error.to_string())
                .await?;
        }
        outcome
    }

    async fn try_finish(
        &self,
        callback: &Callback,
        cookie_state: Option<&str>,
    ) -> Result<LoginDone, LoginError> {
        let state = callback.state.as_deref().unwrap_or_default();
        if state.is_empty() || cookie_state != Some(state) {
            return Err(LoginError::StateMismatch);
        }
        let login = self
            .sessions
            .take_login(state)
            .await?
            .ok_or(LoginError::UnknownState)?;
        if callback
            .iss
            .as_deref()
            .is_some_and(|iss| iss != self.provider.issuer)
        {
            return Err(LoginError::WrongIssuer);
        }
        if let Some(error) = &callback.error {
            return Err(LoginError::Provider(error.chars().take(64).collect()));
        }
        let code = callback.code.as_deref().ok_or(LoginError::NoCode)?;
        let id_token = self.redeem(code, &login.verifier).await?;
        let subject = self.check_id_token(&id_token, &login.nonce)?;
        let resident = self
            .provider
            .resident_for_subject(&self.client.client_id, &subject)
            .await
            .map_err(|e| LoginError::Token(e.error_description))?
            .ok_or(LoginError::UnknownSubject)?;
        let (token, _) = self
            .sessions
            .create(&resident, &self.client.client_id)
            .await?;
        Ok(LoginDone {
            token,
            next: local_next(Some(&login.next)).to_owned(),
        })
    }

    /// The token request, in process: the same checks as `POST /oauth2/token`.
    async fn redeem(&self, code: &str, verifier: &str) -> Result<String, LoginError> {
        let credentials =
            STANDARD.encode(format!("{}:{}", self.client.client_id, self.client.secret));
        let mut headers = axum::http::HeaderMap::new();
        let authorization = axum::http::HeaderValue::from_str(&format!("Basic {credentials}"))
            .map_err(|_| LoginError::Token("client credentials".into()))?;
        headers.insert(axum::http::header::AUTHORIZATION, authorization);
        let params: BTreeMap<String, Vec<String>> = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &self.client.redirect_uri),
            ("code_verifier", verifier),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), vec![v.to_owned()]))
        .collect();
        let tokens = self
            .provider
            .token(&headers, &params, &[])
            .await
            .map_err(|e| LoginError::Token(format!("{}: {}", e.error, e.error_description)))?;
        tokens
            .id_token
            .ok_or(LoginError::IdToken("the token response has no ID token"))
    }

    /// Checks the ID token (OpenID Connect Core 3.1.3.7) and returns its `sub`.
    fn check_id_token(&self, id_token: &str, nonce: &str) -> Result<String, LoginError> {
        let claims = self
            .provider
            .keys
            .verify_own(id_token)
            .map_err(|_| LoginError::IdToken("the signature does not verify"))?;
        let text = |name: &str| claims.get(name).and_then(serde_json::Value::as_str);
        let number = |name: &str| claims.get(name).and_then(serde_json::Value::as_i64);
        if text("iss") != Some(self.provider.issuer.as_str()) {
            return Err(LoginError::IdToken("iss is not the provider"));
        }
        let client_id = self.client.client_id.as_str();
        let audience_ok = match claims.get("aud") {
            Some(serde_json::Value::String(aud)) => aud == client_id,
            Some(serde_json::Value::Array(auds)) => {
                auds.iter().any(|a| a.as_str() == Some(client_id))
                    && (auds.len() == 1 || text("azp") == Some(client_id))
            }
            _ => false,
        };
        if !audience_ok {
            return Err(LoginError::IdToken("aud is not the portal"));
        }
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        if number("exp").is_none_or(|exp| exp <= now) {
            return Err(LoginError::IdToken("the ID token has expired"));
        }
        if number("iat").is_none_or(|iat| iat > now + IAT_SKEW_S) {
            return Err(LoginError::IdToken("iat is missing or in the future"));
        }
        if text("nonce") != Some(nonce) {
            return Err(LoginError::IdToken("the nonce is not this login's"));
        }
        text("sub")
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or(LoginError::IdToken("no sub"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        for (next, expected) in [
            (Some("/exchange/consents/abc"), "/exchange/consents/abc"),
            (Some("/exchange?x=1"), "/exchange?x=1"),
            (Some("//evil.example/x"), DEFAULT_NEXT),
            (Some("/\\evil.example"), DEFAULT_NEXT),
            (Some("https://evil.example/"), DEFAULT_NEXT),
            (Some("javascript:alert(1)"), DEFAULT_NEXT),
            (Some("/a\r\nLocation: //evil"), DEFAULT_NEXT),
            (Some(""), DEFAULT_NEXT),
            (None, DEFAULT_NEXT),
        ] {
            assert_eq!(local_next(next), expected, "{next:?}");
        }
    }

    #[test]
    fn the_registration_is_valid() {
        let registration = registration("http://localhost:8080/exchange/callback");
        assert!(registration.validate().is_ok());
        assert_eq!(registration.profile, Profile::Basic);
    }

    proptest::proptest! {
        #[test]
        fn next_is_always_local(next in "\\PC{0,64}") {
            let target = local_next(Some(&next));
            proptest::prop_assert!(target.starts_with('/') && !target.starts_with("//") && !target.contains('\\'));
        }
    }
}
