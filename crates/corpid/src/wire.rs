//! The JSON shapes of the CorpID APIs and their checked conversion to domain values. Only
//! this module and `http` know JSON field names; every fault is named by a JSON Pointer into
//! the request. Times are RFC 3339 on the wire and Unix seconds inside.

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use crate::domain::{
    Brn, BusinessDraft, DelegationTerms, Director, DirectorDraft, FieldFault, LicenceDraft, Role,
    SignatoriesRequired,
};
use crate::error::CorpIdError;
use crate::service::Business;
use crate::store::{DelegationRow, LicenceRow};

/// The longest reason an operator may give for a status change.
pub const REASON_LEN_MAX: usize = 500;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectorInput {
    pub name_en: String,
    #[serde(default)]
    pub name_zh: Option<String>,
    /// `YYYY-MM-DD`.
    pub appointed_on: String,
    /// The director's resident id, when the director is a 智方便 resident.
    #[serde(default)]
    pub resident_id: Option<String>,
}

/// A business to register, with its first administrator named by HKID (looked up, never
/// stored, logged or echoed).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterBusinessRequest {
    /// Business Registration number: 8 digits.
    pub brn: String,
    /// `private_limited_by_shares`, `public_limited_by_shares`, `limited_by_guarantee`,
    /// `registered_non_hong_kong` (Cap. 622) or `sole_proprietorship`, `partnership` (Cap. 310).
    pub form: String,
    pub name_en: String,
    #[serde(default)]
    pub name_zh: Option<String>,
    /// One to five lines.
    pub address: Vec<String>,
    /// Incorporation or commencement, `YYYY-MM-DD`.
    pub registered_on: String,
    #[serde(default)]
    pub directors: Vec<DirectorInput>,
    /// The first administrator's HKID, e.g. `A123456(3)`.
    pub administrator_hkid: String,
}

