//! The OGC's own Python client, OWSLib, against the OGC API on a real socket (127.0.0.1): it
//! lists the collections and fetches items inside a bbox page by page, and what it saw must be
//! what the server holds.
//!
//! Python is taken from `BAUHINIA_TEST_PYTHON` (the test command points it at its venv, which
//! pins OWSLib). Without it the test says "not run"; with `BAUHINIA_TEST_REQUIRE_TOOLS=1` (the
//! test command sets it) that is a failure.

use std::path::Path;
use std::sync::Arc;

use bauhinia_opendata::spatial::query::parse_items;
use bauhinia_opendata::spatial::synthetic;
use bauhinia_opendata::OpenData;
use bauhinia_store::testing::TestDb;
use serde_json::Value;

fn tools_required() -> bool {
    std::env::var("BAUHINIA_TEST_REQUIRE_TOOLS").is_ok_and(|v| v == "1")
}

/// Kowloon, roughly: Tsim Sha Tsui to Kowloon Tong.
const BBOX: &str = "114.15,22.29,114.20,22.34";

#[tokio::test]
async fn owslib_lists_collections_and_fetches_items_in_a_bbox() {
    let Some(python) = std::env::var_os("BAUHINIA_TEST_PYTHON") else {
        assert!(!tools_required(), "BAUHINIA_TEST_PYTHON is not set");
        eprintln!(
            "owslib interoperability: not run (BAUHINIA_TEST_PYTHON unset; scripts/test sets it)"
        );
        return;
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let site = format!("http://{}", listener.local_addr().unwrap());
    let test = TestDb::sqlite().await.unwrap();
    let open = OpenData::start(&test.db, &site, &test.files, 1_700_000_000)
        .await
        .unwrap();
    // The demo's lampposts: published in the HK1980 Grid, served in WGS84.
    assert_eq!(
        synthetic::load_only(&open, &[synthetic::LAMPPOSTS_DATASET], 1_700_000_000)
            .await
            .unwrap(),
        1
    );
    let open = Arc::new(open);
    let router = bauhinia_opendata::http::router(Arc::clone(&open));
    let server = tokio::spawn(async move { axum::serve(listener, router).await });

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/python/ogc_owslib.py");
    let collection = synthetic::LAMPPOSTS_DATASET;
    let base = format!("{site}/ogc/");
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .arg(script)
            .arg(base)
            .arg(collection)
            .arg(BBOX)
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    server.abort();
    assert!(
        output.status.success(),
        "owslib failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: Value = serde_json::from_slice(&output.stdout).unwrap();

    let layer = open.spatial().get(collection).unwrap();
    let expected = layer.items(&parse_items(&format!("bbox={BBOX}&limit=10000"), &[]).unwrap());
    let expected_ids: Vec<String> = expected
        .features
        .iter()
        .map(|f| {
            serde_json::from_str::<Value>(f).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(
        expected_ids.len() > 50,
        "more than one page: {}",
        expected_ids.len()
    );
    assert!(expected_ids.len() < layer.len(), "the bbox selects");
    assert_eq!(seen["feature_collections"], serde_json::json!([collection]));
    assert!(seen["conformance"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"));
    assert_eq!(seen["number_matched"], expected.matched);
    let seen_ids: Vec<&str> = seen["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap())
        .collect();
    assert_eq!(seen_ids, expected_ids);
    assert_eq!(seen["first"], expected_ids[0].as_str());
    let [w, s, e, n] = [114.15, 22.29, 114.20, 22.34];
    let lon = seen["first_coordinates"][0].as_f64().unwrap();
    let lat = seen["first_coordinates"][1].as_f64().unwrap();
    assert!(
        (w..=e).contains(&lon) && (s..=n).contains(&lat),
        "({lon}, {lat})"
    );
    let extent: Vec<f64> = seen["extent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(extent[0] < extent[2] && extent[1] < extent[3] && extent[0] > 113.8);
}
