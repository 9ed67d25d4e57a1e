//! The rows of the flow — pushed requests, interactions, grants, codes, tokens, seen JWT ids and
//! consent receipts — on either dialect (see `bauhinia_store::dialect`). Every state change is
//! a conditional update, so two racing requests cannot both use one code, one refresh token or
//! one request URI. Bearer secrets arrive here already hashed.

use bauhinia_store::audit::{append_pg, AuditEvent, Outcome};
use bauhinia_store::{read, write_tx, Database, StoreError};
use serde::{Deserialize, Serialize};

use crate::keys::now;
use crate::oidc::fields::Field;

#[derive(Debug, thiserror::Error)]
pub enum FlowStoreError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored flow data is corrupt: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for FlowStoreError {
    fn from(error: sqlx::Error) -> Self {
        FlowStoreError::Store(StoreError::Sqlx(error))
    }
}

type Result<T> = std::result::Result<T, FlowStoreError>;

/// What a grant lets the service see, stored as JSON on the grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct GrantClaims {
    pub userinfo: Vec<Field>,
    pub id_token: Vec<Field>,
}

/// Everything the token endpoint needs about a grant.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GrantRow {
    pub id: String,
    pub resident_id: String,
    pub client_id: String,
    pub consent_id: Option<String>,
    pub scope: String,
    pub claims: String,
    pub auth_time: i64,
    pub acr: String,
    pub amr: String,
    pub session_id: Option<String>,
    pub revoked_at: Option<i64>,
    /// The pairwise `sub` the service knows the resident by.
    pub subject: Option<String>,
    /// Corporate login: the directory's id of the business the resident chose to act for.
    pub corp_business_id: Option<String>,
    /// ... and its BRN as it was at approval, for audit records.
    pub corp_brn: Option<String>,
}

impl GrantRow {
    pub fn claims(&self) -> Result<GrantClaims> {
        serde_json::from_str(&self.claims)
            .map_err(|e| FlowStoreError::Corrupt(format!("grant {}: {e}", self.id)))
    }

