//! The administrator's bearer token: given by the operator (`BAUHINIA_ADMIN_TOKEN`) or created
//! on first start in a file readable by its owner only. Kept in memory only as a SHA-256 hash
//! and compared in constant time. Handlers take the [`Admin`] extractor, which answers 401
//! `admin.unauthorized` (problem+json) unless the request carries the token.

use std::path::Path;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::crypto::CryptoError;
use crate::{ErrorCode, Problem};

/// Shortest token an operator may configure.
const MIN_TOKEN_CHARS: usize = 24;

#[derive(Clone)]
pub struct AdminToken {
    hash: [u8; 32],
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(***)")
    }
}

impl AdminToken {
    /// A token given by the operator; refused if too short to resist guessing.
    pub fn from_secret(secret: &str) -> Result<AdminToken, String> {
        let secret = secret.trim();
        if secret.chars().count() < MIN_TOKEN_CHARS {
            return Err(format!(
                "the administrator token must have at least {MIN_TOKEN_CHARS} characters"
            ));
        }
        Ok(AdminToken {
            hash: Sha256::digest(secret.as_bytes()).into(),
        })
    }

    /// Reads the token file, or creates it (mode 0600) with 32 random bytes, base64url.
    /// Returns whether it was created.
    pub fn load_or_create(path: &Path) -> Result<(AdminToken, bool), CryptoError> {
        let fail = |e: String| CryptoError::KeyFile(path.display().to_string(), e);
        match std::fs::read_to_string(path) {
            Ok(text) => Ok((AdminToken::from_secret(&text).map_err(fail)?, false)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                use base64::Engine as _;
                let mut bytes = [0u8; 32];
                getrandom_bytes(&mut bytes);
                let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
                crate::crypto::write_private(path, format!("{secret}\n").as_bytes())
                    .map_err(|e| fail(e.to_string()))?;
                Ok((AdminToken::from_secret(&secret).map_err(fail)?, true))
            }
            Err(e) => Err(fail(e.to_string())),
        }
    }

    /// Whether `presented` is the token (constant time).
    pub fn verify(&self, presented: &str) -> bool {
        let hash: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        hash.iter()
            .zip(self.hash.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

fn getrandom_bytes(bytes: &mut [u8]) {
    use chacha20poly1305::aead::rand_core::RngCore as _;
    chacha20poly1305::aead::OsRng.fill_bytes(bytes);
}

/// Proof that the request carries the administrator token.
/// The token of an `Authorization: Bearer …` header, trimmed (the administrator's, a
/// participant's: whoever checks it decides).
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

#[derive(Debug, Clone, Copy)]
pub struct Admin;

/// The 401 answer, with the challenge.
#[derive(Debug)]
pub struct AdminRejection;

impl IntoResponse for AdminRejection {
    fn into_response(self) -> Response {
        let mut response = Problem::new(ErrorCode::AdminUnauthorized).into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"bauhinia-admin\""),
        );
        response
    }
}

impl<S> FromRequestParts<S> for Admin
where
    S: Send + Sync,
    Arc<AdminToken>: FromRef<S>,
{
    type Rejection = AdminRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Admin, AdminRejection> {
        let token = Arc::<AdminToken>::from_ref(state);
        let presented = bearer_token(&parts.headers).ok_or(AdminRejection)?;
        if token.verify(presented) {
            Ok(Admin)
        } else {
            tracing::warn!("administrator token refused");
            Err(AdminRejection)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_only_the_token_and_refuses_short_ones() {
        let token = AdminToken::from_secret("correct horse battery staple!").unwrap();
        assert!(token.verify("correct horse battery staple!"));
        assert!(!token.verify("correct horse battery staple?"));
        assert!(AdminToken::from_secret("short").is_err());
        assert_eq!(format!("{token:?}"), "AdminToken(***)");
    }
}
