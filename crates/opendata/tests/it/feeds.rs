//! The catalogue for harvesters: each dataset's quality checks, the DCAT catalogue read back by
//! a real RDF library (Python's `rdflib`), and the Atom feed read by a real feed parser
//! (`feedparser`), both from `BAUHINIA_TEST_PYTHON`'s venv.

use std::path::PathBuf;
use std::sync::Arc;

use axum::http::StatusCode;
use bauhinia_opendata::domain::quality::{assess, Criterion};
use bauhinia_opendata::domain::{DatasetDraft, Frequency};
use bauhinia_opendata::OpenData;
use bauhinia_store::testing::TestDb;
use serde_json::{json, Value};

use crate::domain::{good_draft, good_resource};
use crate::store::counter;

const NOW: i64 = 1_700_000_000;
const DAY: i64 = 86_400;
/// The public datasets: the demo's and one change.
const PUBLIC: usize = bauhinia_opendata::demo::FACT_DATASETS.len() + 1;

fn tools_required() -> bool {
    std::env::var("BAUHINIA_TEST_REQUIRE_TOOLS").is_ok_and(|v| v == "1")
}

#[test]
fn quality_checks_what_the_record_shows() {
    let mut ids = counter();
    let dataset = good_draft()
        .validate(&[good_resource()], &mut ids, NOW)
        .unwrap();
    let quality = assess(&dataset, NOW + 3_600);
    let passed = |c: Criterion| {
        quality
            .checks
            .iter()
            .find(|check| check.criterion == c)
            .and_then(|check| check.passed)
    };
    // "Speeds on major roads." is too short to describe the data.
    assert_eq!(passed(Criterion::Description), Some(false));
    assert_eq!(passed(Criterion::Tags), Some(true));
    assert_eq!(passed(Criterion::OpenFormat), Some(true));
    assert_eq!(passed(Criterion::ResourcesDocumented), Some(true));
    assert_eq!(passed(Criterion::TemporalCoverage), Some(true));
    assert_eq!(passed(Criterion::UpdatedOnTime), Some(true));
    assert_eq!(quality.percent(), 89, "8 of 9");

    // A real-time dataset three days old is late; an irregular one cannot be.
    let late = assess(&dataset, NOW + 3 * DAY);
    assert!(late.score() < quality.score());
    let mut irregular = dataset.clone();
    irregular.frequency = Frequency::Irregular;
    let irregular = assess(&irregular, NOW + 300 * DAY);
    assert!(irregular
        .checks
        .iter()
        .any(|c| c.criterion == Criterion::UpdatedOnTime && c.passed.is_none()));

    let bare = DatasetDraft {
        tags: Vec::new(),
        coverage_from: String::new(),
        spatial: String::new(),
        ..good_draft()
    }
    .validate(&[], &mut ids, NOW)
    .unwrap();
    assert!(assess(&bare, NOW).percent() < 40);
}

struct Feeds {
    catalog: Value,
    catalog_text: String,
    atom: String,
    _db: TestDb,
}

