//! Who is calling: every request from a participant names it (`x-participant-id`) and carries
//! a detached JWS over its body (`x-jws-signature`, [`crate::crypto::jws`]) made with one of
//! the participant's registered keys. The participant must be active and registered for the
//! role the endpoint needs. Replay (`jti` seen before) is checked by the caller in the
//! transaction that does the work, so a request is recorded exactly when its effects are.

use axum::http::HeaderMap;
use bauhinia_core::{ErrorCode, Problem};

use crate::crypto::jws::{self, Binding, JwsError, Verified};
use crate::directory::{Authorised, Directory, DirectoryError, Role};

/// The header naming the calling participant.
pub const PARTICIPANT_HEADER: &str = "x-participant-id";

/// A caller whose signature verified.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The participant as authorised (with `Deref` to it).
    pub participant: std::sync::Arc<Authorised>,
    pub verified: Verified,
}

/// Why a request was not authenticated.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the request names no participant (header x-participant-id)")]
    MissingParticipant,
    #[error("the request has no detached signature (header x-jws-signature)")]
    MissingSignature,
    #[error("no participant {0:?} is registered")]
    UnknownParticipant(String),
    #[error(transparent)]
    Directory(DirectoryError),
    #[error(transparent)]
    Signature(#[from] JwsError),
}

impl AuthError {
    /// The stable reason recorded in the audit.
    pub fn reason(&self) -> &'static str {
        match self {
            AuthError::MissingParticipant => "participant_missing",
            AuthError::MissingSignature => "signature_missing",
            AuthError::UnknownParticipant(_) => "participant_unknown",
            AuthError::Directory(DirectoryError::Suspended(_)) => "participant_suspended",
            AuthError::Directory(DirectoryError::WrongRole { .. }) => "participant_role",
            AuthError::Directory(_) => "directory",
            AuthError::Signature(e) => match e {
                JwsError::Malformed(_) => "signature_malformed",
                JwsError::BadAlgorithm(_) => "signature_algorithm",
                JwsError::UnknownKey(_) => "signature_unknown_key",
                JwsError::BadSignature => "signature_invalid",
                JwsError::Stale { .. } => "request_stale",
                JwsError::BindingMismatch(_) => "signature_binding",
                JwsError::Sign(_) => "signature_internal",
            },
        }
    }

    pub fn problem(&self) -> Problem {
        match self {
            AuthError::MissingParticipant => Problem::new(ErrorCode::ExchangeSignatureMissing)
                .detail("name the calling participant in the x-participant-id header"),
            AuthError::MissingSignature => Problem::new(ErrorCode::ExchangeSignatureMissing),
            // An unregistered participant has no registered key: the signature cannot be
            // checked, and the answer does not say whether the id exists.
            AuthError::UnknownParticipant(_) => {
                Problem::new(ErrorCode::ExchangeSignatureUnknownKey)
                    .detail("no key is registered for this participant and key id")
            }
            AuthError::Directory(DirectoryError::Suspended(id)) => {
                Problem::new(ErrorCode::ExchangeParticipantSuspended)
                    .detail(format!("participant {id:?} is suspended"))
            }
            AuthError::Directory(DirectoryError::WrongRole { id, role }) => {
                Problem::new(ErrorCode::ExchangeParticipantRole)
                    .detail(format!("participant {id:?} is not a data {role}"))
            }
            AuthError::Directory(e) => Problem::internal(e),
            AuthError::Signature(e) => Problem::new(e.code()).detail(e.to_string()),
        }
    }
}

/// The claimed participant id, if the header is present and readable.
pub fn claimed_participant(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(PARTICIPANT_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= crate::directory::ID_LEN_MAX)
}

/// Authenticates a request: the named participant, active and registered for `role` (any role
/// when `None`), signed `body` for `method` and `path` with one of its current keys, within
/// the clock skew.
pub async fn authenticate(
    directory: &Directory,
    role: Option<Role>,
    method: &str,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
    now_s: i64,
) -> Result<Caller, AuthError> {
    let id = claimed_participant(headers).ok_or(AuthError::MissingParticipant)?;
    let signature = headers
        .get(jws::HEADER_NAME)
        .and_then(|v| v.to_str().ok())
        .ok_or(AuthError::MissingSignature)?;
    let authorised = match directory.authorised(id, role).await {
        Ok(authorised) => authorised,
        Err(DirectoryError::NotFound(id)) => return Err(AuthError::UnknownParticipant(id)),
        Err(e) => return Err(AuthError::Directory(e)),
    };
    let verified = jws::verify_detached(
        signature,
        body,
        &Binding::request(method, path),
        |kid| authorised.key(kid, now_s),
        now_s,
    )?;
    Ok(Caller {
        participant: std::sync::Arc::clone(&authorised),
        verified,
    })
}
