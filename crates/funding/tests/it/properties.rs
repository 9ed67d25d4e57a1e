//! Property tests: random profiles through the parser and the matcher.

use bauhinia_funding::domain::{
    match_profile, ApplicantType, Location, Profile, ProfileDraft, Purpose, Sector, University,
};
use bauhinia_funding::wire::ProfileRequest;
use bauhinia_funding::Catalogue;
use proptest::prelude::*;

/// Parsed once: the properties are about the matcher, not about loading.
static CATALOGUE: std::sync::LazyLock<Catalogue> =
    std::sync::LazyLock::new(|| Catalogue::embedded().expect("valid"));

fn pick<T: Copy + std::fmt::Debug + 'static>(all: &'static [T]) -> impl Strategy<Value = T> {
    proptest::sample::select(all)
}

fn drafts() -> impl Strategy<Value = ProfileDraft> {
    (
        proptest::option::of(pick(ApplicantType::ALL)),
        proptest::collection::vec(pick(Sector::ALL), 0..20),
        proptest::option::of(-10i64..2_000_000),
        proptest::option::of(-5i64..300),
        proptest::collection::vec(pick(Location::ALL), 0..6),
        proptest::option::of(pick(University::ALL)),
        proptest::collection::vec(pick(Purpose::ALL), 0..25),
        proptest::option::of(prop_oneof![
            "[0-9]{1,15}",
            "[0-9]{1,9}\\.[0-9]{1,3}",
            "\\PC{0,12}",
            "-[0-9]{1,5}"
        ]),
        any::<bool>(),
    )
        .prop_map(
            |(
                applicant_type,
                sectors,
                employees,
                years_operating,
                locations,
                university,
                purposes,
                cost,
                line,
            )| {
                ProfileDraft {
                    applicant_type,
                    sectors,
                    employees,
                    years_operating,
                    locations,
                    university,
                    purposes,
                    project_cost_hkd: cost,
                    operates_production_line_in_hk: line,
                    current_grants: Vec::new(),
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Every scheme lands in exactly one list; a grant never exceeds the project cost or a cap;
    /// every exclusion says why.
    #[test]
    fn matcher_invariants(draft in drafts()) {
        let catalogue = &*CATALOGUE;
        let Ok(profile) = Profile::validate(&draft) else { return Ok(()) };
        let outcome = match_profile(catalogue.schemes(), &profile);
        prop_assert_eq!(outcome.eligible.len() + outcome.ineligible.len(), catalogue.len());
        for e in &outcome.eligible {
            if let Some(grant) = e.max_grant {
                prop_assert!(grant.minor >= 0);
                if let Some(cost) = profile.project_cost {
                    prop_assert!(grant.minor <= cost.minor, "{} pays more than the project", e.scheme.id);
                }
                for cap in [e.scheme.cap_per_project.as_option(), e.scheme.cap_per_applicant.as_option()].into_iter().flatten() {
                    prop_assert!(grant.minor <= cap.minor, "{} exceeds its cap", e.scheme.id);
                }
            }
        }
        for i in &outcome.ineligible {
            prop_assert!(!i.reasons.is_empty());
        }
        // Every reason renders in every language.
        for e in &outcome.eligible {
            for r in &e.reasons {
                for lang in bauhinia_core::Lang::ALL {
                    prop_assert!(!r.text(lang).is_empty());
                }
            }
        }
    }

    /// Arbitrary bytes never panic the profile parser; failures are 400 or 422 problems.
    #[test]
    fn parser_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Err(problem) = bauhinia_core::extract::parse_json::<ProfileRequest>(&bytes) {
            prop_assert!(problem.status() == 400 || problem.status() == 422);
        }
    }

    /// Structurally plausible JSON with random values: parsed, validated, or refused with a
    /// problem that names the field.
    #[test]
    fn parser_names_the_field(
        employees in prop_oneof![Just("30".to_owned()), Just("-1".to_owned()), Just("1e99".to_owned()), Just("\"x\"".to_owned()), "-?[0-9]{1,25}"],
        cost in prop_oneof![Just("\"20000000\"".to_owned()), Just("-5".to_owned()), Just("1.5".to_owned()), Just("[]".to_owned()), "\"\\PC{0,10}\""],
        purpose in prop_oneof![Just("\"digital_adoption\"".to_owned()), Just("\"bogus\"".to_owned()), Just("7".to_owned())],
    ) {
        let body = format!(r#"{{"applicant_type":"company","employees":{employees},"project_cost_hkd":{cost},"purposes":[{purpose}]}}"#);
        match bauhinia_core::extract::parse_json::<ProfileRequest>(body.as_bytes()) {
            Ok(request) => {
                if let Err(problem) = request.into_profile() {
                    prop_assert_eq!(problem.status(), 422);
                    prop_assert!(!problem.errors.is_empty());
                }
            }
            Err(problem) => {
                prop_assert!(problem.status() == 400 || problem.status() == 422, "{:?}", problem);
                if problem.status() == 422 {
                    prop_assert!(problem.errors.iter().all(|e| e.pointer.starts_with('/')));
                }
            }
        }
    }
}
