//! The signing service: keeps the certificate authority, enrols residents' signing keys, takes
//! document-hash signing requests from services, and signs when the resident approves.
//! Verification, for anyone, is in `verify.rs`.
//!
//! Every change (CA creation, enrolment, request, approval, rejection, cancellation, expiry) is
//! audited in the transaction that makes it; a refused approval by someone who is not the signer
//! is audited as a failure. Private keys are opened from their sealed form only to sign, and
//! never logged; an HKID appears nowhere (anonymous requests hold its keyed lookup hash).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use bauhinia_core::crypto::Vault;
use bauhinia_core::{ErrorCode, FieldError, Problem};
use bauhinia_store::audit::{AuditEvent, Outcome};
use bauhinia_store::{Database, StoreError};
use openssl::error::ErrorStack;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::{X509Ref, X509};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::ca::{self, SignerSubject};
use super::format::{self, FormatError, Payload};
use super::store::{AnySigningStore, AuthorityRow, Decision, KeyRow, RequestRow, SigningStore};
use crate::clock::Clock;
use crate::domain::signing::{
    check_client_id, to_hex, DocumentHash, DocumentName, RequestStatus, SigningFieldError,
    REQUEST_LIFETIME_S,
};
use crate::domain::Hkid;
use crate::store::{AnyIdentityStore, IdentityStore, ResidentRow};

/// Sealing context prefix of the CA's private keys: `signing.ca/<id>`.
pub const CA_KEY_CONTEXT: &str = "signing.ca";
/// Sealing context prefix of residents' private keys: `signing.key/<id>`.
pub const SIGNING_KEY_CONTEXT: &str = "signing.key";
/// Lookup-hash context of signer ids.
const SIGNER_CONTEXT: &str = "signing.signer";
/// Lookup-hash context prefix of the `hkid_hash` of anonymous signatures: `signing.hkid/<client>`.
const HKID_HASH_CONTEXT: &str = "signing.hkid";
/// How far in the future a `signed_at` may be before verification distrusts it (clock skew).
pub const SIGNED_AT_SKEW_S: i64 = 5 * 60;
/// A signer id is the first 16 bytes of a keyed hash of the resident id, in hexadecimal.
const SIGNER_ID_BYTES: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("invalid signing request")]
    Invalid(Vec<FieldError>),
    #[error("no resident has id {0:?}")]
    ResidentNotFound(String),
    #[error("no signing request {0:?} is open to this party")]
    RequestNotFound(String),
    #[error("the signing request is {}", .0.as_str())]
    NotPending(RequestStatus),
    #[error("the signing request expired")]
    Expired,
    #[error("the resident has no valid signing certificate")]
    NotEnrolled,
    #[error("not a Bauhinia signature: {0}")]
    Malformed(#[from] FormatError),
    #[error("cryptography failed: {0}")]
    Crypto(#[from] ErrorStack),
    #[error("a key could not be sealed or opened: {0}")]
    Vault(String),
    #[error("stored signing data is corrupt: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<SigningError> for Problem {
    fn from(error: SigningError) -> Problem {
        match error {
            SigningError::Invalid(errors) => {
                Problem::new(ErrorCode::SigningRequestInvalid).errors(errors)
            }
            SigningError::ResidentNotFound(id) => Problem::new(ErrorCode::IdentityResidentNotFound)
                .detail(format!("no resident {id:?}")),
            SigningError::RequestNotFound(_) => Problem::new(ErrorCode::SigningRequestNotFound),
            SigningError::NotPending(status) => Problem::new(ErrorCode::SigningRequestNotPending)
                .detail(format!("the request is {}", status.as_str())),
            SigningError::Expired => Problem::new(ErrorCode::SigningRequestExpired),
            SigningError::NotEnrolled => Problem::new(ErrorCode::SigningNotEnrolled),
            SigningError::Malformed(e) => Problem::new(ErrorCode::SigningSignatureMalformed)
                .detail(e.to_string())
                .errors(vec![FieldError::new("/signature", e.to_string())]),
            other => Problem::internal(&other),
        }
    }
}

fn field_errors(errors: Vec<SigningFieldError>) -> SigningError {
    SigningError::Invalid(
        errors
            .into_iter()
            .map(|e| FieldError::new(format!("/{}", e.field), e.message))
            .collect(),
    )
}

/// Whom a signing request is for.
#[derive(Clone, PartialEq, Eq)]
pub enum SigningTarget {
    /// A resident the service knows (from sign-in).
    Resident(String),
    /// Anonymous signing: whoever holds this HKID, identified by its keyed lookup hash (the
    /// value [`crate::service::hkid_lookup`] computes), so that only that person can approve.
    Anonymous { hkid_lookup: [u8; 32] },
}

impl fmt::Debug for SigningTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SigningTarget::Resident(id) => f.debug_tuple("Resident").field(id).finish(),
            SigningTarget::Anonymous { .. } => f.write_str("Anonymous(***)"),
        }
    }
}

