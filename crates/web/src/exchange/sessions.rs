//! The portal's own sessions, made when a resident signs in through the built-in OpenID
//! Provider, and the logins under way between the redirect to `/oauth2/authorize` and the
//! callback. Tables `portal_sessions` and `portal_logins` (migration 0023) on both dialects.
//!
//! A session ends when the resident signs out, after [`IDLE_TIMEOUT_S`] without a request, or
//! [`SESSION_LIFETIME_S`] after it began, whichever comes first. The browser holds a random
//! token; the database only its SHA-256. A login's state is kept as SHA-256 too, its PKCE
//! verifier only sealed by the vault, and it is taken (deleted) by the first callback that
//! presents it. This module never logs a token, a state or a verifier.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use bauhinia_core::crypto::Vault;
use bauhinia_store::audit::{AuditEvent, Outcome};
use bauhinia_store::{read, write_tx, Database, StoreError};
use sha2::{Digest, Sha256};

/// The cookie that carries the portal session's token.
pub const SESSION_COOKIE: &str = "bauhinia_portal";
/// The cookie that binds a login's state to the browser that started it.
pub const LOGIN_COOKIE: &str = "bauhinia_portal_login";
/// A session ends this long after its last request.
pub const IDLE_TIMEOUT_S: i64 = 30 * 60;
/// A session ends this long after it began, however busy.
pub const SESSION_LIFETIME_S: i64 = 8 * 3600;
/// A login must come back from the OpenID Provider within this.
pub const LOGIN_TTL_S: i64 = 10 * 60;
/// Logins under way at most (each is a row a stranger can make by following the sign-in link):
/// beyond this, new logins are refused until some expire.
pub const LOGINS_MAX: i64 = 10_000;
/// A session's last-seen time is written at most this often (not on every page).
const TOUCH_EVERY_S: i64 = 60;
/// Random bytes in a token, a state, a nonce or a PKCE verifier (43 base64url characters).
const SECRET_BYTES: usize = 32;
const SECRET_CHARS: usize = 43;
const VERIFIER_CONTEXT: &str = "portal.pkce_verifier";
const CSRF_CONTEXT: &str = "portal.csrf";

/// A random secret: 32 bytes from the operating system, base64url without padding.
pub fn random_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    bauhinia_core::crypto::random_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Only what [`random_secret`] makes is looked up at all.
fn is_secret_shaped(text: &str) -> bool {
    text.len() == SECRET_CHARS
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A login under way, as the callback needs it.
#[derive(Debug)]
pub struct Login {
    pub nonce: String,
    pub verifier: String,
    /// The local path to go to afterwards (already checked).
    pub next: String,
}

/// A live portal session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalSession {
    /// A public id (for audit and logs); not the token.
    pub id: String,
    pub resident_id: String,
    /// The form token that proves a post came from a page this session was shown.
    pub csrf: String,
}

#[derive(Debug, Clone)]
pub struct PortalSessions {
    db: Database,
    vault: Arc<Vault>,
    secure_cookie: bool,
    logins_max: i64,
}

