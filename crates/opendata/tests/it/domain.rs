//! Validation: every bad field is named, at once, by its place in CKAN's dictionary.

use bauhinia_opendata::domain::{
    category, DatasetDraft, Format, Frequency, Licence, Name, ResourceDraft, TagName, TextDraft,
};

pub fn good_draft() -> DatasetDraft {
    DatasetDraft {
        name: "hk-td-tis-traffic-speed".into(),
        title: TextDraft::new("Traffic speed", "行車速度", "行车速度"),
        notes: TextDraft::new(
            "Speeds on major roads.",
            "主要道路的行車速度。",
            "主要道路的行车速度。",
        ),
        organization: "hk-td".into(),
        groups: vec!["transport".into()],
        tags: vec!["traffic".into(), "交通".into()],
        licence: "data-gov-hk-terms".into(),
        frequency: "realtime".into(),
        coverage_from: "2020-01-01".into(),
        coverage_to: String::new(),
        spatial: "Hong Kong".into(),
        private: false,
    }
}

pub fn good_resource() -> ResourceDraft {
    ResourceDraft {
        name: TextDraft::new("Speed map", "速度圖", "速度图"),
        description: TextDraft::new("XML every two minutes", "每兩分鐘的 XML", "每两分钟的 XML"),
        format: "XML".into(),
        url: "https://resource.data.one.gov.hk/td/speedmap.xml".into(),
        size_bytes: Some(1_024),
        hash: String::new(),
    }
}

fn ids() -> impl FnMut() -> String {
    let mut n = 0;
    move || {
        n += 1;
        format!("id-{n}")
    }
}

fn pointers(draft: &DatasetDraft, resources: &[ResourceDraft]) -> Vec<String> {
    match draft.validate(resources, ids(), 0) {
        Ok(_) => Vec::new(),
        Err(faults) => faults.into_iter().map(|f| f.pointer).collect(),
    }
}

#[test]
fn a_good_draft_validates() {
    let d = good_draft()
        .validate(&[good_resource()], ids(), 1_700_000_000)
        .unwrap();
    assert_eq!(d.id, "id-1");
    assert_eq!(d.resources[0].id, "id-2");
    assert_eq!(d.name.as_str(), "hk-td-tis-traffic-speed");
    assert_eq!(d.frequency, Frequency::Realtime);
    assert_eq!(d.licence, Licence::DataGovHkTerms);
    assert_eq!(d.resources[0].format, Format::Xml);
    assert_eq!(d.tags.len(), 2);
    assert!(d.temporal.unwrap().to.is_none());
    assert!(d.is_public());
}

#[test]
fn every_bad_field_is_named() {
    let draft = DatasetDraft {
        name: "Bad Name".into(),
        title: TextDraft::new("", "行車速度", ""),
        organization: "HK TD".into(),
        groups: vec!["transport".into(), "roads".into()],
        tags: vec!["x".into(), "ok tag".into(), "bad/tag".into()],
        licence: "gpl".into(),
        frequency: "sometimes".into(),
        coverage_from: "2020-13-01".into(),
        ..good_draft()
    };
    let resource = ResourceDraft {
        format: "PDF".into(),
        url: "ftp://example.org/x".into(),
        size_bytes: Some(-1),
        ..good_resource()
    };
    assert_eq!(
        pointers(&draft, &[good_resource(), resource]),
        [
            "/name",
            "/title_en",
            "/title_sc",
            "/owner_org",
            "/groups/1",
            "/tags/0",
            "/tags/2",
            "/license_id",
            "/update_frequency",
            "/temporal_coverage_from",
            "/resources/1/format",
            "/resources/1/url",
            "/resources/1/size",
        ]
    );
}

#[test]
fn coverage_must_run_forward() {
    let backwards = DatasetDraft {
        coverage_from: "2024-01-01".into(),
        coverage_to: "2023-12-31".into(),
        ..good_draft()
    };
    assert_eq!(pointers(&backwards, &[]), ["/temporal_coverage_to"]);
    let end_only = DatasetDraft {
        coverage_from: String::new(),
        coverage_to: "2023-12-31".into(),
        ..good_draft()
    };
    assert_eq!(pointers(&end_only, &[]), ["/temporal_coverage_from"]);
}

#[test]
fn resource_urls() {
    let check = |url: &str, ok: bool| {
        let r = ResourceDraft {
            url: url.into(),
            ..good_resource()
        };
        assert_eq!(pointers(&good_draft(), &[r]).is_empty(), ok, "{url}");
    };
    check("https://example.org/a.csv", true);
    check("http://example.org/a.csv?x=1", true);
    check("https://user:pw@example.org/a.csv", false);
    check("javascript:alert(1)", false);
    check("file:///etc/passwd", false);
    check("not a url", false);
    check(&format!("https://example.org/{}", "a".repeat(3_000)), false);
}

#[test]
fn names_and_tags() {
    for ok in ["hk-td", "hk-td-tis-traffic-speed", "a_1", "ab"] {
        assert!(Name::parse(ok).is_ok(), "{ok}");
    }
    for bad in ["a", "HK-TD", "hk td", "hk.td", "交通", &"a".repeat(101)] {
        assert!(Name::parse(bad).is_err(), "{bad}");
    }
    for ok in ["交通", "open data", "v1.0", "smart-city_2"] {
        assert!(TagName::parse(ok).is_ok(), "{ok}");
    }
    for bad in ["x", "a/b", "<script>", "semi;colon"] {
        assert!(TagName::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn repeated_groups_and_tags_are_kept_once() {
    let draft = DatasetDraft {
        groups: vec!["transport".into(), "transport".into()],
        tags: vec!["traffic".into(), "traffic".into()],
        ..good_draft()
    };
    let d = draft.validate(&[], ids(), 0).unwrap();
    assert_eq!(d.groups.len(), 1);
    assert_eq!(d.tags.len(), 1);
}

#[test]
fn the_nineteen_categories() {
    let names: Vec<&str> = category::CATEGORIES.iter().map(|c| c.name).collect();
    assert_eq!(names.len(), 19);
    for name in [
        "city-management",
        "climate-and-weather",
        "commerce-and-industry",
        "development",
        "education",
        "employment-and-labour",
        "environment",
        "finance",
        "food",
        "health",
        "housing",
        "information-technology-and-broadcasting",
        "law-and-security",
        "legislature",
        "miscellaneous",
        "population",
        "recreation-and-culture",
        "social-welfare",
        "transport",
    ] {
        assert!(names.contains(&name), "{name}");
        assert!(Name::parse(name).is_ok());
    }
    for c in &category::CATEGORIES {
        assert!(!c.en.is_empty() && !c.zh_hant.is_empty() && !c.zh_hans.is_empty());
    }
}

#[test]
fn vocabularies_round_trip() {
    for f in Format::ALL {
        assert_eq!(Format::parse(f.as_str()), Ok(*f));
    }
    for f in Frequency::ALL {
        assert_eq!(Frequency::parse(f.as_str()), Ok(*f));
    }
    for l in Licence::ALL {
        assert_eq!(Licence::parse(l.as_str()), Ok(*l));
        assert!(!l.title().is_empty());
    }
}