impl SigningTarget {
    /// The anonymous target for `hkid`.
    pub fn anonymous(vault: &Vault, hkid: &Hkid) -> SigningTarget {
        SigningTarget::Anonymous {
            hkid_lookup: crate::service::hkid_lookup(vault, hkid),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    Active,
    Revoked,
}

/// A resident's signing certificate, as shown to the resident and to services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningCertificate {
    pub key_id: String,
    pub resident_id: String,
    /// Upper-case hexadecimal.
    pub serial: String,
    /// RFC 4514: `serialNumber=…,CN=…,C=HK`.
    pub subject: String,
    pub signer_id: String,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub status: KeyStatus,
    pub revoked_at: Option<OffsetDateTime>,
    pub certificate_pem: String,
}

/// A signing request as its service and its resident see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningRequest {
    pub id: String,
    pub client_id: String,
    /// The resident it names; `None` for an anonymous request.
    pub resident_id: Option<String>,
    pub anonymous: bool,
    pub document_name: String,
    pub document_hash: DocumentHash,
    /// As of the moment it was read (a pending request past its time reads as expired).
    pub status: RequestStatus,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub decided_at: Option<OffsetDateTime>,
    /// The compact JWS, once approved.
    pub signature: Option<String>,
}

/// The CA as held in memory: certificates, and the issuing key still sealed.
pub(super) struct Authority {
    pub(super) root: X509,
    issuing: X509,
    issuing_id: String,
    issuing_key_sealed: Vec<u8>,
    chain_pem: String,
}

#[derive(Clone)]
pub struct SigningService {
    db: Database,
    pub(super) store: AnySigningStore,
    residents: AnyIdentityStore,
    vault: Arc<Vault>,
    clock: Clock,
    authority: Arc<OnceLock<Arc<Authority>>>,
    /// Counts this process's revocations of residents' certificates (see
    /// [`SigningService::revocation_epoch`]); shared by clones.
    revocations: Arc<AtomicU64>,
}

impl fmt::Debug for SigningService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningService")
            .field("store", &self.store)
            .field("ca_loaded", &self.authority.get().is_some())
            .finish_non_exhaustive()
    }
}

fn key_context(key_id: &str) -> String {
    format!("{SIGNING_KEY_CONTEXT}/{key_id}")
}

fn ca_context(id: &str) -> String {
    format!("{CA_KEY_CONTEXT}/{id}")
}

pub(super) fn datetime(unix_s: i64) -> Result<OffsetDateTime, SigningError> {
    OffsetDateTime::from_unix_timestamp(unix_s)
        .map_err(|e| SigningError::Corrupt(format!("time {unix_s}: {e}")))
}

fn pem(certificate: &X509Ref) -> Result<String, SigningError> {
    String::from_utf8(certificate.to_pem()?).map_err(|e| SigningError::Corrupt(format!("PEM: {e}")))
}

impl SigningService {
    /// The target of an anonymous request: whoever holds this HKID.
    pub fn anonymous_target(&self, hkid: &Hkid) -> SigningTarget {
        SigningTarget::anonymous(&self.vault, hkid)
    }

    pub fn new(db: &Database, vault: Arc<Vault>) -> Self {
        SigningService {
            db: db.clone(),
            store: AnySigningStore::new(db),
            residents: AnyIdentityStore::new(db),
            vault,
            clock: Clock::system(),
            authority: Arc::new(OnceLock::new()),
            revocations: Arc::new(AtomicU64::new(0)),
        }
    }

    /// A number that grows whenever this process revokes a resident's certificate (after the
    /// revocation commits): whoever remembers revocation states may keep them only while it
    /// stays the same.
    pub fn revocation_epoch(&self) -> u64 {
        self.revocations.load(Ordering::Acquire)
    }

    /// The same service reading time from `clock` (tests move time with [`Clock::manual`]).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub(super) fn now_s(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }

