//! `ProxyService`: participants register, change and remove proxies for their own customers,
//! and look payees up. It turns proxies into keyed hashes (context [`KEY_HASH_CONTEXT`]) and
//! seals account references (bound to the key hash and the participant) before the store sees
//! them, and builds every audit event with masks only.

use std::collections::BTreeMap;
use std::sync::Arc;

use bauhinia_core::crypto::{random_bytes, CryptoError, Vault};
use bauhinia_core::{ErrorCode, FieldError, Problem};
use bauhinia_store::audit::{AuditEvent, Outcome as AuditOutcome};
use bauhinia_store::{Database, StoreError};

use super::domain::{
    lookup_allowed, mask_name, AccountReference, Consent, DefaultDecision, FpsId, KeyError,
    LookupMode, LookupPurpose, ProxyKey, ProxyKind, ProxyStatus,
};
use super::store::{NewRow, ProxyStore, RegisterResult, Row, RowChange};
use crate::switch::{Caller, ParticipantCode, Switch};

/// The context of proxies' keyed lookup hashes.
pub const KEY_HASH_CONTEXT: &str = "fps.proxy.key";
/// How many FPS IDs a registration draws before giving up (each clash is about 3% likely with
/// 3 million IDs issued out of 90 million).
const FPS_ID_DRAWS_MAX: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// Invalid input: the fields (JSON Pointers) and why.
    #[error("invalid proxy request")]
    Invalid(Vec<(String, String)>),
    #[error("no such proxy registration")]
    NotFound,
    #[error("this participant has already registered this proxy")]
    Exists,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("no free FPS ID could be drawn")]
    FpsIdsExhausted,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

impl ProxyError {
    fn field(pointer: impl Into<String>, why: impl Into<String>) -> ProxyError {
        ProxyError::Invalid(vec![(pointer.into(), why.into())])
    }
}

impl From<ProxyError> for Problem {
    fn from(error: ProxyError) -> Problem {
        match error {
            ProxyError::Invalid(errors) => Problem::new(ErrorCode::FpsProxyInvalid).errors(
                errors
                    .into_iter()
                    .map(|(pointer, why)| FieldError::new(pointer, why))
                    .collect(),
            ),
            ProxyError::NotFound => Problem::new(ErrorCode::FpsProxyNotFound),
            ProxyError::Exists => Problem::new(ErrorCode::FpsProxyExists),
            ProxyError::Forbidden(why) => Problem::new(ErrorCode::FpsProxyForbidden).detail(why),
            ProxyError::Store(StoreError::Sqlx(sqlx::Error::PoolTimedOut)) => {
                Problem::new(ErrorCode::StoreUnavailable)
            }
            other => Problem::internal(&other),
        }
    }
}

/// A registration asked for by a participant. `key` is `None` for an FPS ID (the system issues
/// it) and required for every other kind.
#[derive(Debug, Clone)]
pub struct Registration {
    pub kind: ProxyKind,
    pub key: Option<ProxyKey>,
    pub account: AccountReference,
    pub display_name: String,
    pub consent: Consent,
    /// Take the default over from another participant (see `domain::default_on_register`).
    pub set_default: bool,
}

/// A participant's registration, as that participant sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub key: ProxyKey,
    pub participant: ParticipantCode,
    pub account: String,
    pub masked_name: String,
    pub is_default: bool,
    pub status: ProxyStatus,
    /// Whose default this registration took over, if it did now.
    pub replaced: Option<ParticipantCode>,
    pub consent_at_s: i64,
    pub consent_version: String,
    pub consent_channel: String,
}

/// A change to a participant's own registration; `None` leaves a value as it is.
#[derive(Debug, Clone, Default)]
pub struct ProxyChange {
    pub account: Option<AccountReference>,
    pub display_name: Option<String>,
    /// `true`: make this the key's default (taking it from another participant); `false`: this
    /// registration stops being the default (not for FPS IDs).
    pub set_default: Option<bool>,
    /// `Active` or `Suspended` (removal is [`ProxyService::remove`]).
    pub status: Option<ProxyStatus>,
    pub consent: Option<Consent>,
}

/// What a lookup shows: the participant and the masked name. The account reference only to the
/// participant that holds the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub kind: ProxyKind,
    pub participant: ParticipantCode,
    pub participant_name: String,
    pub masked_name: String,
    pub account: Option<String>,
}

