//! The participants directory — the exchange's trust list. An institution is registered with an
//! id, its names in three languages, its roles (data provider, data consumer or both), its
//! licence, the data products it provides and its public signing keys (a JWKS of ES256 P-256
//! keys; a private part is refused). Only an active participant with the right role gets past
//! [`Directory::authorise`], and the check reads the database every time: there is no cache,
//! so a suspension takes effect on the next call on every node.
//!
//! [`ParticipantDraft::validate`] is the only way to a [`NewParticipant`]; every field is
//! checked and every failure named by its JSON Pointer. Every change is one transaction with
//! its audit event (`store.rs`). The sandbox's own providers are loaded by `demo.rs`.

pub mod demo;
pub mod store;

use std::collections::BTreeSet;

use bauhinia_core::{ErrorCode, FieldError, Localized, Problem};
use bauhinia_identity::jose::{Alg, JoseError, Jwk, JwkSet};
use bauhinia_store::{Database, StoreError};
use openssl::pkey::{PKey, Public};
use serde::{Deserialize, Serialize};

use crate::products::{ListedProduct, ProductId, System};
use store::DirectoryStore;

pub const ID_LEN_MIN: usize = 3;
pub const ID_LEN_MAX: usize = 64;
pub const NAME_EN_LEN_MAX: usize = 200;
pub const NAME_ZH_LEN_MAX: usize = 100;
pub const KID_LEN_MAX: usize = 64;
/// Keys one participant may publish at once (current and in their grace period).
pub const KEYS_MAX: usize = 8;
/// How long a key replaced by a rotation keeps verifying by default: longer than any signed
/// request or response is accepted for.
pub const KEY_GRACE_S: i64 = 24 * 3600;
/// The longest grace period a rotation may ask for.
pub const KEY_GRACE_MAX_S: i64 = 30 * 24 * 3600;
/// The most participants one listing returns.
pub const LIST_MAX: usize = 1000;
/// The most characters of a suspension reason kept in the audit record.
pub const REASON_LEN_MAX: usize = 200;

/// What a participant is allowed to do in one exchange of data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Provider,
    Consumer,
}

impl Role {
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Provider => "provider",
            Role::Consumer => "consumer",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        [Role::Provider, Role::Consumer]
            .into_iter()
            .find(|r| r.as_str() == text)
    }
}

/// The roles a participant is registered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Roles {
    Provider,
    Consumer,
    Both,
}

impl Roles {
    pub const fn as_str(self) -> &'static str {
        match self {
            Roles::Provider => "provider",
            Roles::Consumer => "consumer",
            Roles::Both => "both",
        }
    }

    pub fn parse(text: &str) -> Option<Roles> {
        [Roles::Provider, Roles::Consumer, Roles::Both]
            .into_iter()
            .find(|r| r.as_str() == text)
    }

    pub const fn allows(self, role: Role) -> bool {
        matches!(
            (self, role),
            (Roles::Both, _)
                | (Roles::Provider, Role::Provider)
                | (Roles::Consumer, Role::Consumer)
        )
    }
}

/// The licence or standing under which an institution takes part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Licence {
    Bank,
    DigitalBank,
    StoredValueFacility,
    VirtualInsurer,
    VirtualAssetPlatform,
    GovernmentDepartment,
    CommercialDataProvider,
}