    fn seal(&self, context: &str, plaintext: &[u8]) -> Result<Vec<u8>, SigningError> {
        self.vault
            .seal(context, plaintext)
            .map_err(|e| SigningError::Vault(format!("{context}: {e}")))
    }

    fn open_key(&self, context: &str, sealed: &[u8]) -> Result<PKey<Private>, SigningError> {
        let der = Zeroizing::new(
            self.vault
                .open(context, sealed)
                .map_err(|e| SigningError::Vault(format!("{context}: {e}")))?,
        );
        Ok(PKey::private_key_from_pkcs8(&der)?)
    }

    fn sealed_key(&self, context: &str, key: &PKey<Private>) -> Result<Vec<u8>, SigningError> {
        let der = Zeroizing::new(key.private_key_to_pkcs8()?);
        self.seal(context, &der)
    }

    /// The signer id of a resident: opaque, stable across re-enrolment, not the HKID and not the
    /// resident id.
    pub fn signer_id(&self, resident_id: &str) -> String {
        let hash = self
            .vault
            .lookup_hash(SIGNER_CONTEXT, resident_id.as_bytes());
        to_hex(hash.get(..SIGNER_ID_BYTES).unwrap_or(&hash))
    }

    /// Loads the certificate authority, creating it on the first start (a root CA and an
    /// issuing CA signed by it). Idempotent; concurrent first starts end with one CA. Fails if
    /// the CA's keys do not open with this master key.
    pub async fn ensure_ca(&self) -> Result<(), SigningError> {
        self.authority().await.map(drop)
    }

    pub(super) async fn authority(&self) -> Result<Arc<Authority>, SigningError> {
        if let Some(authority) = self.authority.get() {
            return Ok(Arc::clone(authority));
        }
        let mut rows = self.store.authorities().await?;
        if rows.is_empty() {
            match self.create_authority().await {
                Ok(()) | Err(SigningError::Store(StoreError::Conflict(_))) => {}
                Err(e) => return Err(e),
            }
            rows = self.store.authorities().await?;
        }
        let authority = Arc::new(self.load_authority(&rows)?);
        Ok(Arc::clone(self.authority.get_or_init(|| authority)))
    }

    async fn create_authority(&self) -> Result<(), SigningError> {
        let now_s = self.now_s();
        let (root, root_key) = ca::new_root(now_s)?;
        let (issuing, issuing_key) = ca::new_issuing(&root, &root_key, now_s)?;
        let row = |role: &str, certificate: &X509, key: &PKey<Private>| {
            let id = uuid::Uuid::new_v4().to_string();
            Ok::<_, SigningError>(AuthorityRow {
                private_key_sealed: self.sealed_key(&ca_context(&id), key)?,
                id,
                role: role.to_owned(),
                certificate_der: certificate.to_der()?,
                created_at_s: now_s,
            })
        };
        let root_row = row("root", &root, &root_key)?;
        let issuing_row = row("issuing", &issuing, &issuing_key)?;
        let event = AuditEvent {
            actor: "system".into(),
            action: "signing.ca.create",
            subject: format!("signing_ca:{}", issuing_row.id),
            outcome: Outcome::Success,
            detail: serde_json::json!({
                "root": { "id": root_row.id, "serial": ca::serial_hex(&root)? },
                "issuing": { "id": issuing_row.id, "serial": ca::serial_hex(&issuing)? },
            }),
            request_id: None,
        };
        self.store
            .insert_authorities(&root_row, &issuing_row, &event)
            .await?;
        tracing::info!(root = %root_row.id, issuing = %issuing_row.id, "signing certificate authority created");
        Ok(())
    }

    fn load_authority(&self, rows: &[AuthorityRow]) -> Result<Authority, SigningError> {
        let find = |role: &str| {
            rows.iter()
                .find(|row| row.role == role)
                .ok_or_else(|| SigningError::Corrupt(format!("no {role} CA is stored")))
        };
        let (root_row, issuing_row) = (find("root")?, find("issuing")?);
        let root = X509::from_der(&root_row.certificate_der)?;
        let issuing = X509::from_der(&issuing_row.certificate_der)?;
        // The keys must open with this master key, and match their certificates: a wrong key
        // file is found at start-up, not at the first enrolment.
        for (row, certificate) in [(root_row, &root), (issuing_row, &issuing)] {
            let key = self.open_key(&ca_context(&row.id), &row.private_key_sealed)?;
            if !certificate.public_key()?.public_eq(&key) {
                return Err(SigningError::Corrupt(format!(
                    "the {} CA key does not match its certificate",
                    row.role
                )));
            }
        }
        if let Err(e) = ca::verify_chain(&root, &[], &issuing)? {
            return Err(SigningError::Corrupt(format!(
                "the issuing CA does not chain to the root: {e}"
            )));
        }
        let chain_pem = format!("{}{}", pem(&issuing)?, pem(&root)?);
        Ok(Authority {
            root,
            issuing,
            issuing_id: issuing_row.id.clone(),
            issuing_key_sealed: issuing_row.private_key_sealed.clone(),
            chain_pem,
        })
    }

