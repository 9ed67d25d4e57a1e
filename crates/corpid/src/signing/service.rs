//! [`CompanySigning`]: companies' keys and certificates, signing requests addressed to a
//! business, its signatories' approvals, and the signature once enough have approved. Keys are
//! made on first need and sealed by the vault; a re-key, a suspension or a dissolution revokes
//! the previous certificate. Every approval re-checks, at that moment, that the approver
//! represents the business as administrator or authorised signatory (directly or through a
//! delegation in force); a refusal is audited and leaves nothing written, so a signature exists
//! only for approvals that passed.

use std::sync::Arc;

use bauhinia_core::crypto::Vault;
use bauhinia_identity::domain::signing::{
    check_client_id, DocumentHash, DocumentName, RequestStatus,
};
use bauhinia_identity::signing::ca::{self, OrganisationSubject};
use bauhinia_identity::signing::format::HASH_ALG;
use bauhinia_identity::signing::SigningService;
use bauhinia_identity::store::{AnyIdentityStore, IdentityStore};
use bauhinia_store::audit::{AuditEvent, Outcome};
use bauhinia_store::{read, Database, StoreError};
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use zeroize::Zeroizing;

use super::format::{ApprovalClaim, BusinessClaim, Payload, SignerKind, Unsigned};
use super::store::{ApprovalRow, Ending, KeyRow, RequestRow, SigningStore};
use super::verify::ChainCache;
use crate::domain::signing::{check_approver, ApprovalRefusal, SigningKind, REQUEST_LIFETIME_S};
use crate::domain::{is_opaque_id, Brn, FieldFault, Role, SignatoriesRequired, Status};
use crate::error::CorpIdError;
use crate::service::{Business, CorpIdService};
use crate::store::{BusinessRow, Caller, BUSINESS_COLUMNS};

/// Sealing context prefix of companies' private keys: `corpid.key/<id>`.
pub const COMPANY_KEY_CONTEXT: &str = "corpid.key";

/// A company signing request as its service and its signatories see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyRequest {
    pub id: String,
    pub client_id: String,
    pub business: BusinessClaim,
    pub kind: SigningKind,
    pub document_name: String,
    pub document_hash: DocumentHash,
    pub approvals_required: u8,
    /// The residents who have approved, in order (shown to signatories, never to services).
    pub approved_by: Vec<String>,
    /// As of the moment it was read.
    pub status: RequestStatus,
    pub created_at_s: i64,
    pub expires_at_s: i64,
    /// When it was signed, rejected, cancelled or recorded as expired.
    pub decided_at_s: Option<i64>,
    /// The resident who gave the last approval or rejected it (none for a service's
    /// cancellation or an expiry).
    pub decided_by: Option<String>,
    /// The signature, once enough signatories approved.
    pub signature: Option<String>,
}

/// What a requester asks to have signed, as sent: every field is checked by the service.
#[derive(Debug, Clone, Copy)]
pub struct RequestDraft<'a> {
    pub brn: &'a str,
    /// `personal`, `corporate` or `integrated`.
    pub kind: &'a str,
    pub document_name: &'a str,
    /// The document's SHA-256, 32 bytes.
    pub document_hash: &'a [u8],
}

/// Most requests a business's signing history lists.
pub const HISTORY_MAX: i64 = 50;

/// How a resident may sign for a business now.
struct Standing {
    role: Role,
    agent_brn: Option<String>,
    delegation_id: Option<String>,
}

/// A company's signing certificate, as its administrators and the operator see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyCertificate {
    pub key_id: String,
    pub serial: String,
    pub subject: String,
    pub not_before_s: i64,
    pub not_after_s: i64,
    pub certificate_pem: String,
}

#[derive(Clone)]
pub struct CompanySigning {
    pub(super) store: SigningStore,
    pub(super) directory: CorpIdService,
    pub(super) signing: Arc<SigningService>,
    residents: AnyIdentityStore,
    vault: Arc<Vault>,
    pub(super) chains: Arc<ChainCache>,
}

impl std::fmt::Debug for CompanySigning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompanySigning").finish_non_exhaustive()
    }
}

