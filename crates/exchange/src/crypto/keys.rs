//! The gateway's own ES256 signing keys: consent artefacts and audit checkpoints are signed with
//! the active one. Keys live in `exchange_keys` with the private half sealed by the vault, bound
//! to its kid; the first start creates one. A rotation makes a new key active and retires the old
//! one, which stays in the JWKS, and keeps verifying, for [`RETIRED_KEY_GRACE_S`]. Every rotation
//! is audited. Never shares the OpenID Provider's keys: a token of one can never pass as the
//! other's.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use bauhinia_core::crypto::Vault;
use bauhinia_identity::jose::{self, Alg, Header, JoseError, Jwk, JwkSet};
use bauhinia_store::audit::{AuditEvent, Outcome};
use bauhinia_store::{read, write_tx, Database, StoreError};
use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private, Public};

use super::jws::now_s;

/// How long a retired key stays published: consent artefacts are verified when data is fetched,
/// and the gateway re-signs nothing, so a retired key keeps verifying for a year.
pub const RETIRED_KEY_GRACE_S: i64 = 366 * 24 * 3600;
/// The `typ` of the compact JWS the gateway signs.
pub const TYP: &str = "consent+jwt";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("signing failed: {0}")]
    Jose(#[from] JoseError),
    #[error("signing key {0} cannot be opened")]
    Sealed(String),
    #[error("the token was not signed by a published key of the gateway")]
    NotOurs,
    #[error("no active signing key")]
    NoActiveKey,
}

fn openssl_failed(error: openssl::error::ErrorStack) -> KeyError {
    KeyError::Jose(JoseError::from(error))
}

#[derive(Debug)]
struct Published {
    key: PKey<Public>,
    jwk: Jwk,
    expires_at_s: Option<i64>,
}

#[derive(Debug, Default)]
struct Loaded {
    active: Option<(String, PKey<Private>)>,
    published: BTreeMap<String, Published>,
}

/// The gateway's keys, read from the database and kept in memory.
#[derive(Debug)]
pub struct GatewayKeys {
    db: Database,
    vault: Arc<Vault>,
    loaded: RwLock<Arc<Loaded>>,
}

type Row = (String, String, Vec<u8>, String, Option<i64>);

fn sealing_context(kid: &str) -> String {
    format!("exchange.signing_key/{kid}")
}

impl GatewayKeys {
    /// Loads the keys, creating the first one when there is none.
    pub async fn load(db: &Database, vault: Arc<Vault>) -> Result<GatewayKeys, KeyError> {
        let keys = GatewayKeys {
            db: db.clone(),
            vault,
            loaded: RwLock::new(Arc::default()),
        };
        keys.reload().await?;
        if keys.current().active.is_none() {
            keys.rotate("system").await?;
        }
        Ok(keys)
    }

    fn current(&self) -> Arc<Loaded> {
        match self.loaded.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Rereads the keys (after a rotation here or on another node).
    pub async fn reload(&self) -> Result<(), KeyError> {
        let rows = stored_keys(&self.db).await?;
        let mut loaded = Loaded::default();
        for (kid, status, sealed, public_jwk, expires_at_s) in rows {
            let jwk: Jwk = serde_json::from_str(&public_jwk)
                .map_err(|e| StoreError::Corrupt(format!("exchange key {kid}: {e}")))?;
            if status == "active" {
                let der = self
                    .vault
                    .open(&sealing_context(&kid), &sealed)
                    .map_err(|_| KeyError::Sealed(kid.clone()))?;
                let key = PKey::private_key_from_der(&der).map_err(openssl_failed)?;
                loaded.active = Some((kid.clone(), key));
            }
            let key = jwk.to_key()?;
            loaded.published.insert(
                kid,
                Published {
                    key,
                    jwk,
                    expires_at_s,
                },
            );
        }
        match self.loaded.write() {
            Ok(mut guard) => *guard = Arc::new(loaded),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(loaded),
        }
        Ok(())
    }

    /// Makes a new key active and retires the previous one; returns the new kid.
    pub async fn rotate(&self, actor: &str) -> Result<String, KeyError> {
        let key = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)
            .and_then(|group| EcKey::generate(&group))
            .and_then(PKey::from_ec_key)
            .map_err(openssl_failed)?;
        let kid = format!("exchange-{}", uuid::Uuid::new_v4().simple());
        let jwk = Jwk::from_key(&key, Some(kid.clone()), Some(Alg::ES256))?;
        let public_jwk =
            serde_json::to_string(&jwk).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let sealed = self
            .vault
            .seal(
                &sealing_context(&kid),
                &key.private_key_to_der().map_err(openssl_failed)?,
            )
            .map_err(|_| KeyError::Sealed(kid.clone()))?;
        let at = now_s();
        let event = AuditEvent {
            actor: actor.to_owned(),
            action: "exchange.signing_key.rotate",
            subject: format!("exchange_key:{kid}"),
            outcome: Outcome::Success,
            detail: serde_json::json!({ "alg": "ES256", "retired_expire_at_s": at + RETIRED_KEY_GRACE_S }),
            request_id: None,
        };
        let first = self.current().active.is_none();
        store_rotation(&self.db, &kid, &public_jwk, &sealed, at, &event).await?;
        self.reload().await?;
        if first {
            tracing::info!(kid = %kid, "exchange signing key created");
        } else {
            tracing::info!(kid = %kid, "exchange signing key rotated");
        }
        Ok(kid)
    }