    /// The issuing CA and the root CA certificates, PEM, in that order: what a verifier needs
    /// besides the signature (the root is the trust anchor).
    pub async fn ca_chain_pem(&self) -> Result<String, SigningError> {
        Ok(self.authority().await?.chain_pem.clone())
    }

    /// The root CA certificate, PEM.
    pub async fn root_pem(&self) -> Result<String, SigningError> {
        pem(&self.authority().await?.root)
    }

    async fn resident_row(&self, resident_id: &str) -> Result<ResidentRow, SigningError> {
        self.residents
            .resident(resident_id)
            .await?
            .ok_or_else(|| SigningError::ResidentNotFound(resident_id.to_owned()))
    }

    /// Generates a signing key for the resident and a certificate from the issuing CA; a
    /// previous key, if any, is revoked in the same transaction. `actor` is who asked
    /// (`resident:<id>` from the app, `system:demo`, …).
    pub async fn enrol(
        &self,
        resident_id: &str,
        actor: &str,
    ) -> Result<SigningCertificate, SigningError> {
        self.enrol_at(resident_id, actor, self.now_s()).await
    }

    /// [`Self::enrol`] with the certificate valid from `now_s`: a caller that signs at a time
    /// it has already read enrols at that time, so the certificate covers it.
    pub async fn enrol_at(
        &self,
        resident_id: &str,
        actor: &str,
        now_s: i64,
    ) -> Result<SigningCertificate, SigningError> {
        let authority = self.authority().await?;
        let resident = self.resident_row(resident_id).await?;
        let issuing_key = self.open_key(
            &ca_context(&authority.issuing_id),
            &authority.issuing_key_sealed,
        )?;
        let key = ca::new_key()?;
        let public = PKey::public_key_from_der(&key.public_key_to_der()?)?;
        let subject = SignerSubject {
            english_name: resident.english_name.clone(),
            signer_id: self.signer_id(resident_id),
        };
        let certificate = ca::issue_signing_certificate(
            &authority.issuing,
            &issuing_key,
            &subject,
            &public,
            now_s,
        )?;
        let id = uuid::Uuid::new_v4().to_string();
        let row = KeyRow {
            private_key_sealed: self.sealed_key(&key_context(&id), &key)?,
            id,
            resident_id: resident_id.to_owned(),
            serial: ca::serial_hex(&certificate)?,
            certificate_der: certificate.to_der()?,
            status: "active".into(),
            not_before_s: ca::unix_time(certificate.not_before())?,
            not_after_s: ca::unix_time(certificate.not_after())?,
            created_at_s: now_s,
            revoked_at_s: None,
        };
        let event = AuditEvent {
            actor: actor.to_owned(),
            action: "signing.key.enrol",
            subject: format!("resident:{resident_id}"),
            outcome: Outcome::Success,
            detail: serde_json::json!({
                "key_id": row.id,
                "serial": row.serial,
                "not_after_s": row.not_after_s,
            }),
            request_id: None,
        };
        let revoked = self.store.enrol(&row, now_s, &event).await?;
        if !revoked.is_empty() {
            self.revocations.fetch_add(1, Ordering::AcqRel);
        }
        tracing::info!(resident = %resident_id, key = %row.id, serial = %row.serial, revoked = revoked.len(), "signing key enrolled");
        self.certificate(&row)
    }