/// One answer of a bulk lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkAnswer {
    Found(Found),
    NotFound,
    Invalid(&'static str),
    Forbidden(&'static str),
}

/// A row of a bulk import (loading an existing register): `key` `None` issues an FPS ID.
#[derive(Debug, Clone)]
pub struct ImportRow {
    pub participant: ParticipantCode,
    pub kind: ProxyKind,
    pub key: Option<ProxyKey>,
    pub account: AccountReference,
    pub display_name: String,
    pub consent: Consent,
}

#[derive(Debug, Clone)]
pub struct ProxyService {
    store: ProxyStore,
    vault: Arc<Vault>,
    switch: Arc<Switch>,
}

fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        for nibble in [b >> 4, b & 0x0F] {
            out.push(char::from(
                DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    out
}

/// The audit subject of a key: a prefix of its keyed hash (stable, and useless without the
/// master key).
fn subject(key_hash: &[u8; 32]) -> String {
    format!("fps.proxy:{}", hex(key_hash.get(..8).unwrap_or(&[])))
}

fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    random_bytes(&mut bytes);
    u64::from_le_bytes(bytes)
}

impl ProxyService {
    pub fn new(db: &Database, vault: Arc<Vault>, switch: Arc<Switch>) -> ProxyService {
        ProxyService {
            store: ProxyStore::new(db),
            vault,
            switch,
        }
    }

    pub fn store(&self) -> &ProxyStore {
        &self.store
    }

    pub fn key_hash(&self, key: &ProxyKey) -> [u8; 32] {
        self.vault
            .lookup_hash(KEY_HASH_CONTEXT, key.hash_input().as_bytes())
    }

    fn seal_context(key_hash: &[u8; 32], participant: ParticipantCode) -> String {
        format!("fps.proxy.account:{participant}:{}", hex(key_hash))
    }

    fn seal_account(
        &self,
        key_hash: &[u8; 32],
        participant: ParticipantCode,
        account: &AccountReference,
    ) -> Result<Vec<u8>, CryptoError> {
        self.vault.seal(
            &Self::seal_context(key_hash, participant),
            account.expose().as_bytes(),
        )
    }

    fn open_account(&self, key_hash: &[u8; 32], row: &Row) -> Result<String, ProxyError> {
        let plain = self.vault.open(
            &Self::seal_context(key_hash, row.participant),
            &row.account_sealed,
        )?;
        String::from_utf8(plain)
            .map_err(|_| StoreError::Corrupt("a sealed account reference".into()).into())
    }

    fn registered(
        &self,
        key: ProxyKey,
        key_hash: &[u8; 32],
        row: &Row,
        replaced: Option<ParticipantCode>,
    ) -> Result<Registered, ProxyError> {
        Ok(Registered {
            account: self.open_account(key_hash, row)?,
            key,
            participant: row.participant,
            masked_name: row.masked_name.clone(),
            is_default: row.is_default,
            status: row.status,
            replaced,
            consent_at_s: row.consent_at_s,
            consent_version: row.consent_version.clone(),
            consent_channel: row.consent_channel.clone(),
        })
    }

    /// Registers a proxy for one of `participant`'s customers. An FPS ID is drawn here.
    pub async fn register(
        &self,
        participant: ParticipantCode,
        registration: Registration,
    ) -> Result<Registered, ProxyError> {
        let masked_name = mask_name(&registration.display_name)
            .map_err(|why| ProxyError::field("/display_name", why))?;
        let issuing = registration.kind == ProxyKind::FpsId;
        let draws = if issuing { FPS_ID_DRAWS_MAX } else { 1 };
        let caller = Caller::Participant(participant);
        for _ in 0..draws {
            let key = match (&registration.key, issuing) {
                (None, true) => ProxyKey::FpsId(FpsId::issue(random_u64())),
                (Some(key), false) if key.kind() == registration.kind => key.clone(),
                (Some(_), true) => {
                    return Err(ProxyError::field(
                        "/key",
                        "FPS IDs are issued by the system: leave the key out",
                    ))
                }
                _ => return Err(ProxyError::field("/key", "is required for this kind")),
            };
            let key_hash = self.key_hash(&key);
            let now = now_s();
            let row = NewRow {
                key_hash,
                kind: registration.kind,
                participant,
                account_sealed: self.seal_account(&key_hash, participant, &registration.account)?,
                masked_name: masked_name.clone(),
                consent: registration.consent.clone(),
                now_s: now,
            };
            let event = |decision: &DefaultDecision| AuditEvent {
                actor: caller.actor(),
                action: "fps.proxy.register",
                subject: subject(&key_hash),
                outcome: AuditOutcome::Success,
                detail: serde_json::json!({
                    "kind": key.kind().as_str(),
                    "key": key.masked(),
                    "participant": participant.as_str(),
                    "default": decision.is_default,
                    "replaces": decision.replaces.map(|p| p.as_str()),
                    "masked_name": masked_name,
                    "consent": {
                        "at_s": registration.consent.at_s,
                        "version": registration.consent.version,
                        "channel": registration.consent.channel.as_str(),
                    },
                }),
                request_id: None,
            };
            let result = self
                .store
                .register(&row, registration.set_default || issuing, issuing, event)
                .await?;
            match result {
                RegisterResult::Registered(decision) => {
                    let stored = Row {
                        kind: row.kind,
                        participant,
                        account_sealed: row.account_sealed,
                        masked_name: row.masked_name,
                        is_default: decision.is_default,
                        status: ProxyStatus::Active,
                        consent_at_s: row.consent.at_s,
                        consent_version: row.consent.version.clone(),
                        consent_channel: row.consent.channel.as_str().to_owned(),
                        created_at_s: now,
                        updated_at_s: now,
                    };
                    return self.registered(key, &key_hash, &stored, decision.replaces);
                }
                RegisterResult::AlreadyRegistered => return Err(ProxyError::Exists),
                RegisterResult::Taken => continue,
            }
        }
        Err(ProxyError::FpsIdsExhausted)
    }

    /// `participant`'s own registration of `key`, with its account reference.
    pub async fn registration(
        &self,
        participant: ParticipantCode,
        key: &ProxyKey,
    ) -> Result<Registered, ProxyError> {
        let key_hash = self.key_hash(key);
        let row = self
            .store
            .registration(&key_hash, participant)
            .await?
            .filter(|r| r.status != ProxyStatus::Removed)
            .ok_or(ProxyError::NotFound)?;
        self.registered(key.clone(), &key_hash, &row, None)
    }

    /// Changes `participant`'s registration of `key`.
    pub async fn change(
        &self,
        participant: ParticipantCode,
        key: &ProxyKey,
        change: ProxyChange,
    ) -> Result<Registered, ProxyError> {
        if change.status == Some(ProxyStatus::Removed) {
            return Err(ProxyError::field(
                "/status",
                "must be active or suspended (remove a registration with the remove request)",
            ));
        }
        if key.kind() == ProxyKind::FpsId && change.set_default == Some(false) {
            return Err(ProxyError::field(
                "/set_default",
                "an FPS ID is always its account's default",
            ));
        }
        let masked_name = change
            .display_name
            .as_deref()
            .map(mask_name)
            .transpose()
            .map_err(|why| ProxyError::field("/display_name", why))?;
        let key_hash = self.key_hash(key);
        let row_change = RowChange {
            account_sealed: change
                .account
                .as_ref()
                .map(|a| self.seal_account(&key_hash, participant, a))
                .transpose()?,
            masked_name,
            make_default: change.set_default,
            status: change.status,
            consent: change.consent.clone(),
        };
        let mut changed: Vec<&str> = Vec::new();
        for (field, present) in [
            ("account", change.account.is_some()),
            ("display_name", change.display_name.is_some()),
            ("default", change.set_default.is_some()),
            ("status", change.status.is_some()),
            ("consent", change.consent.is_some()),
        ] {
            if present {
                changed.push(field);
            }
        }
        let event = |after: &Row, replaced: Option<ParticipantCode>| AuditEvent {
            actor: Caller::Participant(participant).actor(),
            action: "fps.proxy.change",
            subject: subject(&key_hash),
            outcome: AuditOutcome::Success,
            detail: serde_json::json!({
                "kind": key.kind().as_str(),
                "key": key.masked(),
                "participant": participant.as_str(),
                "changed": changed,
                "default": after.is_default,
                "replaces": replaced.map(|p| p.as_str()),
                "status": after.status.as_str(),
                "masked_name": after.masked_name,
            }),
            request_id: None,
        };
        let (after, replaced) = self
            .store
            .change(&key_hash, participant, &row_change, now_s(), event)
            .await?
            .ok_or(ProxyError::NotFound)?;
        self.registered(key.clone(), &key_hash, &after, replaced)
    }

    /// Removes `participant`'s registration of `key` (an FPS ID is retired, never reissued).
    pub async fn remove(
        &self,
        participant: ParticipantCode,
        key: &ProxyKey,
    ) -> Result<(), ProxyError> {
        let key_hash = self.key_hash(key);
        let event = AuditEvent {
            actor: Caller::Participant(participant).actor(),
            action: "fps.proxy.remove",
            subject: subject(&key_hash),
            outcome: AuditOutcome::Success,
            detail: serde_json::json!({
                "kind": key.kind().as_str(),
                "key": key.masked(),
                "participant": participant.as_str(),
            }),
            request_id: None,
        };
        if self
            .store
            .remove(&key_hash, participant, key.kind(), now_s(), &event)
            .await?
        {
            Ok(())
        } else {
            Err(ProxyError::NotFound)
        }
    }

    fn found(
        &self,
        caller: ParticipantCode,
        key_hash: &[u8; 32],
        row: &Row,
    ) -> Result<Option<Found>, ProxyError> {
        if row.status != ProxyStatus::Active {
            return Ok(None);
        }
        // A suspended participant cannot be paid: its proxies are not found meanwhile.
        let Some(holder) = self
            .switch
            .participant(row.participant)
            .filter(|p| p.active)
        else {
            return Ok(None);
        };
        let account = if caller == row.participant {
            Some(self.open_account(key_hash, row)?)
        } else {
            None
        };
        Ok(Some(Found {
            kind: row.kind,
            participant: row.participant,
            participant_name: holder.name_en,
            masked_name: row.masked_name.clone(),
            account,
        }))
    }

    /// Finds the payee `key` addresses: its default, active registration.
    pub async fn lookup(
        &self,
        caller: ParticipantCode,
        key: &ProxyKey,
        purpose: LookupPurpose,
        mode: LookupMode,
    ) -> Result<Option<Found>, ProxyError> {
        lookup_allowed(key.kind(), purpose, mode).map_err(ProxyError::Forbidden)?;
        let key_hash = self.key_hash(key);
        match self.store.default_of(&key_hash).await? {
            Some(row) => self.found(caller, &key_hash, &row),
            None => Ok(None),
        }
    }

    /// Looks up to [`super::domain::BULK_LOOKUP_MAX`] keys (checked by the caller), answering
    /// each in order: a key that did not parse, or may not be looked up for `purpose`, gets its
    /// own answer and does not stop the others.
    pub async fn lookup_many(
        &self,
        caller: ParticipantCode,
        keys: &[Result<ProxyKey, KeyError>],
        purpose: LookupPurpose,
    ) -> Result<Vec<BulkAnswer>, ProxyError> {
        let mut answers: Vec<Option<BulkAnswer>> = Vec::with_capacity(keys.len());
        let mut wanted: Vec<(usize, [u8; 32])> = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            match key {
                Err(e) => answers.push(Some(BulkAnswer::Invalid(e.0))),
                Ok(key) => match lookup_allowed(key.kind(), purpose, LookupMode::Bulk) {
                    Err(why) => answers.push(Some(BulkAnswer::Forbidden(why))),
                    Ok(()) => {
                        answers.push(None);
                        wanted.push((i, self.key_hash(key)));
                    }
                },
            }
        }
        let hashes: Vec<[u8; 32]> = wanted.iter().map(|(_, h)| *h).collect();
        let rows = self.store.defaults_of(&hashes).await?;
        for ((i, hash), row) in wanted.iter().zip(rows) {
            let found = match row {
                Some(row) => self.found(caller, hash, &row)?,
                None => None,
            };
            if let Some(slot) = answers.get_mut(*i) {
                *slot = Some(found.map_or(BulkAnswer::NotFound, BulkAnswer::Found));
            }
        }
        Ok(answers
            .into_iter()
            .map(|a| a.unwrap_or(BulkAnswer::NotFound))
            .collect())
    }

    /// One import row checked, its key drawn (FPS IDs) or taken, hashed, its account sealed.
    fn prepare_row(
        &self,
        i: usize,
        r: ImportRow,
        now: i64,
    ) -> Result<(NewRow, ProxyKey, AccountReference), ProxyError> {
        let key = match (r.kind, r.key) {
            (ProxyKind::FpsId, None) => ProxyKey::FpsId(FpsId::issue(random_u64())),
            (kind, Some(key)) if kind != ProxyKind::FpsId && key.kind() == kind => key,
            _ => {
                return Err(ProxyError::field(
                    format!("/{i}/key"),
                    "FPS IDs are issued (no key); every other kind needs its key",
                ))
            }
        };
        let masked_name = mask_name(&r.display_name)
            .map_err(|why| ProxyError::field(format!("/{i}/display_name"), why))?;
        let key_hash = self.key_hash(&key);
        let row = NewRow {
            key_hash,
            kind: r.kind,
            participant: r.participant,
            account_sealed: self.seal_account(&key_hash, r.participant, &r.account)?,
            masked_name,
            consent: r.consent,
            now_s: now,
        };
        Ok((row, key, r.account))
    }

    /// [`ProxyService::prepare_row`] over every row, in order, on up to 8 threads.
    fn prepare_import(
        &self,
        rows: Vec<ImportRow>,
        now: i64,
    ) -> Result<Vec<(NewRow, ProxyKey, AccountReference)>, ProxyError> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
        let chunk = rows.len().div_ceil(threads).max(1);
        let mut chunks: Vec<(usize, Vec<ImportRow>)> = Vec::new();
        let mut rows = rows.into_iter();
        let mut start = 0;
        loop {
            let part: Vec<ImportRow> = rows.by_ref().take(chunk).collect();
            if part.is_empty() {
                break;
            }
            let n = part.len();
            chunks.push((start, part));
            start += n;
        }
        let parts: Vec<Result<Vec<_>, ProxyError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = chunks
                .into_iter()
                .map(|(start, part)| {
                    scope.spawn(move || {
                        part.into_iter()
                            .enumerate()
                            .map(|(k, r)| self.prepare_row(start + k, r, now))
                            .collect::<Result<Vec<_>, ProxyError>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(StoreError::Commit("an import thread panicked".into()).into())
                    })
                })
                .collect()
        });
        let mut out = Vec::with_capacity(start);
        for part in parts {
            out.extend(part?);
        }
        Ok(out)
    }

    /// Loads an existing register: up to `store::IMPORT_ROWS_MAX` rows in one transaction, all
    /// or nothing, one audit event (counts by kind). Every row becomes its key's default; a key
    /// already registered fails the import. Returns each row's key (FPS IDs as issued).
    pub async fn import(
        &self,
        rows: Vec<ImportRow>,
        actor: &str,
    ) -> Result<Vec<ProxyKey>, ProxyError> {
        let now = now_s();
        // Hashing and sealing a million rows takes seconds of CPU: off the async workers, on
        // every core.
        let service = self.clone();
        let prepared = tokio::task::spawn_blocking(move || service.prepare_import(rows, now))
            .await
            .map_err(|e| StoreError::Commit(format!("the import's preparation failed: {e}")))??;
        let mut new_rows = Vec::with_capacity(prepared.len());
        let mut keys = Vec::with_capacity(prepared.len());
        let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
        for (row, key, account) in prepared {
            *counts.entry(key.kind().as_str()).or_default() += 1;
            new_rows.push(row);
            keys.push((key, account));
        }
        let event = AuditEvent {
            actor: actor.to_owned(),
            action: "fps.proxy.import",
            subject: "fps.proxies".to_owned(),
            outcome: AuditOutcome::Success,
            detail: serde_json::json!({ "rows": new_rows.len(), "kinds": counts }),
            request_id: None,
        };
        // A redrawn FPS ID needs its account sealed again (the seal is bound to the key hash).
        let accounts: Arc<Vec<AccountReference>> =
            Arc::new(keys.iter().map(|(_, a)| a.clone()).collect());
        let redrawn: Arc<std::sync::Mutex<BTreeMap<usize, FpsId>>> = Arc::default();
        let (vault, drawn) = (Arc::clone(&self.vault), Arc::clone(&redrawn));
        let redraw = Arc::new(
            move |i: usize, row: &NewRow| -> Result<NewRow, StoreError> {
                let id = FpsId::issue(random_u64());
                let input = ProxyKey::FpsId(id.clone()).hash_input();
                let key_hash = vault.lookup_hash(KEY_HASH_CONTEXT, input.as_bytes());
                let account = accounts.get(i).ok_or_else(|| {
                    StoreError::Commit("an import row without its account".into())
                })?;
                let sealed = vault
                    .seal(
                        &ProxyService::seal_context(&key_hash, row.participant),
                        account.expose().as_bytes(),
                    )
                    .map_err(|e| StoreError::Commit(e.to_string()))?;
                if let Ok(mut ids) = drawn.lock() {
                    ids.insert(i, id);
                }
                Ok(NewRow {
                    key_hash,
                    account_sealed: sealed,
                    ..row.clone()
                })
            },
        );
        match self.store.import(new_rows, redraw, event).await {
            Err(StoreError::Conflict(why)) => return Err(ProxyError::field("/", why)),
            other => drop(other?),
        };
        let ids = redrawn.lock().map(|m| m.clone()).unwrap_or_default();
        Ok(keys
            .into_iter()
            .enumerate()
            .map(|(i, (key, _))| match ids.get(&i) {
                Some(id) => ProxyKey::FpsId(id.clone()),
                None => key,
            })
            .collect())
    }
}
