//! `exchange_participants`, `exchange_participant_keys`, `exchange_product_providers` and
//! `exchange_sandbox_keys` on SQLite and PostgreSQL, one query text for both. Every change is
//! one transaction with its audit event; a registration writes its participant, keys and
//! product links together or not at all.

use std::collections::BTreeMap;

use bauhinia_core::Localized;
use bauhinia_identity::jose::Jwk;
use bauhinia_store::audit::{AuditEvent, Outcome};
use bauhinia_store::dialect::is_unique_violation;
use bauhinia_store::{read, write_tx, Database, StoreError};

use super::{
    DirectoryError, Licence, NewParticipant, Participant, ParticipantFilter, ParticipantId,
    PublicKey, Role, Roles, Status, LIST_MAX,
};
use crate::products::ProductId;

type ParticipantTuple = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    i64,
    i64,
);
type KeyTuple = (String, String, String, i64, Option<i64>);

const PARTICIPANT_COLUMNS: &str = "id, name_en, name_zh_hant, name_zh_hans, roles, licence, \
     fps_code, status, created_at_s, updated_at_s";

fn corrupt(what: &str, id: &str) -> StoreError {
    StoreError::Corrupt(format!("exchange participant {id}: {what}"))
}

fn decode_key(row: KeyTuple) -> Result<(String, PublicKey), StoreError> {
    let (participant, kid, jwk, added_at_s, verify_until_s) = row;
    let jwk: Jwk = serde_json::from_str(&jwk).map_err(|_| corrupt("key", &participant))?;
    Ok((
        participant,
        PublicKey {
            kid,
            jwk,
            added_at_s,
            verify_until_s,
        },
    ))
}

fn decode(
    row: ParticipantTuple,
    keys: Vec<PublicKey>,
    provides: Vec<ProductId>,
) -> Result<Participant, StoreError> {
    let (id, en, zh_hant, zh_hans, roles, licence, fps_code, status, created_at_s, updated_at_s) =
        row;
    Ok(Participant {
        roles: Roles::parse(&roles).ok_or_else(|| corrupt("roles", &id))?,
        licence: Licence::parse(&licence).ok_or_else(|| corrupt("licence", &id))?,
        status: Status::parse(&status).ok_or_else(|| corrupt("status", &id))?,
        id: ParticipantId::parse(&id).ok_or_else(|| corrupt("id", &id))?,
        name: Localized {
            zh_hant,
            zh_hans,
            en,
        },
        fps_code,
        keys,
        provides,
        created_at_s,
        updated_at_s,
    })
}

fn roles_matching(role: Option<Role>) -> &'static [&'static str] {
    match role {
        None => &["provider", "consumer", "both"],
        Some(Role::Provider) => &["provider", "both"],
        Some(Role::Consumer) => &["consumer", "both"],
    }
}

fn event(actor: &str, action: &'static str, id: &str, detail: serde_json::Value) -> AuditEvent {
    AuditEvent {
        actor: actor.to_owned(),
        action,
        subject: format!("exchange_participant:{id}"),
        outcome: Outcome::Success,
        detail,
        request_id: None,
    }
}

#[derive(Debug, Clone)]
pub struct DirectoryStore {
    db: Database,
}

impl DirectoryStore {
    pub fn new(db: &Database) -> DirectoryStore {
        DirectoryStore { db: db.clone() }
    }

    pub fn db(&self) -> &Database {
        &self.db
    }