    fn certificate(&self, row: &KeyRow) -> Result<SigningCertificate, SigningError> {
        let certificate = X509::from_der(&row.certificate_der)?;
        Ok(SigningCertificate {
            key_id: row.id.clone(),
            resident_id: row.resident_id.clone(),
            serial: row.serial.clone(),
            subject: ca::name_text(certificate.subject_name()),
            signer_id: ca::name_entry(certificate.subject_name(), Nid::SERIALNUMBER)
                .unwrap_or_default(),
            not_before: datetime(row.not_before_s)?,
            not_after: datetime(row.not_after_s)?,
            status: match row.status.as_str() {
                "active" => KeyStatus::Active,
                "revoked" => KeyStatus::Revoked,
                other => return Err(SigningError::Corrupt(format!("key status {other:?}"))),
            },
            revoked_at: row.revoked_at_s.map(datetime).transpose()?,
            certificate_pem: pem(&certificate)?,
        })
    }

    /// The resident's active signing certificate, if enrolled.
    pub async fn certificate_for(
        &self,
        resident_id: &str,
    ) -> Result<Option<SigningCertificate>, SigningError> {
        self.store
            .active_key(resident_id)
            .await?
            .map(|row| self.certificate(&row))
            .transpose()
    }

    /// A service asks for a signature on a document hash. Every field is checked and every
    /// failure named; the request then waits [`REQUEST_LIFETIME_S`] for the resident.
    pub async fn create_request(
        &self,
        client_id: &str,
        target: SigningTarget,
        document_name: &str,
        document_hash: &[u8],
    ) -> Result<SigningRequest, SigningError> {
        let name = DocumentName::parse(document_name);
        let hash = DocumentHash::from_bytes(document_hash);
        let errors: Vec<SigningFieldError> = [
            check_client_id(client_id).err(),
            name.clone().err(),
            hash.clone().err(),
        ]
        .into_iter()
        .flatten()
        .collect();
        let (Ok(name), Ok(hash), true) = (name, hash, errors.is_empty()) else {
            return Err(field_errors(errors));
        };
        let (resident_id, hkid_lookup) = match target {
            SigningTarget::Resident(id) => {
                self.resident_row(&id).await?;
                (Some(id), None)
            }
            SigningTarget::Anonymous { hkid_lookup } => (None, Some(hkid_lookup.to_vec())),
        };
        let now_s = self.now_s();
        let row = RequestRow {
            id: uuid::Uuid::new_v4().to_string(),
            client_id: client_id.to_owned(),
            resident_id,
            hkid_lookup,
            document_name: name.as_str().to_owned(),
            document_hash: hash.as_bytes().to_vec(),
            status: RequestStatus::Pending.as_str().to_owned(),
            created_at_s: now_s,
            expires_at_s: now_s + REQUEST_LIFETIME_S,
            decided_at_s: None,
            decided_by: None,
            signing_key_id: None,
            signature: None,
        };
        let event = AuditEvent {
            actor: format!("service:{client_id}"),
            action: "signing.request.create",
            subject: format!("signing_request:{}", row.id),
            outcome: Outcome::Success,
            detail: serde_json::json!({
                "client_id": client_id,
                "resident_id": row.resident_id,
                "anonymous": row.hkid_lookup.is_some(),
                "document_name": row.document_name,
                "document_hash": hash.to_hex(),
            }),
            request_id: None,
        };
        self.store.insert_request(&row, &event).await?;
        self.view(&row, now_s)
    }

    fn view(&self, row: &RequestRow, now_s: i64) -> Result<SigningRequest, SigningError> {
        let corrupt = |why: &str| SigningError::Corrupt(format!("request {}: {why}", row.id));
        let status = RequestStatus::parse(&row.status).ok_or_else(|| corrupt("status"))?;
        Ok(SigningRequest {
            id: row.id.clone(),
            client_id: row.client_id.clone(),
            resident_id: row.resident_id.clone(),
            anonymous: row.hkid_lookup.is_some(),
            document_name: row.document_name.clone(),
            document_hash: DocumentHash::from_bytes(&row.document_hash)
                .map_err(|_| corrupt("document hash"))?,
            status: status.at(row.expires_at_s, now_s),
            created_at: datetime(row.created_at_s)?,
            expires_at: datetime(row.expires_at_s)?,
            decided_at: row.decided_at_s.map(datetime).transpose()?,
            signature: row.signature.clone(),
        })
    }

    /// The request, for the service that made it (anyone else: not found).
    pub async fn get(
        &self,
        request_id: &str,
        client_id: &str,
    ) -> Result<SigningRequest, SigningError> {
        match self.store.request(request_id).await? {
            Some(row) if row.client_id == client_id => self.view(&row, self.now_s()),
            _ => Err(SigningError::RequestNotFound(request_id.to_owned())),
        }
    }