fn key_context(key_id: &str) -> String {
    format!("{COMPANY_KEY_CONTEXT}/{key_id}")
}

fn corrupt(what: impl std::fmt::Display) -> CorpIdError {
    CorpIdError::Corrupt(what.to_string())
}

fn claim(business: &Business) -> BusinessClaim {
    BusinessClaim {
        brn: business.brn.as_str().to_owned(),
        name_en: business.name_en.clone(),
        name_zh: business.name_zh.clone(),
    }
}

impl CompanySigning {
    pub fn new(
        db: &Database,
        directory: CorpIdService,
        signing: Arc<SigningService>,
        vault: Arc<Vault>,
    ) -> CompanySigning {
        CompanySigning {
            store: SigningStore::new(db),
            directory,
            signing,
            residents: AnyIdentityStore::new(db),
            vault,
            chains: Arc::new(ChainCache::default()),
        }
    }

    fn db(&self) -> &Database {
        self.store.database()
    }

    pub(super) async fn business_by_id(&self, id: &str) -> Result<Business, CorpIdError> {
        let sql = format!("SELECT {BUSINESS_COLUMNS} FROM corpid_businesses WHERE id = $1");
        let row: Option<BusinessRow> =
            read!(self.db(), conn => sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?);
        row.ok_or_else(|| corrupt(format!("business {id} is gone")))
            .and_then(Business::try_from)
    }

    fn open_key(&self, row: &KeyRow) -> Result<PKey<Private>, CorpIdError> {
        let context = key_context(&row.id);
        let der = Zeroizing::new(
            self.vault
                .open(&context, &row.private_key_sealed)
                .map_err(|e| corrupt(format!("{context}: {e}")))?,
        );
        Ok(PKey::private_key_from_pkcs8(&der)?)
    }

    /// The business's active company key valid at `now`, made now if it has none (its first
    /// signature, or the first after a re-key or a reactivation).
    async fn company_key(&self, business: &Business, now: i64) -> Result<KeyRow, CorpIdError> {
        if let Some(key) = self.store.active_key(&business.id).await? {
            if key.not_before_s <= now && now <= key.not_after_s {
                return Ok(key);
            }
        }
        let actor = Caller::Operator("system".into());
        match self.new_key(business, true, &actor, now).await {
            Ok(key) => Ok(key),
            // Another approval made it at the same moment: use theirs.
            Err(CorpIdError::Store(StoreError::Conflict(_))) => self
                .store
                .active_key(&business.id)
                .await?
                .ok_or_else(|| corrupt("no company key after a conflict")),
            Err(e) => Err(e),
        }
    }

    async fn new_key(
        &self,
        business: &Business,
        replace: bool,
        caller: &Caller,
        now: i64,
    ) -> Result<KeyRow, CorpIdError> {
        let key = ca::new_key()?;
        let public = PKey::public_key_from_der(&key.public_key_to_der()?)?;
        let subject = OrganisationSubject {
            name_en: business.name_en.clone(),
            brn: business.brn.as_str().to_owned(),
        };
        let certificate = self
            .signing
            .issue_organisation_certificate(&subject, &public, now)
            .await?;
        let id = uuid::Uuid::new_v4().to_string();
        let der = Zeroizing::new(key.private_key_to_pkcs8()?);
        let row = KeyRow {
            private_key_sealed: self
                .vault
                .seal(&key_context(&id), &der)
                .map_err(|e| corrupt(format!("sealing the company key: {e}")))?,
            business_id: business.id.clone(),
            serial: ca::serial_hex(&certificate)?,
            certificate_der: certificate.to_der()?,
            status: "active".into(),
            not_before_s: ca::unix_time(certificate.not_before())?,
            not_after_s: ca::unix_time(certificate.not_after())?,
            created_at_s: now,
            revoked_at_s: None,
            revocation_reason: None,
            id,
        };
        let event = AuditEvent {
            actor: caller.actor(),
            action: "corpid.signing_key.issue",
            subject: format!("business:{}", business.id),
            outcome: Outcome::Success,
            detail: serde_json::json!({
                "key_id": row.id, "serial": row.serial, "brn": business.brn.as_str(),
                "not_after_s": row.not_after_s,
            }),
            request_id: None,
        };
        self.store.insert_key(&row, replace, now, &event).await?;
        if replace {
            self.directory.note_revocation();
        }
        tracing::info!(business = %business.id, serial = %row.serial, "company signing key issued");
        Ok(row)
    }