impl RegisterBusinessRequest {
    pub fn draft(&self) -> BusinessDraft {
        BusinessDraft {
            brn: self.brn.clone(),
            form: self.form.clone(),
            name_en: self.name_en.clone(),
            name_zh: self.name_zh.clone(),
            address: self.address.clone(),
            registered_on: self.registered_on.clone(),
            directors: self
                .directors
                .iter()
                .map(|d| DirectorDraft {
                    name_en: d.name_en.clone(),
                    name_zh: d.name_zh.clone(),
                    appointed_on: d.appointed_on.clone(),
                    resident_id: d.resident_id.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// Why (kept in the audit log), at most 500 characters.
    #[serde(default)]
    pub reason: Option<String>,
}

impl StatusRequest {
    pub fn reason(&self) -> Result<Option<&str>, CorpIdError> {
        match self
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            Some(r) if r.chars().count() > REASON_LEN_MAX || r.chars().any(char::is_control) => {
                Err(CorpIdError::field(
                    "/reason",
                    format!("at most {REASON_LEN_MAX} characters, no control characters"),
                ))
            }
            other => Ok(other),
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    /// The resident's HKID, e.g. `A123456(3)` (looked up, never stored or echoed).
    pub hkid: String,
    /// `administrator`, `authorised_signatory` or `user`.
    pub role: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    /// `administrator`, `authorised_signatory` or `user`.
    pub role: String,
}

/// A role named at `field`.
pub fn role(text: &str, field: &str) -> Result<Role, CorpIdError> {
    Role::parse(text.trim()).ok_or_else(|| {
        CorpIdError::field(field, "one of administrator, authorised_signatory, user")
    })
}

/// A BRN named at `field`.
pub fn brn(text: &str, field: &str) -> Result<Brn, CorpIdError> {
    Brn::parse(text).map_err(|e| CorpIdError::field(field, e.to_string()))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DelegationRequest {
    /// The agent business's BRN.
    pub agent_brn: String,
    /// `authorised_signatory` or `user`.
    pub role: String,
    /// RFC 3339, e.g. `2026-12-01T00:00:00Z`.
    pub valid_from: String,
    /// RFC 3339; at most three years after `valid_from`.
    pub valid_until: String,
}

fn unix(text: &str, field: &str, faults: &mut Vec<FieldFault>) -> Option<i64> {
    match time::OffsetDateTime::parse(text.trim(), &Rfc3339) {
        Ok(t) => Some(t.unix_timestamp()),
        Err(_) => {
            faults.push(FieldFault::new(
                field,
                "an RFC 3339 time, e.g. 2026-12-01T00:00:00Z",
            ));
            None
        }
    }
}

/// Unix seconds as RFC 3339 (UTC).
pub fn rfc3339(at: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

impl DelegationRequest {
    /// The agent and the terms, checked at `now`; every fault named.
    pub fn terms(&self, now: i64) -> Result<(Brn, DelegationTerms), CorpIdError> {
        let mut faults = Vec::new();
        let agent = Brn::parse(&self.agent_brn)
            .map_err(|e| faults.push(FieldFault::new("/agent_brn", e.to_string())))
            .ok();
        let from = unix(&self.valid_from, "/valid_from", &mut faults);
        let until = unix(&self.valid_until, "/valid_until", &mut faults);
        let role = Role::parse(self.role.trim());
        let terms = match (from, until) {
            (Some(from), Some(until)) => DelegationTerms::new(role, from, until, now)
                .map_err(|errors| faults.extend(errors))
                .ok(),
            _ => None,
        };
        match (agent, terms) {
            (Some(agent), Some(terms)) if faults.is_empty() => Ok((agent, terms)),
            _ => Err(CorpIdError::Invalid(faults)),
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LicenceRequest {
    /// What the licence is, e.g. `General Restaurant Licence`.
    pub licence_type: String,
    pub number: String,
    /// Who issued it, e.g. `Food and Environmental Hygiene Department`.
    pub issuer: String,
    /// `YYYY-MM-DD`.
    pub valid_from: String,
    /// `YYYY-MM-DD`, or absent for a licence without an end.
    #[serde(default)]
    pub valid_until: Option<String>,
    /// `valid`, `suspended`, `revoked` or `expired`.
    pub status: String,
    /// Whether the business shares it with the services it logs in to.
    #[serde(default)]
    pub shared: bool,
}

impl LicenceRequest {
    pub fn draft(&self) -> LicenceDraft {
        LicenceDraft {
            licence_type: self.licence_type.clone(),
            number: self.number.clone(),
            issuer: self.issuer.clone(),
            valid_from: self.valid_from.clone(),
            valid_until: self.valid_until.clone(),
            status: self.status.clone(),
            shared: self.shared,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SigningPolicy {
    /// How many authorised signatories must approve a corporate signature: 1 or 2.
    pub signatories_required: i64,
}

impl SigningPolicy {
    pub fn required(&self) -> Result<SignatoriesRequired, CorpIdError> {
        SignatoriesRequired::new(self.signatories_required)
            .ok_or_else(|| CorpIdError::field("/signatories_required", "1 or 2"))
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DirectorDoc {
    pub name_en: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_zh: Option<String>,
    pub appointed_on: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resident_id: Option<String>,
}

impl From<&Director> for DirectorDoc {
    fn from(d: &Director) -> DirectorDoc {
        DirectorDoc {
            name_en: d.name_en.clone(),
            name_zh: d.name_zh.clone(),
            appointed_on: d.appointed_on.clone(),
            resident_id: d.resident_id.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BusinessDoc {
    /// The directory's opaque id of the business.
    pub id: String,
    pub brn: String,
    /// `company` (Cap. 622) or `registered_business` (Cap. 310).
    pub kind: String,
    pub form: String,
    /// `active`, `suspended` or `dissolved`.
    pub status: String,
    pub name_en: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_zh: Option<String>,
    pub address: Vec<String>,
    pub registered_on: String,
    pub directors: Vec<DirectorDoc>,
    pub signatories_required: u8,
}

impl From<&Business> for BusinessDoc {
    fn from(b: &Business) -> BusinessDoc {
        BusinessDoc {
            id: b.id.clone(),
            brn: b.brn.to_string(),
            kind: b.form.kind().as_str().to_owned(),
            form: b.form.as_str().to_owned(),
            status: b.status.as_str().to_owned(),
            name_en: b.name_en.clone(),
            name_zh: b.name_zh.clone(),
            address: b.address.clone(),
            registered_on: b.registered_on.clone(),
            directors: b.directors.iter().map(DirectorDoc::from).collect(),
            signatories_required: b.signatories_required,
        }
    }
}

/// A business the signed-in resident may act for now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RepresentationDoc {
    pub business_id: String,
    pub brn: String,
    pub name_en: String,
    /// Empty when the business has no Chinese name.
    pub name_zh: String,
    pub role: String,
    /// The agent business's BRN, when acting through a delegation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via_agent_brn: Option<String>,
    /// When the delegation ends (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
}

impl From<&bauhinia_identity::corporate::Representation> for RepresentationDoc {
    fn from(r: &bauhinia_identity::corporate::Representation) -> RepresentationDoc {
        RepresentationDoc {
            business_id: r.business_id.clone(),
            brn: r.brn.clone(),
            name_en: r.name_en.clone(),
            name_zh: r.name_zh.clone(),
            role: r.role.clone(),
            via_agent_brn: r.via_agent_brn.clone(),
            valid_until: r.valid_until.map(rfc3339),
        }
    }
}

/// A business's details as one of its representatives sees them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BusinessView {
    pub business: BusinessDoc,
    /// How the caller acts for it.
    pub me: RepresentationDoc,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RepresentativeDoc {
    pub resident_id: String,
    pub english_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chinese_name: Option<String>,
    /// The HKID masked, `A123***(*)`.
    pub hkid_masked: String,
    pub role: String,
    pub granted_at: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DelegationDoc {
    pub id: String,
    /// `granted` (this business is the client) or `held` (this business is the agent).
    pub direction: &'static str,
    pub agent_brn: String,
    pub agent_name_en: String,
    pub client_brn: String,
    pub client_name_en: String,
    pub role: String,
    pub valid_from: String,
    pub valid_until: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// `pending`, `in_force`, `ended` or `revoked`, at the time of the answer.
    pub state: &'static str,
}

impl DelegationDoc {
    pub fn new(row: &DelegationRow, business_id: &str, now: i64) -> DelegationDoc {
        let state = match row.revoked_at_s {
            Some(_) => "revoked",
            None if now < row.valid_from_s => "pending",
            None if now < row.valid_until_s => "in_force",
            None => "ended",
        };
        DelegationDoc {
            id: row.id.clone(),
            direction: if row.client_id == business_id {
                "granted"
            } else {
                "held"
            },
            agent_brn: row.agent_brn.clone(),
            agent_name_en: row.agent_name_en.clone(),
            client_brn: row.client_brn.clone(),
            client_name_en: row.client_name_en.clone(),
            role: row.role.clone(),
            valid_from: rfc3339(row.valid_from_s),
            valid_until: rfc3339(row.valid_until_s),
            revoked_at: row.revoked_at_s.map(rfc3339),
            state,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LicenceDoc {
    pub id: String,
    pub licence_type: String,
    pub number: String,
    pub issuer: String,
    pub valid_from: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    pub status: String,
    pub shared: bool,
}

impl From<&LicenceRow> for LicenceDoc {
    fn from(row: &LicenceRow) -> LicenceDoc {
        LicenceDoc {
            id: row.id.clone(),
            licence_type: row.licence_type.clone(),
            number: row.number.clone(),
            issuer: row.issuer.clone(),
            valid_from: row.valid_from.clone(),
            valid_until: row.valid_until.clone(),
            status: row.status.clone(),
            shared: row.shared != 0,
        }
    }
}

/// An id made by the server, answered after a creation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Created {
    pub id: String,
}

/// The fuzz target's entry point: `bytes` read as every request body this crate parses, and
/// each body that parses converted to its domain values, as the handlers do. Must never panic.
pub fn fuzz_parse(bytes: &[u8]) {
    use bauhinia_core::extract::parse_json;
    let now = 1_800_000_000;
    let today =
        time::Date::from_calendar_date(2026, time::Month::November, 24).unwrap_or(time::Date::MIN);
    if let Ok(text) = std::str::from_utf8(bytes) {
        if let Ok(brn) = Brn::parse(text) {
            assert_eq!(
                Brn::parse(brn.as_str()).ok(),
                Some(brn),
                "a parsed BRN parses to itself"
            );
        }
    }
    if let Ok(r) = parse_json::<RegisterBusinessRequest>(bytes) {
        if let Ok(business) = r.draft().validate(today) {
            assert_eq!(Brn::parse(business.brn.as_str()).ok(), Some(business.brn));
        }
        let _ = bauhinia_core::Hkid::parse(&r.administrator_hkid);
    }
    if let Ok(r) = parse_json::<StatusRequest>(bytes) {
        let _ = r.reason();
    }
    if let Ok(r) = parse_json::<GrantRequest>(bytes) {
        let _ = (role(&r.role, "/role"), bauhinia_core::Hkid::parse(&r.hkid));
    }
    if let Ok(r) = parse_json::<RoleRequest>(bytes) {
        let _ = role(&r.role, "/role");
    }
    if let Ok(r) = parse_json::<DelegationRequest>(bytes) {
        if let Ok((_, terms)) = r.terms(now) {
            assert!(terms.role.delegable() && terms.valid_until > now);
        }
    }
    if let Ok(r) = parse_json::<LicenceRequest>(bytes) {
        let _ = r.draft().validate();
    }
    if let Ok(r) = parse_json::<SigningPolicy>(bytes) {
        let _ = r.required();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn delegation_requests_name_every_fault() {
        let request = DelegationRequest {
            agent_brn: "1234".into(),
            role: "administrator".into(),
            valid_from: "yesterday".into(),
            valid_until: "2026-12-01T00:00:00Z".into(),
        };
        let Err(CorpIdError::Invalid(faults)) = request.terms(1_800_000_000) else {
            panic!("refused");
        };
        let fields: Vec<&str> = faults.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["/agent_brn", "/valid_from"]);
        let ok = DelegationRequest {
            agent_brn: "12345678".into(),
            role: "user".into(),
            valid_from: "2027-01-01T00:00:00Z".into(),
            valid_until: "2027-06-01T08:00:00+08:00".into(),
        };
        let (agent, terms) = ok.terms(1_790_000_000).expect("valid");
        assert_eq!(agent.as_str(), "12345678");
        assert_eq!(rfc3339(terms.valid_until), "2027-06-01T00:00:00Z");
    }

    proptest! {
        #[test]
        fn any_body_is_parsed_or_refused_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            fuzz_parse(&bytes);
        }

        #[test]
        fn any_json_shaped_body_is_parsed_or_refused(
            brn in "\\PC{0,10}", role in "(administrator|user|authorised_signatory|\\PC{0,8})",
            from in "\\PC{0,25}", until in "\\PC{0,25}",
        ) {
            let body = serde_json::json!({ "agent_brn": brn, "role": role, "valid_from": from, "valid_until": until });
            fuzz_parse(body.to_string().as_bytes());
        }
    }
}
