//! The demo catalogue: every dataset validates, and each quotes a sentence the fact sheet has.

use bauhinia_opendata::demo::{draft, record_link, FACT_DATASETS, PROVIDERS};

const FACT_SHEET: &str = include_str!("../../../funding/data/factsheet-2026-02.zh-Hans.txt");

#[test]
fn every_source_sentence_is_in_the_fact_sheet() {
    let text = FACT_SHEET.replace("**", "");
    for f in &FACT_DATASETS {
        assert!(text.contains(f.source), "{}: {}", f.name, f.source);
        let d = draft(f);
        for notes in [&d.notes.en, &d.notes.zh_hant, &d.notes.zh_hans] {
            assert!(notes.contains(f.source), "{}", f.name);
        }
    }
}

#[test]
fn every_demo_dataset_validates_and_names_a_demo_provider() {
    for f in &FACT_DATASETS {
        let resources = [record_link("http://localhost:8080", f.name)];
        let d = draft(f)
            .validate(&resources, || "id".to_owned(), 0)
            .unwrap_or_else(|e| panic!("{}: {e:?}", f.name));
        assert!(PROVIDERS.iter().any(|p| p.0 == d.organization.as_str()));
        assert!(d.name.as_str().starts_with(&format!("{}-", f.organization)));
    }
    assert!(PROVIDERS.len() >= 12);
    assert!(PROVIDERS
        .iter()
        .any(|p| p.0 == "hk-td" && p.3 == "運輸署" && p.4 == "运输署"));
}