    /// Replaces the business's company key (revoking the previous certificate, reason
    /// `superseded`). Its administrators or the operator only; the business must be active.
    pub async fn rekey(
        &self,
        brn: &Brn,
        caller: &Caller,
        now: i64,
    ) -> Result<CompanyCertificate, CorpIdError> {
        let business = match caller {
            Caller::Operator(_) => self.directory.business(brn).await?,
            Caller::Resident(resident) => {
                let (business, representation) = self.directory.visible(resident, brn, now).await?;
                if representation.role != Role::Administrator.as_str()
                    || representation.via_agent_brn.is_some()
                {
                    return Err(crate::domain::AccessRefusal::NotAdministrator.into());
                }
                business
            }
        };
        if business.status != Status::Active {
            return Err(CorpIdError::Approval(ApprovalRefusal::BusinessInactive));
        }
        let row = self.new_key(&business, true, caller, now).await?;
        certificate_view(&row)
    }

    /// The business's active company certificate, if it has one.
    pub async fn certificate(&self, brn: &Brn) -> Result<Option<CompanyCertificate>, CorpIdError> {
        let business = self.directory.business(brn).await?;
        self.store
            .active_key(&business.id)
            .await?
            .map(|row| certificate_view(&row))
            .transpose()
    }

    /// A service asks a business for a signature. Every field is checked and every failure
    /// named; the request then waits [`REQUEST_LIFETIME_S`] for its signatories.
    pub async fn create_request(
        &self,
        client_id: &str,
        brn: &str,
        kind: &str,
        document_name: &str,
        document_hash: &[u8],
        now: i64,
    ) -> Result<CompanyRequest, CorpIdError> {
        let draft = RequestDraft {
            brn,
            kind,
            document_name,
            document_hash,
        };
        self.create(&format!("service:{client_id}"), client_id, draft, now)
            .await
    }

    /// A representative asks for a signature of their own business through one of the
    /// installation's own services (`client_id`: the business portal). Only a representative
    /// who could approve it may ask, as of `now`; a refusal is audited (outcome failure) and
    /// nothing is written. The request is then like a service's, recorded as the resident's.
    pub async fn create_request_as(
        &self,
        resident: &str,
        client_id: &str,
        draft: RequestDraft<'_>,
        now: i64,
    ) -> Result<CompanyRequest, CorpIdError> {
        const ACTION: &str = "corpid.signing.request.create";
        let brn = Brn::parse(draft.brn).map_err(|e| {
            CorpIdError::SigningInvalid(vec![FieldFault::new("/brn", e.to_string())])
        })?;
        let business = self.directory.business(&brn).await?;
        if !is_opaque_id(resident) {
            return Err(CorpIdError::Approval(ApprovalRefusal::NotRepresentative));
        }
        match self.signatory(&business, resident, now).await {
            Ok(_) => {}
            Err(CorpIdError::Approval(refusal)) => {
                let event = AuditEvent {
                    actor: format!("resident:{resident}"),
                    action: ACTION,
                    subject: format!("business:{}", business.id),
                    outcome: Outcome::Failure,
                    detail: serde_json::json!({ "reason": refusal.reason(), "client_id": client_id }),
                    request_id: None,
                };
                self.db().append_audit(&event).await?;
                tracing::info!(business = %business.id, reason = refusal.reason(), "company signing request refused");
                return Err(CorpIdError::Approval(refusal));
            }
            Err(e) => return Err(e),
        }
        self.create(&format!("resident:{resident}"), client_id, draft, now)
            .await
    }

