//! The identity service: registers residents with the HKID hashed for lookup and sealed for
//! release, finds them by HKID, and releases an HKID. Every registration is audited in the same
//! transaction. The HKID never appears in a log, an error or an audit detail: only its mask.

use std::sync::Arc;

use bauhinia_core::crypto::Vault;
use bauhinia_core::{ErrorCode, FieldError, Problem};
use bauhinia_store::audit::{AuditEvent, Outcome};
use bauhinia_store::{Database, StoreError};
use time::Date;

use crate::domain::{Address, Gender, Hkid, NewResident, ResidentDraft};
use crate::store::{AnyIdentityStore, IdentityStore, ResidentRow};

/// The context every HKID hash and seal is bound to.
pub const HKID_CONTEXT: &str = "identity.hkid";

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("invalid registration")]
    Invalid(Vec<FieldError>),
    #[error("a resident with this HKID is already registered")]
    AlreadyRegistered,
    #[error("no resident has id {0:?}")]
    NotFound(String),
    #[error("stored resident {0} is corrupt: {1}")]
    Corrupt(String, String),
    #[error("could not seal the HKID of resident {0}: {1}")]
    Seal(String, String),
    #[error("invalid field")]
    Field(Vec<FieldError>),
    #[error("the HKID and enrolment code do not match a live enrolment code")]
    EnrolmentInvalid,
    #[error("the passkey could not be verified: {0}")]
    PasskeyInvalid(String),
    #[error("the passkey ceremony is unknown, finished or expired")]
    CeremonyExpired,
    #[error("locked until {0}")]
    Locked(time::OffsetDateTime),
    #[error("not signed in")]
    Unauthenticated,
    #[error("a resident must keep at least one passkey")]
    LastPasskey,
    #[error("the resident has no passkey {0:?}")]
    PasskeyNotFound(String),
    #[error("this passkey is already registered")]
    PasskeyExists,
    #[error("a resident may hold at most {0} passkeys")]
    TooManyPasskeys(usize),
    #[error("too many passkey ceremonies are in progress")]
    Busy,
    #[error("passkey configuration: {0}")]
    Config(String),
    #[error("the system random generator failed: {0}")]
    Random(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<IdentityError> for Problem {
    fn from(error: IdentityError) -> Problem {
        match error {
            IdentityError::Invalid(errors) => {
                Problem::new(ErrorCode::IdentityResidentInvalid).errors(errors)
            }
            IdentityError::AlreadyRegistered => Problem::new(ErrorCode::IdentityResidentExists),
            IdentityError::NotFound(id) => Problem::new(ErrorCode::IdentityResidentNotFound)
                .detail(format!("no resident {id:?}")),
            IdentityError::Field(errors) => {
                let detail = errors
                    .iter()
                    .map(|e| format!("{}: {}", e.pointer, e.detail))
                    .collect::<Vec<_>>()
                    .join("; ");
                Problem::new(ErrorCode::IdentityFieldInvalid)
                    .detail(detail)
                    .errors(errors)
            }
            IdentityError::EnrolmentInvalid => Problem::new(ErrorCode::IdentityEnrolmentInvalid),
            IdentityError::PasskeyInvalid(why) => {
                Problem::new(ErrorCode::IdentityPasskeyInvalid).detail(why)
            }
            IdentityError::CeremonyExpired => Problem::new(ErrorCode::IdentityCeremonyExpired),
            IdentityError::Locked(until) => Problem::new(ErrorCode::IdentityLocked)
                .detail(format!("locked until {} UTC", crate::clock::to_text(until))),
            IdentityError::Unauthenticated => Problem::new(ErrorCode::IdentityUnauthenticated),
            IdentityError::LastPasskey => Problem::new(ErrorCode::IdentityLastPasskey),
            IdentityError::PasskeyNotFound(id) => Problem::new(ErrorCode::IdentityPasskeyNotFound)
                .detail(format!("no passkey {id:?}")),
            IdentityError::PasskeyExists => Problem::new(ErrorCode::IdentityPasskeyExists),
            IdentityError::TooManyPasskeys(max) => Problem::new(ErrorCode::IdentityTooManyPasskeys)
                .detail(format!("at most {max} passkeys")),
            IdentityError::Busy => Problem::new(ErrorCode::IdentityBusy),
            other => Problem::internal(&other),
        }
    }
}

/// A resident as the rest of Bauhinia sees it: the HKID only as a mask.
#[derive(Debug, Clone, PartialEq)]
pub struct Resident {
    pub id: String,
    pub english_name: String,
    pub chinese_name: Option<String>,
    pub hkid_masked: String,
    pub date_of_birth: String,
    pub gender: String,
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub residential_address: Address,
    pub postal_address: Option<Address>,
}

#[derive(Debug, Clone)]
pub struct IdentityService {
    store: AnyIdentityStore,
    vault: Arc<Vault>,
}

/// The keyed lookup hash of an HKID: how residents are found by HKID, and how an anonymous
/// signing request names its signer.
pub fn hkid_lookup(vault: &Vault, hkid: &Hkid) -> [u8; 32] {
    vault.lookup_hash(HKID_CONTEXT, hkid.expose().as_bytes())
}

fn sealed_context(resident_id: &str) -> String {
    format!("{HKID_CONTEXT}/{resident_id}")
}

impl IdentityService {
    pub fn new(db: &Database, vault: Arc<Vault>) -> Self {
        IdentityService {
            store: AnyIdentityStore::new(db),
            vault,
        }
    }

    fn lookup(&self, hkid: &Hkid) -> Vec<u8> {
        hkid_lookup(&self.vault, hkid).to_vec()
    }

    /// Imports many residents at once (an operator's migration from another register): every
    /// draft is validated first, then all are written with one audit event, or none. Returns
    /// how many were imported.
    pub async fn import(
        &self,
        drafts: &[ResidentDraft],
        actor: &str,
        today: Date,
    ) -> Result<usize, IdentityError> {
        let mut rows = Vec::with_capacity(drafts.len());
        for (i, draft) in drafts.iter().enumerate() {
            let new = draft.validate(today).map_err(|errors| {
                IdentityError::Invalid(
                    errors
                        .into_iter()
                        .map(|e| FieldError::new(format!("/{i}/{}", e.field), e.message))
                        .collect(),
                )
            })?;
            let id = uuid::Uuid::new_v4().to_string();
            rows.push(self.to_row(&id, &new)?);
        }
        let event = AuditEvent {
            actor: actor.to_owned(),
            action: "identity.resident.import",
            subject: "residents".to_owned(),
            outcome: Outcome::Success,
            detail: serde_json::json!({ "count": rows.len() }),
            request_id: None,
        };
        match self.store.insert_residents(&rows, &event).await {
            Ok(()) => Ok(rows.len()),
            Err(StoreError::Conflict(_)) => Err(IdentityError::AlreadyRegistered),
            Err(e) => Err(e.into()),
        }
    }

    /// Registers a resident. `actor` is who registers (`system:demo`, `admin:<name>`, …).
    pub async fn register(
        &self,
        draft: &ResidentDraft,
        actor: &str,
        today: Date,
    ) -> Result<Resident, IdentityError> {
        let new = draft.validate(today).map_err(|errors| {
            IdentityError::Invalid(
                errors
                    .into_iter()
                    .map(|e| FieldError::new(format!("/{}", e.field), e.message))
                    .collect(),
            )
        })?;
        let id = uuid::Uuid::new_v4().to_string();
        let row = self.to_row(&id, &new)?;
        let event = AuditEvent {
            actor: actor.to_owned(),
            action: "identity.resident.register",
            subject: format!("resident:{id}"),
            outcome: Outcome::Success,
            detail: serde_json::json!({ "hkid": new.hkid.masked() }),
            request_id: None,
        };
        match self.store.insert_resident(&row, &event).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Err(IdentityError::AlreadyRegistered),
            Err(e) => return Err(e.into()),
        }
        tracing::info!(resident = %id, hkid = %new.hkid.masked(), "resident registered");
        to_resident(&row, new.hkid.masked())
    }

    fn to_row(&self, id: &str, new: &NewResident) -> Result<ResidentRow, IdentityError> {
        let json = |a: &Address| {
            serde_json::to_string(&a.lines)
                .map_err(|e| IdentityError::Corrupt(id.to_owned(), e.to_string()))
        };
        Ok(ResidentRow {
            id: id.to_owned(),
            hkid_lookup: self.lookup(&new.hkid),
            hkid_sealed: self
                .vault
                .seal(&sealed_context(id), new.hkid.expose().as_bytes())
                .map_err(|e| IdentityError::Seal(id.to_owned(), e.to_string()))?,
            english_name: new.english_name.clone(),
            chinese_name: new.chinese_name.clone(),
            date_of_birth: new.date_of_birth.to_string(),
            gender: new.gender.as_str().to_owned(),
            mobile: new.mobile.as_ref().map(|m| m.as_str().to_owned()),
            email: new.email.as_ref().map(|e| e.as_str().to_owned()),
            residential_address: json(&new.residential_address)?,
            postal_address: new.postal_address.as_ref().map(json).transpose()?,
        })
    }

    pub async fn find_by_hkid(&self, hkid: &Hkid) -> Result<Option<Resident>, IdentityError> {
        match self.store.resident_by_lookup(&self.lookup(hkid)).await? {
            Some(row) => to_resident(&row, hkid.masked()).map(Some),
            None => Ok(None),
        }
    }

    pub async fn resident(&self, id: &str) -> Result<Resident, IdentityError> {
        let row = self
            .store
            .resident(id)
            .await?
            .ok_or_else(|| IdentityError::NotFound(id.to_owned()))?;
        let hkid = self.open_hkid(&row)?;
        to_resident(&row, hkid.masked())
    }

    /// The full HKID, for a release the resident has approved. The caller audits the release.
    pub async fn release_hkid(&self, id: &str) -> Result<Hkid, IdentityError> {
        let row = self
            .store
            .resident(id)
            .await?
            .ok_or_else(|| IdentityError::NotFound(id.to_owned()))?;
        self.open_hkid(&row)
    }

    fn open_hkid(&self, row: &ResidentRow) -> Result<Hkid, IdentityError> {
        let corrupt = |why: String| IdentityError::Corrupt(row.id.clone(), why);
        let bytes = self
            .vault
            .open(&sealed_context(&row.id), &row.hkid_sealed)
            .map_err(|e| corrupt(e.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|e| corrupt(e.to_string()))?;
        Hkid::parse(&text).map_err(|e| corrupt(e.to_string()))
    }

    pub async fn count(&self) -> Result<i64, IdentityError> {
        Ok(self.store.count_residents().await?)
    }
}

fn to_resident(row: &ResidentRow, hkid_masked: String) -> Result<Resident, IdentityError> {
    let corrupt = |why: String| IdentityError::Corrupt(row.id.clone(), why);
    let address =
        |json: &str| serde_json::from_str::<Vec<String>>(json).map(|lines| Address { lines });
    let gender =
        Gender::parse(&row.gender).ok_or_else(|| corrupt(format!("gender {:?}", row.gender)))?;
    Ok(Resident {
        id: row.id.clone(),
        english_name: row.english_name.clone(),
        chinese_name: row.chinese_name.clone(),
        hkid_masked,
        date_of_birth: row.date_of_birth.clone(),
        gender: gender.as_str().to_owned(),
        mobile: row.mobile.clone(),
        email: row.email.clone(),
        residential_address: address(&row.residential_address)
            .map_err(|e| corrupt(e.to_string()))?,
        postal_address: row
            .postal_address
            .as_deref()
            .map(address)
            .transpose()
            .map_err(|e| corrupt(e.to_string()))?,
    })
}
