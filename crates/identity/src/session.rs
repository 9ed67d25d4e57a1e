//! Signed-in sessions of residents. A session is created when a resident proves themselves (a
//! passkey sign-in or enrolment), lives [`SESSION_LIFETIME_S`] (12 hours, absolute), and ends
//! early when the resident signs out. The browser holds an opaque token in the
//! [`SESSION_COOKIE`]; the database holds only the token's SHA-256, so a copy of the database
//! signs no one in. Creating and ending a session are audited.
//!
//! This module never logs a token, and never puts one in an error or an audit detail.

use axum::http::HeaderMap;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use bauhinia_store::audit::{AuditEvent, Outcome};
use bauhinia_store::Database;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::clock::{self, Clock};
use crate::domain::signin::SESSION_LIFETIME_S;
use crate::signin_store::{SessionRow, SignInStore};
use crate::IdentityError;

/// The cookie that carries the session token.
pub const SESSION_COOKIE: &str = "bauhinia_session";
/// Authentication context class: the resident used a passkey with user verification.
pub const ACR_PASSKEY: &str = "urn:bauhinia:acr:passkey";
/// Authentication methods (RFC 8176) of a user-verified passkey: proof of possession of a key,
/// and user verification (PIN or biometric) on the device, which makes it multi-factor.
pub const AMR_PASSKEY: [&str; 2] = ["pop", "mfa"];
/// Random bytes in a session token; 43 characters in base64url.
const TOKEN_BYTES: usize = 32;
const TOKEN_CHARS: usize = 43;

/// A live session, as the rest of Bauhinia sees it (the token is the caller's to keep).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// A public id (for logs, audit and an OpenID `sid`); not the token.
    pub id: String,
    pub resident_id: String,
    pub auth_time: OffsetDateTime,
    pub acr: String,
    pub amr: Vec<String>,
    pub expires_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct SessionService {
    store: SignInStore,
    clock: Clock,
    secure_cookie: bool,
    /// The site's own origin (`https://id.example.hk`), when known.
    origin: Option<String>,
}

/// A new session and its token, not yet stored (sign-in stores it with the passkey's update).
#[derive(Debug)]
pub(crate) struct NewSession {
    pub token: String,
    pub row: SessionRow,
    pub session: Session,
}