    /// Checks `draft` and records the request and its audit event (by `actor`) at once.
    async fn create(
        &self,
        actor: &str,
        client_id: &str,
        draft: RequestDraft<'_>,
        now: i64,
    ) -> Result<CompanyRequest, CorpIdError> {
        let mut faults = Vec::new();
        let brn =
            Brn::parse(draft.brn).map_err(|e| faults.push(FieldFault::new("/brn", e.to_string())));
        let kind = SigningKind::parse(draft.kind).ok_or_else(|| {
            faults.push(FieldFault::new(
                "/type",
                "personal, corporate or integrated",
            ));
        });
        let name = DocumentName::parse(draft.document_name)
            .map_err(|e| faults.push(FieldFault::new("/document_name", e.message)));
        let hash = DocumentHash::from_bytes(draft.document_hash)
            .map_err(|e| faults.push(FieldFault::new("/document_hash", e.message)));
        if let Err(e) = check_client_id(client_id) {
            faults.push(FieldFault::new("/client_id", e.message));
        }
        let (Ok(brn), Ok(kind), Ok(name), Ok(hash), true) =
            (brn, kind, name, hash, faults.is_empty())
        else {
            return Err(CorpIdError::SigningInvalid(faults));
        };
        let business = self.directory.business(&brn).await?;
        if business.status != Status::Active {
            return Err(CorpIdError::Approval(ApprovalRefusal::BusinessInactive));
        }
        let policy = SignatoriesRequired::new(i64::from(business.signatories_required))
            .ok_or_else(|| corrupt("signing policy"))?;
        let row = RequestRow {
            // Version 7: ordered by creation within the process (and by the millisecond
            // across processes), so a business's history lists two requests of one second
            // in the order they were made.
            id: uuid::Uuid::now_v7().to_string(),
            client_id: client_id.to_owned(),
            business_id: business.id.clone(),
            kind: kind.as_str().to_owned(),
            document_name: name.as_str().to_owned(),
            document_hash: hash.as_bytes().to_vec(),
            approvals_required: i64::from(kind.approvals_required(policy)),
            status: RequestStatus::Pending.as_str().to_owned(),
            created_at_s: now,
            expires_at_s: now + REQUEST_LIFETIME_S,
            decided_at_s: None,
            decided_by: None,
            company_key_id: None,
            signature: None,
        };
        let event = AuditEvent {
            actor: actor.to_owned(),
            action: "corpid.signing.request.create",
            subject: format!("corpid_signing_request:{}", row.id),
            outcome: Outcome::Success,
            detail: serde_json::json!({
                "business": business.id, "brn": business.brn.as_str(), "type": row.kind,
                "document_name": row.document_name, "document_hash": hash.to_hex(),
                "approvals_required": row.approvals_required, "client_id": client_id,
            }),
            request_id: None,
        };
        self.store.insert_request(&row, &event).await?;
        self.view(&row, &business, Vec::new(), now)
    }

    /// The business's signing requests, newest first (at most [`HISTORY_MAX`]), for a resident
    /// who represents it now in any role; anyone else: [`CorpIdError::BusinessNotFound`].
    pub async fn history(
        &self,
        resident: &str,
        brn: &Brn,
        now: i64,
    ) -> Result<Vec<CompanyRequest>, CorpIdError> {
        let (business, _) = self.directory.visible(resident, brn, now).await?;
        let rows = self
            .store
            .requests_of_business(&business.id, HISTORY_MAX)
            .await?;
        let mut views = Vec::with_capacity(rows.len());
        for row in rows {
            let approvals = self.store.approvals(&row.id).await?;
            views.push(self.view(&row, &business, approvals, now)?);
        }
        Ok(views)
    }

    /// One of the business's requests (with its signature once approved), for a resident who
    /// represents it now; a request of another business is not found.
    pub async fn request_of(
        &self,
        resident: &str,
        brn: &Brn,
        id: &str,
        now: i64,
    ) -> Result<CompanyRequest, CorpIdError> {
        let (business, _) = self.directory.visible(resident, brn, now).await?;
        match self.store.request(id).await? {
            Some(row) if row.business_id == business.id => {
                let approvals = self.store.approvals(&row.id).await?;
                self.view(&row, &business, approvals, now)
            }
            _ => Err(CorpIdError::SigningRequestNotFound),
        }
    }

