//! CDEG's Companies Registry route: the product `cdeg.company_particulars` of the participant
//! `companies-registry`, served from the business directory (数码企业身份 CorpID) instead of
//! the sandbox, and the rule on who owns such a consent.
//!
//! The exchange never depends on `bauhinia-corpid`: it reads the directory through identity's
//! seam, [`CorporateDirectory`], which the binary hands over once with
//! [`crate::Exchange::set_corporate_directory`]. Without one (a test, a tool), the product is
//! the sandbox's like every other.
//!
//! The rule: a company's particulars are the company's, so a consent for them names the
//! company by its Business Registration number, and its representative must be an
//! administrator of that business (a role CorpID never delegates) when the consumer asks, and
//! again when the representative approves or resumes it. A business registered under Cap. 310
//! (a sole proprietorship or partnership) is not on the Companies Register and is refused.
//! What the registry releases is the register's: names, form, status, registered office,
//! date of incorporation and directors by name and date of appointment — never a director's
//! identity number or resident id (the seam carries none).

use std::sync::{Arc, OnceLock};

use bauhinia_core::FieldError;
use bauhinia_identity::corporate::{CorporateDirectory, Particulars};
use serde_json::{json, Value};

use crate::consent::domain::{ConsentTerms, Owner};
use crate::products::ProductId;

/// The Companies Registry's participant id in the directory (and the demo's).
pub const COMPANIES_REGISTRY: &str = "companies-registry";

/// The forms the Companies Register holds (Cap. 622); the others are Cap. 310's.
const REGISTER_FORMS: [&str; 4] = [
    "private_limited_by_shares",
    "public_limited_by_shares",
    "limited_by_guarantee",
    "registered_non_hong_kong",
];

/// Why the registry could not answer.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The business named is not a company on the register (any more).
    #[error("the Companies Registry has no company with this BRN")]
    NotOnRegister,
    #[error("the business directory: {0}")]
    Directory(String),
}

/// The business directory behind the Companies Registry, once the binary sets it.
#[derive(Debug, Default)]
pub struct Registry {
    directory: OnceLock<Arc<dyn CorporateDirectory>>,
}

/// Whether a business's legal form is on the Companies Register.
pub fn on_register(particulars: &Particulars) -> bool {
    REGISTER_FORMS.contains(&particulars.form.as_str())
}

/// Whether consents of these terms fall under the registry's rule: they ask the registry for
/// company particulars.
fn concerns_registry(terms: &ConsentTerms) -> bool {
    terms
        .products
        .iter()
        .any(|p| p.as_str() == ProductId::CompanyParticulars.as_str())
        && terms
            .providers
            .iter()
            .any(|p| p.as_str() == COMPANIES_REGISTRY)
}

impl Registry {
    /// Hands over the directory. Once only: a second one is handed back unused.
    pub fn set(
        &self,
        directory: Arc<dyn CorporateDirectory>,
    ) -> Result<(), Arc<dyn CorporateDirectory>> {
        self.directory.set(directory)
    }

    fn directory(&self) -> Option<&dyn CorporateDirectory> {
        self.directory.get().map(|d| d.as_ref())
    }

    /// Whether `provider`'s `product` comes from the directory rather than the sandbox.
    pub fn serves(&self, provider: &str, product: ProductId) -> bool {
        self.directory().is_some()
            && provider == COMPANIES_REGISTRY
            && product == ProductId::CompanyParticulars
    }

    /// The faults of `terms` under the registry's rule at `now_s` (none for terms it does not
    /// concern, or without a directory), each named by JSON Pointer.
    pub async fn owner_faults(
        &self,
        terms: &ConsentTerms,
        now_s: i64,
    ) -> Result<Vec<FieldError>, RegistryError> {
        let Some(directory) = self.directory().filter(|_| concerns_registry(terms)) else {
            return Ok(Vec::new());
        };
        let Owner::Company {
            company,
            representative,
        } = &terms.owner
        else {
            return Ok(vec![FieldError::new(
                "/owner",
                "the Companies Registry's company particulars belong to a company: name it by its Business Registration number, with an administrator as representative",
            )]);
        };
        let particulars = directory
            .particulars(company.as_str())
            .await
            .map_err(|e| RegistryError::Directory(e.to_string()))?;
        if !particulars.as_ref().is_some_and(on_register) {
            return Ok(vec![FieldError::new(
                "/owner/company",
                "is not the Business Registration number of a company on the Companies Register",
            )]);
        }
        if !self
            .administers(representative.as_str(), company.as_str(), now_s)
            .await?
        {
            return Ok(vec![FieldError::new(
                "/owner/representative",
                "is not an administrator of this company in CorpID",
            )]);
        }
        Ok(Vec::new())
    }

    /// Whether the resident administers the business under `brn` at `now_s`. Administration is
    /// never delegated, so only the business's own administrators count.
    async fn administers(
        &self,
        resident: &str,
        brn: &str,
        now_s: i64,
    ) -> Result<bool, RegistryError> {
        let Some(directory) = self.directory() else {
            return Ok(false);
        };
        Ok(directory
            .representations(resident, now_s)
            .await
            .map_err(|e| RegistryError::Directory(e.to_string()))?
            .iter()
            .any(|r| r.brn == brn && r.role == "administrator" && r.via_agent_brn.is_none()))
    }