    /// Requests waiting for this resident's decision (named, or anonymous for their HKID).
    pub async fn pending_for(
        &self,
        resident_id: &str,
    ) -> Result<Vec<SigningRequest>, SigningError> {
        let resident = self.resident_row(resident_id).await?;
        let now_s = self.now_s();
        self.store
            .pending_for(resident_id, &resident.hkid_lookup, now_s)
            .await?
            .iter()
            .map(|row| self.view(row, now_s))
            .collect()
    }

    /// The pending request `request_id` if `resident` is its signer. A request for someone
    /// else is "not found" (and the attempt audited), so its existence is not revealed.
    async fn request_for_signer(
        &self,
        request_id: &str,
        resident: &ResidentRow,
        action: &'static str,
        now_s: i64,
    ) -> Result<RequestRow, SigningError> {
        let not_found = || SigningError::RequestNotFound(request_id.to_owned());
        let row = self
            .store
            .request(request_id)
            .await?
            .ok_or_else(not_found)?;
        let is_signer = match (&row.resident_id, &row.hkid_lookup) {
            (Some(id), _) => *id == resident.id,
            (None, Some(lookup)) => {
                lookup.len() == resident.hkid_lookup.len()
                    && openssl::memcmp::eq(lookup, &resident.hkid_lookup)
            }
            (None, None) => false,
        };
        if !is_signer {
            self.db
                .append_audit(&AuditEvent {
                    actor: format!("resident:{}", resident.id),
                    action,
                    subject: format!("signing_request:{request_id}"),
                    outcome: Outcome::Failure,
                    detail: serde_json::json!({ "reason": "not_the_signer" }),
                    request_id: None,
                })
                .await?;
            return Err(not_found());
        }
        let stored = RequestStatus::parse(&row.status)
            .ok_or_else(|| SigningError::Corrupt(format!("request {request_id}: status")))?;
        match stored.at(row.expires_at_s, now_s) {
            RequestStatus::Pending => Ok(row),
            RequestStatus::Expired => {
                self.expire(&row, now_s).await?;
                Err(SigningError::Expired)
            }
            other => Err(SigningError::NotPending(other)),
        }
    }

    /// Records that a pending request ran out of time (if no one has yet).
    async fn expire(&self, row: &RequestRow, now_s: i64) -> Result<(), SigningError> {
        let event = AuditEvent {
            actor: "system".into(),
            action: "signing.request.expire",
            subject: format!("signing_request:{}", row.id),
            outcome: Outcome::Success,
            detail: serde_json::json!({ "expires_at_s": row.expires_at_s }),
            request_id: None,
        };
        self.store
            .decide(&row.id, &Decision::Expire, now_s, &event)
            .await?;
        Ok(())
    }

    /// Why a conditional update changed nothing: someone decided first, or time ran out.
    async fn lost_race(&self, request_id: &str, now_s: i64) -> SigningError {
        match self.store.request(request_id).await {
            Ok(Some(row)) => {
                match RequestStatus::parse(&row.status).map(|s| s.at(row.expires_at_s, now_s)) {
                    Some(RequestStatus::Expired) => SigningError::Expired,
                    // Still pending and unexpired: the approval's key was revoked meanwhile.
                    Some(RequestStatus::Pending) => SigningError::NotEnrolled,
                    Some(status) => SigningError::NotPending(status),
                    None => SigningError::Corrupt(format!("request {request_id}: status")),
                }
            }
            Ok(None) => SigningError::RequestNotFound(request_id.to_owned()),
            Err(e) => e.into(),
        }
    }

    /// What the resident signs for `row` at `now_s`.
    fn payload(
        &self,
        row: &RequestRow,
        resident_id: &str,
        now_s: i64,
    ) -> Result<Payload, SigningError> {
        let hash = DocumentHash::from_bytes(&row.document_hash)
            .map_err(|_| SigningError::Corrupt(format!("request {}: document hash", row.id)))?;
        Ok(Payload {
            hash_alg: format::HASH_ALG.into(),
            document_hash: hash.to_hex(),
            document_name: row.document_name.clone(),
            signed_at: now_s,
            request_id: row.id.clone(),
            signer: self.signer_id(resident_id),
            // Keyed per service: a service can recognise the same HKID across its own
            // anonymous requests, services cannot correlate theirs, and no one without the
            // master key can test an HKID against it (the HKID space is small enough to
            // enumerate, so an unkeyed hash would be the HKID in all but name).
            hkid_hash: row.hkid_lookup.as_ref().map(|lookup| {
                let context = format!("{HKID_HASH_CONTEXT}/{}", row.client_id);
                URL_SAFE_NO_PAD.encode(self.vault.lookup_hash(&context, lookup))
            }),
        })
    }