    fn view(
        &self,
        row: &RequestRow,
        business: &Business,
        approvals: Vec<ApprovalRow>,
        now: i64,
    ) -> Result<CompanyRequest, CorpIdError> {
        let bad = |what: &str| corrupt(format!("request {}: {what}", row.id));
        let status = RequestStatus::parse(&row.status).ok_or_else(|| bad("status"))?;
        Ok(CompanyRequest {
            id: row.id.clone(),
            client_id: row.client_id.clone(),
            business: claim(business),
            kind: SigningKind::parse(&row.kind).ok_or_else(|| bad("type"))?,
            document_name: row.document_name.clone(),
            document_hash: DocumentHash::from_bytes(&row.document_hash)
                .map_err(|_| bad("document hash"))?,
            approvals_required: u8::try_from(row.approvals_required)
                .map_err(|_| bad("approvals"))?,
            approved_by: approvals.into_iter().map(|a| a.resident_id).collect(),
            status: status.at(row.expires_at_s, now),
            created_at_s: row.created_at_s,
            expires_at_s: row.expires_at_s,
            decided_at_s: row.decided_at_s,
            decided_by: row.decided_by.clone(),
            signature: row.signature.clone(),
        })
    }

    async fn load(&self, row: &RequestRow, now: i64) -> Result<CompanyRequest, CorpIdError> {
        let business = self.business_by_id(&row.business_id).await?;
        let approvals = self.store.approvals(&row.id).await?;
        self.view(row, &business, approvals, now)
    }

    /// The request, for the service that made it (anyone else: not found).
    pub async fn get(
        &self,
        id: &str,
        client_id: &str,
        now: i64,
    ) -> Result<CompanyRequest, CorpIdError> {
        match self.store.request(id).await? {
            Some(row) if row.client_id == client_id => self.load(&row, now).await,
            _ => Err(CorpIdError::SigningRequestNotFound),
        }
    }

    /// The service withdraws its pending, unexpired request.
    pub async fn cancel(
        &self,
        id: &str,
        client_id: &str,
        now: i64,
    ) -> Result<CompanyRequest, CorpIdError> {
        if self
            .store
            .request(id)
            .await?
            .is_none_or(|row| row.client_id != client_id)
        {
            return Err(CorpIdError::SigningRequestNotFound);
        }
        let event = self.event(
            &format!("service:{client_id}"),
            "corpid.signing.request.cancel",
            id,
            serde_json::json!({}),
        );
        if !self
            .store
            .end(id, Ending::Cancel, None, now, &event)
            .await?
        {
            return Err(self.why_not_pending(id, now).await);
        }
        self.get(id, client_id, now).await
    }

    fn event(
        &self,
        actor: &str,
        action: &'static str,
        request_id: &str,
        detail: serde_json::Value,
    ) -> AuditEvent {
        AuditEvent {
            actor: actor.to_owned(),
            action,
            subject: format!("corpid_signing_request:{request_id}"),
            outcome: Outcome::Success,
            detail,
            request_id: None,
        }
    }

    /// Why a request is not open: expired (recorded now if nobody had), decided, or gone.
    async fn why_not_pending(&self, id: &str, now: i64) -> CorpIdError {
        let row = match self.store.request(id).await {
            Ok(Some(row)) => row,
            Ok(None) => return CorpIdError::SigningRequestNotFound,
            Err(e) => return e,
        };
        match RequestStatus::parse(&row.status).map(|s| s.at(row.expires_at_s, now)) {
            Some(RequestStatus::Expired) => {
                let event = self.event(
                    "system",
                    "corpid.signing.request.expire",
                    id,
                    serde_json::json!({ "expires_at_s": row.expires_at_s }),
                );
                if let Err(e) = self.store.end(id, Ending::Expire, None, now, &event).await {
                    return e;
                }
                CorpIdError::SigningRequestExpired
            }
            Some(RequestStatus::Pending) => CorpIdError::SigningRequestNotPending("pending".into()),
            Some(status) => CorpIdError::SigningRequestNotPending(status.as_str().into()),
            None => corrupt(format!("request {id}: status")),
        }
    }