/// Random bytes from the operating system's generator (through OpenSSL).
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], IdentityError> {
    let mut bytes = [0u8; N];
    openssl::rand::rand_bytes(&mut bytes).map_err(|e| IdentityError::Random(e.to_string()))?;
    Ok(bytes)
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A token is exactly what [`SessionService`] hands out: 43 base64url characters. Anything else
/// is not looked up at all.
fn is_token_shaped(token: &str) -> bool {
    token.len() == TOKEN_CHARS
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The session token in a request's `Cookie` headers, if there is one.
pub fn token_from_headers(headers: &HeaderMap) -> Option<&str> {
    bauhinia_core::extract::cookie(headers, SESSION_COOKIE)
}

impl SessionService {
    /// Sessions on `db`, judged by the wall clock, with cookies not marked `Secure` and no
    /// origin check until [`SessionService::with_public_url`] says where the site is.
    pub fn new(db: &Database) -> Self {
        SessionService {
            store: SignInStore::new(db),
            clock: Clock::system(),
            secure_cookie: false,
            origin: None,
        }
    }

    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The site's public URL: cookies are `Secure` when it is https, and state-changing
    /// requests from pages of any other origin are refused.
    pub fn with_public_url(mut self, public_url: &url::Url) -> Self {
        self.secure_cookie = public_url.scheme() == "https";
        self.origin = Some(public_url.origin().ascii_serialization());
        self
    }

    /// Whether a request with this `Origin` header may change session state: no header (not a
    /// browser, or a same-origin navigation), or the site's own origin.
    pub fn accepts_origin(&self, origin: Option<&str>) -> bool {
        match (origin, &self.origin) {
            (Some(sent), Some(own)) => sent == own,
            _ => true,
        }
    }

    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    pub(crate) fn prepare(
        &self,
        resident_id: &str,
        acr: &str,
        amr: &[&str],
    ) -> Result<NewSession, IdentityError> {
        let token = URL_SAFE_NO_PAD.encode(random_bytes::<TOKEN_BYTES>()?);
        let now = self.clock.now();
        let session = Session {
            id: uuid::Uuid::new_v4().to_string(),
            resident_id: resident_id.to_owned(),
            auth_time: now,
            acr: acr.to_owned(),
            amr: amr.iter().map(|m| (*m).to_owned()).collect(),
            expires_at: now + Duration::seconds(SESSION_LIFETIME_S),
        };
        let row = SessionRow {
            token_hash: token_hash(&token),
            id: session.id.clone(),
            resident_id: session.resident_id.clone(),
            auth_time: clock::to_text(now),
            acr: session.acr.clone(),
            amr: serde_json::to_string(&session.amr)
                .map_err(|e| IdentityError::Corrupt(session.id.clone(), e.to_string()))?,
            created_at: clock::to_text(now),
            expires_at: clock::to_text(session.expires_at),
            ended_at: None,
        };
        Ok(NewSession {
            token,
            row,
            session,
        })
    }

    /// Starts a session for a resident who has just authenticated by `acr`/`amr`. Returns the
    /// opaque token for the cookie (shown once, never stored) and the session.
    pub async fn create(
        &self,
        resident_id: &str,
        acr: &str,
        amr: &[&str],
    ) -> Result<(String, Session), IdentityError> {
        let new = self.prepare(resident_id, acr, amr)?;
        let event = AuditEvent {
            actor: format!("resident:{resident_id}"),
            action: "identity.session.create",
            subject: format!("resident:{resident_id}"),
            outcome: Outcome::Success,
            detail: serde_json::json!({ "session": new.session.id, "acr": acr, "amr": amr }),
            request_id: None,
        };
        self.store
            .insert_session(&new.row, &new.row.created_at, &event)
            .await
            .map_err(|e| match e {
                bauhinia_store::StoreError::Sqlx(ref inner)
                    if inner
                        .as_database_error()
                        .is_some_and(|d| d.is_foreign_key_violation()) =>
                {
                    IdentityError::NotFound(resident_id.to_owned())
                }
                other => other.into(),
            })?;
        Ok((new.token, new.session))
    }

    /// The live session the token opens: `None` if the token is unknown, malformed, expired or
    /// its session ended.
    pub async fn find(&self, token: &str) -> Result<Option<Session>, IdentityError> {
        if !is_token_shaped(token) {
            return Ok(None);
        }
        let Some(row) = self.store.session(&token_hash(token)).await? else {
            return Ok(None);
        };
        let session = session_from_row(&row)?;
        let live = row.ended_at.is_none() && session.expires_at > self.clock.now();
        Ok(live.then_some(session))
    }

    /// Ends the session the token opens (signing out). Ending an unknown, expired or already
    /// ended session does nothing.
    pub async fn end(&self, token: &str) -> Result<(), IdentityError> {
        if !is_token_shaped(token) {
            return Ok(());
        }
        let now = clock::to_text(self.clock.now());
        let ended = self
            .store
            .end_session(&token_hash(token), &now, |id, resident_id| AuditEvent {
                actor: format!("resident:{resident_id}"),
                action: "identity.session.end",
                subject: format!("resident:{resident_id}"),
                outcome: Outcome::Success,
                detail: serde_json::json!({ "session": id }),
                request_id: None,
            })
            .await?;
        if ended {
            tracing::info!("session ended");
        }
        Ok(())
    }

    /// The `Set-Cookie` value that gives the browser `token`: HttpOnly (no script reads it),
    /// SameSite=Lax (not sent on cross-site posts), `Secure` when the public URL is https.
    pub fn cookie(&self, token: &str) -> String {
        set_cookie(token, SESSION_LIFETIME_S, self.secure_cookie)
    }

    /// The `Set-Cookie` value that makes the browser forget the session.
    pub fn clearing_cookie(&self) -> String {
        set_cookie("", 0, self.secure_cookie)
    }
}

fn set_cookie(value: &str, max_age_s: i64, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={value}; Path=/; Max-Age={max_age_s}; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    )
}

fn session_from_row(row: &SessionRow) -> Result<Session, IdentityError> {
    let corrupt = |why: String| IdentityError::Corrupt(format!("session {}", row.id), why);
    let time = |text: &str| clock::from_text(text).map_err(|e| corrupt(e.to_string()));
    Ok(Session {
        id: row.id.clone(),
        resident_id: row.resident_id.clone(),
        auth_time: time(&row.auth_time)?,
        acr: row.acr.clone(),
        amr: serde_json::from_str(&row.amr).map_err(|e| corrupt(e.to_string()))?,
        expires_at: time(&row.expires_at)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{header, HeaderValue};
    use proptest::prelude::*;

    #[test]
    fn reads_the_session_cookie() {
        let mut headers = HeaderMap::new();
        assert_eq!(token_from_headers(&headers), None);
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("bauhinia_lang=en; bauhinia_session=abc"),
        );
        assert_eq!(token_from_headers(&headers), Some("abc"));
        assert!(!is_token_shaped("abc"));
        assert!(is_token_shaped(&"A".repeat(43)));
        assert!(!is_token_shaped(&"A+".repeat(22)[..43]));
    }

    #[test]
    fn cookie_attributes() {
        assert_eq!(
            set_cookie("t", SESSION_LIFETIME_S, false),
            "bauhinia_session=t; Path=/; Max-Age=43200; HttpOnly; SameSite=Lax"
        );
        assert!(
            set_cookie("t", SESSION_LIFETIME_S, true).ends_with("; HttpOnly; SameSite=Lax; Secure")
        );
    }

    proptest! {
        /// Any Cookie header parses without panicking, and only token-shaped values are looked up.
        #[test]
        fn any_cookie_header_parses(cookie in "[ -~]{0,120}") {
            let mut headers = HeaderMap::new();
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                headers.insert(header::COOKIE, value);
            }
            if let Some(token) = token_from_headers(&headers) {
                let _ = is_token_shaped(token);
            }
        }
    }
}
