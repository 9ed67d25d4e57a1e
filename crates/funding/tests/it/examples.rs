//! The acceptance examples, with the arithmetic written out from the fact sheet's caps and
//! ratios. Every amount is in HK cents.

use bauhinia_core::Lang;
use bauhinia_funding::wire::{MatchResponse, ProfileRequest};
use bauhinia_funding::Catalogue;

fn run(profile_json: &str) -> MatchResponse {
    let catalogue = Catalogue::embedded().expect("valid catalogue");
    let request: ProfileRequest =
        bauhinia_core::extract::parse_json(profile_json.as_bytes()).expect("valid JSON");
    let profile = request.into_profile().expect("valid profile");
    let outcome = bauhinia_funding::domain::match_profile(catalogue.schemes(), &profile);
    MatchResponse::from_outcome(&catalogue, &outcome, Lang::En)
}

fn grant(response: &MatchResponse, id: &str) -> Option<i64> {
    let found = response.eligible.iter().find(|e| e.id == id);
    let found =
        found.unwrap_or_else(|| panic!("{id} should be eligible; eligible: {:?}", ids(response)));
    found.max_grant_hk_cents
}

fn ids(response: &MatchResponse) -> Vec<&str> {
    response.eligible.iter().map(|e| e.id.as_str()).collect()
}

fn ineligible_codes<'a>(response: &'a MatchResponse, id: &str) -> Vec<&'a str> {
    let found = response.ineligible.iter().find(|i| i.id == id);
    found
        .unwrap_or_else(|| panic!("{id} should be ineligible"))
        .reason_codes
        .clone()
}

const HKD: i64 = 100;

#[test]
fn manufacturer_with_a_20_million_smart_production_line() {
    let response = run(
        r#"{"applicant_type":"manufacturer","sectors":["manufacturing"],"employees":30,
        "years_operating":12,"locations":["hong_kong"],"purposes":["smart_production_line"],
        "project_cost_hkd":"20000000","operates_production_line_in_hk":true}"#,
    );
    // 新型工业化资助计划: "最多 1,500 万元" per project; no ratio stated → the cap, HK$15,000,000.
    assert_eq!(
        grant(&response, "new-industrialisation-funding"),
        Some(15_000_000 * HKD)
    );
    // 「升」级先导计划: 1 : 2 → 20,000,000 / 3 = 6,666,666.66, capped at "最高 25 万元" → 250,000.
    assert_eq!(
        grant(&response, "manufacturing-production-line-upgrade"),
        Some(250_000 * HKD)
    );
    // 新型工业加速计划: cost below the HK$150M minimum, and manufacturing is not one of its sectors.
    let codes = ineligible_codes(&response, "new-industrialisation-acceleration");
    assert!(codes.contains(&"project_cost_below_minimum"), "{codes:?}");
    // The larger grant ranks first.
    assert_eq!(
        response.eligible.first().map(|e| e.id.as_str()),
        Some("new-industrialisation-funding")
    );
    // At three concurrent projects the limit is reached.
    let full = run(
        r#"{"applicant_type":"manufacturer","sectors":["manufacturing"],"employees":30,
        "locations":["hong_kong"],"purposes":["smart_production_line"],"project_cost_hkd":"20000000",
        "current_grants":[{"scheme_id":"new-industrialisation-funding","projects":3}]}"#,
    );
    assert_eq!(
        ineligible_codes(&full, "new-industrialisation-funding"),
        ["concurrent_limit_reached"]
    );
}