    pub fn amr(&self) -> Vec<String> {
        serde_json::from_str(&self.amr).unwrap_or_default()
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CodeRow {
    pub grant_id: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub nonce: Option<String>,
    pub dpop_jkt: Option<String>,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub kind: String,
    pub grant_id: String,
    pub client_id: String,
    pub jkt: Option<String>,
    pub scope: String,
    pub issued_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InteractionRow {
    pub id: String,
    pub browser_hash: Vec<u8>,
    pub client_id: String,
    pub request: String,
    pub status: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub resident_id: Option<String>,
    pub decision: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConsentRow {
    pub id: String,
    pub resident_id: String,
    pub client_id: String,
    pub scope: String,
    pub fields: String,
    pub purpose: String,
    pub granted_at: i64,
    pub revoked_at: Option<i64>,
    /// Corporate login: the business the resident acted for, its BRN and the resident's role
    /// as the consent screen showed them.
    pub corp_business_id: Option<String>,
    pub corp_brn: Option<String>,
    pub corp_role: Option<String>,
}

/// A token to insert.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub hash: Vec<u8>,
    pub kind: &'static str,
    pub jkt: Option<String>,
    pub expires_at: i64,
}

/// A grant and its code, written when the resident's approval completes.
#[derive(Debug, Clone)]
pub struct NewGrant<'a> {
    pub grant: &'a GrantRow,
    pub code_hash: &'a [u8],
    pub code: &'a CodeRow,
    /// A new consent receipt, when the resident approved fields no active receipt covers.
    pub consent: Option<&'a ConsentRow>,
}

/// What happened to a code or refresh token at the token endpoint.
#[derive(Debug)]
pub enum Redemption<R, T, E> {
    /// The replay record at this index was seen before; nothing was issued.
    Replayed(usize),
    Unknown,
    /// Used before: the grant and every token issued from it are now revoked.
    Reused,
    /// The caller refused to issue.
    Refused(E),
    Issued(R, Box<GrantRow>, T),
}

#[derive(Debug, Clone)]
pub struct FlowStore {
    db: Database,
    /// The embedded database is one process's alone, so seen JWT ids are kept in its memory
    /// instead of written (a commit each) to the disk; PostgreSQL nodes share the table.
    memory: Option<std::sync::Arc<MemoryReplays>>,
}

/// Seen JWT ids of this process. What it cannot know — ids seen before it started — it refuses
/// by time instead: the provider rejects assertions and proofs issued before the start.
#[derive(Debug)]
pub struct MemoryReplays {
    seen: std::sync::Mutex<std::collections::HashMap<(String, String), i64>>,
    pub started_at: i64,
}

/// Above this many entries, expired ones are dropped before the next insert.
const MEMORY_REPLAYS_PURGE_AT: usize = 100_000;

impl MemoryReplays {
    /// Records every id, or none: `Some(i)` when the `i`-th was seen before.
    fn record(&self, replays: &[Replay]) -> Option<usize> {
        let mut seen = match self.seen.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let at = now();
        if seen.len() >= MEMORY_REPLAYS_PURGE_AT {
            seen.retain(|_, expires_at| *expires_at >= at);
        }
        for (i, (scope, jti, _)) in replays.iter().enumerate() {
            if seen
                .get(&(scope.clone(), jti.clone()))
                .is_some_and(|e| *e >= at)
            {
                return Some(i);
            }
        }
        for (scope, jti, expires_at) in replays {
            seen.insert((scope.clone(), jti.clone()), *expires_at);
        }
        None
    }
}

const GRANT_COLUMNS: &str = "g.id, g.resident_id, g.client_id, g.consent_id, g.scope, g.claims, g.auth_time, g.acr, g.amr, g.session_id, g.revoked_at, g.subject, g.corp_business_id, g.corp_brn";

/// Records a seen JWT id; evaluates to `false` when it was seen before (a replay).
macro_rules! record_jti {
    ($conn:expr, $replay:expr) => {{
        let (scope, jti, expires_at) = $replay;
        sqlx::query(
            "INSERT INTO identity_jti (scope, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(scope)
        .bind(jti)
        .bind(expires_at)
        .execute($conn)
        .await?
        .rows_affected()
            == 1
    }};
}

/// Records every replay record in order; evaluates to the index of the first seen before.
macro_rules! record_all {
    ($tx:ident, $replays:expr) => {{
        let mut replayed = None;
        for (i, replay) in $replays.iter().enumerate() {
            if !record_jti!(&mut *$tx, replay.clone()) {
                replayed = Some(i);
                break;
            }
        }
        replayed
    }};
}

macro_rules! insert_token {
    ($conn:expr, $token:expr, $grant_id:expr, $client_id:expr, $scope:expr, $at:expr) => {{
        let token: &NewToken = $token;
        sqlx::query(
            "INSERT INTO identity_tokens (token_hash, kind, grant_id, client_id, jkt, scope, issued_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&token.hash)
        .bind(token.kind)
        .bind($grant_id)
        .bind($client_id)
        .bind(&token.jkt)
        .bind($scope)
        .bind($at)
        .bind(token.expires_at)
        .execute($conn)
        .await?;
    }};
}

/// Revokes a grant and its tokens; evaluates to whether the grant was live until now.
macro_rules! revoke_grant {
    ($conn:expr, $grant_id:expr, $reason:expr, $at:expr) => {{
        let changed = sqlx::query("UPDATE identity_grants SET revoked_at = $1, revoked_reason = $2 WHERE id = $3 AND revoked_at IS NULL")
            .bind($at)
            .bind($reason)
            .bind($grant_id)
            .execute(&mut *$conn)
            .await?
            .rows_affected()
            == 1;
        sqlx::query("UPDATE identity_tokens SET revoked_at = $1 WHERE grant_id = $2 AND revoked_at IS NULL")
            .bind($at)
            .bind($grant_id)
            .execute(&mut *$conn)
            .await?;
        changed
    }};
}

/// The audit event of a redemption that issued tokens.
fn issued_event(event: &AuditEvent, grant_id: &str) -> AuditEvent {
    AuditEvent {
        subject: format!("grant:{grant_id}"),
        ..event.clone()
    }
}

/// The audit event of a reused code or refresh token, which revoked its grant.
fn reuse_event(event: &AuditEvent, action: &'static str, grant_id: &str) -> AuditEvent {
    AuditEvent {
        action,
        outcome: Outcome::Failure,
        subject: format!("grant:{grant_id}"),
        ..event.clone()
    }
}

/// Marks a code or refresh token used (`claim`: `$1` the time, `$2` its hash) and writes the
/// tokens issued for it with the audit event. `false`: a racing use claimed it first, and the
/// grant is revoked instead.
#[allow(clippy::too_many_arguments)]
async fn claim_and_issue_pg(
    tx: &mut sqlx::PgConnection,
    claim: &str,
    hash: &[u8],
    tokens: &[NewToken],
    grant: &GrantRow,
    scope: &str,
    reuse_reason: &str,
    event: &AuditEvent,
    at: i64,
) -> Result<bool> {
    let won = sqlx::query(claim)
        .bind(at)
        .bind(hash)
        .execute(&mut *tx)
        .await?
        .rows_affected()
        == 1;
    if !won {
        revoke_grant!(tx, &grant.id, reuse_reason, at);
        return Ok(false);
    }
    for token in tokens {
        insert_token!(&mut *tx, token, &grant.id, &grant.client_id, scope, at);
    }
    append_pg(tx, &issued_event(event, &grant.id)).await?;
    Ok(true)
}

/// A replay record: `(scope, jti, expires_at)`.
pub type Replay = (String, String, i64);

impl FlowStore {
    pub fn new(db: &Database) -> FlowStore {
        let memory = matches!(db, Database::Sqlite(_)).then(|| {
            std::sync::Arc::new(MemoryReplays {
                seen: std::sync::Mutex::default(),
                started_at: now(),
            })
        });
        FlowStore {
            db: db.clone(),
            memory,
        }
    }

    /// When JWT ids are remembered in memory: the moment this process started remembering.
    pub fn replays_remembered_since(&self) -> Option<i64> {
        self.memory.as_ref().map(|m| m.started_at)
    }

    /// The in-memory verdict (`Some`) when ids are kept in memory; `None`: ask the database.
    fn memory_verdict(&self, replays: &[Replay]) -> Option<Option<usize>> {
        self.memory.as_ref().map(|m| m.record(replays))
    }

    /// Records seen JWT ids; `Some(i)`: the `i`-th was seen before.
    pub async fn record_replays(&self, replays: &[Replay]) -> Result<Option<usize>> {
        if replays.is_empty() {
            return Ok(None);
        }
        if let Some(verdict) = self.memory_verdict(replays) {
            return Ok(verdict);
        }
        let replayed = write_tx!(&self.db, tx, _audit => { record_all!(tx, replays) });
        Ok(replayed)
    }

    /// Stores a pushed request. `Some(i)`: replay record `i` was seen before; nothing stored.
    pub async fn insert_par(
        &self,
        hash: &[u8],
        client_id: &str,
        request: &str,
        expires_at: i64,
        replays: &[Replay],
    ) -> Result<Option<usize>> {
        let verdict = self.memory_verdict(replays);
        let replayed = write_tx!(&self.db, tx, _audit => {
            let replayed = match verdict {
                Some(verdict) => verdict,
                None => record_all!(tx, replays),
            };
            if replayed.is_none() {
                sqlx::query("INSERT INTO identity_par (request_uri_hash, client_id, params, expires_at) VALUES ($1, $2, $3, $4)")
                    .bind(hash)
                    .bind(client_id)
                    .bind(request)
                    .bind(expires_at)
                    .execute(&mut *tx)
                    .await?;
            }
            replayed
        });
        Ok(replayed)
    }

    /// Uses a pushed request once: the stored request, if the URI is the client's, unused and
    /// unexpired.
    pub async fn take_par(&self, hash: &[u8], client_id: &str) -> Result<Option<String>> {
        let at = now();
        let request: Option<String> = write_tx!(&self.db, tx, _audit => {
            let used = sqlx::query(
                "UPDATE identity_par SET used_at = $1 WHERE request_uri_hash = $2 AND client_id = $3 \
                 AND used_at IS NULL AND expires_at > $1",
            )
            .bind(at)
            .bind(hash)
            .bind(client_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if used == 1 {
                sqlx::query_scalar("SELECT params FROM identity_par WHERE request_uri_hash = $1")
                    .bind(hash)
                    .fetch_optional(&mut *tx)
                    .await?
            } else {
                None
            }
        });
        Ok(request)
    }

    pub async fn insert_interaction(&self, row: &InteractionRow) -> Result<()> {
        write_tx!(&self.db, tx, _audit => {
            sqlx::query(
                "INSERT INTO identity_interactions (id, browser_hash, client_id, request, status, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, 'pending', $5, $6)",
            )
            .bind(&row.id)
            .bind(&row.browser_hash)
            .bind(&row.client_id)
            .bind(&row.request)
            .bind(row.created_at)
            .bind(row.expires_at)
            .execute(&mut *tx)
            .await?;
        });
        Ok(())
    }

    pub async fn interaction(&self, id: &str) -> Result<Option<InteractionRow>> {
        Ok(read!(&self.db, conn => sqlx::query_as(
            "SELECT id, browser_hash, client_id, request, status, created_at, expires_at, resident_id, decision \
             FROM identity_interactions WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(conn)
        .await?))
    }

    /// Moves a pending, unexpired interaction to `status` (approved, rejected or cancelled).
    pub async fn decide(
        &self,
        id: &str,
        status: &str,
        resident_id: Option<&str>,
        decision: Option<&str>,
        event: &AuditEvent,
    ) -> Result<bool> {
        let at = now();
        let changed = write_tx!(&self.db, tx, append_audit => {
            let changed = sqlx::query(
                "UPDATE identity_interactions SET status = $1, resident_id = $2, decision = $3, decided_at = $4 \
                 WHERE id = $5 AND status = 'pending' AND expires_at > $4",
            )
            .bind(status)
            .bind(resident_id)
            .bind(decision)
            .bind(at)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if changed {
                append_audit(&mut tx, event).await?;
            }
            changed
        });
        Ok(changed)
    }

    /// Completes an approved interaction: writes the grant, its code and (if new) the consent
    /// receipt, with the audit event, once.
    pub async fn complete(
        &self,
        interaction_id: &str,
        new: &NewGrant<'_>,
        event: &AuditEvent,
    ) -> Result<bool> {
        let grant = new.grant;
        let code = new.code;
        let done = write_tx!(&self.db, tx, append_audit => {
            let changed = sqlx::query(
                "UPDATE identity_interactions SET status = 'completed' WHERE id = $1 AND status = 'approved'",
            )
            .bind(interaction_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if changed {
                if let Some(consent) = new.consent {
                    sqlx::query(
                        "INSERT INTO identity_consents (id, resident_id, client_id, scope, fields, purpose, granted_at, corp_business_id, corp_brn, corp_role) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    )
                    .bind(&consent.id)
                    .bind(&consent.resident_id)
                    .bind(&consent.client_id)
                    .bind(&consent.scope)
                    .bind(&consent.fields)
                    .bind(&consent.purpose)
                    .bind(consent.granted_at)
                    .bind(&consent.corp_business_id)
                    .bind(&consent.corp_brn)
                    .bind(&consent.corp_role)
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query(
                    "INSERT INTO identity_grants (id, resident_id, client_id, consent_id, scope, claims, auth_time, acr, amr, session_id, created_at, subject, corp_business_id, corp_brn) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                )
                .bind(&grant.id)
                .bind(&grant.resident_id)
                .bind(&grant.client_id)
                .bind(&grant.consent_id)
                .bind(&grant.scope)
                .bind(&grant.claims)
                .bind(grant.auth_time)
                .bind(&grant.acr)
                .bind(&grant.amr)
                .bind(&grant.session_id)
                .bind(now())
                .bind(&grant.subject)
                .bind(&grant.corp_business_id)
                .bind(&grant.corp_brn)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO identity_codes (code_hash, grant_id, client_id, redirect_uri, code_challenge, nonce, dpop_jkt, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(new.code_hash)
                .bind(&grant.id)
                .bind(&code.client_id)
                .bind(&code.redirect_uri)
                .bind(&code.code_challenge)
                .bind(&code.nonce)
                .bind(&code.dpop_jkt)
                .bind(code.expires_at)
                .execute(&mut *tx)
                .await?;
                append_audit(&mut tx, event).await?;
            }
            changed
        });
        Ok(done)
    }

    /// The token endpoint's code redemption, in one transaction: records the client
    /// assertion's and DPoP proof's ids, finds the code, and if it was used before revokes its
    /// grant. `redeem` decides, from the code and grant, whether to issue; when it returns
    /// tokens they are written and the code marked used, with the audit event. On the embedded
    /// database this runs on the group-commit thread (see `bauhinia_store::GroupCommit`).
    pub async fn redeem_code<F, T, E>(
        &self,
        code_hash: &[u8],
        replays: &[Replay],
        event: &AuditEvent,
        redeem: F,
    ) -> Result<Redemption<CodeRow, T, E>>
    where
        F: FnOnce(&CodeRow, &GrantRow) -> std::result::Result<(Vec<NewToken>, T), E>
            + Send
            + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        let at = now();
        let pool = match (&self.db, self.memory_verdict(replays)) {
            (_, Some(Some(i))) => return Ok(Redemption::Replayed(i)),
            (Database::Sqlite(db), _) => {
                let (code_hash, event) = (code_hash.to_vec(), event.clone());
                return Ok(db
                    .commits
                    .run(move |conn| embedded::redeem_code(conn, &code_hash, at, &event, redeem))
                    .await?);
            }
            (Database::Postgres(pool), _) => pool,
        };
        let mut tx = pool.begin().await?;
        let outcome = match record_all!(tx, replays) {
            Some(i) => Redemption::Replayed(i),
            None => {
                let code: Option<CodeRow> = sqlx::query_as(
                    "SELECT grant_id, client_id, redirect_uri, code_challenge, nonce, dpop_jkt, expires_at, used_at \
                     FROM identity_codes WHERE code_hash = $1",
                )
                .bind(code_hash)
                .fetch_optional(&mut *tx)
                .await?;
                match code {
                    None => Redemption::Unknown,
                    Some(code) if code.used_at.is_some() => {
                        revoke_grant!(tx, &code.grant_id, "authorization code reused", at);
                        append_pg(
                            &mut tx,
                            &reuse_event(event, "identity.token.code_reuse", &code.grant_id),
                        )
                        .await?;
                        Redemption::Reused
                    }
                    Some(code) => {
                        let grant: GrantRow = sqlx::query_as(&format!(
                            "SELECT {GRANT_COLUMNS} FROM identity_grants g WHERE g.id = $1"
                        ))
                        .bind(&code.grant_id)
                        .fetch_one(&mut *tx)
                        .await?;
                        match redeem(&code, &grant) {
                            Err(refusal) => Redemption::Refused(refusal),
                            Ok((tokens, value)) => {
                                // A racing redemption that got here first wins; this one is a reuse.
                                let claim = "UPDATE identity_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL";
                                let reason = "authorization code reused";
                                if claim_and_issue_pg(
                                    &mut tx,
                                    claim,
                                    code_hash,
                                    &tokens,
                                    &grant,
                                    &grant.scope,
                                    reason,
                                    event,
                                    at,
                                )
                                .await?
                                {
                                    Redemption::Issued(code, Box::new(grant), value)
                                } else {
                                    Redemption::Reused
                                }
                            }
                        }
                    }
                }
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// Refresh-token rotation in one transaction. A used refresh token revokes its grant.
    /// `rotate` decides whether to issue; the old token is marked used as the new ones are
    /// written.
    pub async fn rotate_refresh<F, T, E>(
        &self,
        token_hash: &[u8],
        replays: &[Replay],
        event: &AuditEvent,
        rotate: F,
    ) -> Result<Redemption<TokenRow, T, E>>
    where
        F: FnOnce(&TokenRow, &GrantRow) -> std::result::Result<(Vec<NewToken>, T), E>
            + Send
            + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        let at = now();
        let pool = match (&self.db, self.memory_verdict(replays)) {
            (_, Some(Some(i))) => return Ok(Redemption::Replayed(i)),
            (Database::Sqlite(db), _) => {
                let (token_hash, event) = (token_hash.to_vec(), event.clone());
                return Ok(db
                    .commits
                    .run(move |conn| {
                        embedded::rotate_refresh(conn, &token_hash, at, &event, rotate)
                    })
                    .await?);
            }
            (Database::Postgres(pool), _) => pool,
        };
        let mut tx = pool.begin().await?;
        let outcome = match record_all!(tx, replays) {
            Some(i) => Redemption::Replayed(i),
            None => {
                let token: Option<TokenRow> = sqlx::query_as(
                    "SELECT kind, grant_id, client_id, jkt, scope, issued_at, expires_at, used_at, revoked_at \
                     FROM identity_tokens WHERE token_hash = $1 AND kind = 'refresh'",
                )
                .bind(token_hash)
                .fetch_optional(&mut *tx)
                .await?;
                match token {
                    None => Redemption::Unknown,
                    Some(token) => {
                        let grant: GrantRow = sqlx::query_as(&format!(
                            "SELECT {GRANT_COLUMNS} FROM identity_grants g WHERE g.id = $1"
                        ))
                        .bind(&token.grant_id)
                        .fetch_one(&mut *tx)
                        .await?;
                        if token.used_at.is_some() {
                            if grant.revoked_at.is_none() {
                                revoke_grant!(tx, &grant.id, "refresh token reused", at);
                                append_pg(
                                    &mut tx,
                                    &reuse_event(event, "identity.token.refresh_reuse", &grant.id),
                                )
                                .await?;
                            }
                            Redemption::Reused
                        } else {
                            match rotate(&token, &grant) {
                                Err(refusal) => Redemption::Refused(refusal),
                                Ok((tokens, value)) => {
                                    let claim = "UPDATE identity_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL";
                                    let reason = "refresh token reused";
                                    if claim_and_issue_pg(
                                        &mut tx,
                                        claim,
                                        token_hash,
                                        &tokens,
                                        &grant,
                                        &token.scope,
                                        reason,
                                        event,
                                        at,
                                    )
                                    .await?
                                    {
                                        Redemption::Issued(token, Box::new(grant), value)
                                    } else {
                                        Redemption::Reused
                                    }
                                }
                            }
                        }
                    }
                }
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// A token and its grant, by hash.
    pub async fn token(&self, hash: &[u8]) -> Result<Option<(TokenRow, GrantRow)>> {
        let token: Option<TokenRow> = read!(&self.db, conn => sqlx::query_as(
            "SELECT kind, grant_id, client_id, jkt, scope, issued_at, expires_at, used_at, revoked_at \
             FROM identity_tokens WHERE token_hash = $1",
        )
        .bind(hash)
        .fetch_optional(conn)
        .await?);
        let Some(token) = token else {
            return Ok(None);
        };
        let grant: Option<GrantRow> = read!(&self.db, conn => sqlx::query_as(&format!(
            "SELECT {GRANT_COLUMNS} FROM identity_grants g WHERE g.id = $1"
        ))
        .bind(&token.grant_id)
        .fetch_optional(conn)
        .await?);
        Ok(grant.map(|grant| (token, grant)))
    }

    /// The grant an authorization code was issued under, used or not.
    pub async fn grant_for_code(&self, code_hash: &[u8]) -> Result<Option<GrantRow>> {
        Ok(read!(&self.db, conn => sqlx::query_as(&format!(
            "SELECT {GRANT_COLUMNS} FROM identity_grants g JOIN identity_codes c ON c.grant_id = g.id WHERE c.code_hash = $1"
        ))
        .bind(code_hash)
        .fetch_optional(conn)
        .await?))
    }

    /// Revokes a grant and every token issued from it, with its audit event. `false`: it was
    /// revoked already, and nothing was written.
    pub async fn revoke_grant(
        &self,
        grant_id: &str,
        reason: &str,
        event: &AuditEvent,
    ) -> Result<bool> {
        let at = now();
        let done = write_tx!(&self.db, tx, append_audit => {
            // The grant's own conditional update decides, so of two racing revocations one
            // writes the audit event.
            let changed = revoke_grant!(tx, grant_id, reason, at);
            if changed {
                append_audit(&mut tx, event).await?;
            }
            changed
        });
        Ok(done)
    }

    /// Appends an event that records a refusal: nothing else changes.
    pub async fn audit(&self, event: &AuditEvent) -> Result<()> {
        Ok(self.db.append_audit(event).await?)
    }

    /// Revokes one access token, or (for a refresh token) the whole grant.
    pub async fn revoke(&self, hash: &[u8], client_id: &str, event: &AuditEvent) -> Result<bool> {
        let at = now();
        let done = write_tx!(&self.db, tx, append_audit => {
            let token: Option<(String, String)> = sqlx::query_as(
                "SELECT kind, grant_id FROM identity_tokens WHERE token_hash = $1 AND client_id = $2",
            )
            .bind(hash)
            .bind(client_id)
            .fetch_optional(&mut *tx)
            .await?;
            match token {
                None => false,
                Some((kind, grant_id)) => {
                    if kind == "refresh" {
                        revoke_grant!(tx, &grant_id, "refresh token revoked by the service", at);
                    } else {
                        sqlx::query("UPDATE identity_tokens SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL")
                            .bind(at)
                            .bind(hash)
                            .execute(&mut *tx)
                            .await?;
                    }
                    let mut event = event.clone();
                    event.subject = format!("grant:{grant_id}");
                    append_audit(&mut tx, &event).await?;
                    true
                }
            }
        });
        Ok(done)
    }

    /// Ends every grant of a session (RP-initiated logout).
    pub async fn revoke_session_grants(&self, session_id: &str, event: &AuditEvent) -> Result<()> {
        let at = now();
        write_tx!(&self.db, tx, append_audit => {
            let grants: Vec<String> = sqlx::query_scalar("SELECT id FROM identity_grants WHERE session_id = $1 AND revoked_at IS NULL")
                .bind(session_id)
                .fetch_all(&mut *tx)
                .await?;
            for grant in &grants {
                revoke_grant!(tx, grant, "resident logged out", at);
            }
            append_audit(&mut tx, event).await?;
        });
        Ok(())
    }

    /// The resident's active consent for a service, if any.
    pub async fn active_consents(
        &self,
        resident_id: &str,
        client_id: Option<&str>,
    ) -> Result<Vec<ConsentRow>> {
        Ok(read!(&self.db, conn => sqlx::query_as(
            "SELECT id, resident_id, client_id, scope, fields, purpose, granted_at, revoked_at, corp_business_id, corp_brn, corp_role FROM identity_consents \
             WHERE resident_id = $1 AND (CAST($2 AS TEXT) IS NULL OR client_id = $2) ORDER BY granted_at DESC, id",
        )
        .bind(resident_id)
        .bind(client_id)
        .fetch_all(conn)
        .await?))
    }

    /// Revokes a consent receipt and every grant made under it.
    pub async fn revoke_consent(
        &self,
        consent_id: &str,
        resident_id: &str,
        event: &AuditEvent,
    ) -> Result<bool> {
        let at = now();
        let done = write_tx!(&self.db, tx, append_audit => {
            let changed = sqlx::query(
                "UPDATE identity_consents SET revoked_at = $1 WHERE id = $2 AND resident_id = $3 AND revoked_at IS NULL",
            )
            .bind(at)
            .bind(consent_id)
            .bind(resident_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if changed {
                let grants: Vec<String> = sqlx::query_scalar("SELECT id FROM identity_grants WHERE consent_id = $1 AND revoked_at IS NULL")
                    .bind(consent_id)
                    .fetch_all(&mut *tx)
                    .await?;
                for grant in &grants {
                    revoke_grant!(tx, grant, "consent revoked by the resident", at);
                }
                append_audit(&mut tx, event).await?;
            }
            changed
        });
        Ok(done)
    }

    /// The resident a service knows by `subject`, from a grant it was issued.
    pub async fn resident_for_subject(
        &self,
        client_id: &str,
        subject: &str,
    ) -> Result<Option<String>> {
        Ok(read!(&self.db, conn => sqlx::query_scalar(
            "SELECT resident_id FROM identity_grants WHERE client_id = $1 AND subject = $2 LIMIT 1",
        )
        .bind(client_id)
        .bind(subject)
        .fetch_optional(conn)
        .await?))
    }

    /// Deletes what has expired and can no longer matter: seen JWT ids, pushed requests.
    pub async fn purge_expired(&self) -> Result<u64> {
        let at = now();
        let purged = write_tx!(&self.db, tx, _audit => {
            let a = sqlx::query("DELETE FROM identity_jti WHERE expires_at < $1").bind(at).execute(&mut *tx).await?.rows_affected();
            let b = sqlx::query("DELETE FROM identity_par WHERE expires_at < $1").bind(at).execute(&mut *tx).await?.rows_affected();
            a + b
        });
        Ok(purged)
    }
}

/// The token endpoint's transactions on the embedded database, as group-commit jobs
/// (synchronous, on the commit thread; see `bauhinia_store::GroupCommit`). They mirror the
/// PostgreSQL paths above statement for statement; the conformance suite runs both.
mod embedded {
    use bauhinia_store::audit::{append_embedded, AuditEvent};
    use bauhinia_store::rusqlite::{params, Connection, OptionalExtension, Row};
    use bauhinia_store::StoreError;

    use super::{
        issued_event, reuse_event, CodeRow, GrantRow, NewToken, Redemption, TokenRow, GRANT_COLUMNS,
    };

    type Result<T> = std::result::Result<T, StoreError>;

    fn code_row(row: &Row<'_>) -> bauhinia_store::rusqlite::Result<CodeRow> {
        Ok(CodeRow {
            grant_id: row.get(0)?,
            client_id: row.get(1)?,
            redirect_uri: row.get(2)?,
            code_challenge: row.get(3)?,
            nonce: row.get(4)?,
            dpop_jkt: row.get(5)?,
            expires_at: row.get(6)?,
            used_at: row.get(7)?,
        })
    }

    fn token_row(row: &Row<'_>) -> bauhinia_store::rusqlite::Result<TokenRow> {
        Ok(TokenRow {
            kind: row.get(0)?,
            grant_id: row.get(1)?,
            client_id: row.get(2)?,
            jkt: row.get(3)?,
            scope: row.get(4)?,
            issued_at: row.get(5)?,
            expires_at: row.get(6)?,
            used_at: row.get(7)?,
            revoked_at: row.get(8)?,
        })
    }

    fn grant(conn: &Connection, id: &str) -> Result<GrantRow> {
        let sql = format!("SELECT {GRANT_COLUMNS} FROM identity_grants g WHERE g.id = ?1");
        Ok(conn.prepare_cached(&sql)?.query_row(params![id], |row| {
            Ok(GrantRow {
                id: row.get(0)?,
                resident_id: row.get(1)?,
                client_id: row.get(2)?,
                consent_id: row.get(3)?,
                scope: row.get(4)?,
                claims: row.get(5)?,
                auth_time: row.get(6)?,
                acr: row.get(7)?,
                amr: row.get(8)?,
                session_id: row.get(9)?,
                revoked_at: row.get(10)?,
                subject: row.get(11)?,
                corp_business_id: row.get(12)?,
                corp_brn: row.get(13)?,
            })
        })?)
    }

    fn insert_tokens(
        conn: &Connection,
        tokens: &[NewToken],
        grant: &GrantRow,
        scope: &str,
        at: i64,
    ) -> Result<()> {
        let mut insert = conn.prepare_cached(
            "INSERT INTO identity_tokens (token_hash, kind, grant_id, client_id, jkt, scope, issued_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for token in tokens {
            insert.execute(params![
                token.hash,
                token.kind,
                grant.id,
                grant.client_id,
                token.jkt,
                scope,
                at,
                token.expires_at
            ])?;
        }
        Ok(())
    }

    fn revoke_grant(conn: &Connection, grant_id: &str, reason: &str, at: i64) -> Result<()> {
        conn.prepare_cached(
            "UPDATE identity_grants SET revoked_at = ?1, revoked_reason = ?2 WHERE id = ?3 AND revoked_at IS NULL",
        )?
        .execute(params![at, reason, grant_id])?;
        conn.prepare_cached(
            "UPDATE identity_tokens SET revoked_at = ?1 WHERE grant_id = ?2 AND revoked_at IS NULL",
        )?
        .execute(params![at, grant_id])?;
        Ok(())
    }

    /// `claim_and_issue_pg`, on the commit thread.
    #[allow(clippy::too_many_arguments)]
    fn claim_and_issue(
        conn: &Connection,
        claim: &str,
        hash: &[u8],
        tokens: &[NewToken],
        grant: &GrantRow,
        scope: &str,
        reuse_reason: &str,
        event: &AuditEvent,
        at: i64,
    ) -> Result<bool> {
        if conn.prepare_cached(claim)?.execute(params![at, hash])? != 1 {
            revoke_grant(conn, &grant.id, reuse_reason, at)?;
            return Ok(false);
        }
        insert_tokens(conn, tokens, grant, scope, at)?;
        append_embedded(conn, &issued_event(event, &grant.id))?;
        Ok(true)
    }

    pub(super) fn redeem_code<F, T, E>(
        conn: &Connection,
        code_hash: &[u8],
        at: i64,
        event: &AuditEvent,
        redeem: F,
    ) -> Result<Redemption<CodeRow, T, E>>
    where
        F: FnOnce(&CodeRow, &GrantRow) -> std::result::Result<(Vec<NewToken>, T), E>,
    {
        let code = conn
            .prepare_cached(
                "SELECT grant_id, client_id, redirect_uri, code_challenge, nonce, dpop_jkt, expires_at, used_at \
                 FROM identity_codes WHERE code_hash = ?1",
            )?
            .query_row(params![code_hash], code_row)
            .optional()?;
        let Some(code) = code else {
            return Ok(Redemption::Unknown);
        };
        if code.used_at.is_some() {
            revoke_grant(conn, &code.grant_id, "authorization code reused", at)?;
            append_embedded(
                conn,
                &reuse_event(event, "identity.token.code_reuse", &code.grant_id),
            )?;
            return Ok(Redemption::Reused);
        }
        let grant = grant(conn, &code.grant_id)?;
        let (tokens, value) = match redeem(&code, &grant) {
            Err(refusal) => return Ok(Redemption::Refused(refusal)),
            Ok(issue) => issue,
        };
        // The commit thread holds the write lock, so nothing can race this claim; it stays
        // conditional all the same.
        let claim =
            "UPDATE identity_codes SET used_at = ?1 WHERE code_hash = ?2 AND used_at IS NULL";
        let reason = "authorization code reused";
        if !claim_and_issue(
            conn,
            claim,
            code_hash,
            &tokens,
            &grant,
            &grant.scope,
            reason,
            event,
            at,
        )? {
            return Ok(Redemption::Reused);
        }
        Ok(Redemption::Issued(code, Box::new(grant), value))
    }

    pub(super) fn rotate_refresh<F, T, E>(
        conn: &Connection,
        token_hash: &[u8],
        at: i64,
        event: &AuditEvent,
        rotate: F,
    ) -> Result<Redemption<TokenRow, T, E>>
    where
        F: FnOnce(&TokenRow, &GrantRow) -> std::result::Result<(Vec<NewToken>, T), E>,
    {
        let token = conn
            .prepare_cached(
                "SELECT kind, grant_id, client_id, jkt, scope, issued_at, expires_at, used_at, revoked_at \
                 FROM identity_tokens WHERE token_hash = ?1 AND kind = 'refresh'",
            )?
            .query_row(params![token_hash], token_row)
            .optional()?;
        let Some(token) = token else {
            return Ok(Redemption::Unknown);
        };
        let grant = grant(conn, &token.grant_id)?;
        if token.used_at.is_some() {
            if grant.revoked_at.is_none() {
                revoke_grant(conn, &grant.id, "refresh token reused", at)?;
                append_embedded(
                    conn,
                    &reuse_event(event, "identity.token.refresh_reuse", &grant.id),
                )?;
            }
            return Ok(Redemption::Reused);
        }
        let (tokens, value) = match rotate(&token, &grant) {
            Err(refusal) => return Ok(Redemption::Refused(refusal)),
            Ok(issue) => issue,
        };
        let claim =
            "UPDATE identity_tokens SET used_at = ?1 WHERE token_hash = ?2 AND used_at IS NULL";
        let reason = "refresh token reused";
        if !claim_and_issue(
            conn,
            claim,
            token_hash,
            &tokens,
            &grant,
            &token.scope,
            reason,
            event,
            at,
        )? {
            return Ok(Redemption::Reused);
        }
        Ok(Redemption::Issued(token, Box::new(grant), value))
    }
}