    /// Requests waiting for this resident: those of every business they may sign for now.
    pub async fn pending_for(
        &self,
        resident_id: &str,
        now: i64,
    ) -> Result<Vec<CompanyRequest>, CorpIdError> {
        let businesses: Vec<String> = self
            .directory
            .representations_at(resident_id, now)
            .await?
            .into_iter()
            .filter(|r| Role::parse(&r.role).is_some_and(|role| check_approver(role).is_ok()))
            .map(|r| r.business_id)
            .collect();
        let mut views = Vec::new();
        for row in self.store.pending_for(&businesses, now).await? {
            views.push(self.load(&row, now).await?);
        }
        Ok(views)
    }

    /// The pending request `id` if `resident` may decide on it now, with the approval they
    /// would give. A refusal is audited (as `action`, outcome failure) before it is returned.
    async fn approver(
        &self,
        id: &str,
        resident: &str,
        action: &'static str,
        now: i64,
    ) -> Result<(RequestRow, Business, ApprovalRow), CorpIdError> {
        let row = match self.store.request(id).await? {
            Some(row) if is_opaque_id(resident) => row,
            _ => return Err(CorpIdError::SigningRequestNotFound),
        };
        let stored = RequestStatus::parse(&row.status).ok_or_else(|| corrupt("status"))?;
        if stored.at(row.expires_at_s, now) != RequestStatus::Pending {
            return Err(self.why_not_pending(id, now).await);
        }
        let business = self.business_by_id(&row.business_id).await?;
        match self.eligibility(&row, &business, resident, now).await {
            Ok(approval) => Ok((row, business, approval)),
            Err(CorpIdError::Approval(refusal)) => {
                self.refused(id, resident, action, refusal).await?;
                Err(CorpIdError::Approval(refusal))
            }
            Err(e) => Err(e),
        }
    }

    async fn refused(
        &self,
        id: &str,
        resident: &str,
        action: &'static str,
        refusal: ApprovalRefusal,
    ) -> Result<(), CorpIdError> {
        let mut event = self.event(
            &format!("resident:{resident}"),
            action,
            id,
            serde_json::json!({ "reason": refusal.reason() }),
        );
        event.outcome = Outcome::Failure;
        self.db().append_audit(&event).await?;
        tracing::info!(request = %id, reason = refusal.reason(), "company signing approval refused");
        Ok(())
    }

    /// How `resident` may sign for the business now: as its administrator or authorised
    /// signatory, directly or through a delegation in force; else the refusal.
    async fn signatory(
        &self,
        business: &Business,
        resident: &str,
        now: i64,
    ) -> Result<Standing, CorpIdError> {
        let refuse = |r| Err(CorpIdError::Approval(r));
        if business.status != Status::Active {
            return refuse(ApprovalRefusal::BusinessInactive);
        }
        let representation = self
            .directory
            .representations_at(resident, now)
            .await?
            .into_iter()
            .find(|r| r.business_id == business.id);
        let Some(representation) = representation else {
            return if self
                .store
                .had_delegation(resident, &business.id, now)
                .await?
            {
                refuse(ApprovalRefusal::DelegationEnded)
            } else {
                refuse(ApprovalRefusal::NotRepresentative)
            };
        };
        let role = Role::parse(&representation.role).ok_or_else(|| corrupt("role"))?;
        check_approver(role).map_err(CorpIdError::Approval)?;
        let delegation_id = match &representation.via_agent_brn {
            Some(agent) => match self
                .store
                .delegation_in_force(&business.id, agent, now)
                .await?
            {
                Some(id) => Some(id),
                None => return refuse(ApprovalRefusal::DelegationEnded),
            },
            None => None,
        };
        Ok(Standing {
            role,
            agent_brn: representation.via_agent_brn,
            delegation_id,
        })
    }

