//! What the business pages show, made from the directory's types in the page's language:
//! names, roles, forms and statuses in words, times in Hong Kong Time, and the refusals of
//! the directory as plain sentences tied to the form field they concern.

use bauhinia_core::{ErrorCode, Lang};
use bauhinia_corpid::domain::signing::ApprovalRefusal;
use bauhinia_corpid::domain::{AccessRefusal, LicenceStatus, Role};
use bauhinia_corpid::store::{DelegationRow, LicenceRow};
use bauhinia_corpid::{Business, CorpIdError};
use bauhinia_identity::corporate::Representation;

use super::form::last_day;
use super::signing::SigningTexts;
use super::texts::BusinessTexts;
use crate::exchange::views::shown_date;

/// A business in the list of those the resident represents.
#[derive(Debug)]
pub struct Listed {
    pub brn: String,
    /// The name in the page's script first (Chinese on Chinese pages when there is one).
    pub name: String,
    pub other_name: String,
    pub role: String,
    /// `BRN name` of the agent, when the resident acts through a delegation.
    pub via: Option<String>,
    /// The delegation's last day.
    pub ends: Option<String>,
}

fn names(lang: Lang, name_en: &str, name_zh: &str) -> (String, String) {
    match lang {
        Lang::En => (name_en.to_owned(), name_zh.to_owned()),
        Lang::ZhHant | Lang::ZhHans if name_zh.is_empty() => (name_en.to_owned(), String::new()),
        Lang::ZhHant | Lang::ZhHans => (name_zh.to_owned(), name_en.to_owned()),
    }
}

/// `agent` is the agent's `BRN name` when the representation is through one.
pub fn listed(r: &Representation, agent: Option<String>, lang: Lang) -> Listed {
    let b = BusinessTexts::get(lang);
    let (name, other_name) = names(lang, &r.name_en, &r.name_zh);
    Listed {
        brn: r.brn.clone(),
        name,
        other_name,
        role: b.role_named(&r.role),
        via: agent,
        ends: r.valid_until.map(last_day),
    }
}

#[derive(Debug)]
pub struct DirectorView {
    pub name_en: String,
    pub name_zh: String,
    pub appointed_on: String,
}

#[derive(Debug)]
pub struct Particulars {
    pub brn: String,
    pub name: String,
    pub name_en: String,
    pub name_zh: String,
    pub form: &'static str,
    pub status: &'static str,
    pub status_key: &'static str,
    pub address: Vec<String>,
    pub registered_on: String,
    pub directors: Vec<DirectorView>,
    pub signatories_required: u8,
}

pub fn particulars(business: &Business, lang: Lang) -> Particulars {
    let b = BusinessTexts::get(lang);
    let name_zh = business.name_zh.clone().unwrap_or_default();
    Particulars {
        brn: business.brn.to_string(),
        name: names(lang, &business.name_en, &name_zh).0,
        name_en: business.name_en.clone(),
        name_zh,
        form: b.form(business.form),
        status: b.status(business.status),
        status_key: business.status.as_str(),
        address: business.address.clone(),
        registered_on: business.registered_on.clone(),
        directors: business
            .directors
            .iter()
            .map(|d| DirectorView {
                name_en: d.name_en.clone(),
                name_zh: d.name_zh.clone().unwrap_or_default(),
                appointed_on: d.appointed_on.clone(),
            })
            .collect(),
        signatories_required: business.signatories_required,
    }
}

#[derive(Debug)]
pub struct RepresentativeView {
    pub resident_id: String,
    pub name: String,
    pub hkid_masked: String,
    pub role: String,
    pub role_key: String,
    pub since: String,
    /// The signed-in resident's own row.
    pub me: bool,
}

#[derive(Debug)]
pub struct DelegationView {
    pub id: String,
    /// The other business: the agent of a delegation given, the client of one held.
    pub other_brn: String,
    pub other_name: String,
    pub role: String,
    pub from: String,
    pub until: String,
    pub state: &'static str,
    pub state_key: &'static str,
    /// Given by this business and neither revoked nor ended.
    pub revocable: bool,
}