    /// The resident approves in the app: the document hash is signed with their active key and
    /// the request becomes approved, once. Returns the request with its signature.
    pub async fn approve(
        &self,
        request_id: &str,
        resident_id: &str,
    ) -> Result<SigningRequest, SigningError> {
        const ACTION: &str = "signing.request.approve";
        let authority = self.authority().await?;
        let resident = self.resident_row(resident_id).await?;
        let now_s = self.now_s();
        let mut row = self
            .request_for_signer(request_id, &resident, ACTION, now_s)
            .await?;
        let key_row = self
            .store
            .active_key(resident_id)
            .await?
            .filter(|key| key.not_before_s <= now_s && now_s <= key.not_after_s)
            .ok_or(SigningError::NotEnrolled)?;
        let payload = self.payload(&row, resident_id, now_s)?;
        let key = self.open_key(&key_context(&key_row.id), &key_row.private_key_sealed)?;
        let leaf = X509::from_der(&key_row.certificate_der)?;
        let signature = format::sign(&[&leaf, &authority.issuing], &payload, &key)
            .map_err(|e| SigningError::Corrupt(format!("signing: {e}")))?;
        let event = AuditEvent {
            actor: format!("resident:{resident_id}"),
            action: ACTION,
            subject: format!("signing_request:{request_id}"),
            outcome: Outcome::Success,
            detail: serde_json::json!({
                "client_id": row.client_id,
                "key_id": key_row.id,
                "serial": key_row.serial,
                "document_hash": payload.document_hash,
                "signed_at": now_s,
            }),
            request_id: None,
        };
        let decision = Decision::Approve {
            resident_id,
            key_id: &key_row.id,
            signature: &signature,
        };
        if !self
            .store
            .decide(request_id, &decision, now_s, &event)
            .await?
        {
            return Err(self.lost_race(request_id, now_s).await);
        }
        tracing::info!(request = %request_id, resident = %resident_id, serial = %key_row.serial, "document signed");
        row.status = RequestStatus::Approved.as_str().into();
        row.decided_at_s = Some(now_s);
        row.decided_by = Some(resident_id.to_owned());
        row.signing_key_id = Some(key_row.id);
        row.signature = Some(signature);
        self.view(&row, now_s)
    }

    /// The resident declines in the app.
    pub async fn reject(
        &self,
        request_id: &str,
        resident_id: &str,
    ) -> Result<SigningRequest, SigningError> {
        const ACTION: &str = "signing.request.reject";
        let resident = self.resident_row(resident_id).await?;
        let now_s = self.now_s();
        let mut row = self
            .request_for_signer(request_id, &resident, ACTION, now_s)
            .await?;
        let event = AuditEvent {
            actor: format!("resident:{resident_id}"),
            action: ACTION,
            subject: format!("signing_request:{request_id}"),
            outcome: Outcome::Success,
            detail: serde_json::json!({ "client_id": row.client_id }),
            request_id: None,
        };
        let decision = Decision::Reject { resident_id };
        if !self
            .store
            .decide(request_id, &decision, now_s, &event)
            .await?
        {
            return Err(self.lost_race(request_id, now_s).await);
        }
        row.status = RequestStatus::Rejected.as_str().into();
        row.decided_at_s = Some(now_s);
        row.decided_by = Some(resident_id.to_owned());
        self.view(&row, now_s)
    }

    /// The service withdraws its pending, unexpired request.
    pub async fn cancel(
        &self,
        request_id: &str,
        client_id: &str,
    ) -> Result<SigningRequest, SigningError> {
        let now_s = self.now_s();
        let mut row = match self.store.request(request_id).await? {
            Some(row) if row.client_id == client_id => row,
            _ => return Err(SigningError::RequestNotFound(request_id.to_owned())),
        };
        let event = AuditEvent {
            actor: format!("service:{client_id}"),
            action: "signing.request.cancel",
            subject: format!("signing_request:{request_id}"),
            outcome: Outcome::Success,
            detail: serde_json::json!({}),
            request_id: None,
        };
        if !self
            .store
            .decide(request_id, &Decision::Cancel, now_s, &event)
            .await?
        {
            return Err(self.lost_race(request_id, now_s).await);
        }
        row.status = RequestStatus::Cancelled.as_str().into();
        row.decided_at_s = Some(now_s);
        self.view(&row, now_s)
    }
}

