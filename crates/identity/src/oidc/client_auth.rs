//! Client authentication at the token, PAR, revocation and introspection endpoints:
//! `client_secret_basic` for basic services, `private_key_jwt` (RFC 7523, ES256 or PS256) for
//! FAPI 2.0 services. One method per request; anything else is `invalid_client`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::jose::{self, Alg, JwkSet};
use crate::keys::now;
use crate::oidc::clients::{Client, Clients, Profile};
use crate::oidc::request::param;
use crate::oidc::{OAuthError, ASSERTION_MAX_LIFETIME_S, CLIENT_ASSERTION_TYPE, CLOCK_SKEW_S};

const MAX_JTI_CHARS: usize = 256;
/// A fetched `jwks_uri` is reused this long.
const REMOTE_JWKS_TTL: Duration = Duration::from_secs(300);
/// An unknown `kid` may trigger a refetch at most this often.
const REMOTE_JWKS_MIN_REFETCH: Duration = Duration::from_secs(30);
const REMOTE_JWKS_MAX_BYTES: usize = 64 * 1024;

/// An authenticated client, and the assertion's replay record if it used one.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub client: Client,
    /// `(scope, jti, expires_at)` to record; a conflict means a replayed assertion.
    pub replay: Option<(String, String, i64)>,
    /// When the assertion says it was made (or, without `iat`, the earliest it can have been).
    pub issued_at: Option<i64>,
}

/// Keys fetched from services' `jwks_uri`, cached; and every service key already parsed into
/// an OpenSSL key (parsing and checking a point is several times the cost of a verification).
#[derive(Debug)]
pub struct RemoteJwks {
    http: reqwest::Client,
    cache: Mutex<HashMap<String, (Instant, JwkSet)>>,
    parsed: Mutex<HashMap<String, openssl::pkey::PKey<openssl::pkey::Public>>>,
}

/// Parsed keys kept at most; the map is emptied when full (they are cheap to parse again).
const PARSED_KEYS_MAX: usize = 10_000;

impl Default for RemoteJwks {
    fn default() -> Self {
        RemoteJwks {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
            cache: Mutex::new(HashMap::new()),
            parsed: Mutex::new(HashMap::new()),
        }
    }
}

impl RemoteJwks {
    /// The OpenSSL key of a JWK, parsed once.
    fn key(&self, jwk: &crate::jose::Jwk) -> Option<openssl::pkey::PKey<openssl::pkey::Public>> {
        let id = serde_json::to_string(jwk).ok()?;
        if let Some(key) = self.parsed.lock().ok()?.get(&id) {
            return Some(key.clone());
        }
        let key = jwk.to_key().ok()?;
        if let Ok(mut parsed) = self.parsed.lock() {
            if parsed.len() >= PARSED_KEYS_MAX {
                parsed.clear();
            }
            parsed.insert(id, key.clone());
        }
        Some(key)
    }

    fn cached(&self, uri: &str, max_age: Duration) -> Option<JwkSet> {
        let cache = self.cache.lock().ok()?;
        cache
            .get(uri)
            .filter(|(at, _)| at.elapsed() < max_age)
            .map(|(_, set)| set.clone())
    }

    /// The service's keys; `refresh` asks for a refetch (an unknown `kid`), rate-limited.
    pub async fn get(&self, uri: &str, refresh: bool) -> Result<JwkSet, OAuthError> {
        let max_age = if refresh {
            REMOTE_JWKS_MIN_REFETCH
        } else {
            REMOTE_JWKS_TTL
        };
        if let Some(set) = self.cached(uri, max_age) {
            return Ok(set);
        }
        let unavailable = |why: String| {
            tracing::warn!(jwks_uri = uri, error = %why, "could not fetch a service's JWKS");
            OAuthError::invalid_client("the client's jwks_uri could not be fetched")
        };
        let response = self
            .http
            .get(uri)
            .send()
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(unavailable(format!("status {}", response.status())));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        if body.len() > REMOTE_JWKS_MAX_BYTES {
            return Err(unavailable("too large".into()));
        }
        let set: JwkSet = serde_json::from_slice(&body).map_err(|e| unavailable(e.to_string()))?;
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(uri.to_owned(), (Instant::now(), set.clone()));
        }
        Ok(set)
    }
}

fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = || OAuthError::invalid_client("malformed Basic credentials");
    let value = value.to_str().map_err(|_| bad())?;
    let Some(encoded) = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
    else {
        return Err(OAuthError::invalid_client(
            "only Basic client credentials are accepted in Authorization",
        ));
    };
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    // RFC 6749 section 2.3.1: both parts are form-urlencoded first.
    let unescape = |s: &str| {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some((unescape(id), unescape(secret))))
}