/// The delegations of `business_id`: (given to agents, held as an agent).
pub fn delegations(
    rows: &[DelegationRow],
    business_id: &str,
    now: i64,
    lang: Lang,
) -> (Vec<DelegationView>, Vec<DelegationView>) {
    let b = BusinessTexts::get(lang);
    let mut given = Vec::new();
    let mut held = Vec::new();
    for row in rows {
        let (state_key, state) = match row.revoked_at_s {
            Some(_) => ("revoked", b.state_revoked),
            None if now < row.valid_from_s => ("pending", b.state_pending),
            None if now < row.valid_until_s => ("in_force", b.state_in_force),
            None => ("ended", b.state_ended),
        };
        let is_given = row.client_id == business_id;
        let (other_brn, other_name) = if is_given {
            (&row.agent_brn, &row.agent_name_en)
        } else {
            (&row.client_brn, &row.client_name_en)
        };
        let view = DelegationView {
            id: row.id.clone(),
            other_brn: other_brn.clone(),
            other_name: other_name.clone(),
            role: b.role_named(&row.role),
            from: shown_date(row.valid_from_s),
            until: last_day(row.valid_until_s),
            state,
            state_key,
            revocable: is_given && matches!(state_key, "pending" | "in_force"),
        };
        if is_given {
            given.push(view);
        } else {
            held.push(view);
        }
    }
    (given, held)
}

#[derive(Debug)]
pub struct LicenceView {
    pub id: String,
    pub licence_type: String,
    pub number: String,
    pub issuer: String,
    pub from: String,
    pub until: String,
    pub status: String,
    pub status_key: String,
    pub shared: bool,
}

pub fn licence(row: &LicenceRow, lang: Lang) -> LicenceView {
    let b = BusinessTexts::get(lang);
    LicenceView {
        id: row.id.clone(),
        licence_type: row.licence_type.clone(),
        number: row.number.clone(),
        issuer: row.issuer.clone(),
        from: row.valid_from.clone(),
        until: row.valid_until.clone().unwrap_or_default(),
        status: LicenceStatus::parse(&row.status)
            .map_or_else(|| row.status.clone(), |s| b.licence_status(s).to_owned()),
        status_key: row.status.clone(),
        shared: row.shared != 0,
    }
}

/// A choice of a select: its value and words.
#[derive(Debug, Clone, Copy)]
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
}

pub fn roles(lang: Lang) -> Vec<Choice> {
    let b = BusinessTexts::get(lang);
    Role::ALL
        .iter()
        .map(|r| Choice {
            value: r.as_str(),
            label: b.role(*r),
        })
        .collect()
}

/// The roles a delegation may carry (administration is never delegated).
pub fn delegable_roles(lang: Lang) -> Vec<Choice> {
    roles(lang)
        .into_iter()
        .filter(|c| Role::parse(c.value).is_some_and(Role::delegable))
        .collect()
}

pub fn licence_statuses(lang: Lang) -> Vec<Choice> {
    let b = BusinessTexts::get(lang);
    LicenceStatus::ALL
        .iter()
        .map(|s| Choice {
            value: s.as_str(),
            label: b.licence_status(*s),
        })
        .collect()
}

/// Which form a refusal answers: where its summary links to, and what its fields are called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormKind {
    Grant,
    /// The role select of one representative's row.
    Role,
    Revoke,
    Delegation,
    RevokeDelegation,
    Licence,
    RemoveLicence,
    Policy,
    /// The form that starts a company signature.
    Sign,
}

impl FormKind {
    /// The element the summary links to when the refusal names no field.
    fn anchor(self) -> &'static str {
        match self {
            FormKind::Grant => "grant-hkid",
            FormKind::Role | FormKind::Revoke => "representatives",
            FormKind::Delegation => "delegation-agent",
            FormKind::RevokeDelegation => "delegations",
            FormKind::Licence => "licence-type",
            FormKind::RemoveLicence => "licences",
            FormKind::Policy => "policy-1",
            FormKind::Sign => "sign-file",
        }
    }

    /// The input a JSON Pointer of the directory names in this form, and what to say.
    fn field(
        self,
        pointer: &str,
        b: &BusinessTexts,
        g: &SigningTexts,
    ) -> (&'static str, &'static str) {
        match (self, pointer) {
            (FormKind::Grant, "/hkid") => ("grant-hkid", b.f_hkid),
            (FormKind::Grant, _) => ("grant-role", b.f_role),
            (FormKind::Delegation, "/agent_brn") => ("delegation-agent", b.f_agent_brn),
            (FormKind::Delegation, "/role") => ("delegation-role", b.f_delegation_role),
            (FormKind::Delegation, "/valid_from") => ("delegation-from", b.f_delegation_from),
            (FormKind::Delegation, _) => ("delegation-until", b.f_delegation_until),
            (FormKind::Licence, "/number") => ("licence-number", b.f_licence_number),
            (FormKind::Licence, "/issuer") => ("licence-issuer", b.f_licence_issuer),
            (FormKind::Licence, "/valid_from") => ("licence-from", b.f_licence_from),
            (FormKind::Licence, "/valid_until") => ("licence-until", b.f_licence_until),
            (FormKind::Licence, "/status") => ("licence-status", b.f_licence_status),
            (FormKind::Licence, _) => ("licence-type", b.f_licence_type),
            (FormKind::Policy, _) => ("policy-1", b.f_signatories),
            (FormKind::Role, _) => ("representatives", b.f_role),
            (FormKind::Sign, "/document_name") => ("sign-name", g.f_name),
            (FormKind::Sign, "/type") => ("sign-type", g.f_kind),
            (FormKind::Sign, _) => ("sign-hash", g.f_hash),
            (FormKind::Revoke | FormKind::RevokeDelegation | FormKind::RemoveLicence, _) => {
                (self.anchor(), b.err_invalid)
            }
        }
    }
}

