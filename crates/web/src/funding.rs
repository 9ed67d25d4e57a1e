//! The Funding Easy questionnaire and results. The form is a plain GET form, so results have
//! an address that can be bookmarked, shared and reloaded; it is parsed here into the same
//! domain draft the JSON API uses, and validated by the same domain rule.

use bauhinia_core::Lang;
use bauhinia_funding::domain::{
    ApplicantType, Location, Profile, ProfileDraft, Purpose, Sector, University,
};

use crate::texts::Texts;

/// An option of a select or checkbox group, as shown.
#[derive(Debug)]
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

/// One invalid field, for the error summary.
#[derive(Debug)]
pub struct FormError {
    pub field: String,
    pub label: &'static str,
    pub message: &'static str,
}

/// The questionnaire as the visitor filled it in, for re-display.
#[derive(Debug)]
pub struct FormView {
    pub applicant_types: Vec<Choice>,
    pub sectors: Vec<Choice>,
    pub locations: Vec<Choice>,
    pub universities: Vec<Choice>,
    pub purposes: Vec<Choice>,
    pub employees: String,
    pub years_operating: String,
    pub project_cost_hkd: String,
    pub production_line: bool,
    pub errors: Vec<FormError>,
}

impl FormView {
    pub fn error(&self, field: &str) -> Option<&'static str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message)
    }
}

/// The raw answers: every value as the browser sent it.
#[derive(Debug, Default)]
pub struct Answers {
    applicant_type: String,
    sectors: Vec<String>,
    locations: Vec<String>,
    university: String,
    purposes: Vec<String>,
    employees: String,
    years_operating: String,
    project_cost_hkd: String,
    production_line: bool,
}

/// Answers per field at most; a longer query is cut rather than parsed without end.
const PAIRS_MAX: usize = 256;

impl Answers {
    pub fn parse(query: &str) -> Answers {
        let mut answers = Answers::default();
        for (key, value) in form_urlencoded::parse(query.as_bytes()).take(PAIRS_MAX) {
            let value = value.into_owned();
            match key.as_ref() {
                "applicant_type" => answers.applicant_type = value,
                "sectors" => answers.sectors.push(value),
                "locations" => answers.locations.push(value),
                "university" => answers.university = value,
                "purposes" => answers.purposes.push(value),
                "employees" => answers.employees = value,
                "years_operating" => answers.years_operating = value,
                "project_cost_hkd" => answers.project_cost_hkd = value,
                "operates_production_line_in_hk" => answers.production_line = value == "true",
                _ => {}
            }
        }
        answers
    }