fn now_s() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl PortalSessions {
    pub fn new(db: &Database, vault: Arc<Vault>, secure_cookie: bool) -> PortalSessions {
        PortalSessions {
            db: db.clone(),
            vault,
            secure_cookie,
            logins_max: LOGINS_MAX,
        }
    }

    /// Keeps a new login; returns its state (for the authorization request and the cookie).
    /// Expired logins are deleted on the way; with [`LOGINS_MAX`] waiting, the answer is
    /// [`StoreError::Conflict`].
    pub async fn begin_login(&self, login: &Login) -> Result<String, StoreError> {
        let state = random_secret();
        let sealed = self
            .vault
            .seal(VERIFIER_CONTEXT, login.verifier.as_bytes())
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let at = now_s();
        write_tx!(&self.db, tx, _audit => {
            sqlx::query("DELETE FROM portal_logins WHERE expires_at_s <= $1")
                .bind(at)
                .execute(&mut *tx)
                .await?;
            let waiting: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM portal_logins")
                .fetch_one(&mut *tx)
                .await?;
            if waiting >= self.logins_max {
                return Err(StoreError::Conflict("too many logins under way".into()));
            }
            sqlx::query(
                "INSERT INTO portal_logins (state_hash, nonce, verifier_sealed, next, created_at_s, expires_at_s) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(hash(&state))
            .bind(&login.nonce)
            .bind(&sealed)
            .bind(&login.next)
            .bind(at)
            .bind(at + LOGIN_TTL_S)
            .execute(&mut *tx)
            .await?;
        });
        Ok(state)
    }

    /// Takes the login of `state` (it cannot be taken twice): `None` if unknown or expired.
    pub async fn take_login(&self, state: &str) -> Result<Option<Login>, StoreError> {
        if !is_secret_shaped(state) {
            return Ok(None);
        }
        let at = now_s();
        let row: Option<(String, Vec<u8>, String, i64)> = write_tx!(&self.db, tx, _audit => {
            sqlx::query_as(
                "DELETE FROM portal_logins WHERE state_hash = $1 \
                 RETURNING nonce, verifier_sealed, next, expires_at_s",
            )
            .bind(hash(state))
            .fetch_optional(&mut *tx)
            .await?
        });
        let Some((nonce, sealed, next, expires_at_s)) = row else {
            return Ok(None);
        };
        if expires_at_s <= at {
            return Ok(None);
        }
        let verifier = self
            .vault
            .open(VERIFIER_CONTEXT, &sealed)
            .ok()
            .and_then(|v| String::from_utf8(v).ok())
            .ok_or_else(|| StoreError::Corrupt("a login's sealed PKCE verifier".into()))?;
        Ok(Some(Login {
            nonce,
            verifier,
            next,
        }))
    }

    /// Starts a session for `resident_id`, audited with the login's success. Returns the
    /// token for the cookie (never stored) and the session.
    pub async fn create(
        &self,
        resident_id: &str,
        client_id: &str,
    ) -> Result<(String, PortalSession), StoreError> {
        let token = random_secret();
        let id = uuid::Uuid::new_v4().to_string();
        let at = now_s();
        let event = AuditEvent {
            actor: format!("resident:{resident_id}"),
            action: "portal.login",
            subject: format!("resident:{resident_id}"),
            outcome: Outcome::Success,
            detail: serde_json::json!({ "session": id, "service": client_id }),
            request_id: None,
        };
        write_tx!(&self.db, tx, append_audit => {
            sqlx::query("DELETE FROM portal_sessions WHERE expires_at_s <= $1")
                .bind(at)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO portal_sessions (token_hash, id, resident_id, created_at_s, last_seen_at_s, expires_at_s) \
                 VALUES ($1, $2, $3, $4, $4, $5)",
            )
            .bind(hash(&token))
            .bind(&id)
            .bind(resident_id)
            .bind(at)
            .bind(at + SESSION_LIFETIME_S)
            .execute(&mut *tx)
            .await?;
            append_audit(&mut tx, &event).await?;
        });
        let session = PortalSession {
            csrf: self.csrf(&token),
            id,
            resident_id: resident_id.to_owned(),
        };
        Ok((token, session))
    }

    /// The live session `token` opens: `None` if unknown, ended, idle too long or too old.
    /// Counts as activity (the idle clock restarts).
    pub async fn find(&self, token: &str) -> Result<Option<PortalSession>, StoreError> {
        if !is_secret_shaped(token) {
            return Ok(None);
        }
        let at = now_s();
        let row: Option<(String, String, i64)> = read!(&self.db, conn => sqlx::query_as(
            "SELECT id, resident_id, last_seen_at_s FROM portal_sessions \
             WHERE token_hash = $1 AND ended_at_s IS NULL AND expires_at_s > $2 AND last_seen_at_s > $3",
        )
        .bind(hash(token))
        .bind(at)
        .bind(at - IDLE_TIMEOUT_S)
        .fetch_optional(conn)
        .await?);
        let Some((id, resident_id, last_seen_at_s)) = row else {
            return Ok(None);
        };
        if at - last_seen_at_s >= TOUCH_EVERY_S {
            write_tx!(&self.db, tx, _audit => {
                sqlx::query("UPDATE portal_sessions SET last_seen_at_s = $1 WHERE token_hash = $2 AND ended_at_s IS NULL")
                    .bind(at)
                    .bind(hash(token))
                    .execute(&mut *tx)
                    .await?;
            });
        }
        Ok(Some(PortalSession {
            csrf: self.csrf(token),
            id,
            resident_id,
        }))
    }

    /// Ends the session `token` opens (signing out), audited; nothing for an unknown one.
    pub async fn end(&self, token: &str) -> Result<(), StoreError> {
        if !is_secret_shaped(token) {
            return Ok(());
        }
        let at = now_s();
        write_tx!(&self.db, tx, append_audit => {
            let ended: Option<(String, String)> = sqlx::query_as(
                "UPDATE portal_sessions SET ended_at_s = $1 WHERE token_hash = $2 AND ended_at_s IS NULL \
                 RETURNING id, resident_id",
            )
            .bind(at)
            .bind(hash(token))
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((id, resident_id)) = ended {
                let event = AuditEvent {
                    actor: format!("resident:{resident_id}"),
                    action: "portal.logout",
                    subject: format!("resident:{resident_id}"),
                    outcome: Outcome::Success,
                    detail: serde_json::json!({ "session": id }),
                    request_id: None,
                };
                append_audit(&mut tx, &event).await?;
            }
        });
        Ok(())
    }

    /// Records a login that failed (`reason` is a stable word, never a secret).
    pub async fn login_failed(&self, reason: &str, detail: &str) -> Result<(), StoreError> {
        self.db
            .append_audit(&AuditEvent {
                actor: "browser".into(),
                action: "portal.login",
                subject: "portal".into(),
                outcome: Outcome::Failure,
                detail: serde_json::json!({ "reason": reason, "detail": detail }),
                request_id: None,
            })
            .await
    }

    /// The session's anti-forgery token: a keyed hash of its token, so it needs no storage and
    /// tells nothing about the token.
    fn csrf(&self, token: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.vault.lookup_hash(CSRF_CONTEXT, token.as_bytes()))
    }

    /// Whether `sent` is the session's anti-forgery token (compared as keyed hashes, so the
    /// comparison's time says nothing about the token).
    pub fn csrf_matches(&self, session: &PortalSession, sent: &str) -> bool {
        let a = self
            .vault
            .lookup_hash(CSRF_CONTEXT, session.csrf.as_bytes());
        let b = self.vault.lookup_hash(CSRF_CONTEXT, sent.as_bytes());
        a == b
    }

    fn cookie(&self, name: &str, value: &str, path: &str, max_age_s: i64) -> String {
        format!(
            "{name}={value}; Path={path}; Max-Age={max_age_s}; HttpOnly; SameSite=Lax{}",
            if self.secure_cookie { "; Secure" } else { "" }
        )
    }

    /// `Set-Cookie` giving the browser the session's token.
    pub fn session_cookie(&self, token: &str) -> String {
        self.cookie(SESSION_COOKIE, token, "/", SESSION_LIFETIME_S)
    }

    /// `Set-Cookie` making the browser forget the session.
    pub fn clearing_session_cookie(&self) -> String {
        self.cookie(SESSION_COOKIE, "", "/", 0)
    }

    /// `Set-Cookie` binding a login's state to this browser, sent back only to the callback.
    pub fn login_cookie(&self, state: &str) -> String {
        self.cookie(LOGIN_COOKIE, state, super::CALLBACK_PATH, LOGIN_TTL_S)
    }

    /// `Set-Cookie` forgetting the login's state once the callback has used it.
    pub fn clearing_login_cookie(&self) -> String {
        self.cookie(LOGIN_COOKIE, "", super::CALLBACK_PATH, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bauhinia_core::crypto::MasterKey;
    use bauhinia_store::testing::TestDb;

    #[test]
    fn secrets_have_one_shape() {
        let secret = random_secret();
        assert!(is_secret_shaped(&secret));
        assert_ne!(secret, random_secret());
        for bad in ["", "short", &"a".repeat(44), &format!("{}=", &secret[..42])] {
            assert!(!is_secret_shaped(bad), "{bad:?}");
        }
    }

    async fn set(db: &Database, sql: &str, value: i64) -> Result<(), StoreError> {
        write_tx!(db, tx, _audit => {
            sqlx::query(sql).bind(value).execute(&mut *tx).await?;
        });
        Ok(())
    }

    /// One conformance run: logins taken once, sessions found, touched, timed out and ended.
    async fn conformance(db: &Database) -> Result<(), StoreError> {
        let vault = Arc::new(Vault::new(&MasterKey::generate()));
        let identity = bauhinia_identity::IdentityService::new(db, Arc::clone(&vault));
        let draft = bauhinia_identity::demo::residents().remove(0);
        let today = time::OffsetDateTime::now_utc().date();
        let resident = identity
            .register(&draft, "test", today)
            .await
            .expect("resident")
            .id;
        let mut sessions = PortalSessions::new(db, vault, true);

        let login = Login {
            nonce: random_secret(),
            verifier: random_secret(),
            next: "/exchange/consents".into(),
        };
        let state = sessions.begin_login(&login).await?;
        assert!(sessions.take_login("not a state").await?.is_none());
        let taken = sessions.take_login(&state).await?.expect("the login");
        assert_eq!(
            (taken.nonce, taken.verifier, taken.next),
            (login.nonce, login.verifier, login.next)
        );
        assert!(sessions.take_login(&state).await?.is_none(), "taken once");
        let late = sessions
            .begin_login(&Login {
                nonce: "n".into(),
                verifier: "v".into(),
                next: "/".into(),
            })
            .await?;
        set(
            db,
            "UPDATE portal_logins SET expires_at_s = $1",
            now_s() - 1,
        )
        .await?;
        assert!(sessions.take_login(&late).await?.is_none(), "expired");
        // Logins under way are bounded; expired ones make room.
        sessions.logins_max = 2;
        let fill = || Login {
            nonce: "n".into(),
            verifier: "v".into(),
            next: "/".into(),
        };
        sessions.begin_login(&fill()).await?;
        sessions.begin_login(&fill()).await?;
        assert!(matches!(
            sessions.begin_login(&fill()).await,
            Err(StoreError::Conflict(_))
        ));
        set(
            db,
            "UPDATE portal_logins SET expires_at_s = $1",
            now_s() - 1,
        )
        .await?;
        sessions.begin_login(&fill()).await?;
        sessions.logins_max = LOGINS_MAX;

        let (token, session) = sessions.create(&resident, "svc_portal").await?;
        assert_eq!(sessions.find(&token).await?, Some(session.clone()));
        assert!(sessions.csrf_matches(&session, &session.csrf));
        assert!(!sessions.csrf_matches(&session, "forged"));
        assert!(sessions.find(&random_secret()).await?.is_none());
        assert!(sessions
            .session_cookie(&token)
            .ends_with("HttpOnly; SameSite=Lax; Secure"));

        // Idle too long, then too old: both end it.
        set(
            db,
            "UPDATE portal_sessions SET last_seen_at_s = $1",
            now_s() - IDLE_TIMEOUT_S - 1,
        )
        .await?;
        assert!(sessions.find(&token).await?.is_none(), "idle");
        let (token, _) = sessions.create(&resident, "svc_portal").await?;
        set(
            db,
            "UPDATE portal_sessions SET expires_at_s = $1",
            now_s() - 1,
        )
        .await?;
        assert!(sessions.find(&token).await?.is_none(), "absolute");

        // A found session is touched (the idle clock restarts); ending it is audited once.
        let (token, _) = sessions.create(&resident, "svc_portal").await?;
        set(
            db,
            "UPDATE portal_sessions SET last_seen_at_s = $1",
            now_s() - IDLE_TIMEOUT_S + 120,
        )
        .await?;
        assert!(sessions.find(&token).await?.is_some());
        let seen: i64 = read!(db, conn => sqlx::query_scalar(
            "SELECT MAX(last_seen_at_s) FROM portal_sessions WHERE ended_at_s IS NULL AND expires_at_s > $1")
            .bind(now_s()).fetch_one(conn).await?);
        assert!(seen >= now_s() - 5, "touched");
        sessions.end(&token).await?;
        sessions.end(&token).await?;
        assert!(sessions.find(&token).await?.is_none(), "ended");
        let audit = db
            .audit_for_subject(&format!("resident:{resident}"), 100)
            .await?;
        let actions: Vec<&str> = audit
            .iter()
            .map(|e| e.action.as_str())
            .filter(|a| a.starts_with("portal."))
            .collect();
        assert_eq!(
            actions,
            [
                "portal.login",
                "portal.login",
                "portal.login",
                "portal.logout"
            ]
        );
        Ok(())
    }

    #[tokio::test]
    async fn sessions_on_sqlite() {
        let test = TestDb::sqlite().await.expect("sqlite");
        conformance(&test.db).await.expect("conformance");
        test.cleanup().await.expect("cleanup");
    }

    #[tokio::test]
    async fn sessions_on_postgres() {
        let Some(test) = TestDb::postgres().await.expect("postgres") else {
            return;
        };
        conformance(&test.db).await.expect("conformance");
        test.cleanup().await.expect("cleanup");
        println!("store conformance: postgres portal sessions ok");
    }
}