/// The installation's CA certificates, for a verifier in another crate.
#[derive(Debug, Clone)]
pub struct CaCertificates {
    /// The trust anchor.
    pub root: X509,
    pub issuing: X509,
}

/// A resident's ES256 signature over bytes another crate's format chose.
#[derive(Debug, Clone)]
pub struct ResidentSignature {
    /// `r ‖ s`, 64 bytes.
    pub signature: Vec<u8>,
    /// The resident's certificate that verifies it.
    pub certificate: X509,
    pub key_id: String,
    pub serial: String,
}

/// A certificate this installation issued to a resident, and when it was revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCertificate {
    pub certificate_der: Vec<u8>,
    pub revoked_at_s: Option<i64>,
}

/// Seams for other crates' signatures (CorpID's company signatures): they reuse this CA and
/// residents' keys without this crate knowing their formats or their rules. Every caller
/// audits what it does with them in its own transaction.
impl SigningService {
    /// The root and issuing CA certificates.
    pub async fn ca_certificates(&self) -> Result<CaCertificates, SigningError> {
        let authority = self.authority().await?;
        Ok(CaCertificates {
            root: authority.root.clone(),
            issuing: authority.issuing.clone(),
        })
    }

    /// A certificate for an organisation's key, issued by the issuing CA, valid from `now_s`. The caller keeps
    /// the key (sealed) and the certificate, and answers for revoking it.
    pub async fn issue_organisation_certificate(
        &self,
        subject: &ca::OrganisationSubject,
        public_key: &openssl::pkey::PKeyRef<openssl::pkey::Public>,
        now_s: i64,
    ) -> Result<X509, SigningError> {
        let authority = self.authority().await?;
        let issuing_key = self.open_key(
            &ca_context(&authority.issuing_id),
            &authority.issuing_key_sealed,
        )?;
        Ok(ca::issue_organisation_certificate(
            &authority.issuing,
            &issuing_key,
            subject,
            public_key,
            now_s,
        )?)
    }

    /// An ES256 signature by the issuing CA over `input` (signed status answers: a verifier
    /// checks them with the issuing CA's certificate, which chains to the root).
    pub async fn sign_with_issuing_ca(&self, input: &[u8]) -> Result<Vec<u8>, SigningError> {
        let authority = self.authority().await?;
        let issuing_key = self.open_key(
            &ca_context(&authority.issuing_id),
            &authority.issuing_key_sealed,
        )?;
        crate::jose::sign_raw(crate::jose::Alg::ES256, &issuing_key, input)
            .map_err(|e| SigningError::Corrupt(format!("signing: {e}")))
    }

    /// The resident's ES256 signature over `input` with their active key, which must be valid
    /// at `at_s`; [`SigningError::NotEnrolled`] otherwise. The caller has had the resident's
    /// approval for exactly this input.
    pub async fn sign_as_resident(
        &self,
        resident_id: &str,
        input: &[u8],
        at_s: i64,
    ) -> Result<ResidentSignature, SigningError> {
        let key_row = self
            .store
            .active_key(resident_id)
            .await?
            .filter(|key| key.not_before_s <= at_s && at_s <= key.not_after_s)
            .ok_or(SigningError::NotEnrolled)?;
        let key = self.open_key(&key_context(&key_row.id), &key_row.private_key_sealed)?;
        let signature = crate::jose::sign_raw(crate::jose::Alg::ES256, &key, input)
            .map_err(|e| SigningError::Corrupt(format!("signing: {e}")))?;
        Ok(ResidentSignature {
            signature,
            certificate: X509::from_der(&key_row.certificate_der)?,
            key_id: key_row.id,
            serial: key_row.serial,
        })
    }

    /// The resident certificate with this serial (upper-case hexadecimal), if this
    /// installation issued it.
    pub async fn issued_certificate(
        &self,
        serial: &str,
    ) -> Result<Option<IssuedCertificate>, SigningError> {
        Ok(self
            .store
            .key_by_serial(serial)
            .await?
            .map(|row| IssuedCertificate {
                certificate_der: row.certificate_der,
                revoked_at_s: row.revoked_at_s,
            }))
    }
}