#[test]
fn university_team_commercialising_a_result() {
    let response = run(
        r#"{"applicant_type":"university_team","university":"hkust","locations":["hong_kong"],
        "purposes":["commercialisation"],"project_cost_hkd":"3000000"}"#,
    );
    // 产学研 1+: matching, but the sheet states neither a ratio nor a per-team cap → not stated.
    assert_eq!(grant(&response, "raise-plus"), None);
    let raise = response
        .eligible
        .iter()
        .find(|e| e.id == "raise-plus")
        .expect("eligible");
    assert!(
        raise.reason_codes.contains(&"grant_not_stated")
            && raise.reason_codes.contains(&"ugc_university")
    );
    // 大学科技初创企业资助计划: 1 : 1 with private investment → 3,000,000 / 2 = 1,500,000, under
    // the university's HK$12.8M allocation.
    assert_eq!(
        grant(&response, "university-technology-startup-support"),
        Some(1_500_000 * HKD)
    );
    // A team from a university outside the eight UGC-funded ones is excluded from 产学研 1+.
    let other = run(
        r#"{"applicant_type":"university_team","university":"other","locations":["hong_kong"],
        "purposes":["commercialisation"]}"#,
    );
    assert!(ineligible_codes(&other, "raise-plus").contains(&"not_ugc_university"));
}

#[test]
fn retail_sme_adopting_off_the_shelf_digital_tools() {
    let response = run(
        r#"{"applicant_type":"sme","sectors":["retail"],"employees":10,"years_operating":5,
        "locations":["hong_kong"],"purposes":["digital_adoption"]}"#,
    );
    // 数码转型支持先导计划: SME in retail; the sheet states no cap or ratio → not stated; the
    // 2024–25 round closed and an enhanced round is announced for 2026 → planned.
    assert_eq!(
        grant(&response, "digital-transformation-support-pilot"),
        None
    );
    let dtsp = response
        .eligible
        .iter()
        .find(|e| e.id == "digital-transformation-support-pilot")
        .expect("eligible");
    assert!(
        dtsp.reason_codes.contains(&"sme_confirmed") && dtsp.reason_codes.contains(&"planned"),
        "{:?}",
        dtsp.reason_codes
    );
    // 60 employees in retail is not an SME (fewer than 50 outside manufacturing).
    let big = run(
        r#"{"applicant_type":"company","sectors":["retail"],"employees":60,"locations":["hong_kong"],
        "purposes":["digital_adoption"]}"#,
    );
    assert_eq!(
        ineligible_codes(&big, "digital-transformation-support-pilot"),
        ["not_sme"]
    );
}

#[test]
fn life_science_manufacturer_with_a_400_million_project() {
    let response = run(
        r#"{"applicant_type":"manufacturer","sectors":["life_health_technology","manufacturing"],
        "employees":200,"locations":["hong_kong"],"purposes":["smart_production_line"],
        "project_cost_hkd":"400000000","operates_production_line_in_hk":true}"#,
    );
    // 新型工业加速计划: 1 : 2 → 400,000,000 / 3 = 133,333,333.33 (rounded down to the cent),
    // under the "最多两亿元" cap.
    assert_eq!(
        grant(&response, "new-industrialisation-acceleration"),
        Some(13_333_333_333)
    );
    let accel = response
        .eligible
        .iter()
        .find(|e| e.id == "new-industrialisation-acceleration")
        .expect("eligible");
    assert_eq!(accel.max_grant_hkd.as_deref(), Some("133333333.33"));
    assert_eq!(accel.rank, 1, "the largest grant ranks first");
    assert_eq!(
        grant(&response, "new-industrialisation-funding"),
        Some(15_000_000 * HKD)
    );
    // A HK$900M project hits the HK$200M cap: 900,000,000 / 3 = 300,000,000 > 200,000,000.
    let bigger = run(
        r#"{"applicant_type":"manufacturer","sectors":["life_health_technology"],"employees":200,
        "locations":["hong_kong"],"purposes":["smart_production_line"],"project_cost_hkd":"900000000"}"#,
    );
    assert_eq!(
        grant(&bigger, "new-industrialisation-acceleration"),
        Some(200_000_000 * HKD)
    );
    // With acceleration funding, the extra 1 : 1 research-talent hires open up.
    let hires = run(
        r#"{"applicant_type":"company","sectors":["life_health_technology"],"locations":["hong_kong"],
        "purposes":["hire_research_talent"],"current_grants":[{"scheme_id":"new-industrialisation-acceleration","projects":1}]}"#,
    );
    assert!(
        ids(&hires).contains(&"research-talent-hub-accelerator-hires"),
        "{:?}",
        ids(&hires)
    );
}
