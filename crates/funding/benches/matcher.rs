//! Match latency for the four acceptance profiles, parse + validate + match + render (what
//! `POST /api/v1/funding/match` does minus the socket), and the matcher alone.

// Test and benchmark code fails by panicking; the production lints do not apply here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use bauhinia_core::Lang;
use bauhinia_funding::wire::{MatchResponse, ProfileRequest};
use bauhinia_funding::Catalogue;
use criterion::{black_box, criterion_group, criterion_main, Criterion};

const PROFILES: &[(&str, &str)] = &[
    (
        "manufacturer_20m",
        r#"{"applicant_type":"manufacturer","sectors":["manufacturing"],"employees":30,"years_operating":12,"locations":["hong_kong"],"purposes":["smart_production_line"],"project_cost_hkd":"20000000","operates_production_line_in_hk":true}"#,
    ),
    (
        "university_team",
        r#"{"applicant_type":"university_team","university":"hkust","locations":["hong_kong"],"purposes":["commercialisation"],"project_cost_hkd":"3000000"}"#,
    ),
    (
        "retail_sme",
        r#"{"applicant_type":"sme","sectors":["retail"],"employees":10,"years_operating":5,"locations":["hong_kong"],"purposes":["digital_adoption"]}"#,
    ),
    (
        "life_science_400m",
        r#"{"applicant_type":"manufacturer","sectors":["life_health_technology","manufacturing"],"employees":200,"locations":["hong_kong"],"purposes":["smart_production_line"],"project_cost_hkd":"400000000","operates_production_line_in_hk":true}"#,
    ),
];

fn bench(c: &mut Criterion) {
    let catalogue = Catalogue::embedded().expect("valid catalogue");
    let mut group = c.benchmark_group("funding_match");
    for (name, json) in PROFILES {
        group.bench_function(format!("end_to_end/{name}"), |b| {
            b.iter(|| {
                let request: ProfileRequest =
                    bauhinia_core::extract::parse_json(black_box(json.as_bytes())).expect("valid");
                let profile = request.into_profile().expect("valid");
                let outcome =
                    bauhinia_funding::domain::match_profile(catalogue.schemes(), &profile);
                let response = MatchResponse::from_outcome(&catalogue, &outcome, Lang::En);
                black_box(serde_json::to_vec(&response).expect("serialises"))
            })
        });
        let request: ProfileRequest =
            bauhinia_core::extract::parse_json(json.as_bytes()).expect("valid");
        let profile = request.into_profile().expect("valid");
        group.bench_function(format!("matcher_only/{name}"), |b| {
            b.iter(|| {
                black_box(bauhinia_funding::domain::match_profile(
                    catalogue.schemes(),
                    black_box(&profile),
                ))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