    /// Whether `resident` may approve now, and how they act for the business.
    async fn eligibility(
        &self,
        row: &RequestRow,
        business: &Business,
        resident: &str,
        now: i64,
    ) -> Result<ApprovalRow, CorpIdError> {
        let standing = self.signatory(business, resident, now).await?;
        if self
            .store
            .approvals(&row.id)
            .await?
            .iter()
            .any(|a| a.resident_id == resident)
        {
            return Err(CorpIdError::Approval(ApprovalRefusal::AlreadyApproved));
        }
        Ok(ApprovalRow {
            request_id: row.id.clone(),
            resident_id: resident.to_owned(),
            role: standing.role.as_str().to_owned(),
            agent_brn: standing.agent_brn,
            delegation_id: standing.delegation_id,
            approved_at_s: now,
        })
    }

    /// A signatory approves in the app. Until the last required approval, the approval is
    /// recorded and the request stays pending; the last one signs (with each approver's key,
    /// the company's, or both, as the type says) and the request becomes approved, once.
    pub async fn approve(
        &self,
        id: &str,
        resident: &str,
        now: i64,
    ) -> Result<CompanyRequest, CorpIdError> {
        const ACTION: &str = "corpid.signing.request.approve";
        let (row, business, approval) = self.approver(id, resident, ACTION, now).await?;
        let kind = SigningKind::parse(&row.kind).ok_or_else(|| corrupt("type"))?;
        if kind.personal_signatures() && self.signing.certificate_for(resident).await?.is_none() {
            self.signing
                .enrol_at(resident, &format!("resident:{resident}"), now)
                .await?;
        }
        let held = self.store.approvals(id).await?;
        let held_n = i64::try_from(held.len()).map_err(corrupt)?;
        let result = if held_n + 1 < row.approvals_required {
            let event = self.event(
                &format!("resident:{resident}"),
                ACTION,
                id,
                serde_json::json!({
                    "role": approval.role, "agent_brn": approval.agent_brn,
                    "delegation": approval.delegation_id,
                    "approvals": held_n + 1, "required": row.approvals_required,
                }),
            );
            self.store
                .add_approval(&approval, held_n, now, &event)
                .await
        } else {
            self.sign(&row, &business, kind, held, &approval, now).await
        };
        match result {
            Ok(true) => {}
            Ok(false) => return Err(self.why_not_pending(id, now).await),
            Err(CorpIdError::Approval(refusal)) => {
                self.refused(id, resident, ACTION, refusal).await?;
                return Err(CorpIdError::Approval(refusal));
            }
            Err(e) => return Err(e),
        }
        let row = self
            .store
            .request(id)
            .await?
            .ok_or(CorpIdError::SigningRequestNotFound)?;
        self.load(&row, now).await
    }

