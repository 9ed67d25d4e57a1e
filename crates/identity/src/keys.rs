//! The provider's signing keys: one active key per algorithm (ES256 for everyone, RS256 for
//! basic clients that ask for it), kept in the database with the private half sealed by the
//! vault. Rotation makes a new key active and retires the old one, which stays in the JWKS, and
//! keeps verifying, until every token it signed has expired.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use bauhinia_core::crypto::Vault;
use bauhinia_store::audit::{AuditEvent, Outcome};
use bauhinia_store::{read, write_tx, Database, StoreError};
use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private, Public};
use openssl::rsa::Rsa;

use crate::jose::{self, Alg, Header, JoseError, Jwk, JwkSet};

/// How long a retired key stays published: longer than any token it can have signed lives.
pub const RETIRED_KEY_GRACE_S: i64 = 24 * 3600;
/// The algorithms the provider signs with.
pub const SIGNING_ALGS: [Alg; 2] = [Alg::ES256, Alg::RS256];

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Jose(#[from] JoseError),
    #[error("signing key {0} cannot be opened: {1}")]
    Sealed(String, String),
    #[error("no active {0:?} key")]
    NoActiveKey(Alg),
}

impl From<sqlx::Error> for KeyError {
    fn from(error: sqlx::Error) -> Self {
        KeyError::Store(StoreError::Sqlx(error))
    }
}

impl From<openssl::error::ErrorStack> for KeyError {
    fn from(error: openssl::error::ErrorStack) -> Self {
        KeyError::Jose(JoseError::from(error))
    }
}

#[derive(Debug)]
struct ActiveKey {
    kid: String,
    key: PKey<Private>,
}

#[derive(Debug)]
struct PublishedKey {
    alg: Alg,
    key: PKey<Public>,
    jwk: Jwk,
    expires_at: Option<i64>,
}

#[derive(Debug, Default)]
struct Ring {
    active: BTreeMap<&'static str, ActiveKey>,
    published: BTreeMap<String, PublishedKey>,
}

#[derive(Debug)]
pub struct KeyRing {
    db: Database,
    vault: Arc<Vault>,
    ring: RwLock<Arc<Ring>>,
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    kid: String,
    alg: String,
    private_sealed: Vec<u8>,
    public_jwk: String,
    retired_at: Option<i64>,
    expires_at: Option<i64>,
}

fn sealing_context(kid: &str) -> String {
    format!("identity.signing_key/{kid}")
}