/// One line of an error summary: the element it concerns and what to do.
#[derive(Debug, Clone)]
pub struct ErrorItem {
    pub anchor: String,
    pub message: String,
}

/// A refusal of the directory as a page shows it: a heading, the stable code, and one line
/// per fault.
#[derive(Debug, Clone)]
pub struct ErrorView {
    pub title: String,
    pub code: &'static str,
    pub items: Vec<ErrorItem>,
}

impl ErrorView {
    /// What to say next to the input `id`, if the refusal concerns it.
    pub fn about(&self, id: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|i| i.anchor == id)
            .map(|i| i.message.as_str())
    }
}

/// The code and sentence of a refusal that names no field; `None` for a failure that is not
/// the caller's to mend (the store, a corrupt record).
fn refusal(
    error: &CorpIdError,
    b: &BusinessTexts,
    g: &SigningTexts,
) -> Option<(ErrorCode, &'static str)> {
    Some(match error {
        CorpIdError::Access(AccessRefusal::NotAdministrator) => {
            (ErrorCode::CorpidNotAdministrator, b.err_not_administrator)
        }
        CorpIdError::Access(AccessRefusal::RoleExists) => {
            (ErrorCode::CorpidRoleExists, b.err_role_exists)
        }
        CorpIdError::Access(AccessRefusal::NotRepresentative) => (
            ErrorCode::CorpidRepresentativeNotFound,
            b.err_representative_not_found,
        ),
        CorpIdError::Access(AccessRefusal::LastAdministrator) => {
            (ErrorCode::CorpidLastAdministrator, b.err_last_administrator)
        }
        CorpIdError::Access(AccessRefusal::NotActive) | CorpIdError::BusinessNotFound => {
            (ErrorCode::CorpidBusinessNotFound, b.not_found_body)
        }
        CorpIdError::BusinessState(_) | CorpIdError::BusinessExists => {
            (ErrorCode::CorpidBusinessState, b.err_business_state)
        }
        CorpIdError::ResidentNotFound => {
            (ErrorCode::CorpidResidentNotFound, b.err_resident_not_found)
        }
        CorpIdError::DelegationNotFound => (
            ErrorCode::CorpidDelegationNotFound,
            b.err_delegation_not_found,
        ),
        CorpIdError::DelegationExists => {
            (ErrorCode::CorpidDelegationExists, b.err_delegation_exists)
        }
        CorpIdError::DelegationState => (ErrorCode::CorpidDelegationState, b.err_delegation_state),
        CorpIdError::LicenceNotFound => (ErrorCode::CorpidLicenceNotFound, b.err_licence_not_found),
        CorpIdError::LicenceExists => (ErrorCode::CorpidLicenceExists, b.err_licence_exists),
        CorpIdError::LicenceLimit => (ErrorCode::CorpidLicenceLimit, b.err_licence_limit),
        // Starting a signature: who may not.
        CorpIdError::Approval(ApprovalRefusal::RoleInsufficient) => {
            (ErrorCode::CorpidSigningRoleInsufficient, g.err_role)
        }
        CorpIdError::Approval(ApprovalRefusal::DelegationEnded) => (
            ErrorCode::CorpidSigningDelegationEnded,
            g.err_delegation_ended,
        ),
        CorpIdError::Approval(ApprovalRefusal::BusinessInactive) => {
            (ErrorCode::CorpidSigningBusinessInactive, g.err_inactive)
        }
        CorpIdError::Approval(ApprovalRefusal::NotRepresentative) => {
            (ErrorCode::CorpidSigningNotRepresentative, b.not_found_body)
        }
        // What only approvals in the app and services meet.
        CorpIdError::Invalid(_)
        | CorpIdError::Import { .. }
        | CorpIdError::SigningInvalid(_)
        | CorpIdError::SigningRequestNotFound
        | CorpIdError::SigningRequestNotPending(_)
        | CorpIdError::SigningRequestExpired
        | CorpIdError::Approval(ApprovalRefusal::AlreadyApproved)
        | CorpIdError::SignatureMalformed(_)
        | CorpIdError::Signing(_)
        | CorpIdError::Crypto(_)
        | CorpIdError::Corrupt(_)
        | CorpIdError::Store(_) => return None,
    })
}