async fn feeds() -> Feeds {
    let test = TestDb::sqlite().await.unwrap();
    let open = OpenData::start(&test.db, "http://localhost:8080", &test.files, NOW)
        .await
        .unwrap();
    bauhinia_opendata::demo::load(&open, NOW).await.unwrap();
    let mut ids = counter();
    // A later change, with characters XML and JSON-LD must escape.
    let changed = DatasetDraft {
        name: "hk-td-road-works".into(),
        title: bauhinia_opendata::domain::TextDraft::new(
            "Road works <planned> & \"urgent\"",
            "道路工程",
            "道路工程",
        ),
        ..good_draft()
    }
    .validate(&[good_resource()], &mut ids, NOW + DAY)
    .unwrap();
    open.store().insert_dataset(&changed, "test").await.unwrap();
    let private = DatasetDraft {
        name: "hk-td-private-plan".into(),
        private: true,
        ..good_draft()
    }
    .validate(&[], &mut ids, NOW + 2 * DAY)
    .unwrap();
    open.store().insert_dataset(&private, "test").await.unwrap();
    let router = bauhinia_opendata::http::router(Arc::new(open));

    let (status, content_type, catalog_text) = crate::fetch(&router, "/catalog.jsonld").await;
    assert_eq!(status, StatusCode::OK, "{catalog_text}");
    assert_eq!(content_type, "application/ld+json");
    let (status, content_type, atom) = crate::fetch(&router, "/feeds/dataset.atom").await;
    assert_eq!(status, StatusCode::OK, "{atom}");
    assert_eq!(content_type, "application/atom+xml; charset=utf-8");
    for bad in ["0", "-1", "x", "99999999999"] {
        let (status, content_type, body) =
            crate::fetch(&router, &format!("/catalog.jsonld?page={bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(content_type, "application/problem+json");
        assert!(body.contains("opendata.catalog_page"), "{body}");
    }
    let (_, _, beyond) = crate::fetch(&router, "/catalog.jsonld?page=7").await;
    let beyond: Value = serde_json::from_str(&beyond).unwrap();
    assert_eq!(
        beyond["@graph"][0]["dcat:dataset"],
        json!([]),
        "a page after the last is empty"
    );
    Feeds {
        catalog: serde_json::from_str(&catalog_text).unwrap(),
        catalog_text,
        atom,
        _db: test,
    }
}

#[tokio::test]
async fn the_dcat_catalogue_and_the_atom_feed_list_public_datasets() {
    let f = feeds().await;
    let graph = f.catalog["@graph"].as_array().unwrap();
    let datasets: Vec<&Value> = graph
        .iter()
        .filter(|n| n["@type"] == "dcat:Dataset")
        .collect();
    assert_eq!(
        datasets.len(),
        PUBLIC,
        "the demo datasets and one public change"
    );
    assert!(!f.catalog_text.contains("hk-td-private-plan"));
    let paging = graph.last().unwrap();
    assert_eq!(paging["@type"], "hydra:PagedCollection");
    assert_eq!(paging["hydra:totalItems"], PUBLIC);
    assert!(f
        .atom
        .contains("Road works &lt;planned&gt; &amp; &quot;urgent&quot;"));
    assert!(!f.atom.contains("hk-td-private-plan"));
}

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// rdflib reads the catalogue as RDF and feedparser reads the feed, each printing what it found
/// as JSON.
#[tokio::test]
async fn rdflib_and_feedparser_read_them() {
    let Some(python) = std::env::var_os("BAUHINIA_TEST_PYTHON").map(PathBuf::from) else {
        assert!(!tools_required(), "BAUHINIA_TEST_PYTHON is not set");
        eprintln!(
            "feeds: python not run (BAUHINIA_TEST_PYTHON unset; scripts/test always sets it)"
        );
        return;
    };
    let f = feeds().await;
    let dir = Scratch(std::env::temp_dir().join(format!(
        "bauhinia-feeds-{}-{}",
        std::process::id(),
        NOW
    )));
    std::fs::create_dir_all(&dir.0).unwrap();
    std::fs::write(dir.0.join("catalog.jsonld"), &f.catalog_text).unwrap();
    std::fs::write(dir.0.join("dataset.atom"), &f.atom).unwrap();
    let script = r#"
import json, sys
import rdflib, feedparser
g = rdflib.Graph().parse(sys.argv[1] + "/catalog.jsonld", format="json-ld")
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
datasets = set(g.subjects(rdflib.RDF.type, DCAT.Dataset))
languages = sorted({t.language for d in datasets for t in g.objects(d, DCT.title)})
distributions = [u for d in datasets for dist in g.objects(d, DCAT.distribution) for u in g.objects(dist, DCAT.accessURL)]
periodicity = sorted({str(p) for d in datasets for p in g.objects(d, DCT.accrualPeriodicity)})
feed = feedparser.parse(sys.argv[1] + "/dataset.atom")
print(json.dumps({
    "datasets": len(datasets),
    "languages": languages,
    "distributions": len(distributions),
    "periodicity": periodicity,
    "bozo": bool(feed.bozo),
    "entries": [e.title for e in feed.entries],
    "links": [e.link for e in feed.entries],
}))
"#;
    let out = std::process::Command::new(&python)
        .arg("-c")
        .arg(script)
        .arg(&dir.0)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(found["datasets"], PUBLIC, "{found}");
    assert_eq!(
        found["languages"],
        json!(["en", "zh-Hans", "zh-Hant"]),
        "{found}"
    );
    assert!(
        found["distributions"].as_u64().unwrap() >= PUBLIC as u64,
        "{found}"
    );
    assert!(
        found["periodicity"].as_array().unwrap().iter().all(|p| p
            .as_str()
            .unwrap()
            .starts_with("http://publications.europa.eu/resource/authority/frequency/")),
        "{found}"
    );
    assert_eq!(found["bozo"], false, "{found}");
    assert_eq!(
        found["entries"].as_array().unwrap().len(),
        PUBLIC,
        "{found}"
    );
    assert_eq!(
        found["entries"][0], "Road works <planned> & \"urgent\"",
        "the latest change first: {found}"
    );
    assert_eq!(
        found["links"][0],
        "http://localhost:8080/opendata/dataset/hk-td-road-works"
    );
    println!("feeds: rdflib and feedparser passed");
}