    /// Inserts a participant with its keys and products — and, for a sandbox provider, its
    /// private key (kid, sealed), whose public half is one of `p.keys` — in one transaction;
    /// `Exists` if the id is taken.
    pub async fn insert(
        &self,
        p: &NewParticipant,
        sandbox_key: Option<(&str, &[u8])>,
        now_s: i64,
        actor: &str,
    ) -> Result<(), DirectoryError> {
        let kids: Vec<&str> = p.keys.iter().filter_map(|k| k.kid.as_deref()).collect();
        let products: Vec<&str> = p.provides.iter().map(|p| p.as_str()).collect();
        let audit = event(
            actor,
            "exchange.participant.register",
            p.id.as_str(),
            serde_json::json!({
                "roles": p.roles.as_str(),
                "licence": p.licence.as_str(),
                "fps_code": p.fps_code,
                "kids": kids,
                "provides": products,
                "sandbox_kid": sandbox_key.map(|(kid, _)| kid),
            }),
        );
        let result: Result<(), StoreError> = async {
            write_tx!(&self.db, tx, append => {
                sqlx::query(
                    "INSERT INTO exchange_participants (id, name_en, name_zh_hant, name_zh_hans, \
                     roles, licence, fps_code, status, created_at_s, updated_at_s) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $8)",
                )
                .bind(p.id.as_str())
                .bind(&p.name.en)
                .bind(&p.name.zh_hant)
                .bind(&p.name.zh_hans)
                .bind(p.roles.as_str())
                .bind(p.licence.as_str())
                .bind(&p.fps_code)
                .bind(now_s)
                .execute(&mut *tx)
                .await?;
                for key in &p.keys {
                    let jwk = serde_json::to_string(key).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    sqlx::query(
                        "INSERT INTO exchange_participant_keys (participant, kid, jwk, added_at_s, verify_until_s) \
                         VALUES ($1, $2, $3, $4, NULL)",
                    )
                    .bind(p.id.as_str())
                    .bind(key.kid.as_deref().unwrap_or_default())
                    .bind(jwk)
                    .bind(now_s)
                    .execute(&mut *tx)
                    .await?;
                }
                for product in &p.provides {
                    sqlx::query("INSERT INTO exchange_product_providers (product, participant) VALUES ($1, $2)")
                        .bind(product.as_str())
                        .bind(p.id.as_str())
                        .execute(&mut *tx)
                        .await?;
                }
                if let Some((kid, sealed)) = sandbox_key {
                    sqlx::query(
                        "INSERT INTO exchange_sandbox_keys (participant, kid, private_sealed, created_at_s) \
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(p.id.as_str())
                    .bind(kid)
                    .bind(sealed)
                    .bind(now_s)
                    .execute(&mut *tx)
                    .await?;
                }
                append(&mut tx, &audit).await?;
            });
            Ok(())
        }
        .await;
        match result {
            Err(StoreError::Sqlx(e)) if is_unique_violation(&e) => {
                Err(DirectoryError::Exists(p.id.as_str().to_owned()))
            }
            other => Ok(other?),
        }
    }

    /// Sets the status; `NotFound` if there is no such participant. No change, no event.
    pub async fn set_status(
        &self,
        id: &str,
        status: Status,
        reason: &str,
        now_s: i64,
        actor: &str,
    ) -> Result<(), DirectoryError> {
        let action = match status {
            Status::Active => "exchange.participant.reactivate",
            Status::Suspended => "exchange.participant.suspend",
        };
        let audit = event(actor, action, id, serde_json::json!({ "reason": reason }));
        let found: Option<String> = write_tx!(&self.db, tx, append => {
            let found: Option<String> = sqlx::query_scalar(
                "SELECT status FROM exchange_participants WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            if found.as_deref().is_some_and(|s| s != status.as_str()) {
                sqlx::query("UPDATE exchange_participants SET status = $1, updated_at_s = $2 WHERE id = $3")
                    .bind(status.as_str())
                    .bind(now_s)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                append(&mut tx, &audit).await?;
            }
            found
        });
        match found {
            Some(_) => Ok(()),
            None => Err(DirectoryError::NotFound(id.to_owned())),
        }
    }

    /// Makes `keys` the participant's current keys: kept keys unchanged, new keys added,
    /// dropped current keys verifying until `now_s + grace_s`; keys whose grace is over are
    /// deleted. A kid that is in its grace period cannot come back (a kid names one key).
    pub async fn replace_keys(
        &self,
        id: &str,
        keys: &[Jwk],
        grace_s: i64,
        now_s: i64,
        actor: &str,
    ) -> Result<(), DirectoryError> {
        let until = now_s.saturating_add(grace_s);
        let result: Result<Result<(), DirectoryError>, StoreError> = async {
            Ok(write_tx!(&self.db, tx, append => {
                let exists: Option<String> =
                    sqlx::query_scalar("SELECT id FROM exchange_participants WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                if exists.is_none() {
                    return Ok(Err(DirectoryError::NotFound(id.to_owned())));
                }
                let old: Vec<KeyTuple> = sqlx::query_as(
                    "SELECT participant, kid, jwk, added_at_s, verify_until_s \
                     FROM exchange_participant_keys WHERE participant = $1",
                )
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
                let mut kept = Vec::new();
                let mut added = Vec::new();
                for key in keys {
                    let kid = key.kid.as_deref().unwrap_or_default();
                    let jwk = serde_json::to_string(key).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    match old.iter().find(|(_, k, _, _, _)| k == kid) {
                        Some((_, _, stored, _, None)) if *stored == jwk => kept.push(kid.to_owned()),
                        Some(_) => {
                            return Ok(Err(DirectoryError::Invalid(vec![bauhinia_core::FieldError::new(
                                "/jwks/keys",
                                format!("key id {kid:?} was used by another key: give the new key a new id"),
                            )])));
                        }
                        None => {
                            sqlx::query(
                                "INSERT INTO exchange_participant_keys (participant, kid, jwk, added_at_s, verify_until_s) \
                                 VALUES ($1, $2, $3, $4, NULL)",
                            )
                            .bind(id)
                            .bind(kid)
                            .bind(jwk)
                            .bind(now_s)
                            .execute(&mut *tx)
                            .await?;
                            added.push(kid.to_owned());
                        }
                    }
                }
                let mut retired = Vec::new();
                for (_, kid, _, _, verify_until) in &old {
                    if verify_until.is_none() && !kept.contains(kid) {
                        sqlx::query(
                            "UPDATE exchange_participant_keys SET verify_until_s = $1 WHERE participant = $2 AND kid = $3",
                        )
                        .bind(until)
                        .bind(id)
                        .bind(kid)
                        .execute(&mut *tx)
                        .await?;
                        retired.push(kid.clone());
                    }
                }
                sqlx::query(
                    "DELETE FROM exchange_participant_keys WHERE participant = $1 AND verify_until_s <= $2",
                )
                .bind(id)
                .bind(now_s)
                .execute(&mut *tx)
                .await?;
                sqlx::query("UPDATE exchange_participants SET updated_at_s = $1 WHERE id = $2")
                    .bind(now_s)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let audit = event(
                    actor,
                    "exchange.participant.keys.replace",
                    id,
                    serde_json::json!({
                        "added": added,
                        "kept": kept,
                        "retired": retired,
                        "verify_until_s": until,
                    }),
                );
                append(&mut tx, &audit).await?;
                Ok(())
            }))
        }
        .await;
        result?
    }

    pub async fn get(&self, id: &str) -> Result<Option<Participant>, StoreError> {
        let sql = format!("SELECT {PARTICIPANT_COLUMNS} FROM exchange_participants WHERE id = $1");
        let row: Option<ParticipantTuple> = read!(&self.db, conn => sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(conn)
            .await?);
        let Some(row) = row else {
            return Ok(None);
        };
        let keys: Vec<KeyTuple> = read!(&self.db, conn => sqlx::query_as(
            "SELECT participant, kid, jwk, added_at_s, verify_until_s FROM exchange_participant_keys \
             WHERE participant = $1 ORDER BY added_at_s, kid",
        )
        .bind(id)
        .fetch_all(conn)
        .await?);
        let products: Vec<String> = read!(&self.db, conn => sqlx::query_scalar(
            "SELECT product FROM exchange_product_providers WHERE participant = $1 ORDER BY product",
        )
        .bind(id)
        .fetch_all(conn)
        .await?);
        let keys = keys
            .into_iter()
            .map(|k| decode_key(k).map(|(_, key)| key))
            .collect::<Result<Vec<_>, _>>()?;
        let mut provides: Vec<ProductId> = products
            .iter()
            .filter_map(|p| ProductId::parse(p))
            .collect();
        provides.sort();
        Ok(Some(decode(row, keys, provides)?))
    }

    pub async fn list(&self, filter: &ParticipantFilter) -> Result<Vec<Participant>, StoreError> {
        let roles = roles_matching(filter.role);
        let licence = filter.licence.map(Licence::as_str);
        let status = filter.status.map(Status::as_str);
        let limit = i64::try_from(LIST_MAX).unwrap_or(i64::MAX);
        let sql = format!(
            "SELECT {PARTICIPANT_COLUMNS} FROM exchange_participants \
             WHERE roles IN ($1, $2, $3) AND (CAST($4 AS TEXT) IS NULL OR licence = $4) \
             AND (CAST($5 AS TEXT) IS NULL OR status = $5) ORDER BY id LIMIT $6"
        );
        let role_at = |i: usize| roles.get(i).or(roles.first()).copied().unwrap_or("both");
        let rows: Vec<ParticipantTuple> = read!(&self.db, conn => sqlx::query_as(&sql)
            .bind(role_at(0))
            .bind(role_at(1))
            .bind(role_at(2))
            .bind(licence)
            .bind(status)
            .bind(limit)
            .fetch_all(conn)
            .await?);
        let keys: Vec<KeyTuple> = read!(&self.db, conn => sqlx::query_as(
            "SELECT participant, kid, jwk, added_at_s, verify_until_s FROM exchange_participant_keys \
             ORDER BY participant, added_at_s, kid",
        )
        .fetch_all(conn)
        .await?);
        let links: Vec<(String, String)> = read!(&self.db, conn => sqlx::query_as(
            "SELECT participant, product FROM exchange_product_providers ORDER BY participant, product",
        )
        .fetch_all(conn)
        .await?);
        let mut keys_of: BTreeMap<String, Vec<PublicKey>> = BTreeMap::new();
        for row in keys {
            let (participant, key) = decode_key(row)?;
            keys_of.entry(participant).or_default().push(key);
        }
        let mut products_of: BTreeMap<String, Vec<ProductId>> = BTreeMap::new();
        for (participant, product) in links {
            if let Some(product) = ProductId::parse(&product) {
                products_of.entry(participant).or_default().push(product);
            }
        }
        rows.into_iter()
            .map(|row| {
                let keys = keys_of.remove(&row.0).unwrap_or_default();
                let mut provides = products_of.remove(&row.0).unwrap_or_default();
                provides.sort();
                decode(row, keys, provides)
            })
            .collect()
    }

    /// (product, participant) for every active participant that provides a product.
    pub async fn active_providers(&self) -> Result<Vec<(ProductId, String)>, StoreError> {
        let rows: Vec<(String, String)> = read!(&self.db, conn => sqlx::query_as(
            "SELECT l.product, l.participant FROM exchange_product_providers l \
             JOIN exchange_participants p ON p.id = l.participant \
             WHERE p.status = 'active' ORDER BY l.product, l.participant",
        )
        .fetch_all(conn)
        .await?);
        Ok(rows
            .into_iter()
            .filter_map(|(product, who)| Some((ProductId::parse(&product)?, who)))
            .collect())
    }

    /// The sandbox's sealed private keys for a participant: (kid, sealed), newest first.
    pub async fn sandbox_keys(
        &self,
        participant: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        Ok(read!(&self.db, conn => sqlx::query_as(
            "SELECT kid, private_sealed FROM exchange_sandbox_keys WHERE participant = $1 \
             ORDER BY created_at_s DESC, kid",
        )
        .bind(participant)
        .fetch_all(conn)
        .await?))
    }
}
