//! Search behaviour: Chinese in both scripts, English stemming, facets, filters, sorting,
//! paging, limits, who sees what, errors, and a rebuilt index equal to the incremental one.

use bauhinia_opendata::action::Params;
use bauhinia_opendata::domain::{DatasetDraft, ResourceDraft, TextDraft};
use bauhinia_opendata::search::{FacetField, PackageSearchArgs, SearchResult, Viewer};
use bauhinia_opendata::{OpenData, OpendataError};
use bauhinia_store::testing::TestDb;

use crate::domain::good_resource;
use crate::store::counter;

const NOW: i64 = 1_700_000_000;

struct Catalogue {
    open: OpenData,
    _db: TestDb,
}

fn draft(name: &str, org: &str, title: [&str; 3], tags: &[&str], groups: &[&str]) -> DatasetDraft {
    DatasetDraft {
        name: name.into(),
        title: TextDraft::new(title[0], title[1], title[2]),
        notes: TextDraft::new("Notes about bridges.", "說明。", "说明。"),
        organization: org.into(),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        licence: "cc-by".into(),
        frequency: "yearly".into(),
        spatial: "Hong Kong".into(),
        ..DatasetDraft::default()
    }
}

fn csv() -> ResourceDraft {
    ResourceDraft {
        format: "CSV".into(),
        url: "https://example.invalid/data.csv".into(),
        ..good_resource()
    }
}

/// Six datasets: Traditional-only and Simplified-only texts, English plurals, three providers,
/// two formats, one private.
async fn catalogue() -> Catalogue {
    let test = TestDb::sqlite().await.unwrap();
    let open = OpenData::start(&test.db, "http://localhost", &test.files, NOW)
        .await
        .unwrap();
    bauhinia_opendata::demo::load_providers(&open, NOW)
        .await
        .unwrap();
    let mut ids = counter();
    let sets: Vec<(DatasetDraft, Vec<ResourceDraft>, i64)> = vec![
        (
            draft(
                "alpha-lights",
                "hk-td",
                ["Alpha", "交通燈位置", "信号"],
                &["交通"],
                &["transport"],
            ),
            vec![csv()],
            NOW - 500,
        ),
        (
            draft(
                "beta-tunnels",
                "hk-td",
                ["Beta", "隧道", "交通灯位置"],
                &["交通", "tunnel"],
                &["transport"],
            ),
            vec![good_resource()],
            NOW - 400,
        ),
        (
            draft(
                "gamma-port",
                "hk-epd",
                ["Gamma", "港口", "运输统计"],
                &["port"],
                &["transport", "finance"],
            ),
            vec![csv(), good_resource()],
            NOW - 300,
        ),
        (
            draft(
                "delta-roads",
                "hk-hyd",
                ["Roads and bridges", "道路及橋樑", "道路及桥梁"],
                &["road"],
                &["city-management"],
            ),
            vec![csv()],
            NOW - 200,
        ),
        (
            draft(
                "epsilon-network",
                "hk-hyd",
                ["The road network", "道路網絡", "道路网络"],
                &[],
                &["city-management"],
            ),
            vec![],
            NOW - 100,
        ),
        (
            DatasetDraft {
                private: true,
                ..draft(
                    "zeta-private",
                    "hk-td",
                    ["Secret road plan", "秘密道路", "秘密道路"],
                    &["交通"],
                    &["transport"],
                )
            },
            vec![csv()],
            NOW,
        ),
    ];
    for (d, resources, at) in sets {
        let dataset = d.validate(&resources, &mut ids, at).unwrap();
        open.store().insert_dataset(&dataset, "test").await.unwrap();
        open.index_dataset(&dataset.id).await.unwrap();
    }
    Catalogue { open, _db: test }
}

impl Catalogue {
    fn run(&self, query: &str, viewer: &Viewer) -> Result<SearchResult, OpendataError> {
        let args = PackageSearchArgs::parse(&Params::from_query(query))?;
        self.open.search(&args, viewer)
    }

    fn names(&self, query: &str) -> Vec<String> {
        names(&self.run(query, &Viewer::Anonymous).unwrap())
    }
}

