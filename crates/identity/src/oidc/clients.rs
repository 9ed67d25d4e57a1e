//! Services (relying parties): what an administrator registers, checked before it is stored,
//! and kept with the client secret only as a keyed hash.

use std::collections::BTreeSet;

use bauhinia_core::crypto::Vault;
use bauhinia_core::FieldError;
use bauhinia_store::audit::{AuditEvent, Outcome};
use bauhinia_store::dialect::is_unique_violation;
use bauhinia_store::{read, write_tx, Database, StoreError};
use serde::{Deserialize, Serialize};
use url::Url;
use utoipa::ToSchema;

use crate::jose::{Alg, JwkSet};
use crate::keys::now;
use crate::oidc::fields::{Field, Scope};

/// The keyed-hash context of client secrets.
const SECRET_CONTEXT: &str = "identity.client_secret";
const MAX_REDIRECT_URIS: usize = 10;
const MAX_KEYS: usize = 10;
const MAX_NAME_CHARS: usize = 120;
const MAX_PURPOSE_CHARS: usize = 500;

/// The security profile a service is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// OpenID Connect with `client_secret_basic`; PAR and DPoP optional.
    Basic,
    /// FAPI 2.0 Security Profile: PAR, `private_key_jwt` and DPoP required.
    Fapi2,
}

impl Profile {
    pub const fn as_str(self) -> &'static str {
        match self {
            Profile::Basic => "basic",
            Profile::Fapi2 => "fapi2",
        }
    }
}

/// Text in the three portal languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Text3 {
    #[serde(rename = "zh-Hant")]
    pub zh_hant: String,
    #[serde(rename = "zh-Hans")]
    pub zh_hans: String,
    pub en: String,
}

impl Text3 {
    pub fn pick(&self, lang: bauhinia_core::Lang) -> &str {
        match lang {
            bauhinia_core::Lang::ZhHant => &self.zh_hant,
            bauhinia_core::Lang::ZhHans => &self.zh_hans,
            bauhinia_core::Lang::En => &self.en,
        }
    }
}

/// A service registration, as an administrator sends it and as it is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    pub name: Text3,
    pub profile: Profile,
    /// Exact redirect URIs; https, or http on a loopback host for development.
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// The service's public keys for `private_key_jwt` (FAPI 2.0 services: this or `jwks_uri`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<JwkSet>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Scopes the service may ask for; `openid` is always allowed.
    #[serde(default)]
    pub scopes: Vec<Scope>,
    /// Profile fields the service may ask residents to release (form filling).
    #[serde(default)]
    pub fields: Vec<Field>,
    /// Why the service asks, shown to the resident on the consent screen.
    pub purpose: Text3,
    /// ES256 (default) or, for basic services only, RS256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "ES256")]
    pub id_token_signed_response_alg: Option<Alg>,
}

fn is_loopback(url: &Url) -> bool {
    matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
}

/// Parses a redirect-style URI: absolute, https (or http on loopback), no fragment.
pub fn check_uri(text: &str) -> Result<Url, &'static str> {
    let url = Url::parse(text).map_err(|_| "must be an absolute URL")?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        _ => return Err("must use https (http only on localhost, 127.0.0.1 or [::1])"),
    }
    if url.fragment().is_some() {
        return Err("must not have a fragment");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials");
    }
    Ok(url)
}

fn check_text3(errors: &mut Vec<FieldError>, at: &str, text: &Text3, max: usize) {
    for (lang, value) in [
        ("zh-Hant", &text.zh_hant),
        ("zh-Hans", &text.zh_hans),
        ("en", &text.en),
    ] {
        let chars = value.trim().chars().count();
        if chars == 0 {
            errors.push(FieldError::new(format!("{at}/{lang}"), "must not be empty"));
        } else if chars > max {
            errors.push(FieldError::new(
                format!("{at}/{lang}"),
                format!("at most {max} characters"),
            ));
        } else if value.chars().any(char::is_control) {
            errors.push(FieldError::new(
                format!("{at}/{lang}"),
                "must not contain control characters",
            ));
        }
    }
}