    /// Parses into a draft; values that are not even of the right kind are reported by field.
    fn to_draft(&self) -> (ProfileDraft, Vec<&'static str>) {
        let mut bad = Vec::new();
        let applicant_type = ApplicantType::parse(&self.applicant_type);
        if applicant_type.is_none() {
            bad.push("applicant_type");
        }
        let mut list = |values: &[String], field: &'static str, parse: &dyn Fn(&str) -> bool| {
            if values.iter().any(|v| !parse(v)) {
                bad.push(field);
            }
        };
        list(&self.sectors, "sectors", &|v| Sector::parse(v).is_some());
        list(&self.locations, "locations", &|v| {
            Location::parse(v).is_some()
        });
        list(&self.purposes, "purposes", &|v| Purpose::parse(v).is_some());
        let number =
            |text: &str, field: &'static str, bad: &mut Vec<&'static str>| -> Option<i64> {
                let text = text.trim();
                if text.is_empty() {
                    return None;
                }
                let parsed = text.parse::<i64>().ok();
                if parsed.is_none() {
                    bad.push(field);
                }
                parsed
            };
        let employees = number(&self.employees, "employees", &mut bad);
        let years_operating = number(&self.years_operating, "years_operating", &mut bad);
        let university = match self.university.as_str() {
            "" => None,
            other => {
                let parsed = University::parse(other);
                if parsed.is_none() {
                    bad.push("university");
                }
                parsed
            }
        };
        let draft = ProfileDraft {
            applicant_type,
            sectors: self
                .sectors
                .iter()
                .filter_map(|v| Sector::parse(v))
                .collect(),
            employees,
            years_operating,
            locations: self
                .locations
                .iter()
                .filter_map(|v| Location::parse(v))
                .collect(),
            university,
            purposes: self
                .purposes
                .iter()
                .filter_map(|v| Purpose::parse(v))
                .collect(),
            project_cost_hkd: Some(self.project_cost_hkd.clone()),
            operates_production_line_in_hk: self.production_line,
            current_grants: Vec::new(),
        };
        (draft, bad)
    }

    /// A valid profile, or the form to show again with its errors.
    pub fn validate(&self, lang: Lang) -> Result<Profile, Box<FormView>> {
        let (draft, mut bad) = self.to_draft();
        match Profile::validate(&draft) {
            Ok(profile) if bad.is_empty() => Ok(profile),
            Ok(_) => Err(Box::new(self.view(lang, &bad))),
            Err(errors) => {
                for e in &errors {
                    let field = e.field.split('/').next().unwrap_or("");
                    if let Some(known) = FIELDS.iter().find(|f| **f == field) {
                        bad.push(known);
                    }
                }
                Err(Box::new(self.view(lang, &bad)))
            }
        }
    }

    pub fn view(&self, lang: Lang, bad_fields: &[&'static str]) -> FormView {
        let t = Texts::get(lang);
        let mut errors: Vec<FormError> = Vec::new();
        for field in FIELDS {
            if bad_fields.contains(field) {
                errors.push(FormError {
                    field: (*field).to_owned(),
                    label: field_label(t, field),
                    message: field_message(t, field),
                });
            }
        }
        let selected = if self.applicant_type.is_empty() {
            "company"
        } else {
            self.applicant_type.as_str()
        };
        let university = if self.university.is_empty() {
            "none"
        } else {
            self.university.as_str()
        };
        FormView {
            applicant_types: ApplicantType::ALL
                .iter()
                .map(|a| Choice {
                    value: a.as_str(),
                    label: a.label(lang),
                    checked: a.as_str() == selected,
                })
                .collect(),
            sectors: checkboxes(Sector::ALL, &self.sectors, |s| (s.as_str(), s.label(lang))),
            locations: checkboxes(Location::ALL, &self.locations, |l| {
                (l.as_str(), l.label(lang))
            }),
            universities: University::ALL
                .iter()
                .map(|u| Choice {
                    value: u.as_str(),
                    label: u.label(lang),
                    checked: u.as_str() == university,
                })
                .collect(),
            purposes: checkboxes(Purpose::ALL, &self.purposes, |p| {
                (p.as_str(), p.label(lang))
            }),
            employees: self.employees.clone(),
            years_operating: self.years_operating.clone(),
            project_cost_hkd: self.project_cost_hkd.clone(),
            production_line: self.production_line,
            errors,
        }
    }
}

/// A demo profile: one click fills in the questionnaire's answers and shows the results.
#[derive(Debug)]
pub struct Example {
    pub label: &'static str,
    pub query: &'static str,
}

/// The demo profiles (shown only when demo data is loaded).
pub fn examples(lang: Lang) -> Vec<Example> {
    let pick = |hant, hans, en| lang.pick(hant, hans, en);
    vec![
        Example {
            label: pick("30 人香港製造商：2,000 萬元智能生產線", "30 人香港制造商：2,000 万元智能生产线", "30-person Hong Kong manufacturer: HK$20M smart production line"),
            query: "applicant_type=manufacturer&sectors=manufacturing&employees=30&years_operating=12&locations=hong_kong&university=none&purposes=smart_production_line&project_cost_hkd=20000000&operates_production_line_in_hk=true",
        },
        Example {
            label: pick("大學研發團隊：研發成果商品化", "大学研发团队：研发成果商品化", "University research team commercialising a result"),
            query: "applicant_type=university_team&locations=hong_kong&university=hkust&purposes=commercialisation&project_cost_hkd=3000000",
        },
        Example {
            label: pick("10 人零售中小企：採用現成數碼方案", "10 人零售中小企：采用现成数码方案", "10-person retail SME adopting off-the-shelf digital tools"),
            query: "applicant_type=sme&sectors=retail&employees=10&years_operating=5&locations=hong_kong&university=none&purposes=digital_adoption",
        },
        Example {
            label: pick("生命健康科技製造：4 億元項目", "生命健康科技制造：4 亿元项目", "Life-science manufacturing: HK$400M project"),
            query: "applicant_type=manufacturer&sectors=life_health_technology&sectors=manufacturing&employees=200&locations=hong_kong&university=none&purposes=smart_production_line&project_cost_hkd=400000000&operates_production_line_in_hk=true",
        },
    ]
}

