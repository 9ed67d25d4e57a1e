//! 智方便 as an OpenID Provider: authorization code flow only, PKCE S256 always, Pushed
//! Authorization Requests (required for FAPI 2.0 services), `iss` in the authorization
//! response, `private_key_jwt` and `client_secret_basic`, DPoP-bound access tokens, ES256 (or
//! RS256) ID tokens with a pairwise `sub`, userinfo, refresh rotation with reuse detection,
//! revocation, introspection and RP-initiated logout.
//!
//! Layout: `fields` (scopes and profile fields), `clients` (service registry), `request` (the
//! authorization request and its validation), `client_auth`, `dpop`, `store` (the rows of the
//! flow), `corporate` (the claims of corporate login), `provider` (the flow itself), `http`
//! (the endpoints).

pub mod admin;
pub mod client_auth;
pub mod clients;
pub mod corporate;
pub mod dpop;
pub mod fields;
pub mod http;
pub mod provider;
pub mod request;
pub mod store;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use provider::Provider;

/// Authorization codes live about a minute (FAPI 2.0), and are single use.
pub const CODE_TTL_S: i64 = 60;
/// A pushed request URI lives 90 seconds (RFC 9126 allows 5–600), and is single use.
pub const PAR_TTL_S: i64 = 90;
/// A login or approval request waits ten minutes for the resident.
pub const INTERACTION_TTL_S: i64 = 600;
pub const ACCESS_TOKEN_TTL_S: i64 = 600;
pub const ID_TOKEN_TTL_S: i64 = 600;
pub const REFRESH_TOKEN_TTL_S: i64 = 30 * 24 * 3600;
/// Client assertions may live at most this long (FAPI 2.0 deployments ask for ≤ 2 minutes;
/// a little slack for clocks).
pub const ASSERTION_MAX_LIFETIME_S: i64 = 300;
/// Clock skew tolerated on `iat`, `nbf` and `exp`.
pub const CLOCK_SKEW_S: i64 = 30;
/// How old a DPoP proof may be.
pub const DPOP_MAX_AGE_S: i64 = 120;

pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// 32 random bytes, base64url: codes, tokens, secrets, request URIs.
pub fn random_token() -> Result<String, openssl::error::ErrorStack> {
    let mut bytes = [0u8; 32];
    openssl::rand::rand_bytes(&mut bytes)?;
    Ok(crate::jose::b64(&bytes))
}

/// How a bearer secret (code, token, request URI) is stored and looked up.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// An OAuth 2.0 error (RFC 6749 section 5.2, and the codes of RFC 9126, 9449 and OIDC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OAuthError {
    pub error: &'static str,
    pub error_description: String,
    #[serde(skip)]
    pub status: StatusCode,
}

impl OAuthError {
    fn new(error: &'static str, status: StatusCode, description: impl Into<String>) -> Self {
        OAuthError {
            error,
            error_description: description.into(),
            status,
        }
    }
    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new("invalid_request", StatusCode::BAD_REQUEST, d)
    }
    pub fn invalid_client(d: impl Into<String>) -> Self {
        Self::new("invalid_client", StatusCode::UNAUTHORIZED, d)
    }
    pub fn invalid_grant(d: impl Into<String>) -> Self {
        Self::new("invalid_grant", StatusCode::BAD_REQUEST, d)
    }
    pub fn unsupported_grant_type(d: impl Into<String>) -> Self {
        Self::new("unsupported_grant_type", StatusCode::BAD_REQUEST, d)
    }
    pub fn invalid_scope(d: impl Into<String>) -> Self {
        Self::new("invalid_scope", StatusCode::BAD_REQUEST, d)
    }
    pub fn invalid_dpop_proof(d: impl Into<String>) -> Self {
        Self::new("invalid_dpop_proof", StatusCode::BAD_REQUEST, d)
    }
    pub fn invalid_token(d: impl Into<String>) -> Self {
        Self::new("invalid_token", StatusCode::UNAUTHORIZED, d)
    }
    pub fn unsupported_response_type(d: impl Into<String>) -> Self {
        Self::new("unsupported_response_type", StatusCode::BAD_REQUEST, d)
    }
    pub fn request_not_supported(d: impl Into<String>) -> Self {
        Self::new("request_not_supported", StatusCode::BAD_REQUEST, d)
    }
    pub fn invalid_request_uri(d: impl Into<String>) -> Self {
        Self::new("invalid_request_uri", StatusCode::BAD_REQUEST, d)
    }
    pub fn access_denied(d: impl Into<String>) -> Self {
        Self::new("access_denied", StatusCode::FORBIDDEN, d)
    }
    pub fn login_required(d: impl Into<String>) -> Self {
        Self::new("login_required", StatusCode::BAD_REQUEST, d)
    }
    pub fn consent_required(d: impl Into<String>) -> Self {
        Self::new("consent_required", StatusCode::BAD_REQUEST, d)
    }
    pub fn server_error(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "OAuth endpoint failed");
        Self::new(
            "server_error",
            StatusCode::INTERNAL_SERVER_ERROR,
            "an unexpected error occurred; it has been logged",
        )
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.error_description)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let status = self.status;
        let mut response = (status, axum::Json(&self)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if status == StatusCode::UNAUTHORIZED && self.error == "invalid_client" {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"bauhinia\""),
            );
        }
        response
    }
}

impl From<store::FlowStoreError> for OAuthError {
    fn from(error: store::FlowStoreError) -> Self {
        OAuthError::server_error(&error)
    }
}