impl Registration {
    /// Checks every rule and names every failure.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        check_text3(&mut errors, "/name", &self.name, MAX_NAME_CHARS);
        check_text3(&mut errors, "/purpose", &self.purpose, MAX_PURPOSE_CHARS);
        if self.redirect_uris.is_empty() || self.redirect_uris.len() > MAX_REDIRECT_URIS {
            errors.push(FieldError::new(
                "/redirect_uris",
                format!("between 1 and {MAX_REDIRECT_URIS} redirect URIs"),
            ));
        }
        for (list, at) in [
            (&self.redirect_uris, "/redirect_uris"),
            (
                &self.post_logout_redirect_uris,
                "/post_logout_redirect_uris",
            ),
        ] {
            if list.len() > MAX_REDIRECT_URIS {
                errors.push(FieldError::new(at, format!("at most {MAX_REDIRECT_URIS}")));
            }
            let mut seen = BTreeSet::new();
            for (i, uri) in list.iter().enumerate() {
                if let Err(message) = check_uri(uri) {
                    errors.push(FieldError::new(format!("{at}/{i}"), message));
                }
                if !seen.insert(uri) {
                    errors.push(FieldError::new(format!("{at}/{i}"), "listed twice"));
                }
            }
        }
        match (&self.jwks, &self.jwks_uri) {
            (Some(_), Some(_)) => errors.push(FieldError::new(
                "/jwks_uri",
                "give jwks or jwks_uri, not both",
            )),
            (None, None) if self.profile == Profile::Fapi2 => errors.push(FieldError::new(
                "/jwks",
                "a FAPI 2.0 service authenticates with private_key_jwt: give jwks or jwks_uri",
            )),
            _ => {}
        }
        if let Some(jwks) = &self.jwks {
            if jwks.keys.is_empty() || jwks.keys.len() > MAX_KEYS {
                errors.push(FieldError::new(
                    "/jwks/keys",
                    format!("between 1 and {MAX_KEYS} keys"),
                ));
            }
            for (i, key) in jwks.keys.iter().enumerate() {
                if let Err(e) = key.to_key() {
                    errors.push(FieldError::new(format!("/jwks/keys/{i}"), e.to_string()));
                }
                if let Some(alg) = &key.alg {
                    match Alg::parse(alg) {
                        Some(Alg::ES256 | Alg::PS256)
                            if Alg::parse(alg).map(Alg::kty) == Some(key.kty.as_str()) => {}
                        _ => errors.push(FieldError::new(
                            format!("/jwks/keys/{i}/alg"),
                            "client keys sign with ES256 (EC P-256) or PS256 (RSA)",
                        )),
                    }
                }
            }
        }
        if let Some(uri) = &self.jwks_uri {
            if let Err(message) = check_uri(uri) {
                errors.push(FieldError::new("/jwks_uri", message));
            }
        }
        let fields: BTreeSet<Field> = self.fields.iter().copied().collect();
        if fields.len() != self.fields.len() {
            errors.push(FieldError::new("/fields", "a field is listed twice"));
        }
        for (i, scope) in self.scopes.iter().enumerate() {
            for field in scope.fields() {
                if !fields.contains(field) {
                    errors.push(FieldError::new(
                        format!("/scopes/{i}"),
                        format!(
                            "scope {} releases {}, which is not among the fields",
                            scope.as_str(),
                            field.as_str()
                        ),
                    ));
                }
            }
        }
        if self.id_token_signed_response_alg == Some(Alg::RS256) && self.profile == Profile::Fapi2 {
            errors.push(FieldError::new(
                "/id_token_signed_response_alg",
                "FAPI 2.0 forbids RS256; use ES256",
            ));
        }
        if self.id_token_signed_response_alg == Some(Alg::PS256) {
            errors.push(FieldError::new(
                "/id_token_signed_response_alg",
                "ES256 or RS256",
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    pub fn id_token_alg(&self) -> Alg {
        self.id_token_signed_response_alg.unwrap_or(Alg::ES256)
    }

    pub fn allows_scope(&self, scope: Scope) -> bool {
        scope == Scope::Openid || self.scopes.contains(&scope)
    }

    pub fn allows_field(&self, field: Field) -> bool {
        self.fields.contains(&field)
    }
}

/// A registered service.
#[derive(Debug, Clone, PartialEq)]
pub struct Client {
    pub client_id: String,
    pub registration: Registration,
    pub secret_hash: Option<Vec<u8>>,
    pub active: bool,
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
struct ClientRow {
    client_id: String,
    registration: String,
    secret_hash: Option<Vec<u8>>,
    status: String,
    created_at: i64,
}

impl TryFrom<ClientRow> for Client {
    type Error = StoreError;

    fn try_from(row: ClientRow) -> Result<Client, StoreError> {
        let registration = serde_json::from_str(&row.registration)
            .map_err(|e| StoreError::Corrupt(format!("client {}: {e}", row.client_id)))?;
        Ok(Client {
            client_id: row.client_id,
            registration,
            secret_hash: row.secret_hash,
            active: row.status == "active",
            created_at: row.created_at,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("invalid registration")]
    Invalid(Vec<FieldError>),
    #[error("no service has id {0:?}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ClientError {
    fn from(error: sqlx::Error) -> Self {
        ClientError::Store(StoreError::Sqlx(error))
    }
}

impl From<ClientError> for bauhinia_core::Problem {
    fn from(error: ClientError) -> Self {
        use bauhinia_core::{ErrorCode, Problem};
        match error {
            ClientError::Invalid(errors) => {
                Problem::new(ErrorCode::IdentityServiceInvalid).errors(errors)
            }
            ClientError::NotFound(id) => Problem::new(ErrorCode::IdentityServiceNotFound)
                .detail(format!("no service {id:?}")),
            ClientError::Store(e) => Problem::internal(&e),
        }
    }
}

/// How long a service read from the database is reused: every token, PAR, userinfo and
/// introspection request looks its client up. Changes made through this process are seen at
/// once; another node's within this time.
const CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(10);
const CACHE_MAX: usize = 10_000;

/// The services read from the database. `generation` counts this process's changes: a read
/// that began before one is not kept, so it cannot bring back what the change replaced.
#[derive(Debug, Default)]
struct ClientCache {
    entries: std::collections::HashMap<String, (std::time::Instant, Client)>,
    generation: u64,
}

/// The service registry.
#[derive(Debug, Clone)]
pub struct Clients {
    db: Database,
    vault: std::sync::Arc<Vault>,
    cache: std::sync::Arc<std::sync::Mutex<ClientCache>>,
    /// Held while a service is read for the cache: requests that find an entry missing or
    /// stale wait for one read instead of each making its own.
    reading: std::sync::Arc<tokio::sync::Mutex<()>>,
    reads: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// A new client secret: 32 random bytes, base64url. Returned once; stored as a keyed hash.
fn new_secret() -> Result<String, ClientError> {
    crate::oidc::random_token().map_err(|e| ClientError::Store(StoreError::Corrupt(e.to_string())))
}

impl Clients {
    pub fn new(db: &Database, vault: std::sync::Arc<Vault>) -> Clients {
        Clients {
            db: db.clone(),
            vault,
            cache: std::sync::Arc::default(),
            reading: std::sync::Arc::default(),
            reads: std::sync::Arc::default(),
        }
    }

    fn forget(&self, client_id: &str) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.entries.remove(client_id);
            cache.generation = cache.generation.wrapping_add(1);
        }
    }

    fn cached(&self, client_id: &str) -> Option<Client> {
        let cache = self.cache.lock().ok()?;
        let (at, client) = cache.entries.get(client_id)?;
        (at.elapsed() < CACHE_TTL).then(|| client.clone())
    }

    fn hash_secret(&self, secret: &str) -> Vec<u8> {
        self.vault
            .lookup_hash(SECRET_CONTEXT, secret.as_bytes())
            .to_vec()
    }

    /// Whether `secret` is the client's secret (constant time).
    pub fn secret_matches(&self, client: &Client, secret: &str) -> bool {
        match &client.secret_hash {
            Some(stored) => openssl::memcmp::eq(stored, &self.hash_secret(secret)),
            None => false,
        }
    }

    /// Registers a service. Returns it and, for basic services, its secret (shown once).
    pub async fn register(
        &self,
        registration: Registration,
        actor: &str,
    ) -> Result<(Client, Option<String>), ClientError> {
        registration.validate().map_err(ClientError::Invalid)?;
        let client_id = format!("svc_{}", uuid::Uuid::new_v4().simple());
        let secret = match registration.profile {
            Profile::Basic => Some(new_secret()?),
            Profile::Fapi2 => None,
        };
        let secret_hash = secret.as_deref().map(|s| self.hash_secret(s));
        let document =
            serde_json::to_string(&registration).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let at = now();
        let event = AuditEvent {
            actor: actor.to_owned(),
            action: "identity.service.register",
            subject: format!("service:{client_id}"),
            outcome: Outcome::Success,
            detail: serde_json::json!({
                "profile": registration.profile.as_str(),
                "redirect_uris": registration.redirect_uris,
                "scopes": registration.scopes,
                "fields": registration.fields,
            }),
            request_id: None,
        };
        write_tx!(&self.db, tx, append_audit => {
            sqlx::query(
                "INSERT INTO identity_clients (client_id, profile, registration, secret_hash, status, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, 'active', $5, $5)",
            )
            .bind(&client_id)
            .bind(registration.profile.as_str())
            .bind(&document)
            .bind(&secret_hash)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict(e.to_string()) } else { StoreError::Sqlx(e) })?;
            append_audit(&mut tx, &event).await?;
        });
        tracing::info!(client_id = %client_id, profile = registration.profile.as_str(), "service registered");
        let client = Client {
            client_id,
            registration,
            secret_hash,
            active: true,
            created_at: at,
        };
        Ok((client, secret))
    }

    /// Replaces a service's registration (the profile may not change: register anew).
    pub async fn update(
        &self,
        client_id: &str,
        registration: Registration,
        actor: &str,
    ) -> Result<Client, ClientError> {
        registration.validate().map_err(ClientError::Invalid)?;
        let mut client = self
            .get(client_id)
            .await?
            .ok_or_else(|| ClientError::NotFound(client_id.to_owned()))?;
        if client.registration.profile != registration.profile {
            return Err(ClientError::Invalid(vec![FieldError::new(
                "/profile",
                "the profile of a service cannot change; register a new service",
            )]));
        }
        let document =
            serde_json::to_string(&registration).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let event = AuditEvent {
            actor: actor.to_owned(),
            action: "identity.service.update",
            subject: format!("service:{client_id}"),
            outcome: Outcome::Success,
            detail: serde_json::json!({ "redirect_uris": registration.redirect_uris, "scopes": registration.scopes, "fields": registration.fields }),
            request_id: None,
        };
        write_tx!(&self.db, tx, append_audit => {
            sqlx::query("UPDATE identity_clients SET registration = $1, updated_at = $2 WHERE client_id = $3")
                .bind(&document)
                .bind(now())
                .bind(client_id)
                .execute(&mut *tx)
                .await?;
            append_audit(&mut tx, &event).await?;
        });
        self.forget(client_id);
        client.registration = registration;
        Ok(client)
    }

    /// Disables a service: it can no longer authenticate or receive tokens.
    pub async fn disable(&self, client_id: &str, actor: &str) -> Result<(), ClientError> {
        let event = AuditEvent {
            actor: actor.to_owned(),
            action: "identity.service.disable",
            subject: format!("service:{client_id}"),
            outcome: Outcome::Success,
            detail: serde_json::json!({}),
            request_id: None,
        };
        let changed = write_tx!(&self.db, tx, append_audit => {
            let done = sqlx::query("UPDATE identity_clients SET status = 'disabled', updated_at = $1 WHERE client_id = $2 AND status = 'active'")
                .bind(now())
                .bind(client_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if done == 1 {
                append_audit(&mut tx, &event).await?;
            }
            done
        });
        self.forget(client_id);
        if changed == 1 {
            Ok(())
        } else {
            Err(ClientError::NotFound(client_id.to_owned()))
        }
    }

    /// A new secret for a basic service; the old one stops working at once.
    pub async fn rotate_secret(&self, client_id: &str, actor: &str) -> Result<String, ClientError> {
        let client = self
            .get(client_id)
            .await?
            .ok_or_else(|| ClientError::NotFound(client_id.to_owned()))?;
        if client.registration.profile != Profile::Basic {
            return Err(ClientError::Invalid(vec![FieldError::new(
                "/profile",
                "FAPI 2.0 services authenticate with their keys, not a secret",
            )]));
        }
        let secret = new_secret()?;
        let hash = self.hash_secret(&secret);
        let event = AuditEvent {
            actor: actor.to_owned(),
            action: "identity.service.rotate_secret",
            subject: format!("service:{client_id}"),
            outcome: Outcome::Success,
            detail: serde_json::json!({}),
            request_id: None,
        };
        write_tx!(&self.db, tx, append_audit => {
            sqlx::query("UPDATE identity_clients SET secret_hash = $1, updated_at = $2 WHERE client_id = $3")
                .bind(&hash)
                .bind(now())
                .bind(client_id)
                .execute(&mut *tx)
                .await?;
            append_audit(&mut tx, &event).await?;
        });
        self.forget(client_id);
        Ok(secret)
    }

    /// How many times a service was read from the database by [`Clients::get`] (not served
    /// from the cache).
    pub fn database_reads(&self) -> u64 {
        self.reads.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub async fn get(&self, client_id: &str) -> Result<Option<Client>, ClientError> {
        if let Some(client) = self.cached(client_id) {
            return Ok(Some(client));
        }
        let _reading = self.reading.lock().await;
        // Another request may have read it while this one waited.
        if let Some(client) = self.cached(client_id) {
            return Ok(Some(client));
        }
        let generation = self.cache.lock().map(|c| c.generation).ok();
        let read_at = std::time::Instant::now();
        self.reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let client = self.read(client_id).await?;
        if let (Some(client), Ok(mut cache)) = (&client, self.cache.lock()) {
            if Some(cache.generation) == generation {
                if cache.entries.len() >= CACHE_MAX {
                    cache.entries.clear();
                }
                cache
                    .entries
                    .insert(client_id.to_owned(), (read_at, client.clone()));
            }
        }
        Ok(client)
    }

    async fn read(&self, client_id: &str) -> Result<Option<Client>, ClientError> {
        let row: Option<ClientRow> = read!(&self.db, conn => sqlx::query_as(
            "SELECT client_id, registration, secret_hash, status, created_at FROM identity_clients WHERE client_id = $1",
        )
        .bind(client_id)
        .fetch_optional(conn)
        .await?);
        Ok(row.map(Client::try_from).transpose()?)
    }

    pub async fn list(&self) -> Result<Vec<Client>, ClientError> {
        let rows: Vec<ClientRow> = read!(&self.db, conn => sqlx::query_as(
            "SELECT client_id, registration, secret_hash, status, created_at FROM identity_clients ORDER BY created_at, client_id",
        )
        .fetch_all(conn)
        .await?);
        Ok(rows
            .into_iter()
            .map(Client::try_from)
            .collect::<Result<_, _>>()?)
    }
}