    /// Whether the approver of a consent under the registry's rule may still approve or
    /// resume it: true for consents the rule does not concern.
    pub async fn approver_holds(
        &self,
        terms: &ConsentTerms,
        now_s: i64,
    ) -> Result<bool, RegistryError> {
        if self.directory().is_none() || !concerns_registry(terms) {
            return Ok(true);
        }
        match &terms.owner {
            Owner::Company {
                company,
                representative,
            } => {
                self.administers(representative.as_str(), company.as_str(), now_s)
                    .await
            }
            Owner::Resident(_) => Ok(false),
        }
    }

    /// The company particulars document of the company under `brn`, following the product's
    /// schema; `header` holds the product, owner, provider and dates.
    pub async fn company_particulars(
        &self,
        brn: &str,
        header: serde_json::Map<String, Value>,
    ) -> Result<Value, RegistryError> {
        let directory = self
            .directory()
            .ok_or_else(|| RegistryError::Directory("no business directory".into()))?;
        let particulars = directory
            .particulars(brn)
            .await
            .map_err(|e| RegistryError::Directory(e.to_string()))?
            .filter(on_register)
            .ok_or(RegistryError::NotOnRegister)?;
        let mut doc = header;
        if let Value::Object(body) = document(&particulars) {
            doc.extend(body);
        }
        Ok(Value::Object(doc))
    }
}

/// CorpID's status as the register's: an active company is live; a suspended or dissolved
/// one says so.
fn register_status(status: &str) -> &'static str {
    match status {
        "suspended" => "suspended",
        "dissolved" => "dissolved",
        _ => "live",
    }
}

/// The body of the document: the register's particulars of one company.
pub fn document(particulars: &Particulars) -> Value {
    let directors: Vec<Value> = particulars
        .directors
        .iter()
        .map(|d| {
            let mut director = json!({ "name_en": d.name_en, "appointed": d.appointed_on });
            if let (Some(object), Some(zh)) = (director.as_object_mut(), &d.name_zh) {
                object.insert("name_zh".into(), json!(zh));
            }
            director
        })
        .collect();
    let mut body = json!({
        "brn": particulars.brn,
        "name_en": particulars.name_en,
        "company_type": particulars.form,
        "incorporation_date": particulars.registered_on,
        "status": register_status(&particulars.status),
        "registered_office": particulars.address,
        "directors": directors,
    });
    if let (Some(object), Some(zh)) = (body.as_object_mut(), &particulars.name_zh) {
        object.insert("name_zh".into(), json!(zh));
    }
    body
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use super::*;
    use bauhinia_identity::corporate::DirectorName;
    use time::Date;

    fn particulars(form: &str, status: &str) -> Particulars {
        Particulars {
            business_id: "b-1".into(),
            brn: "91234567".into(),
            name_en: "Harbour Lantern Trading Limited".into(),
            name_zh: Some("港燈貿易有限公司".into()),
            form: form.into(),
            status: status.into(),
            address: vec![
                "Unit 1203, 12/F".into(),
                "8 Science Park West Avenue".into(),
            ],
            registered_on: "2019-04-01".into(),
            directors: vec![
                DirectorName {
                    name_en: "CHAN, Tai Man".into(),
                    name_zh: Some("陳大文".into()),
                    appointed_on: "2019-04-01".into(),
                },
                DirectorName {
                    name_en: "WONG, Siu Ming".into(),
                    name_zh: None,
                    appointed_on: "2021-07-15".into(),
                },
            ],
        }
    }

    /// Every form and status on the register makes a document the product's schema accepts.
    #[test]
    fn documents_follow_the_products_schema() {
        let schema: Value = serde_json::from_str(ProductId::CompanyParticulars.schema()).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let day = Date::from_calendar_date(2026, time::Month::March, 1).unwrap();
        for form in REGISTER_FORMS {
            for status in ["active", "suspended", "dissolved"] {
                let p = particulars(form, status);
                assert!(on_register(&p));
                let mut doc = crate::sandbox::header(&crate::sandbox::SandboxRequest {
                    product: ProductId::CompanyParticulars,
                    owner: &p.brn,
                    provider: COMPANIES_REGISTRY,
                    bank_code: None,
                    from: day,
                    to: day,
                    accounts: &[],
                });
                if let Value::Object(body) = document(&p) {
                    doc.extend(body);
                }
                let doc = Value::Object(doc);
                let errors: Vec<String> =
                    validator.iter_errors(&doc).map(|e| e.to_string()).collect();
                assert!(errors.is_empty(), "{form} {status}: {errors:?}");
                assert_eq!(doc["status"], register_status(status));
            }
        }
        assert!(!on_register(&particulars("sole_proprietorship", "active")));
        assert!(!on_register(&particulars("partnership", "active")));
    }
}
