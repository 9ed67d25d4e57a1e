//! [`CorpIdService`]: the business directory's operations — register and import businesses,
//! the operator's status moves, representatives, delegations, the signing policy, licences —
//! and the login lookup the OpenID Provider asks through [`CorporateDirectory`]. Inputs are
//! validated by `domain` before anything is read; the store checks the caller and the rules
//! inside the transaction of the change.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bauhinia_identity::corporate::{
    CorporateDirectory, DirectorName, DirectoryError, DirectoryFuture, Particulars, Representation,
    SharedLicence,
};
use bauhinia_store::audit::{AuditEvent, Outcome};
use bauhinia_store::Database;

use crate::domain::{
    is_opaque_id, preferred, AccessRefusal, Brn, BusinessDraft, DelegationTerms, Director,
    FieldFault, Form, LicenceDraft, Role, SignatoriesRequired, Status, StatusChange,
};
use crate::error::CorpIdError;
use crate::store::{
    BusinessRow, Caller, CorpIdStore, DelegationRow, ImportRow, LicenceRow, RepresentativeChange,
    RepresentativeRow, StandingRow,
};

/// Businesses a bulk import writes per transaction: a failure loses at most this many, and a
/// transaction never holds the embedded database's write lock for long.
pub const IMPORT_CHUNK_ROWS: usize = 10_000;
/// The most representatives or delegations one list answers.
pub const LIST_MAX: i64 = 1_000;

/// A business as the rest of Bauhinia sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Business {
    pub id: String,
    pub brn: Brn,
    pub form: Form,
    pub status: Status,
    pub name_en: String,
    pub name_zh: Option<String>,
    pub address: Vec<String>,
    /// `YYYY-MM-DD`.
    pub registered_on: String,
    pub directors: Vec<Director>,
    pub signatories_required: u8,
    pub created_at_s: i64,
    pub updated_at_s: i64,
}

impl TryFrom<BusinessRow> for Business {
    type Error = CorpIdError;

    fn try_from(row: BusinessRow) -> Result<Business, CorpIdError> {
        let corrupt = |what: &str| CorpIdError::Corrupt(format!("business {}: {what}", row.id));
        Ok(Business {
            brn: Brn::parse(&row.brn).map_err(|_| corrupt("brn"))?,
            form: Form::parse(&row.form).ok_or_else(|| corrupt("form"))?,
            status: Status::parse(&row.status).ok_or_else(|| corrupt("status"))?,
            address: serde_json::from_str(&row.address).map_err(|_| corrupt("address"))?,
            directors: serde_json::from_str(&row.directors).map_err(|_| corrupt("directors"))?,
            signatories_required: SignatoriesRequired::new(row.signatories_required)
                .ok_or_else(|| corrupt("signatories_required"))?
                .get(),
            id: row.id,
            name_en: row.name_en,
            name_zh: row.name_zh,
            registered_on: row.registered_on,
            created_at_s: row.created_at_s,
            updated_at_s: row.updated_at_s,
        })
    }
}

fn today(now: i64) -> time::Date {
    time::OffsetDateTime::from_unix_timestamp(now)
        .map(|t| t.date())
        .unwrap_or(time::Date::MIN)
}