fn names(found: &SearchResult) -> Vec<String> {
    found
        .results
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn chinese_in_either_script_finds_both() {
    let c = catalogue().await;
    let check = |q: &str, expected: &[&str]| {
        let found = sorted(c.names(&format!("q={}", urlencode(q))));
        assert_eq!(found, expected, "q={q}");
    };
    // 交通燈 (Traditional) finds the Traditional title and the Simplified one (交通灯).
    check("交通燈", &["alpha-lights", "beta-tunnels"]);
    check("交通灯", &["alpha-lights", "beta-tunnels"]);
    // 運輸 (Traditional) finds 运输 (a Simplified title only) — and, in any field, the
    // datasets of 運輸署 (the Transport Department).
    check("title:運輸", &["gamma-port"]);
    check("運輸", &["alpha-lights", "beta-tunnels", "gamma-port"]);
    // Characters in a row: 燈位 matches, 位燈 does not.
    check("燈位", &["alpha-lights", "beta-tunnels"]);
    check("位燈", &[]);
    // A single character.
    check("港", &["gamma-port"]);
    // A tag.
    check("tags:交通", &["alpha-lights", "beta-tunnels"]);
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn english_stems_and_ranks_titles_first() {
    let c = catalogue().await;
    assert_eq!(
        sorted(c.names("q=road")),
        ["delta-roads", "epsilon-network"]
    );
    assert_eq!(
        sorted(c.names("q=roads")),
        ["delta-roads", "epsilon-network"]
    );
    assert_eq!(sorted(c.names("q=ROADS%20network")), ["epsilon-network"]);
    assert_eq!(c.names("q=%22road%20network%22"), ["epsilon-network"]);
    assert!(c.names("q=%22network%20road%22").is_empty());
    // "bridges" is in every description but in one title: the title ranks first.
    let found = c.names("q=bridge");
    assert_eq!(found.first().map(String::as_str), Some("delta-roads"));
    assert_eq!(
        found.len(),
        5,
        "the private dataset is not shown: {found:?}"
    );
    // OR, NOT, +/-.
    assert_eq!(
        sorted(c.names("q=alpha%20OR%20beta")),
        ["alpha-lights", "beta-tunnels"]
    );
    assert_eq!(sorted(c.names("q=road%20-network")), ["delta-roads"]);
    assert_eq!(
        sorted(c.names("q=road%20AND%20NOT%20bridges")),
        Vec::<String>::new()
    );
    assert_eq!(sorted(c.names("q=name:gamma-port")), ["gamma-port"]);
}

#[tokio::test]
async fn facets_count_what_matches() {
    let c = catalogue().await;
    let found = c
        .run(
            "q=*:*&facet.field=[\"organization\",\"groups\",\"tags\",\"res_format\",\"license_id\"]",
            &Viewer::Anonymous,
        )
        .unwrap();
    assert_eq!(found.count, 5);
    let facet = |field: FacetField| -> Vec<(String, u64)> {
        found
            .facets
            .iter()
            .find(|(f, _)| *f == field)
            .unwrap()
            .1
            .iter()
            .map(|i| (i.name.clone(), i.count))
            .collect()
    };
    let pairs = |v: &[(&str, u64)]| -> Vec<(String, u64)> {
        v.iter().map(|(n, c)| ((*n).to_owned(), *c)).collect()
    };
    assert_eq!(
        facet(FacetField::Organization),
        pairs(&[("hk-hyd", 2), ("hk-td", 2), ("hk-epd", 1)])
    );
    assert_eq!(
        facet(FacetField::Groups),
        pairs(&[("transport", 3), ("city-management", 2), ("finance", 1)])
    );
    assert_eq!(
        facet(FacetField::Tags),
        pairs(&[("交通", 2), ("port", 1), ("road", 1), ("tunnel", 1)])
    );
    assert_eq!(
        facet(FacetField::ResFormat),
        pairs(&[("CSV", 3), ("XML", 2)])
    );
    assert_eq!(facet(FacetField::LicenseId), pairs(&[("cc-by", 5)]));
    let org = &found.facets[0].1[0];
    assert_eq!(org.display_name, "Highways Department");

    // Facets follow the query; limit and mincount apply.
    let found = c
        .run(
            "q=交通&facet.field=[\"tags\"]&facet.limit=1",
            &Viewer::Anonymous,
        )
        .unwrap();
    assert_eq!(found.facets[0].1.len(), 1);
    assert_eq!(found.facets[0].1[0].name, "交通");
    let found = c
        .run(
            "facet.field=[\"tags\"]&facet.mincount=2",
            &Viewer::Anonymous,
        )
        .unwrap();
    assert_eq!(found.facets[0].1.len(), 1);
    let found = c
        .run(
            "facet.field=[\"tags\"]&facet.limit=-1&facet=false",
            &Viewer::Anonymous,
        )
        .unwrap();
    assert!(found.facets.is_empty());
    let none = c.run("", &Viewer::Anonymous).unwrap();
    assert!(
        none.facets.is_empty(),
        "no facet.field, no facets (as CKAN)"
    );
}

#[tokio::test]
async fn filters() {
    let c = catalogue().await;
    let check = |fq: &str, expected: &[&str]| {
        let found = sorted(c.names(&format!("fq={}", urlencode(fq))));
        assert_eq!(found, expected, "fq={fq}");
    };
    check("organization:hk-td", &["alpha-lights", "beta-tunnels"]);
    check("+organization:hk-td +res_format:CSV", &["alpha-lights"]);
    check("res_format:\"XML\"", &["beta-tunnels", "gamma-port"]);
    check(
        "-organization:hk-td",
        &["delta-roads", "epsilon-network", "gamma-port"],
    );
    check(
        "groups:finance OR tags:road",
        &["delta-roads", "gamma-port"],
    );
    check(
        "(organization:hk-epd OR organization:hk-hyd) AND res_format:CSV",
        &["delta-roads", "gamma-port"],
    );
    check("tags:交通", &["alpha-lights", "beta-tunnels"]);
    check("license_id:cc-by -tags:*", &["epsilon-network"]);
    let modified = "metadata_modified:[2023-11-14T22:09:00Z TO *]";
    check(modified, &["delta-roads", "epsilon-network"]);
    // fq_list adds more filters; q and fq combine.
    assert_eq!(
        c.names("q=交通&fq=organization:hk-td&fq_list=[\"tags:tunnel\"]"),
        ["beta-tunnels"]
    );
}

#[tokio::test]
async fn sorting_and_paging() {
    let c = catalogue().await;
    let all = [
        "alpha-lights",
        "beta-tunnels",
        "delta-roads",
        "epsilon-network",
        "gamma-port",
    ];
    assert_eq!(c.names("sort=name%20asc"), all);
    let mut desc = all.to_vec();
    desc.reverse();
    assert_eq!(c.names("sort=name%20desc"), desc);
    // Default for q=*:* : score ties, then the latest modified first.
    assert_eq!(
        c.names(""),
        [
            "epsilon-network",
            "delta-roads",
            "gamma-port",
            "beta-tunnels",
            "alpha-lights"
        ]
    );
    assert_eq!(
        c.names("sort=metadata_modified%20asc"),
        [
            "alpha-lights",
            "beta-tunnels",
            "gamma-port",
            "delta-roads",
            "epsilon-network"
        ]
    );
    assert_eq!(
        c.names("sort=title_string%20asc&rows=2"),
        ["alpha-lights", "beta-tunnels"]
    );
    assert_eq!(
        c.names("sort=name%20asc&rows=2&start=2"),
        ["delta-roads", "epsilon-network"]
    );
    let far = c
        .run("sort=name%20asc&start=1000000", &Viewer::Anonymous)
        .unwrap();
    assert_eq!(far.count, 5);
    assert!(far.results.is_empty());
    let zero = c.run("rows=0", &Viewer::Anonymous).unwrap();
    assert_eq!((zero.count, zero.results.len()), (5, 0));
    let capped = PackageSearchArgs::parse(&Params::from_query("rows=5000")).unwrap();
    assert_eq!(capped.rows, 1_000);
}

#[tokio::test]
async fn private_datasets_only_for_their_organisations() {
    let c = catalogue().await;
    let private = |query: &str, viewer: &Viewer| {
        names(&c.run(query, viewer).unwrap()).contains(&"zeta-private".to_owned())
    };
    let td = c
        .open
        .store()
        .organization("hk-td")
        .await
        .unwrap()
        .unwrap()
        .item
        .id;
    let member = Viewer::Member {
        organizations: vec![td],
    };
    let other = Viewer::Member {
        organizations: vec!["someone-else".into()],
    };
    assert!(!private(
        "q=secret&include_private=true",
        &Viewer::Anonymous
    ));
    assert!(!private("q=secret", &member));
    assert!(private("q=secret&include_private=true", &member));
    assert!(!private("q=secret&include_private=true", &other));
    assert!(private("q=secret&include_private=true", &Viewer::Sysadmin));
    assert!(!private("q=secret", &Viewer::Sysadmin));
    let found = c.run("q=road&include_private=true", &member).unwrap();
    assert_eq!(found.count, 3);
}

#[tokio::test]
async fn bad_parameters_are_ckans_errors() {
    let c = catalogue().await;
    let error = |query: &str| c.run(query, &Viewer::Anonymous).unwrap_err();
    for q in [
        "q=title:(",
        "q=title:%22open",
        "q=nosuchfield:x",
        "fq=organization:(a%20OR",
        "fq=[a%20TO",
    ] {
        assert!(
            matches!(error(q), OpendataError::Search(_)),
            "{q}: {:?}",
            error(q)
        );
    }
    // Without a colon CKAN sends `q` to dismax, which reads stray syntax as text.
    for q in ["q=%22open", "q=a%20--%20b", "q=%3Cscript%3E"] {
        assert!(c.run(q, &Viewer::Anonymous).is_ok(), "{q}");
    }
    for sort in [
        "sort=name",
        "sort=id%20asc",
        "sort=name%20up",
        "sort=name%20asc,",
    ] {
        assert!(
            matches!(error(sort), OpendataError::SearchQuery(_)),
            "{sort}"
        );
    }
    for bad in [
        "rows=-1",
        "rows=ten",
        "start=-5",
        "facet.limit=x",
        "facet.field=tags",
        "include_private=maybe",
    ] {
        assert!(matches!(error(bad), OpendataError::Invalid(_)), "{bad}");
    }
    assert!(matches!(
        error("facet.field=[\"secret\"]"),
        OpendataError::Search(_)
    ));
    // Injection-shaped input is text to search, never syntax of anything else.
    for q in [
        "'%20OR%201=1;--",
        "%3Cscript%3E",
        "%22;%20DROP%20TABLE%20x;--%22",
    ] {
        let found = c.run(&format!("q={q}"), &Viewer::Anonymous);
        assert!(
            matches!(found, Ok(ref r) if r.count == 0)
                || matches!(found, Err(OpendataError::Search(_))),
            "{q}: {found:?}"
        );
    }
}

#[tokio::test]
async fn a_rebuilt_index_equals_the_incremental_one_and_limits_hold() {
    let c = catalogue().await;
    let added = bauhinia_opendata::generate::generate(&c.open, 7, 0, 1_050, NOW)
        .await
        .unwrap();
    assert_eq!(added, 1_050);
    let every = "q=*:*&sort=name%20asc&rows=5000&facet.field=[\"organization\",\"groups\",\"tags\",\"res_format\",\"license_id\"]&facet.limit=-1";
    let incremental = c.run(every, &Viewer::Sysadmin).unwrap();
    assert_eq!(
        incremental.results.len(),
        1_000,
        "rows silently capped at 1000"
    );
    assert!(
        incremental.count > 1_000 && incremental.count < 1_055,
        "{}",
        incremental.count
    );
    let synthetic = c.run("q=synthetic&rows=1", &Viewer::Anonymous).unwrap();
    assert!(synthetic.count > 1_000);
    let title = synthetic.results[0]["title"].as_str().unwrap();
    assert!(title.starts_with("[Synthetic]"), "{title}");
    let rebuilt_count = c.open.reindex().await.unwrap();
    assert_eq!(rebuilt_count, 1_056);
    let rebuilt = c.run(every, &Viewer::Sysadmin).unwrap();
    assert_eq!(rebuilt, incremental);
    assert_eq!(c.open.indexed(), 1_056);
}
