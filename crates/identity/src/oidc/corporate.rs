//! Corporate login (the `corpid` scope) inside the provider: the flat claims a service
//! receives about the business the resident acts for, and the words the flow answers with when
//! a representation is missing or has ended. The directory itself is behind
//! [`crate::corporate::CorporateDirectory`]; this module never asks it, `provider.rs` does.
//!
//! The claims are flat strings so any relying-party library reads them without a schema; they
//! never carry the resident's HKID, only the business's registration number and names and the
//! resident's role in it. `sub` stays the resident's pairwise identifier.

use serde::{Deserialize, Serialize};

use crate::corporate::{Particulars, Representation, SharedLicence};
use crate::oidc::fields::Field;

/// Every claim corporate login may release, for discovery's `claims_supported`.
pub const CLAIMS: [&str; 5] = [
    "corp_brn",
    "corp_name_en",
    "corp_name_zh",
    "corp_role",
    "corp_agent_brn",
];

/// A business id from outside (the consent form) longer than this is not looked up: the
/// directory's ids are short opaque strings, and a page must not make it search for a novel.
pub const BUSINESS_ID_MAX_CHARS: usize = 128;

/// Why a request for `corpid` is refused when the binary gave the provider no directory.
pub const NOT_AVAILABLE: &str = "corporate login is not available";
/// Why a corporate request ends when the resident acts for no business.
pub const NOT_REPRESENTATIVE: &str = "not a representative of any business";
/// Why a corporate grant stops issuing tokens.
pub const ENDED: &str =
    "the resident no longer represents the business this grant was made for (role revoked, business suspended or delegation ended)";

/// The claims of one representation: `corp_name_zh` only when the business has a Chinese
/// name, `corp_agent_brn` only when the resident acts through a delegation.
pub fn claims(representation: &Representation) -> serde_json::Map<String, serde_json::Value> {
    let mut claims = serde_json::Map::new();
    claims.insert("corp_brn".into(), representation.brn.clone().into());
    claims.insert("corp_name_en".into(), representation.name_en.clone().into());
    if !representation.name_zh.trim().is_empty() {
        claims.insert("corp_name_zh".into(), representation.name_zh.clone().into());
    }
    claims.insert("corp_role".into(), representation.role.clone().into());
    if let Some(agent) = &representation.via_agent_brn {
        claims.insert("corp_agent_brn".into(), agent.clone().into());
    }
    claims
}

/// The business's released fields as claims, from what the directory answered: the
/// particulars' `corp_form`, `corp_status`, `corp_address` (lines) and `corp_registered_on`
/// (`YYYY-MM-DD`), and `corp_licences`, an array of `{type, number, issuer, valid_from,
/// valid_until?, status}` (empty when the business shares none). A field whose source was not
/// read is left out; personal fields are not this function's.
pub fn business_claims(
    fields: &[Field],
    particulars: Option<&Particulars>,
    licences: Option<&[SharedLicence]>,
) -> serde_json::Map<String, serde_json::Value> {
    let mut claims = serde_json::Map::new();
    for field in fields {
        let value: Option<serde_json::Value> = match (field, particulars) {
            (Field::CorpForm, Some(p)) => Some(p.form.clone().into()),
            (Field::CorpStatus, Some(p)) => Some(p.status.clone().into()),
            (Field::CorpAddress, Some(p)) => Some(p.address.clone().into()),
            (Field::CorpRegisteredOn, Some(p)) => Some(p.registered_on.clone().into()),
            (Field::CorpLicences, _) => licences.and_then(|l| serde_json::to_value(l).ok()),
            _ => None,
        };
        if let Some(value) = value {
            claims.insert(field.as_str().to_owned(), value);
        }
    }
    claims
}

/// What the audit log and the consent receipt keep of a representation: the BRN, the role and
/// the agent, never a person's identity number.
pub fn audit_detail(representation: &Representation) -> serde_json::Value {
    serde_json::json!({
        "business": representation.business_id,
        "brn": representation.brn,
        "role": representation.role,
        "via_agent_brn": representation.via_agent_brn,
    })
}