/// Authenticates the client of a back-channel request. An assertion's `aud` must be `issuer`.
pub async fn authenticate(
    clients: &Clients,
    remote: &RemoteJwks,
    headers: &HeaderMap,
    params: &BTreeMap<String, Vec<String>>,
    issuer: &str,
) -> Result<Authenticated, OAuthError> {
    let basic = basic_credentials(headers)?;
    let assertion = param(params, "client_assertion")?;
    let assertion_type = param(params, "client_assertion_type")?;
    let claimed_id = param(params, "client_id")?;
    if param(params, "client_secret")?.is_some() {
        return Err(OAuthError::invalid_client(
            "client_secret_post is not supported; use client_secret_basic",
        ));
    }
    match (basic, assertion) {
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "use one client authentication method, not two",
        )),
        (Some((id, secret)), None) => {
            if claimed_id.is_some_and(|c| c != id) {
                return Err(OAuthError::invalid_client(
                    "client_id does not match the credentials",
                ));
            }
            let client = load(clients, &id).await?;
            if client.registration.profile != Profile::Basic {
                return Err(OAuthError::invalid_client(
                    "this client must authenticate with private_key_jwt",
                ));
            }
            if !clients.secret_matches(&client, &secret) {
                return Err(OAuthError::invalid_client("client authentication failed"));
            }
            Ok(Authenticated {
                client,
                replay: None,
                issued_at: None,
            })
        }
        (None, Some(assertion)) => {
            if assertion_type != Some(CLIENT_ASSERTION_TYPE) {
                return Err(OAuthError::invalid_client(format!(
                    "client_assertion_type must be {CLIENT_ASSERTION_TYPE}"
                )));
            }
            private_key_jwt(clients, remote, assertion, claimed_id, issuer).await
        }
        (None, None) => Err(OAuthError::invalid_client(
            "client authentication is required",
        )),
    }
}

async fn load(clients: &Clients, id: &str) -> Result<Client, OAuthError> {
    match clients.get(id).await {
        Ok(Some(client)) if client.active => Ok(client),
        Ok(_) => Err(OAuthError::invalid_client("client authentication failed")),
        Err(e) => Err(OAuthError::server_error(&e)),
    }
}

async fn private_key_jwt(
    clients: &Clients,
    remote: &RemoteJwks,
    assertion: &str,
    claimed_id: Option<&str>,
    issuer: &str,
) -> Result<Authenticated, OAuthError> {
    let bad = |why: &str| OAuthError::invalid_client(format!("client assertion {why}"));
    let decoded = jose::decode(assertion).map_err(|e| bad(&format!("is not acceptable: {e}")))?;
    if !matches!(decoded.alg, Alg::ES256 | Alg::PS256) {
        return Err(bad("must be signed with ES256 or PS256"));
    }
    let iss = decoded.str_claim("iss").ok_or_else(|| bad("needs iss"))?;
    if decoded.str_claim("sub") != Some(iss) {
        return Err(bad("needs sub equal to iss (the client_id)"));
    }
    if claimed_id.is_some_and(|c| c != iss) {
        return Err(bad("is for another client_id"));
    }
    let client = load(clients, iss).await?;
    let registration = &client.registration;
    let keys = match (&registration.jwks, &registration.jwks_uri) {
        (Some(set), _) => set.clone(),
        (None, Some(uri)) => remote.get(uri, false).await?,
        (None, None) => return Err(bad("cannot be checked: the client has no registered keys")),
    };
    let kid = decoded.header.kid.as_deref();
    let mut candidates: Vec<_> = keys
        .keys
        .iter()
        .filter(|k| {
            k.kty == decoded.alg.kty() && kid.is_none_or(|kid| k.kid.as_deref() == Some(kid))
        })
        .cloned()
        .collect();
    if candidates.is_empty() {
        if let (Some(uri), Some(_)) = (&registration.jwks_uri, kid) {
            let fresh = remote.get(uri, true).await?;
            candidates = fresh
                .keys
                .into_iter()
                .filter(|k| k.kid.as_deref() == kid)
                .collect();
        }
    }
    let verified = candidates
        .iter()
        .filter_map(|k| remote.key(k))
        .any(|key| decoded.verify(&key).is_ok());
    if !verified {
        return Err(bad("signature does not verify with the client's keys"));
    }
    // FAPI 2.0 (final, 5.3.2.1): the issuer identifier, as a single string. An array, or an
    // endpoint's URL, would let an assertion made for another server be replayed here.
    let aud_ok = decoded
        .claims
        .get("aud")
        .and_then(serde_json::Value::as_str)
        == Some(issuer);
    if !aud_ok {
        return Err(bad("is for another audience"));
    }
    let at = now();
    let exp = decoded.int_claim("exp").ok_or_else(|| bad("needs exp"))?;
    if exp + CLOCK_SKEW_S < at {
        return Err(bad("has expired"));
    }
    let iat = decoded.int_claim("iat");
    if iat.is_some_and(|iat| iat > at + CLOCK_SKEW_S) {
        return Err(bad("is issued in the future"));
    }
    if decoded
        .int_claim("nbf")
        .is_some_and(|nbf| nbf > at + CLOCK_SKEW_S)
    {
        return Err(bad("is not valid yet"));
    }
    if exp - iat.unwrap_or(at) > ASSERTION_MAX_LIFETIME_S {
        return Err(bad(&format!(
            "may live at most {ASSERTION_MAX_LIFETIME_S} seconds"
        )));
    }
    let jti = decoded
        .str_claim("jti")
        .filter(|j| !j.is_empty() && j.len() <= MAX_JTI_CHARS)
        .ok_or_else(|| bad("needs a jti"))?;
    let replay = (
        format!("assertion:{}", client.client_id),
        jti.to_owned(),
        exp + CLOCK_SKEW_S,
    );
    Ok(Authenticated {
        client,
        replay: Some(replay),
        issued_at: Some(iat.unwrap_or(exp - ASSERTION_MAX_LIFETIME_S)),
    })
}