impl Licence {
    pub const ALL: [Licence; 7] = [
        Licence::Bank,
        Licence::DigitalBank,
        Licence::StoredValueFacility,
        Licence::VirtualInsurer,
        Licence::VirtualAssetPlatform,
        Licence::GovernmentDepartment,
        Licence::CommercialDataProvider,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Licence::Bank => "bank",
            Licence::DigitalBank => "digital_bank",
            Licence::StoredValueFacility => "stored_value_facility",
            Licence::VirtualInsurer => "virtual_insurer",
            Licence::VirtualAssetPlatform => "virtual_asset_platform",
            Licence::GovernmentDepartment => "government_department",
            Licence::CommercialDataProvider => "commercial_data_provider",
        }
    }

    pub fn parse(text: &str) -> Option<Licence> {
        Licence::ALL.into_iter().find(|l| l.as_str() == text)
    }

    /// Whether an institution of this licence may provide the products of `system`: government
    /// data comes from government departments, account data from banks, commercial data from
    /// commercial data providers, payment providers and banks.
    pub const fn may_provide(self, system: System) -> bool {
        match system {
            System::Cdeg => matches!(self, Licence::GovernmentDepartment),
            System::Iads => matches!(self, Licence::Bank | Licence::DigitalBank),
            System::Cdi => matches!(
                self,
                Licence::CommercialDataProvider
                    | Licence::StoredValueFacility
                    | Licence::Bank
                    | Licence::DigitalBank
            ),
        }
    }

    /// Whether the licence is one the FPS admits as a participant.
    pub const fn may_have_fps_code(self) -> bool {
        matches!(
            self,
            Licence::Bank | Licence::DigitalBank | Licence::StoredValueFacility
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Active,
    Suspended,
}

impl Status {
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Suspended => "suspended",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        [Status::Active, Status::Suspended]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// A participant's id: 3–64 characters of `a-z`, `0-9` and `-`, starting and ending with a
/// letter or digit (`bank-004`, `companies-registry`). It appears in URLs and audit records.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ParticipantId(String);

impl ParticipantId {
    pub fn parse(text: &str) -> Option<ParticipantId> {
        let bytes = text.as_bytes();
        let edge_ok =
            |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        let ok = (ID_LEN_MIN..=ID_LEN_MAX).contains(&bytes.len())
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
            && edge_ok(bytes.first())
            && edge_ok(bytes.last());
        ok.then(|| ParticipantId(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ParticipantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A published public key. `verify_until_s` is set once a rotation has replaced it: until then
/// it still verifies, and it is still published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicKey {
    pub kid: String,
    pub jwk: Jwk,
    pub added_at_s: i64,
    pub verify_until_s: Option<i64>,
}

impl PublicKey {
    /// Whether the key verifies at `now_s`.
    pub fn verifies_at(&self, now_s: i64) -> bool {
        self.verify_until_s.is_none_or(|until| now_s < until)
    }
}

/// A registered participant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Participant {
    pub id: ParticipantId,
    pub name: Localized,
    pub roles: Roles,
    pub licence: Licence,
    /// The FPS participant code, for a bank or stored-value facility that is one.
    pub fps_code: Option<String>,
    pub status: Status,
    /// Current keys and replaced keys still in their grace period, oldest first.
    pub keys: Vec<PublicKey>,
    pub provides: Vec<ProductId>,
    pub created_at_s: i64,
    pub updated_at_s: i64,
}

impl Participant {
    /// The JWKS to publish at `now_s`: current keys and replaced keys still verifying.
    pub fn jwks(&self, now_s: i64) -> JwkSet {
        JwkSet {
            keys: self
                .keys
                .iter()
                .filter(|k| k.verifies_at(now_s))
                .map(|k| k.jwk.clone())
                .collect(),
        }
    }

    /// The key `kid` if it verifies at `now_s`.
    pub fn verification_key(&self, kid: &str, now_s: i64) -> Option<&Jwk> {
        self.keys
            .iter()
            .find(|k| k.kid == kid && k.verifies_at(now_s))
            .map(|k| &k.jwk)
    }

    pub fn provides(&self, product: ProductId) -> bool {
        self.provides.contains(&product)
    }
}

/// The names as submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NamesDraft {
    #[serde(default)]
    pub en: String,
    #[serde(default)]
    pub zh_hant: String,
    #[serde(default)]
    pub zh_hans: String,
}

/// A registration as submitted, unchecked. The JWKS is kept as JSON so each key can be
/// checked, and named, on its own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParticipantDraft {
    /// 3 to 64 characters: a-z, 0-9 and -, not at either end (`bank-004`).
    pub id: String,
    pub name: NamesDraft,
    /// `provider`, `consumer` or `both`.
    pub roles: String,
    /// `bank`, `digital_bank`, `stored_value_facility`, `virtual_insurer`,
    /// `virtual_asset_platform`, `government_department` or `commercial_data_provider`.
    pub licence: String,
    /// The FPS participant code (3 digits) of a bank or stored-value facility.
    #[serde(default)]
    pub fps_code: Option<String>,
    /// Its public keys: a JWKS of 1 to 8 ES256 P-256 keys, each with a `kid`.
    #[schema(value_type = Object)]
    pub jwks: serde_json::Value,
    #[serde(default)]
    pub provides: Vec<String>,
}

/// A validated registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewParticipant {
    pub id: ParticipantId,
    pub name: Localized,
    pub roles: Roles,
    pub licence: Licence,
    pub fps_code: Option<String>,
    pub keys: Vec<Jwk>,
    pub provides: Vec<ProductId>,
}

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("invalid participant: {0:?}")]
    Invalid(Vec<FieldError>),
    #[error("participant {0} is already registered")]
    Exists(String),
    #[error("no participant {0}")]
    NotFound(String),
    #[error("participant {0} is suspended")]
    Suspended(String),
    #[error("participant {id} is not registered as a data {role}")]
    WrongRole { id: String, role: &'static str },
    #[error("participant {id} has no current key {kid}")]
    UnknownKey { id: String, kid: String },
    #[error("no data product {0}")]
    ProductNotFound(String),
    #[error("a stored key cannot be used: {0}")]
    Key(#[from] JoseError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for DirectoryError {
    fn from(error: sqlx::Error) -> Self {
        DirectoryError::Store(StoreError::Sqlx(error))
    }
}

impl From<DirectoryError> for Problem {
    fn from(error: DirectoryError) -> Problem {
        match error {
            DirectoryError::Invalid(errors) => {
                let detail = errors
                    .iter()
                    .map(|e| format!("{}: {}", e.pointer, e.detail))
                    .collect::<Vec<_>>()
                    .join("; ");
                Problem::new(ErrorCode::ExchangeParticipantInvalid)
                    .detail(detail)
                    .errors(errors)
            }
            DirectoryError::Exists(id) => Problem::new(ErrorCode::ExchangeParticipantExists)
                .detail(format!("participant {id:?} is already registered")),
            DirectoryError::NotFound(id) => Problem::new(ErrorCode::ExchangeParticipantNotFound)
                .detail(format!("no participant {id:?}")),
            DirectoryError::Suspended(id) => Problem::new(ErrorCode::ExchangeParticipantSuspended)
                .detail(format!("participant {id:?} is suspended")),
            DirectoryError::WrongRole { id, role } => {
                Problem::new(ErrorCode::ExchangeParticipantRole)
                    .detail(format!("participant {id:?} is not a data {role}"))
            }
            DirectoryError::UnknownKey { id, kid } => {
                Problem::new(ErrorCode::ExchangeParticipantKeyUnknown)
                    .detail(format!("participant {id:?} has no current key {kid:?}"))
            }
            DirectoryError::ProductNotFound(id) => Problem::new(ErrorCode::ExchangeProductNotFound)
                .detail(format!("no data product {id:?}")),
            DirectoryError::Key(e) => Problem::internal(&e),
            DirectoryError::Store(e) => {
                tracing::error!(error = %e, "exchange directory store");
                Problem::new(ErrorCode::StoreUnavailable)
            }
        }
    }
}

fn no_control(text: &str) -> bool {
    !text.chars().any(char::is_control)
}

fn name(text: &str, pointer: &str, max: usize, errors: &mut Vec<FieldError>) -> String {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > max || !no_control(text) {
        errors.push(FieldError::new(
            pointer,
            format!("1 to {max} characters, no control characters"),
        ));
    }
    text.to_owned()
}

fn valid_kid(kid: &str) -> bool {
    (1..=KID_LEN_MAX).contains(&kid.len())
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// One JWK of a participant's set, checked: public, EC P-256, for ES256 signatures, with a kid.
fn check_key(value: &serde_json::Value, at: &str, errors: &mut Vec<FieldError>) -> Option<Jwk> {
    let jwk: Jwk = match serde_json::from_value(value.clone()) {
        Ok(jwk) => jwk,
        Err(e) => {
            errors.push(FieldError::new(at, format!("not a JWK: {e}")));
            return None;
        }
    };
    if jwk.has_private_parts() {
        let member = if value.get("d").is_some() { "d" } else { "k" };
        errors.push(FieldError::new(
            format!("{at}/{member}"),
            "private key material is refused: publish the public key only",
        ));
        return None;
    }
    let before = errors.len();
    if jwk.kty != "EC" || jwk.crv.as_deref() != Some("P-256") {
        errors.push(FieldError::new(
            format!("{at}/kty"),
            "keys must be EC on P-256 (kty EC, crv P-256)",
        ));
    }
    if jwk.alg.as_deref().is_some_and(|a| a != Alg::ES256.as_str()) {
        errors.push(FieldError::new(
            format!("{at}/alg"),
            "keys are for ES256 only",
        ));
    }
    if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
        errors.push(FieldError::new(
            format!("{at}/use"),
            "keys are for signatures (sig)",
        ));
    }
    if !jwk.kid.as_deref().is_some_and(valid_kid) {
        errors.push(FieldError::new(
            format!("{at}/kid"),
            format!("a key id of 1 to {KID_LEN_MAX} characters: letters, digits, - _ ."),
        ));
    }
    if errors.len() > before {
        return None;
    }
    if let Err(e) = jwk.to_key() {
        errors.push(FieldError::new(at, e.to_string()));
        return None;
    }
    Some(jwk)
}

/// A JWKS (`{"keys": [...]}`) of 1 to [`KEYS_MAX`] distinct, valid public keys.
pub fn check_jwks(value: &serde_json::Value, at: &str) -> Result<Vec<Jwk>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let Some(keys) = value.get("keys").and_then(|k| k.as_array()) else {
        return Err(vec![FieldError::new(
            at,
            "a JWK Set: an object with an array `keys`",
        )]);
    };
    if let Some(extra) = value
        .as_object()
        .and_then(|o| o.keys().find(|k| k.as_str() != "keys"))
    {
        errors.push(FieldError::new(
            format!("{at}/{extra}"),
            "a JWK Set has only `keys`",
        ));
    }
    if keys.is_empty() || keys.len() > KEYS_MAX {
        errors.push(FieldError::new(
            format!("{at}/keys"),
            format!("1 to {KEYS_MAX} keys"),
        ));
    }
    let mut out: Vec<Jwk> = Vec::new();
    let mut kids = BTreeSet::new();
    for (i, value) in keys.iter().take(KEYS_MAX).enumerate() {
        let key_at = format!("{at}/keys/{i}");
        if let Some(jwk) = check_key(value, &key_at, &mut errors) {
            if !kids.insert(jwk.kid.clone().unwrap_or_default()) {
                errors.push(FieldError::new(
                    format!("{key_at}/kid"),
                    "the set already has a key with this id",
                ));
            }
            out.push(jwk);
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn provided(
    texts: &[String],
    roles: Option<Roles>,
    licence: Option<Licence>,
    errors: &mut Vec<FieldError>,
) -> Vec<ProductId> {
    let mut out = Vec::new();
    if !texts.is_empty() && roles.is_some_and(|r| !r.allows(Role::Provider)) {
        errors.push(FieldError::new(
            "/provides",
            "only a data provider provides products",
        ));
    }
    for (i, text) in texts.iter().enumerate() {
        let Some(product) = ProductId::parse(text.trim()) else {
            errors.push(FieldError::new(
                format!("/provides/{i}"),
                "not a data product id",
            ));
            continue;
        };
        if licence.is_some_and(|l| !l.may_provide(product.system())) {
            errors.push(FieldError::new(
                format!("/provides/{i}"),
                format!(
                    "a {} cannot provide {} data",
                    licence.map(Licence::as_str).unwrap_or_default(),
                    product.system().as_str()
                ),
            ));
        }
        if !out.contains(&product) {
            out.push(product);
        }
    }
    out.sort();
    out
}

impl ParticipantDraft {
    /// Reads a registration from JSON bytes: a shape error names its field like `ApiJson` does,
    /// then [`ParticipantDraft::validate`] checks every field.
    pub fn from_json(bytes: &[u8]) -> Result<NewParticipant, DirectoryError> {
        let draft: ParticipantDraft = bauhinia_core::extract::parse_json(bytes).map_err(|p| {
            let errors = if p.errors.is_empty() {
                vec![FieldError::new("/", p.detail.unwrap_or_default())]
            } else {
                p.errors
            };
            DirectoryError::Invalid(errors)
        })?;
        draft.validate().map_err(DirectoryError::Invalid)
    }

    /// Checks every field, collecting every error.
    pub fn validate(&self) -> Result<NewParticipant, Vec<FieldError>> {
        let mut errors = Vec::new();
        let id = ParticipantId::parse(self.id.trim());
        if id.is_none() {
            errors.push(FieldError::new(
                "/id",
                format!(
                    "{ID_LEN_MIN} to {ID_LEN_MAX} characters: a-z, 0-9 and -, not at either end"
                ),
            ));
        }
        let name = Localized {
            en: name(&self.name.en, "/name/en", NAME_EN_LEN_MAX, &mut errors),
            zh_hant: name(
                &self.name.zh_hant,
                "/name/zh_hant",
                NAME_ZH_LEN_MAX,
                &mut errors,
            ),
            zh_hans: name(
                &self.name.zh_hans,
                "/name/zh_hans",
                NAME_ZH_LEN_MAX,
                &mut errors,
            ),
        };
        let roles = Roles::parse(self.roles.trim());
        if roles.is_none() {
            errors.push(FieldError::new("/roles", "provider, consumer or both"));
        }
        let licence = Licence::parse(self.licence.trim());
        if licence.is_none() {
            let all: Vec<&str> = Licence::ALL.iter().map(|l| l.as_str()).collect();
            errors.push(FieldError::new(
                "/licence",
                format!("one of {}", all.join(", ")),
            ));
        }
        let fps_code = self
            .fps_code
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        if let Some(code) = fps_code {
            if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
                errors.push(FieldError::new(
                    "/fps_code",
                    "an FPS participant code: 3 digits",
                ));
            } else if licence.is_some_and(|l| !l.may_have_fps_code()) {
                errors.push(FieldError::new(
                    "/fps_code",
                    "only banks and stored-value facilities are FPS participants",
                ));
            }
        }
        let keys = check_jwks(&self.jwks, "/jwks")
            .map_err(|e| errors.extend(e))
            .ok();
        let provides = provided(&self.provides, roles, licence, &mut errors);
        match (id, roles, licence, keys) {
            (Some(id), Some(roles), Some(licence), Some(keys)) if errors.is_empty() => {
                Ok(NewParticipant {
                    id,
                    name,
                    roles,
                    licence,
                    fps_code: fps_code.map(str::to_owned),
                    keys,
                    provides,
                })
            }
            _ => Err(errors),
        }
    }
}

/// Which participants a listing returns; `None` matches every value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParticipantFilter {
    pub role: Option<Role>,
    pub licence: Option<Licence>,
    pub status: Option<Status>,
}

/// The current time in Unix seconds.
pub fn now_s() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// How long a participant read for an authorisation is reused. A change made through this
/// process (registration, suspension, reactivation, new keys) takes effect at once; one made
/// by another node sharing the database, within this time.
pub const AUTHORISE_CACHE: std::time::Duration = std::time::Duration::from_secs(1);

/// A participant as read for authorisations, with its keys ready to verify with.
#[derive(Debug)]
pub struct Authorised {
    pub participant: Participant,
    keys: Vec<(String, PKey<Public>)>,
    read_at: std::time::Instant,
}

impl Authorised {
    /// The key `kid`, if it verifies at `now_s`.
    pub fn key(&self, kid: &str, now_s: i64) -> Option<PKey<Public>> {
        self.participant.verification_key(kid, now_s)?;
        self.keys
            .iter()
            .find(|(k, _)| k == kid)
            .map(|(_, key)| key.clone())
    }

    fn check(&self, role: Option<Role>) -> Result<(), DirectoryError> {
        let id = self.participant.id.as_str();
        if self.participant.status != Status::Active {
            return Err(DirectoryError::Suspended(id.to_owned()));
        }
        match role {
            Some(role) if !self.participant.roles.allows(role) => Err(DirectoryError::WrongRole {
                id: id.to_owned(),
                role: role.as_str(),
            }),
            _ => Ok(()),
        }
    }
}

impl std::ops::Deref for Authorised {
    type Target = Participant;
    fn deref(&self) -> &Participant {
        &self.participant
    }
}

/// The participants read for authorisations. `generation` counts local changes: a read that
/// began before one is not kept, so it cannot bring back what the change replaced.
#[derive(Debug, Default)]
struct AuthoriseCache {
    entries: std::collections::HashMap<String, std::sync::Arc<Authorised>>,
    generation: u64,
}

/// The directory's service API. Cheap to clone (clones share the authorisation cache).
#[derive(Debug, Clone)]
pub struct Directory {
    store: DirectoryStore,
    cache: std::sync::Arc<std::sync::Mutex<AuthoriseCache>>,
    /// Held while a participant is read for the cache: when an entry expires under load, the
    /// requests that find it stale wait for one read instead of each making its own.
    reading: std::sync::Arc<tokio::sync::Mutex<()>>,
    reads: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Directory {
    pub fn new(db: &Database) -> Directory {
        Directory {
            store: DirectoryStore::new(db),
            cache: std::sync::Arc::default(),
            reading: std::sync::Arc::default(),
            reads: std::sync::Arc::default(),
        }
    }

    fn forget(&self, id: &str) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.entries.remove(id);
            cache.generation = cache.generation.wrapping_add(1);
        }
    }

    fn cached(&self, id: &str) -> Option<std::sync::Arc<Authorised>> {
        self.cache
            .lock()
            .ok()?
            .entries
            .get(id)
            .filter(|a| a.read_at.elapsed() < AUTHORISE_CACHE)
            .cloned()
    }

    /// The participant `id` read afresh, with its keys parsed, and kept for [`AUTHORISE_CACHE`].
    async fn read_authorised(
        &self,
        id: &str,
    ) -> Result<std::sync::Arc<Authorised>, DirectoryError> {
        let generation = self.cache.lock().map(|c| c.generation).ok();
        let read_at = std::time::Instant::now();
        self.reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let participant = self.get(id).await?;
        let keys = participant
            .keys
            .iter()
            .filter_map(|k| Some((k.kid.clone(), k.jwk.to_key().ok()?)))
            .collect();
        let authorised = std::sync::Arc::new(Authorised {
            participant,
            keys,
            read_at,
        });
        if let Ok(mut cache) = self.cache.lock() {
            if Some(cache.generation) == generation {
                cache
                    .entries
                    .insert(id.to_owned(), std::sync::Arc::clone(&authorised));
            }
        }
        Ok(authorised)
    }

    /// How many times a participant was read for an authorisation (not served from the cache).
    pub fn authorisation_reads(&self) -> u64 {
        self.reads.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The participant, if it is active and registered for `role` (any role: `None`), with
    /// its keys parsed — read at most [`AUTHORISE_CACHE`] ago. What checking a signed request
    /// needs, on every request.
    pub async fn authorised(
        &self,
        id: &str,
        role: Option<Role>,
    ) -> Result<std::sync::Arc<Authorised>, DirectoryError> {
        let authorised = match self.cached(id) {
            Some(authorised) => authorised,
            None => {
                let _reading = self.reading.lock().await;
                // Another request may have read it while this one waited.
                match self.cached(id) {
                    Some(authorised) => authorised,
                    None => self.read_authorised(id).await?,
                }
            }
        };
        authorised.check(role)?;
        Ok(authorised)
    }

    pub fn store(&self) -> &DirectoryStore {
        &self.store
    }

    /// Registers a participant, with its keys and products, in one audited transaction.
    pub async fn register(
        &self,
        new: &NewParticipant,
        actor: &str,
    ) -> Result<Participant, DirectoryError> {
        self.store.insert(new, None, now_s(), actor).await?;
        self.forget(new.id.as_str());
        self.get(new.id.as_str()).await
    }

    pub async fn get(&self, id: &str) -> Result<Participant, DirectoryError> {
        self.store
            .get(id)
            .await?
            .ok_or_else(|| DirectoryError::NotFound(id.to_owned()))
    }

    /// Participants matching `filter`, by id, at most [`LIST_MAX`].
    pub async fn list(
        &self,
        filter: &ParticipantFilter,
    ) -> Result<Vec<Participant>, DirectoryError> {
        Ok(self.store.list(filter).await?)
    }

    /// Suspends a participant: from the next call on, [`Directory::authorise`] refuses it.
    /// Suspending a suspended participant changes nothing.
    pub async fn suspend(
        &self,
        id: &str,
        reason: &str,
        actor: &str,
    ) -> Result<Participant, DirectoryError> {
        let reason: String = reason
            .chars()
            .filter(|c| !c.is_control())
            .take(REASON_LEN_MAX)
            .collect();
        self.store
            .set_status(id, Status::Suspended, &reason, now_s(), actor)
            .await?;
        self.forget(id);
        self.get(id).await
    }

    pub async fn reactivate(&self, id: &str, actor: &str) -> Result<Participant, DirectoryError> {
        self.store
            .set_status(id, Status::Active, "", now_s(), actor)
            .await?;
        self.forget(id);
        self.get(id).await
    }

    /// Replaces a participant's keys with `jwks` (key rotation). A key the new set keeps is
    /// unchanged; a key it drops keeps verifying for `grace_s` (0 to [`KEY_GRACE_MAX_S`]) so
    /// requests signed just before the rotation still verify; a new key verifies at once.
    pub async fn replace_keys(
        &self,
        id: &str,
        jwks: &serde_json::Value,
        grace_s: i64,
        actor: &str,
    ) -> Result<Participant, DirectoryError> {
        let keys = check_jwks(jwks, "/jwks").map_err(DirectoryError::Invalid)?;
        if !(0..=KEY_GRACE_MAX_S).contains(&grace_s) {
            return Err(DirectoryError::Invalid(vec![FieldError::new(
                "/grace_s",
                format!("0 to {KEY_GRACE_MAX_S} seconds"),
            )]));
        }
        self.store
            .replace_keys(id, &keys, grace_s, now_s(), actor)
            .await?;
        self.forget(id);
        self.get(id).await
    }

    /// The participant, if it is active and registered for `role`; otherwise why not.
    pub async fn authorise(&self, id: &str, role: Role) -> Result<Participant, DirectoryError> {
        Ok(self.authorised(id, Some(role)).await?.participant.clone())
    }

    /// [`Directory::authorise`], then the participant's key `kid` that verifies now: what
    /// checking a participant's signed request or response needs.
    pub async fn verification_key(
        &self,
        id: &str,
        role: Role,
        kid: &str,
    ) -> Result<(Participant, PKey<Public>), DirectoryError> {
        let participant = self.authorise(id, role).await?;
        let jwk = participant.verification_key(kid, now_s()).ok_or_else(|| {
            DirectoryError::UnknownKey {
                id: id.to_owned(),
                kid: kid.to_owned(),
            }
        })?;
        let key = jwk.to_key()?;
        Ok((participant, key))
    }

    /// The public listing of data products, each with the ids of its active providers.
    pub async fn products(&self) -> Result<Vec<ListedProduct>, DirectoryError> {
        let links = self.store.active_providers().await?;
        Ok(ProductId::ALL
            .into_iter()
            .map(|id| ListedProduct {
                product: id.product(),
                providers: links
                    .iter()
                    .filter(|(p, _)| *p == id)
                    .map(|(_, who)| who.clone())
                    .collect(),
            })
            .collect())
    }

    /// One product by id, with its active providers.
    pub async fn product(&self, id: &str) -> Result<ListedProduct, DirectoryError> {
        let wanted =
            ProductId::parse(id).ok_or_else(|| DirectoryError::ProductNotFound(id.to_owned()))?;
        self.products()
            .await?
            .into_iter()
            .find(|p| p.product.id == wanted)
            .ok_or_else(|| DirectoryError::ProductNotFound(id.to_owned()))
    }
}