fn generate(alg: Alg) -> Result<PKey<Private>, KeyError> {
    Ok(match alg {
        Alg::ES256 => {
            let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
            PKey::from_ec_key(EcKey::generate(&group)?)?
        }
        Alg::PS256 | Alg::RS256 => PKey::from_rsa(Rsa::generate(2048)?)?,
    })
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl KeyRing {
    /// Loads the keys, creating a first key for any algorithm that has none.
    pub async fn load(db: &Database, vault: Arc<Vault>) -> Result<KeyRing, KeyError> {
        let ring = KeyRing {
            db: db.clone(),
            vault,
            ring: RwLock::new(Arc::new(Ring::default())),
        };
        ring.reload().await?;
        for alg in SIGNING_ALGS {
            if !ring.current().active.contains_key(alg.as_str()) {
                ring.rotate(alg, "system").await?;
            }
        }
        Ok(ring)
    }

    fn current(&self) -> Arc<Ring> {
        match self.ring.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Rereads the keys from the database (after a rotation, here or on another node).
    pub async fn reload(&self) -> Result<(), KeyError> {
        let rows: Vec<KeyRow> = read!(&self.db, conn => sqlx::query_as(
            "SELECT kid, alg, private_sealed, public_jwk, retired_at, expires_at \
             FROM identity_signing_keys ORDER BY created_at, kid"
        )
        .fetch_all(conn)
        .await?);
        let mut ring = Ring::default();
        for row in rows {
            let alg = Alg::parse(&row.alg).ok_or_else(|| {
                StoreError::Corrupt(format!("key {} has alg {}", row.kid, row.alg))
            })?;
            let jwk: Jwk = serde_json::from_str(&row.public_jwk)
                .map_err(|e| StoreError::Corrupt(format!("key {}: {e}", row.kid)))?;
            let public = jwk.to_key()?;
            if row.retired_at.is_none() {
                let der = self
                    .vault
                    .open(&sealing_context(&row.kid), &row.private_sealed)
                    .map_err(|e| KeyError::Sealed(row.kid.clone(), e.to_string()))?;
                let key = PKey::private_key_from_der(&der)?;
                // Later rows are newer: the newest unretired key of an algorithm is active.
                ring.active.insert(
                    alg.as_str(),
                    ActiveKey {
                        kid: row.kid.clone(),
                        key,
                    },
                );
            }
            ring.published.insert(
                row.kid,
                PublishedKey {
                    alg,
                    key: public,
                    jwk,
                    expires_at: row.expires_at,
                },
            );
        }
        match self.ring.write() {
            Ok(mut guard) => *guard = Arc::new(ring),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(ring),
        }
        Ok(())
    }

    /// Makes a new key active for `alg` and retires the previous one. Returns the new key id.
    pub async fn rotate(&self, alg: Alg, actor: &str) -> Result<String, KeyError> {
        let key = generate(alg)?;
        let kid = format!(
            "{}-{}",
            alg.as_str().to_lowercase(),
            uuid::Uuid::new_v4().simple()
        );
        let jwk = Jwk::from_key(&key, Some(kid.clone()), Some(alg))?;
        let der = key.private_key_to_der()?;
        let sealed = self
            .vault
            .seal(&sealing_context(&kid), &der)
            .map_err(|e| KeyError::Sealed(kid.clone(), e.to_string()))?;
        let public_jwk =
            serde_json::to_string(&jwk).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let at = now();
        let event = AuditEvent {
            actor: actor.to_owned(),
            action: "identity.signing_key.rotate",
            subject: format!("key:{kid}"),
            outcome: Outcome::Success,
            detail: serde_json::json!({ "alg": alg.as_str() }),
            request_id: None,
        };
        write_tx!(&self.db, tx, append_audit => {
            sqlx::query(
                "UPDATE identity_signing_keys SET retired_at = $1, expires_at = $2 \
                 WHERE alg = $3 AND retired_at IS NULL",
            )
            .bind(at)
            .bind(at + RETIRED_KEY_GRACE_S)
            .bind(alg.as_str())
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO identity_signing_keys (kid, alg, private_sealed, public_jwk, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&kid)
            .bind(alg.as_str())
            .bind(&sealed)
            .bind(&public_jwk)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            append_audit(&mut tx, &event).await?;
        });
        self.reload().await?;
        tracing::info!(kid = %kid, alg = alg.as_str(), "signing key rotated");
        Ok(kid)
    }

    /// Signs claims with the active key of `alg`, naming it in `kid`.
    pub fn sign(
        &self,
        alg: Alg,
        typ: Option<&str>,
        claims: &serde_json::Value,
    ) -> Result<String, KeyError> {
        let ring = self.current();
        let active = ring
            .active
            .get(alg.as_str())
            .ok_or(KeyError::NoActiveKey(alg))?;
        let header = Header {
            kid: Some(active.kid.clone()),
            typ: typ.map(str::to_owned),
            ..Header::default()
        };
        Ok(jose::sign(header, claims, alg, &active.key)?)
    }

    /// The JWKS: every active key and every retired key not yet expired.
    pub fn jwks(&self) -> JwkSet {
        let at = now();
        JwkSet {
            keys: self
                .current()
                .published
                .values()
                .filter(|k| k.expires_at.is_none_or(|e| e > at))
                .map(|k| k.jwk.clone())
                .collect(),
        }
    }

    /// Verifies a token this provider signed (any published key, retired ones included) and
    /// returns its claims. Expiry is the caller's business.
    pub fn verify_own(
        &self,
        token: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, JoseError> {
        let decoded = jose::decode(token)?;
        let ring = self.current();
        let kid = decoded
            .header
            .kid
            .as_deref()
            .ok_or(JoseError::Malformed("no kid"))?;
        let key = ring.published.get(kid).ok_or(JoseError::BadSignature)?;
        if key.alg != decoded.alg || key.expires_at.is_some_and(|e| e <= now()) {
            return Err(JoseError::BadSignature);
        }
        decoded.verify(&key.key)?;
        Ok(decoded.claims)
    }
}
