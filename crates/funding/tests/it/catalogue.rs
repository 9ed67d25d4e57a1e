//! The shipped catalogue is faithful to the fact sheet.

use bauhinia_funding::Catalogue;

const FACT_SHEET: &str = include_str!("../../data/factsheet-2026-02.zh-Hans.txt");

#[test]
fn embedded_catalogue_loads_with_every_named_scheme() {
    let catalogue = Catalogue::embedded().expect("the shipped catalogue is valid");
    assert!(catalogue.len() >= 25, "only {} schemes", catalogue.len());
    for name in [
        "新型工业化资助计划",
        "新型工业加速计划",
        "研究人才库",
        "创科创投基金",
        "产学研 1+计划",
        "大学科技初创企业资助计划",
        "数码转型支持先导计划",
        "制造及生产线「升」级支持先导计划",
        "创科加速器先导计划",
        "前沿科技研究支持计划",
        "人工智能资助计划",
        "智慧交通基金",
        "新型工业化及科技培训计划",
    ] {
        assert!(
            catalogue.schemes().any(|s| s.name.zh_hans == name),
            "missing {name}"
        );
    }
}

#[test]
fn every_source_is_quoted_verbatim_from_the_fact_sheet() {
    let catalogue = Catalogue::embedded().expect("valid");
    for entry in catalogue.entries() {
        assert!(
            FACT_SHEET.contains(&entry.record.source),
            "{}: source is not verbatim",
            entry.record.id
        );
    }
}

#[test]
fn stated_amounts_appear_in_their_source() {
    // A cap the sheet states must be written in its source sentence (as 万元 or 亿元).
    let catalogue = Catalogue::embedded().expect("valid");
    let nitfs = catalogue
        .get("new-industrialisation-funding")
        .expect("present");
    assert!(
        nitfs.record.source.contains("1,500 万元")
            && nitfs.record.cap_per_project_hkd == "15000000"
    );
    let accel = catalogue
        .get("new-industrialisation-acceleration")
        .expect("present");
    assert!(
        accel.record.source.contains("两亿元") && accel.record.cap_per_applicant_hkd == "200000000"
    );
    assert!(
        accel.record.source.contains("1.5 亿元")
            && accel.record.min_project_cost_hkd == "150000000"
    );
}

#[test]
fn broken_catalogues_are_rejected_with_the_field() {
    let valid = include_str!("../../data/schemes.toml");
    let cases = [
        (
            "cap_per_project_hkd = \"15000000\"",
            "cap_per_project_hkd = \"15,000,000\"",
            "cap_per_project_hkd",
        ),
        (
            "id = \"new-industrialisation-funding\"",
            "id = \"New Industrialisation\"",
            "id",
        ),
        (
            "matching = \"not stated\"",
            "matching = { government = 0, applicant = 2 }",
            "matching",
        ),
        (
            "effective_from = \"2024-01\"",
            "effective_from = \"January 2024\"",
            "effective_from",
        ),
    ];
    for (from, to, field) in cases {
        assert!(valid.contains(from), "fixture {from} not found");
        let broken = valid.replacen(from, to, 1);
        let error = Catalogue::from_toml(&broken).expect_err(to).to_string();
        assert!(error.contains(field), "{to}: {error}");
    }
    let twice = valid.replacen(
        "version = 1\neffective_from = \"2024-09\"",
        "version = 2\neffective_from = \"2024-09\"",
        1,
    );
    assert_ne!(twice, valid, "fixture: acceleration v1 not found");
    let error = Catalogue::from_toml(&twice)
        .expect_err("duplicate version")
        .to_string();
    assert!(
        error.contains("version") && error.contains("new-industrialisation-acceleration"),
        "{error}"
    );
    let unknown_key = valid.replacen("size = \"any\"", "size = \"any\"\nsizes = \"any\"", 1);
    assert!(Catalogue::from_toml(&unknown_key).is_err());
}