/// The refusal `error` of a `kind` form as the page shows it, with its stable code; `None`
/// when it is not a refusal but a failure (answered as an internal error).
pub fn explain(error: &CorpIdError, kind: FormKind, lang: Lang) -> Option<(ErrorCode, ErrorView)> {
    let b = BusinessTexts::get(lang);
    let g = SigningTexts::get(lang);
    let invalid = match error {
        CorpIdError::Invalid(faults) => Some((ErrorCode::CorpidInvalid, faults)),
        CorpIdError::SigningInvalid(faults) => {
            Some((ErrorCode::CorpidSigningRequestInvalid, faults))
        }
        _ => None,
    };
    if let Some((code, faults)) = invalid {
        let mut items: Vec<ErrorItem> = Vec::new();
        for fault in faults {
            let (anchor, message) = kind.field(&fault.field, b, g);
            // Two faults of one input (say, a date both unreadable and out of range) are one line.
            if !items.iter().any(|i| i.anchor == anchor) {
                items.push(ErrorItem {
                    anchor: anchor.to_owned(),
                    message: message.to_owned(),
                });
            }
        }
        return Some((
            code,
            ErrorView {
                title: b.err_invalid.to_owned(),
                code: code.code(),
                items,
            },
        ));
    }
    let (code, message) = refusal(error, b, g)?;
    Some((
        code,
        ErrorView {
            title: b.err_refused.to_owned(),
            code: code.code(),
            items: vec![ErrorItem {
                anchor: kind.anchor().to_owned(),
                message: format!("{message} {}", b.nothing_changed),
            }],
        },
    ))
}

/// A company signing request in the business's signing history.
#[derive(Debug)]
pub struct SignatureRecordView {
    pub id: String,
    pub document: String,
    pub kind: &'static str,
    pub kind_key: &'static str,
    pub status: &'static str,
    pub status_key: &'static str,
    pub requested: String,
    /// Empty while pending.
    pub decided: String,
    /// Given of required, `1/2`.
    pub approvals: String,
    /// The approvers' names, in the order they approved.
    pub signers: Vec<String>,
    /// Whether the signature is there to download.
    pub signed: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use bauhinia_corpid::domain::FieldFault;

    fn refusals() -> Vec<CorpIdError> {
        vec![
            CorpIdError::Access(AccessRefusal::NotAdministrator),
            CorpIdError::Access(AccessRefusal::RoleExists),
            CorpIdError::Access(AccessRefusal::NotRepresentative),
            CorpIdError::Access(AccessRefusal::LastAdministrator),
            CorpIdError::ResidentNotFound,
            CorpIdError::DelegationNotFound,
            CorpIdError::DelegationExists,
            CorpIdError::DelegationState,
            CorpIdError::LicenceNotFound,
            CorpIdError::LicenceExists,
            CorpIdError::LicenceLimit,
        ]
    }

    #[test]
    fn every_refusal_has_words_and_the_apis_code_in_three_languages() {
        for lang in Lang::ALL {
            for (i, error) in refusals().iter().enumerate() {
                let (code, view) = explain(error, FormKind::Grant, lang).expect("a refusal");
                assert_eq!(view.code, code.code());
                // The page names the refusal by the code the JSON API answers for it.
                let api = bauhinia_core::Problem::from(refusals().remove(i)).code;
                assert_eq!(api, code, "{error}");
                assert!(!view.title.is_empty() && view.items.len() == 1);
            }
        }
        assert!(explain(&CorpIdError::Corrupt("x".into()), FormKind::Grant, Lang::En).is_none());
    }

    #[test]
    fn field_faults_point_at_their_inputs_once() {
        let error = CorpIdError::Invalid(vec![
            FieldFault::new("/agent_brn", "x"),
            FieldFault::new("/valid_until", "x"),
            FieldFault::new("/valid_until", "y"),
        ]);
        let (code, view) = explain(&error, FormKind::Delegation, Lang::ZhHant).expect("shown");
        assert_eq!(code, ErrorCode::CorpidInvalid);
        let anchors: Vec<&str> = view.items.iter().map(|i| i.anchor.as_str()).collect();
        assert_eq!(anchors, ["delegation-agent", "delegation-until"]);
        assert_eq!(
            view.about("delegation-agent"),
            Some(BusinessTexts::get(Lang::ZhHant).f_agent_brn)
        );
    }
}