    /// The active key, for modules that sign with it.
    pub fn active(&self) -> Result<(String, PKey<Private>), KeyError> {
        self.current().active.clone().ok_or(KeyError::NoActiveKey)
    }

    /// The JWKS: the active key and every retired key still in its grace period.
    pub fn jwks(&self) -> JwkSet {
        let at = now_s();
        JwkSet {
            keys: self
                .current()
                .published
                .values()
                .filter(|k| k.expires_at_s.is_none_or(|e| e > at))
                .map(|k| k.jwk.clone())
                .collect(),
        }
    }

    /// Signs `claims` (a JSON object) as a compact JWS with the active key (`typ` [`TYP`]).
    pub fn sign_compact(&self, claims: &serde_json::Value) -> Result<String, KeyError> {
        let (kid, key) = self.active()?;
        let header = Header {
            kid: Some(kid),
            typ: Some(TYP.to_owned()),
            ..Header::default()
        };
        Ok(jose::sign(header, claims, Alg::ES256, &key)?)
    }

    /// Verifies a compact JWS the gateway signed (with any published key) and returns its
    /// claims. Any altered byte fails.
    pub fn verify_compact(&self, token: &str) -> Result<serde_json::Value, KeyError> {
        let decoded = jose::decode(token).map_err(|_| KeyError::NotOurs)?;
        if decoded.alg != Alg::ES256 || decoded.header.typ.as_deref() != Some(TYP) {
            return Err(KeyError::NotOurs);
        }
        let kid = decoded.header.kid.as_deref().ok_or(KeyError::NotOurs)?;
        let loaded = self.current();
        let published = loaded.published.get(kid).ok_or(KeyError::NotOurs)?;
        if published.expires_at_s.is_some_and(|e| e <= now_s()) {
            return Err(KeyError::NotOurs);
        }
        decoded
            .verify(&published.key)
            .map_err(|_| KeyError::NotOurs)?;
        Ok(serde_json::Value::Object(decoded.claims))
    }
}

async fn stored_keys(db: &Database) -> Result<Vec<Row>, StoreError> {
    Ok(read!(db, conn => sqlx::query_as(
        "SELECT kid, status, private_sealed, public_jwk, expires_at_s FROM exchange_keys"
    )
    .fetch_all(conn)
    .await?))
}

/// Retires the active key and inserts `kid` as the new one, audited, in one transaction.
async fn store_rotation(
    db: &Database,
    kid: &str,
    public_jwk: &str,
    sealed: &[u8],
    at: i64,
    event: &AuditEvent,
) -> Result<(), StoreError> {
    write_tx!(db, tx, append_audit => {
        sqlx::query(
            "UPDATE exchange_keys SET status = 'retired', retired_at_s = $1, expires_at_s = $2 \
             WHERE status = 'active'",
        )
        .bind(at)
        .bind(at + RETIRED_KEY_GRACE_S)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO exchange_keys (kid, public_jwk, private_sealed, status, created_at_s) \
             VALUES ($1, $2, $3, 'active', $4)",
        )
        .bind(kid)
        .bind(public_jwk)
        .bind(sealed)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        append_audit(&mut tx, event).await?;
    });
    Ok(())
}