    /// Makes the signature with the last approval and records both; whether it was recorded.
    async fn sign(
        &self,
        row: &RequestRow,
        business: &Business,
        kind: SigningKind,
        held: Vec<ApprovalRow>,
        last: &ApprovalRow,
        now: i64,
    ) -> Result<bool, CorpIdError> {
        let mut approvals = held;
        approvals.push(last.clone());
        let mut claims = Vec::with_capacity(approvals.len());
        for a in &approvals {
            let resident = self
                .residents
                .resident(&a.resident_id)
                .await?
                .ok_or_else(|| corrupt("approver is not a resident"))?;
            claims.push(ApprovalClaim {
                signer: self.signing.signer_id(&a.resident_id),
                name: resident.english_name,
                role: a.role.clone(),
                agent_brn: a.agent_brn.clone(),
                delegation_id: a.delegation_id.clone(),
                approved_at: a.approved_at_s,
            });
        }
        let hash = DocumentHash::from_bytes(&row.document_hash).map_err(|_| corrupt("hash"))?;
        let payload = Payload {
            hash_alg: HASH_ALG.into(),
            document_hash: hash.to_hex(),
            document_name: row.document_name.clone(),
            signed_at: now,
            request_id: row.id.clone(),
            kind: kind.as_str().into(),
            business: claim(business),
            approvals: claims,
        };
        let unsigned = Unsigned::new(&payload).map_err(corrupt)?;
        let issuing = self.signing.ca_certificates().await?.issuing;
        let mut signatures = Vec::new();
        let mut serials = Vec::new();
        if kind.personal_signatures() {
            for a in &approvals {
                let certificate = self
                    .signing
                    .certificate_for(&a.resident_id)
                    .await?
                    .ok_or(bauhinia_identity::signing::SigningError::NotEnrolled)?;
                let leaf = X509::from_pem(certificate.certificate_pem.as_bytes())?;
                let (protected, input) = unsigned
                    .signing_input(SignerKind::Person, &[&leaf, &issuing])
                    .map_err(corrupt)?;
                let signed = self
                    .signing
                    .sign_as_resident(&a.resident_id, input.as_bytes(), now)
                    .await?;
                if signed.serial != certificate.serial {
                    // The resident re-enrolled between the two reads: sign again next time.
                    return Ok(false);
                }
                serials.push(signed.serial);
                signatures.push((protected, signed.signature));
            }
        }
        let company_key = if kind.company_signature() {
            let key_row = self.company_key(business, now).await?;
            let leaf = X509::from_der(&key_row.certificate_der)?;
            let (protected, input) = unsigned
                .signing_input(SignerKind::Company, &[&leaf, &issuing])
                .map_err(corrupt)?;
            let key = self.open_key(&key_row)?;
            let signature = bauhinia_identity::jose::sign_raw(
                bauhinia_identity::jose::Alg::ES256,
                &key,
                input.as_bytes(),
            )
            .map_err(corrupt)?;
            serials.push(key_row.serial.clone());
            signatures.push((protected, signature));
            Some(key_row.id)
        } else {
            None
        };
        let signature = unsigned.serialize(&signatures).map_err(corrupt)?;
        let held_n = i64::try_from(approvals.len() - 1).map_err(corrupt)?;
        let event = self.event(
            &format!("resident:{}", last.resident_id),
            "corpid.signing.request.sign",
            &row.id,
            serde_json::json!({
                "business": business.id, "brn": business.brn.as_str(), "type": kind.as_str(),
                "role": last.role, "agent_brn": last.agent_brn, "delegation": last.delegation_id,
                "approvers": approvals.iter().map(|a| a.resident_id.as_str()).collect::<Vec<_>>(),
                "serials": serials, "document_hash": payload.document_hash, "signed_at": now,
            }),
        );
        self.store
            .finalise(
                last,
                held_n,
                company_key.as_deref(),
                &signature,
                now,
                &event,
            )
            .await
    }

    /// A signatory declines: the request ends, unsigned.
    pub async fn reject(
        &self,
        id: &str,
        resident: &str,
        now: i64,
    ) -> Result<CompanyRequest, CorpIdError> {
        const ACTION: &str = "corpid.signing.request.reject";
        let (row, business, approval) = self.approver(id, resident, ACTION, now).await?;
        let event = self.event(
            &format!("resident:{resident}"),
            ACTION,
            id,
            serde_json::json!({ "role": approval.role, "agent_brn": approval.agent_brn }),
        );
        if !self
            .store
            .end(id, Ending::Reject, Some(resident), now, &event)
            .await?
        {
            return Err(self.why_not_pending(id, now).await);
        }
        let row = self
            .store
            .request(&row.id)
            .await?
            .ok_or(CorpIdError::SigningRequestNotFound)?;
        let approvals = self.store.approvals(id).await?;
        self.view(&row, &business, approvals, now)
    }
}

fn certificate_view(row: &KeyRow) -> Result<CompanyCertificate, CorpIdError> {
    let certificate = X509::from_der(&row.certificate_der)?;
    Ok(CompanyCertificate {
        key_id: row.id.clone(),
        serial: row.serial.clone(),
        subject: ca::name_text(certificate.subject_name()),
        not_before_s: row.not_before_s,
        not_after_s: row.not_after_s,
        certificate_pem: String::from_utf8(certificate.to_pem()?).map_err(corrupt)?,
    })
}