fn row_of(business: &crate::domain::NewBusiness, now: i64) -> Result<BusinessRow, CorpIdError> {
    Ok(BusinessRow {
        id: uuid::Uuid::new_v4().to_string(),
        brn: business.brn.to_string(),
        kind: business.form.kind().as_str().to_owned(),
        form: business.form.as_str().to_owned(),
        status: Status::Active.as_str().to_owned(),
        name_en: business.name_en.clone(),
        name_zh: business.name_zh.clone(),
        address: to_json(&business.address)?,
        registered_on: business.registered_on.to_string(),
        directors: to_json(&business.directors)?,
        signatories_required: i64::from(SignatoriesRequired::ONE.get()),
        created_at_s: now,
        updated_at_s: now,
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, CorpIdError> {
    serde_json::to_string(value).map_err(|e| CorpIdError::Corrupt(e.to_string()))
}

fn resident_id(text: &str) -> Result<&str, CorpIdError> {
    if is_opaque_id(text) {
        Ok(text)
    } else {
        Err(CorpIdError::Access(
            crate::domain::AccessRefusal::NotRepresentative,
        ))
    }
}

/// Merges every standing of a resident into one representation per business (see
/// [`preferred`]), sorted by BRN.
pub fn merge(standings: Vec<StandingRow>) -> Vec<Representation> {
    let mut best: BTreeMap<String, (Role, StandingRow)> = BTreeMap::new();
    for row in standings {
        let Some(role) = Role::parse(&row.role) else {
            continue;
        };
        let keep = match best.get(&row.brn) {
            Some((held, current)) => {
                preferred((role, row.valid_until_s), (*held, current.valid_until_s))
                    && (role, row.valid_until_s) != (*held, current.valid_until_s)
            }
            None => true,
        };
        if keep {
            best.insert(row.brn.clone(), (role, row));
        }
    }
    best.into_values()
        .map(|(role, row)| Representation {
            business_id: row.business_id,
            brn: row.brn,
            name_en: row.name_en,
            name_zh: row.name_zh.unwrap_or_default(),
            role: role.as_str().to_owned(),
            via_agent_brn: row.via_agent_brn,
            valid_until: row.valid_until_s,
        })
        .collect()
}

#[derive(Debug, Clone)]
pub struct CorpIdService {
    store: CorpIdStore,
    /// Counts this process's revocations of company certificates (see
    /// [`CorpIdService::revocation_epoch`]); shared by clones.
    revocations: Arc<AtomicU64>,
}

impl CorpIdService {
    pub fn new(db: &Database) -> CorpIdService {
        CorpIdService {
            store: CorpIdStore::new(db),
            revocations: Arc::new(AtomicU64::new(0)),
        }
    }

    /// A number that grows whenever this process may have revoked a company certificate
    /// (a status change, a re-key), after the change commits: whoever remembers revocation
    /// states may keep them only while it stays the same.
    pub fn revocation_epoch(&self) -> u64 {
        self.revocations.load(Ordering::Acquire)
    }

    /// Company signing re-keyed a business (revoking its previous certificate).
    pub(crate) fn note_revocation(&self) {
        self.revocations.fetch_add(1, Ordering::AcqRel);
    }

    pub fn store(&self) -> &CorpIdStore {
        &self.store
    }

    /// Registers a business with its first administrator (a resident's id: the caller has
    /// found the resident, by HKID for the operator's API).
    pub async fn register(
        &self,
        draft: &BusinessDraft,
        administrator: &str,
        caller: &Caller,
        now: i64,
    ) -> Result<Business, CorpIdError> {
        let new = draft.validate(today(now)).map_err(CorpIdError::Invalid)?;
        if !is_opaque_id(administrator) {
            return Err(CorpIdError::ResidentNotFound);
        }
        let row = row_of(&new, now)?;
        self.store
            .insert_business(&row, administrator, caller)
            .await?;
        tracing::info!(business = %row.id, brn = %row.brn, "business registered");
        Business::try_from(row)
    }

    /// Imports businesses with their representatives, [`IMPORT_CHUNK_ROWS`] a transaction;
    /// each chunk is validated whole first (every business needs an administrator) and
    /// written all or nothing. Returns how many were imported; a failure says how many
    /// chunks' worth were committed before it.
    pub async fn import(
        &self,
        items: &[(BusinessDraft, Vec<(String, Role)>)],
        caller: &Caller,
        now: i64,
    ) -> Result<usize, CorpIdError> {
        let mut committed = 0;
        for (n, chunk) in items.chunks(IMPORT_CHUNK_ROWS).enumerate() {
            let offset = n * IMPORT_CHUNK_ROWS;
            let rows = self
                .import_rows(chunk, offset, now)
                .map_err(|e| import_error(committed, e))?;
            self.store
                .import(&rows, caller)
                .await
                .map_err(|e| import_error(committed, e))?;
            committed += rows.len();
        }
        Ok(committed)
    }

    fn import_rows(
        &self,
        chunk: &[(BusinessDraft, Vec<(String, Role)>)],
        offset: usize,
        now: i64,
    ) -> Result<Vec<ImportRow>, CorpIdError> {
        let mut faults = Vec::new();
        let mut rows = Vec::with_capacity(chunk.len());
        for (i, (draft, representatives)) in chunk.iter().enumerate() {
            let at = offset + i;
            match draft.validate(today(now)) {
                Ok(new) => rows.push(ImportRow {
                    business: row_of(&new, now)?,
                    representatives: representatives.clone(),
                }),
                Err(errors) => faults.extend(
                    errors
                        .into_iter()
                        .map(|f| FieldFault::new(format!("/{at}/business{}", f.field), f.message)),
                ),
            }
            if !representatives
                .iter()
                .any(|(_, r)| *r == Role::Administrator)
            {
                faults.push(FieldFault::new(
                    format!("/{at}/representatives"),
                    "needs an administrator",
                ));
            }
            if representatives.iter().any(|(id, _)| !is_opaque_id(id)) {
                faults.push(FieldFault::new(
                    format!("/{at}/representatives"),
                    "a resident id is malformed",
                ));
            }
        }
        if faults.is_empty() {
            Ok(rows)
        } else {
            Err(CorpIdError::Invalid(faults))
        }
    }

    pub async fn business(&self, brn: &Brn) -> Result<Business, CorpIdError> {
        self.store
            .business_by_brn(brn.as_str())
            .await?
            .ok_or(CorpIdError::BusinessNotFound)
            .and_then(Business::try_from)
    }

    /// The operator suspends, reactivates or dissolves a business.
    pub async fn change_status(
        &self,
        brn: &Brn,
        change: StatusChange,
        reason: Option<&str>,
        caller: &Caller,
        now: i64,
    ) -> Result<Business, CorpIdError> {
        self.store
            .change_status(brn.as_str(), change, reason, caller, now)
            .await?;
        // Suspension and dissolution revoke the company certificate in that transaction.
        self.note_revocation();
        self.business(brn).await
    }

    /// A change the rules of who may change what refuse ([`CorpIdError::Access`]) is audited
    /// as a failure of `action` with the reason, in a transaction of its own: the change's own
    /// rolled back and wrote nothing. Other errors pass through unaudited (bad input is
    /// refused before anything is read; a store failure is an operator's matter).
    async fn refusal_audited<T>(
        &self,
        brn: &Brn,
        action: &'static str,
        caller: &Caller,
        result: Result<T, CorpIdError>,
    ) -> Result<T, CorpIdError> {
        if let Err(CorpIdError::Access(refusal)) = &result {
            self.record_refusal(brn, action, caller, *refusal).await?;
        }
        result
    }

    /// Audits that `caller` was refused `action` on the business with `brn` (also for callers
    /// that refuse before asking this service, as the business portal does for a
    /// non-administrator).
    pub async fn record_refusal(
        &self,
        brn: &Brn,
        action: &'static str,
        caller: &Caller,
        refusal: AccessRefusal,
    ) -> Result<(), CorpIdError> {
        let subject = match self.store.business_by_brn(brn.as_str()).await? {
            Some(business) => format!("business:{}", business.id),
            None => format!("brn:{brn}"),
        };
        let event = AuditEvent {
            actor: caller.actor(),
            action,
            subject,
            outcome: Outcome::Failure,
            detail: serde_json::json!({ "reason": refusal.reason() }),
            request_id: None,
        };
        self.store.database().append_audit(&event).await?;
        tracing::info!(action, reason = refusal.reason(), "CorpID change refused");
        Ok(())
    }

    pub async fn grant(
        &self,
        brn: &Brn,
        resident: &str,
        role: Role,
        caller: &Caller,
        now: i64,
    ) -> Result<(), CorpIdError> {
        let resident_id = resident_id(resident).map_err(|_| CorpIdError::ResidentNotFound)?;
        let result = self
            .store
            .change_representative(
                brn.as_str(),
                RepresentativeChange::Grant { resident_id, role },
                caller,
                now,
            )
            .await;
        self.refusal_audited(brn, "corpid.role.grant", caller, result)
            .await
    }

    pub async fn change_role(
        &self,
        brn: &Brn,
        resident: &str,
        role: Role,
        caller: &Caller,
        now: i64,
    ) -> Result<(), CorpIdError> {
        let resident_id = resident_id(resident)?;
        let result = self
            .store
            .change_representative(
                brn.as_str(),
                RepresentativeChange::Change { resident_id, role },
                caller,
                now,
            )
            .await;
        self.refusal_audited(brn, "corpid.role.change", caller, result)
            .await
    }

    pub async fn revoke(
        &self,
        brn: &Brn,
        resident: &str,
        caller: &Caller,
        now: i64,
    ) -> Result<(), CorpIdError> {
        let resident_id = resident_id(resident)?;
        let result = self
            .store
            .change_representative(
                brn.as_str(),
                RepresentativeChange::Revoke { resident_id },
                caller,
                now,
            )
            .await;
        self.refusal_audited(brn, "corpid.role.revoke", caller, result)
            .await
    }

    /// A delegation from `client` to `agent`; its id.
    pub async fn create_delegation(
        &self,
        client: &Brn,
        agent: &Brn,
        terms: &DelegationTerms,
        caller: &Caller,
        now: i64,
    ) -> Result<String, CorpIdError> {
        let id = uuid::Uuid::new_v4().to_string();
        let result = self
            .store
            .create_delegation(client.as_str(), agent.as_str(), terms, &id, caller, now)
            .await;
        self.refusal_audited(client, "corpid.delegation.create", caller, result)
            .await?;
        Ok(id)
    }

    pub async fn revoke_delegation(
        &self,
        client: &Brn,
        delegation_id: &str,
        caller: &Caller,
        now: i64,
    ) -> Result<(), CorpIdError> {
        if !is_opaque_id(delegation_id) {
            return Err(CorpIdError::DelegationNotFound);
        }
        let result = self
            .store
            .revoke_delegation(client.as_str(), delegation_id, caller, now)
            .await;
        self.refusal_audited(client, "corpid.delegation.revoke", caller, result)
            .await
    }

    pub async fn delegations(&self, business_id: &str) -> Result<Vec<DelegationRow>, CorpIdError> {
        self.store.delegations(business_id, LIST_MAX).await
    }

    pub async fn set_signing_policy(
        &self,
        brn: &Brn,
        required: SignatoriesRequired,
        caller: &Caller,
        now: i64,
    ) -> Result<(), CorpIdError> {
        let result = self
            .store
            .set_signing_policy(brn.as_str(), required, caller, now)
            .await;
        self.refusal_audited(brn, "corpid.signing_policy.set", caller, result)
            .await
    }

    pub async fn licences(&self, business_id: &str) -> Result<Vec<LicenceRow>, CorpIdError> {
        self.store.licences(business_id).await
    }

    /// Adds a licence; its id.
    pub async fn add_licence(
        &self,
        brn: &Brn,
        draft: &LicenceDraft,
        caller: &Caller,
        now: i64,
    ) -> Result<String, CorpIdError> {
        let licence = draft.validate().map_err(CorpIdError::Invalid)?;
        let id = uuid::Uuid::new_v4().to_string();
        let result = self
            .store
            .put_licence(brn.as_str(), &id, &licence, true, caller, now)
            .await;
        self.refusal_audited(brn, "corpid.licence.add", caller, result)
            .await?;
        Ok(id)
    }

    pub async fn update_licence(
        &self,
        brn: &Brn,
        licence_id: &str,
        draft: &LicenceDraft,
        caller: &Caller,
        now: i64,
    ) -> Result<(), CorpIdError> {
        let licence = draft.validate().map_err(CorpIdError::Invalid)?;
        if !is_opaque_id(licence_id) {
            return Err(CorpIdError::LicenceNotFound);
        }
        let result = self
            .store
            .put_licence(brn.as_str(), licence_id, &licence, false, caller, now)
            .await;
        self.refusal_audited(brn, "corpid.licence.update", caller, result)
            .await
    }

    pub async fn remove_licence(
        &self,
        brn: &Brn,
        licence_id: &str,
        caller: &Caller,
    ) -> Result<(), CorpIdError> {
        if !is_opaque_id(licence_id) {
            return Err(CorpIdError::LicenceNotFound);
        }
        let result = self
            .store
            .remove_licence(brn.as_str(), licence_id, caller)
            .await;
        self.refusal_audited(brn, "corpid.licence.remove", caller, result)
            .await
    }

    pub async fn representatives(
        &self,
        business_id: &str,
    ) -> Result<Vec<RepresentativeRow>, CorpIdError> {
        self.store.representatives(business_id, LIST_MAX).await
    }

    /// Every business the resident may act for at `at`, one representation each, by BRN.
    pub async fn representations_at(
        &self,
        resident: &str,
        at: i64,
    ) -> Result<Vec<Representation>, CorpIdError> {
        if !is_opaque_id(resident) {
            return Ok(Vec::new());
        }
        Ok(merge(self.store.standings(resident, at).await?))
    }

    /// The business and how the resident acts for it at `at`; a business the resident does
    /// not represent then (or that is not active) is [`CorpIdError::BusinessNotFound`].
    pub async fn visible(
        &self,
        resident: &str,
        brn: &Brn,
        at: i64,
    ) -> Result<(Business, Representation), CorpIdError> {
        let representation = self
            .representations_at(resident, at)
            .await?
            .into_iter()
            .find(|r| r.brn == brn.as_str())
            .ok_or(CorpIdError::BusinessNotFound)?;
        Ok((self.business(brn).await?, representation))
    }
}

impl Business {
    /// The particulars the directory releases (corporate form filling, the Companies
    /// Registry's data product): names, form, status, address, date, and directors by name
    /// only — never their resident ids.
    pub fn particulars(&self) -> Particulars {
        Particulars {
            business_id: self.id.clone(),
            brn: self.brn.to_string(),
            name_en: self.name_en.clone(),
            name_zh: self.name_zh.clone(),
            form: self.form.as_str().to_owned(),
            status: self.status.as_str().to_owned(),
            address: self.address.clone(),
            registered_on: self.registered_on.clone(),
            directors: self
                .directors
                .iter()
                .map(|d| DirectorName {
                    name_en: d.name_en.clone(),
                    name_zh: d.name_zh.clone(),
                    appointed_on: d.appointed_on.clone(),
                })
                .collect(),
        }
    }
}

impl From<LicenceRow> for SharedLicence {
    fn from(row: LicenceRow) -> SharedLicence {
        SharedLicence {
            licence_type: row.licence_type,
            number: row.number,
            issuer: row.issuer,
            valid_from: row.valid_from,
            valid_until: row.valid_until,
            status: row.status,
        }
    }
}

impl CorpIdService {
    /// The particulars of the business under `brn`, whatever its status; `None` for a BRN
    /// that is malformed or not registered.
    pub async fn particulars(&self, brn: &str) -> Result<Option<Particulars>, CorpIdError> {
        let Ok(brn) = Brn::parse(brn) else {
            return Ok(None);
        };
        match self.store.business_by_brn(brn.as_str()).await? {
            Some(row) => Ok(Some(Business::try_from(row)?.particulars())),
            None => Ok(None),
        }
    }

    /// The licences the business under `brn` marked shared; none for an unknown BRN.
    pub async fn shared_licences(&self, brn: &str) -> Result<Vec<SharedLicence>, CorpIdError> {
        let Ok(brn) = Brn::parse(brn) else {
            return Ok(Vec::new());
        };
        let Some(row) = self.store.business_by_brn(brn.as_str()).await? else {
            return Ok(Vec::new());
        };
        Ok(self
            .store
            .shared_licences(&row.id)
            .await?
            .into_iter()
            .map(SharedLicence::from)
            .collect())
    }
}

fn import_error(committed: usize, error: CorpIdError) -> CorpIdError {
    CorpIdError::Import {
        committed,
        source: Box::new(error),
    }
}

impl CorporateDirectory for CorpIdService {
    fn representations<'a>(
        &'a self,
        resident_id: &'a str,
        at: i64,
    ) -> DirectoryFuture<'a, Vec<Representation>> {
        Box::pin(async move {
            self.representations_at(resident_id, at)
                .await
                .map_err(|e| DirectoryError(e.to_string()))
        })
    }

    fn representation<'a>(
        &'a self,
        resident_id: &'a str,
        business_id: &'a str,
        at: i64,
    ) -> DirectoryFuture<'a, Option<Representation>> {
        Box::pin(async move {
            Ok(self
                .representations_at(resident_id, at)
                .await
                .map_err(|e| DirectoryError(e.to_string()))?
                .into_iter()
                .find(|r| r.business_id == business_id))
        })
    }

    fn particulars<'a>(&'a self, brn: &'a str) -> DirectoryFuture<'a, Option<Particulars>> {
        Box::pin(async move {
            CorpIdService::particulars(self, brn)
                .await
                .map_err(|e| DirectoryError(e.to_string()))
        })
    }

    fn shared_licences<'a>(&'a self, brn: &'a str) -> DirectoryFuture<'a, Vec<SharedLicence>> {
        Box::pin(async move {
            CorpIdService::shared_licences(self, brn)
                .await
                .map_err(|e| DirectoryError(e.to_string()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standing(brn: &str, role: &str, via: Option<&str>, until: Option<i64>) -> StandingRow {
        StandingRow {
            business_id: format!("id-{brn}"),
            brn: brn.into(),
            name_en: "X".into(),
            name_zh: None,
            role: role.into(),
            via_agent_brn: via.map(str::to_owned),
            valid_until_s: until,
        }
    }

    #[test]
    fn merge_keeps_one_per_business_sorted_by_brn() {
        let merged = merge(vec![
            standing("20000000", "user", Some("30000000"), Some(50)),
            standing(
                "10000000",
                "authorised_signatory",
                Some("30000000"),
                Some(10),
            ),
            standing(
                "20000000",
                "authorised_signatory",
                Some("40000000"),
                Some(20),
            ),
            standing("10000000", "user", None, None),
        ]);
        let got: Vec<(&str, &str, Option<&str>)> = merged
            .iter()
            .map(|r| (r.brn.as_str(), r.role.as_str(), r.via_agent_brn.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("10000000", "user", None),
                ("20000000", "authorised_signatory", Some("40000000"))
            ]
        );
    }
}
