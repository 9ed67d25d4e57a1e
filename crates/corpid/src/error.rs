//! One error enum for the crate, and its problem+json form (codes `corpid.*` in core's table).

use bauhinia_core::{ErrorCode, FieldError, Problem};
use bauhinia_store::StoreError;

use crate::domain::signing::ApprovalRefusal;
use crate::domain::{AccessRefusal, FieldFault};

#[derive(Debug, thiserror::Error)]
pub enum CorpIdError {
    #[error("invalid request")]
    Invalid(Vec<FieldFault>),
    #[error("no business has this BRN (or the caller may not see it)")]
    BusinessNotFound,
    #[error("a business with this BRN is already registered")]
    BusinessExists,
    #[error("the business is {0}; this status change is not allowed from there")]
    BusinessState(String),
    #[error(transparent)]
    Access(#[from] AccessRefusal),
    #[error("no resident is registered with this HKID or id")]
    ResidentNotFound,
    #[error("no delegation with this id concerns the business")]
    DelegationNotFound,
    #[error("a delegation between these businesses is already in force or due")]
    DelegationExists,
    #[error("the delegation is already revoked or has ended")]
    DelegationState,
    #[error("the business keeps no licence with this id")]
    LicenceNotFound,
    #[error("the business already keeps a licence with this issuer and number")]
    LicenceExists,
    #[error("the business keeps the most licences allowed")]
    LicenceLimit,
    #[error("import stopped after {committed} businesses were committed: {source}")]
    Import {
        committed: usize,
        source: Box<CorpIdError>,
    },
    #[error("invalid company signing request")]
    SigningInvalid(Vec<FieldFault>),
    #[error("no company signing request with this id is open to the caller")]
    SigningRequestNotFound,
    #[error("the company signing request is {0}")]
    SigningRequestNotPending(String),
    #[error("the company signing request expired")]
    SigningRequestExpired,
    #[error("approval refused: {0}")]
    Approval(ApprovalRefusal),
    #[error("not a Bauhinia company signature: {0}")]
    SignatureMalformed(bauhinia_identity::signing::format::FormatError),
    #[error("signing: {0}")]
    Signing(#[from] bauhinia_identity::signing::SigningError),
    #[error("cryptography failed: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),
    #[error("stored record is corrupt: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for CorpIdError {
    fn from(error: sqlx::Error) -> CorpIdError {
        CorpIdError::Store(StoreError::Sqlx(error))
    }
}

impl CorpIdError {
    /// A single field at fault.
    pub fn field(field: &str, message: impl Into<String>) -> CorpIdError {
        CorpIdError::Invalid(vec![FieldFault::new(field, message)])
    }
}

impl From<CorpIdError> for Problem {
    fn from(error: CorpIdError) -> Problem {
        match error {
            CorpIdError::Invalid(faults) => Problem::new(ErrorCode::CorpidInvalid).errors(
                faults
                    .into_iter()
                    .map(|f| FieldError::new(f.field, f.message))
                    .collect(),
            ),
            CorpIdError::BusinessNotFound => Problem::new(ErrorCode::CorpidBusinessNotFound),
            CorpIdError::BusinessExists => Problem::new(ErrorCode::CorpidBusinessExists),
            CorpIdError::BusinessState(status) => Problem::new(ErrorCode::CorpidBusinessState)
                .detail(format!("the business is {status}")),
            CorpIdError::Access(refusal) => Problem::new(match refusal {
                AccessRefusal::NotAdministrator => ErrorCode::CorpidNotAdministrator,
                AccessRefusal::RoleExists => ErrorCode::CorpidRoleExists,
                AccessRefusal::NotRepresentative => ErrorCode::CorpidRepresentativeNotFound,
                AccessRefusal::LastAdministrator => ErrorCode::CorpidLastAdministrator,
                // A business that is not active is not visible to its representatives.
                AccessRefusal::NotActive => ErrorCode::CorpidBusinessNotFound,
            }),
            CorpIdError::ResidentNotFound => Problem::new(ErrorCode::CorpidResidentNotFound),
            CorpIdError::DelegationNotFound => Problem::new(ErrorCode::CorpidDelegationNotFound),
            CorpIdError::DelegationExists => Problem::new(ErrorCode::CorpidDelegationExists),
            CorpIdError::DelegationState => Problem::new(ErrorCode::CorpidDelegationState),
            CorpIdError::LicenceNotFound => Problem::new(ErrorCode::CorpidLicenceNotFound),
            CorpIdError::LicenceExists => Problem::new(ErrorCode::CorpidLicenceExists),
            CorpIdError::LicenceLimit => Problem::new(ErrorCode::CorpidLicenceLimit),
            CorpIdError::SigningInvalid(faults) => {
                Problem::new(ErrorCode::CorpidSigningRequestInvalid).errors(
                    faults
                        .into_iter()
                        .map(|f| FieldError::new(f.field, f.message))
                        .collect(),
                )
            }
            CorpIdError::SigningRequestNotFound => {
                Problem::new(ErrorCode::CorpidSigningRequestNotFound)
            }
            CorpIdError::SigningRequestNotPending(status) => {
                Problem::new(ErrorCode::CorpidSigningRequestNotPending)
                    .detail(format!("the request is {status}"))
            }
            CorpIdError::SigningRequestExpired => {
                Problem::new(ErrorCode::CorpidSigningRequestExpired)
            }
            CorpIdError::Approval(refusal) => Problem::new(match refusal {
                ApprovalRefusal::RoleInsufficient => ErrorCode::CorpidSigningRoleInsufficient,
                ApprovalRefusal::NotRepresentative => ErrorCode::CorpidSigningNotRepresentative,
                ApprovalRefusal::DelegationEnded => ErrorCode::CorpidSigningDelegationEnded,
                ApprovalRefusal::AlreadyApproved => ErrorCode::CorpidSigningAlreadyApproved,
                ApprovalRefusal::BusinessInactive => ErrorCode::CorpidSigningBusinessInactive,
            }),
            CorpIdError::SignatureMalformed(e) => Problem::new(ErrorCode::CorpidSignatureMalformed)
                .detail(e.to_string())
                .errors(vec![FieldError::new("/signature", e.to_string())]),
            CorpIdError::Signing(e) => Problem::from(e),
            CorpIdError::Store(StoreError::Sqlx(
                sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_),
            )) => {
                tracing::warn!("the corporate directory's database is unavailable");
                Problem::new(ErrorCode::StoreUnavailable)
            }
            other => Problem::internal(&other),
        }
    }
}