/// Why an interaction was ended by the provider rather than by the resident, kept in the
/// interaction's `decision` column of a rejected request so the redirect can say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "denied")]
pub enum Denial {
    NotRepresentative,
}

/// What the business directory says about a grant's business now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantBusiness {
    /// Not a corporate grant.
    Personal,
    InForce(Representation),
    /// The representation has ended.
    Ended,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn representation(name_zh: &str, agent: Option<&str>) -> Representation {
        Representation {
            business_id: "b-1".into(),
            brn: "12345678".into(),
            name_en: "Harbour Trading Limited".into(),
            name_zh: name_zh.into(),
            role: "administrator".into(),
            via_agent_brn: agent.map(str::to_owned),
            valid_until: None,
        }
    }

    #[test]
    fn optional_claims_appear_only_when_they_say_something() {
        let plain = claims(&representation("", None));
        assert_eq!(
            plain.keys().map(String::as_str).collect::<Vec<_>>(),
            ["corp_brn", "corp_name_en", "corp_role"]
        );
        let full = claims(&representation("海港貿易有限公司", Some("87654321")));
        assert_eq!(full["corp_name_zh"], "海港貿易有限公司");
        assert_eq!(full["corp_agent_brn"], "87654321");
        assert!(full.keys().all(|k| CLAIMS.contains(&k.as_str())));
    }

    #[test]
    fn business_claims_carry_only_the_fields_asked_for() {
        let particulars = Particulars {
            business_id: "b-1".into(),
            brn: "12345678".into(),
            name_en: "Harbour Trading Limited".into(),
            name_zh: None,
            form: "private_limited_by_shares".into(),
            status: "active".into(),
            address: vec!["1 Queen's Road Central".into(), "Hong Kong".into()],
            registered_on: "2019-04-01".into(),
            directors: vec![crate::corporate::DirectorName {
                name_en: "CHAN, Tai Man".into(),
                name_zh: None,
                appointed_on: "2019-04-01".into(),
            }],
        };
        let licence = SharedLicence {
            licence_type: "General Restaurant Licence".into(),
            number: "2123456789".into(),
            issuer: "Food and Environmental Hygiene Department".into(),
            valid_from: "2025-04-01".into(),
            valid_until: None,
            status: "valid".into(),
        };
        let claims = business_claims(
            &[Field::CorpAddress, Field::CorpLicences],
            Some(&particulars),
            Some(std::slice::from_ref(&licence)),
        );
        assert_eq!(
            serde_json::Value::Object(claims),
            serde_json::json!({
                "corp_address": ["1 Queen's Road Central", "Hong Kong"],
                "corp_licences": [{
                    "type": "General Restaurant Licence",
                    "number": "2123456789",
                    "issuer": "Food and Environmental Hygiene Department",
                    "valid_from": "2025-04-01",
                    "status": "valid",
                }],
            })
        );
        let all: Vec<Field> = Field::ALL.to_vec();
        let every = business_claims(&all, Some(&particulars), Some(&[]));
        assert_eq!(
            every.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "corp_address",
                "corp_form",
                "corp_licences",
                "corp_registered_on",
                "corp_status"
            ]
        );
        assert!(!serde_json::to_string(&every)
            .unwrap_or_default()
            .contains("CHAN"));
        assert!(business_claims(&all, None, None).is_empty());
    }

    #[test]
    fn a_denial_reads_back_and_a_decision_is_not_one() {
        let text = serde_json::to_string(&Denial::NotRepresentative).unwrap_or_default();
        assert_eq!(text, r#"{"denied":"not_representative"}"#);
        assert_eq!(
            serde_json::from_str::<Denial>(&text).ok(),
            Some(Denial::NotRepresentative)
        );
        assert!(serde_json::from_str::<Denial>(r#"{"fields":[]}"#).is_err());
    }
}