const FIELDS: &[&str] = &[
    "applicant_type",
    "sectors",
    "employees",
    "years_operating",
    "locations",
    "university",
    "purposes",
    "project_cost_hkd",
];

fn checkboxes<T: Copy>(
    all: &[T],
    chosen: &[String],
    describe: impl Fn(T) -> (&'static str, &'static str),
) -> Vec<Choice> {
    all.iter()
        .map(|item| {
            let (value, label) = describe(*item);
            Choice {
                value,
                label,
                checked: chosen.iter().any(|c| c == value),
            }
        })
        .collect()
}

fn field_label(t: &'static Texts, field: &str) -> &'static str {
    match field {
        "applicant_type" => t.field_applicant_type,
        "sectors" => t.field_sectors,
        "employees" => t.field_employees,
        "years_operating" => t.field_years_operating,
        "locations" => t.field_locations,
        "university" => t.field_university,
        "purposes" => t.field_purposes,
        _ => t.field_project_cost,
    }
}

/// The error message of a field is its rule, stated positively in the visitor's language.
fn field_message(t: &'static Texts, field: &str) -> &'static str {
    match field {
        "employees" => t.hint_employees,
        "years_operating" => t.hint_years_operating,
        "purposes" => t.hint_purposes,
        "project_cost_hkd" => t.hint_project_cost,
        _ => t.error_generic,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_filled_form() {
        let answers = Answers::parse(
            "applicant_type=manufacturer&sectors=manufacturing&employees=30&locations=hong_kong\
             &purposes=smart_production_line&project_cost_hkd=20000000&operates_production_line_in_hk=true",
        );
        let profile = answers.validate(Lang::En).expect("valid");
        assert_eq!(profile.employees, Some(30));
        assert_eq!(profile.project_cost.map(|m| m.minor), Some(2_000_000_000));
        assert!(profile.operates_production_line_in_hk);
    }

    #[test]
    fn reports_bad_fields() {
        let check = |query: &str, expected: &[&str]| {
            let view = Answers::parse(query)
                .validate(Lang::ZhHant)
                .expect_err("invalid");
            let fields: Vec<_> = view.errors.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(fields, expected, "{query}");
        };
        check(
            "applicant_type=company&purposes=digital_adoption&employees=-5",
            &["employees"],
        );
        check(
            "applicant_type=company&purposes=digital_adoption&employees=abc",
            &["employees"],
        );
        check(
            "applicant_type=nope&purposes=digital_adoption",
            &["applicant_type"],
        );
        check("applicant_type=company", &["purposes"]);
        check("applicant_type=company&purposes=x", &["purposes"]);
        check(
            "applicant_type=company&purposes=digital_adoption&project_cost_hkd=1,000",
            &["project_cost_hkd"],
        );
        check(
            "applicant_type=company&purposes=digital_adoption&university=mit",
            &["university"],
        );
    }

    proptest::proptest! {
        /// Any query string: parsed and validated, or refused with a form to show — never a panic.
        #[test]
        fn any_query_is_handled(query in "\\PC{0,200}", lang in proptest::sample::select(Lang::ALL.to_vec())) {
            let answers = Answers::parse(&query);
            if let Err(view) = answers.validate(lang) {
                proptest::prop_assert!(!view.errors.is_empty());
            }
        }

        /// Queries made of real field names with random values.
        #[test]
        fn plausible_queries_are_handled(
            employees in "-?[0-9]{0,20}",
            cost in "[0-9.,e-]{0,20}",
            purpose in proptest::sample::select(vec!["digital_adoption", "x", ""]),
        ) {
            let query = format!("applicant_type=sme&employees={employees}&project_cost_hkd={cost}&purposes={purpose}");
            let _ = Answers::parse(&query).validate(Lang::En);
        }
    }
}
