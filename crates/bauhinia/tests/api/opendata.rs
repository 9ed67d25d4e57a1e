//! The open data catalogue in the composed application: the demo catalogue is loaded at start,
//! and the CKAN Action API answers at both of CKAN's paths in CKAN's shapes — the app's
//! problem+json handling leaves them alone; the OGC API serves the synthetic spatial layers.

use std::path::PathBuf;
use std::process::Command;

use axum::http::StatusCode;
use serde_json::Value;

use super::{app, get, post_json};

#[tokio::test]
async fn the_ckan_action_api_serves_the_demo_catalogue() {
    let app = app().await;
    let list = get(&app, "/api/3/action/package_list").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text());
    assert_eq!(list.content_type(), "application/json;charset=utf-8");
    let list = list.json();
    assert_eq!(list["success"], true);
    let names = list["result"].as_array().expect("names");
    assert!(
        names.iter().any(|n| n == "hk-dpo-opendata-datasets-opened"),
        "{names:?}"
    );

    let groups = post_json(&app, "/api/action/group_list", r#"{"all_fields": true}"#).await;
    assert_eq!(groups.json()["result"].as_array().map(Vec::len), Some(19));

    let org = get(&app, "/api/3/action/organization_show?id=hk-td")
        .await
        .json();
    assert_eq!(org["result"]["title"], "Transport Department");

    let unknown = get(&app, "/api/3/action/package_revise").await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        unknown.json(),
        serde_json::json!("Bad request - Action name not known: package_revise")
    );

    let missing = get(&app, "/api/3/action/package_show?id=nothing").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()["error"]["__type"], "Not Found Error");
}

#[tokio::test]
async fn the_portal_page_the_dcat_catalogue_and_the_feed() {
    use axum::body::Body;
    use axum::http::{header, Request};

    let app = app().await;
    for (lang, needle) in [
        ("zh-Hant", "最後更新"),
        ("zh-Hans", "最后更新"),
        ("en", "Last updated"),
    ] {
        let page = super::send(
            &app,
            Request::get("/opendata/dataset/hk-dpo-opendata-datasets-opened")
                .header(header::COOKIE, format!("bauhinia_lang={lang}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(page.status, StatusCode::OK, "{lang}");
        let html = page.text();
        assert!(html.contains(&format!("<html lang=\"{lang}\">")), "{lang}");
        assert!(html.contains(needle), "{lang}");
        assert!(html.contains("id=\"quality-score\""), "{lang}");
        assert!(
            html.contains("/api/3/action/package_show?id=hk-dpo-opendata-datasets-opened"),
            "{lang}"
        );
    }
    let missing = get(&app, "/opendata/dataset/no-such-dataset").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let catalog = get(&app, "/catalog.jsonld").await;
    assert_eq!(catalog.status, StatusCode::OK);
    assert_eq!(catalog.content_type(), "application/ld+json");
    assert!(catalog.text().contains("\"dcat:Catalog\""));
    let feed = get(&app, "/feeds/dataset.atom").await;
    assert_eq!(feed.status, StatusCode::OK);
    assert!(feed
        .text()
        .contains("<feed xmlns=\"http://www.w3.org/2005/Atom\""));
    let bad = get(&app, "/catalog.jsonld?page=zero").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["code"], "opendata.catalog_page");
}

/// A GET as an OGC client sends it: asking for GeoJSON or JSON.
async fn ogc(app: &super::TestApp, uri: &str) -> super::Answer {
    let request = axum::http::Request::get(uri)
        .header(
            axum::http::header::ACCEPT,
            "application/geo+json, application/json;q=0.9",
        )
        .body(axum::body::Body::empty())
        .expect("request");
    super::send(app, request).await
}

#[tokio::test]
async fn the_ogc_api_serves_the_synthetic_spatial_layers() {
    let app = app().await;
    let collections = ogc(&app, "/ogc/collections").await;
    assert_eq!(collections.status, StatusCode::OK, "{}", collections.text());
    assert_eq!(collections.content_type(), "application/json");
    let ids: Vec<String> = collections.json()["collections"]
        .as_array()
        .expect("collections")
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(
        ids,
        [
            "hk-ogcio-smart-lampposts-synthetic",
            "hk-ogcio-wifi-hk-hotspots-synthetic"
        ]
    );

    let all = ogc(
        &app,
        "/ogc/collections/hk-ogcio-wifi-hk-hotspots-synthetic/items?limit=1",
    )
    .await;
    assert_eq!(all.content_type(), "application/geo+json");
    assert_eq!(all.json()["numberMatched"], 42_000);
    let central = ogc(
        &app,
        "/ogc/collections/hk-ogcio-wifi-hk-hotspots-synthetic/items?bbox=114.14,22.27,114.17,22.29&limit=100",
    )
    .await
    .json();
    let matched = central["numberMatched"].as_u64().expect("matched");
    assert!((1..42_000).contains(&matched), "{matched}");
    for f in central["features"].as_array().expect("features") {
        let lon = f["geometry"]["coordinates"][0].as_f64().expect("lon");
        assert!((114.14..=114.17).contains(&lon), "{f}");
        assert!(f["properties"]["name_zh_hant"]
            .as_str()
            .expect("name")
            .contains("合成"));
    }

    // The lampposts came in the HK1980 Grid; they are served in WGS84.
    let lamppost = ogc(
        &app,
        "/ogc/collections/hk-ogcio-smart-lampposts-synthetic/items/SLP-0001",
    )
    .await
    .json();
    let lat = lamppost["geometry"]["coordinates"][1]
        .as_f64()
        .expect("lat");
    assert!((22.15..22.57).contains(&lat), "{lamppost}");

    let package = ogc(
        &app,
        "/api/3/action/package_show?id=hk-ogcio-wifi-hk-hotspots-synthetic",
    )
    .await
    .json();
    assert!(package["result"]["title"]
        .as_str()
        .expect("title")
        .contains("SYNTHETIC"));

    let missing = ogc(&app, "/ogc/collections/nothing/items").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.content_type(), "application/json");
    assert_eq!(missing.json()["code"], "NotFound");
    let bad = ogc(
        &app,
        "/ogc/collections/hk-ogcio-wifi-hk-hotspots-synthetic/items?bbox=1,2,3",
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["code"], "InvalidParameterValue");
}

#[tokio::test]
async fn package_search_finds_the_demo_catalogue_in_three_languages() {
    let app = app().await;
    let search = |query: &'static str| {
        let app = &app;
        async move { get(app, &format!("/api/3/action/package_search?{query}")).await }
    };
    // 開放數據 (Traditional) finds the fact-sheet datasets whatever script their text is in.
    let found = search("q=%E9%96%8B%E6%94%BE%E6%95%B8%E6%93%9A&facet.field=[%22organization%22,%22groups%22,%22tags%22,%22res_format%22]").await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text());
    let result = found.json()["result"].clone();
    assert!(result["count"].as_u64().unwrap_or(0) >= 1, "{result}");
    assert_eq!(result["sort"], "score desc, metadata_modified desc");
    let first = &result["results"][0];
    assert_eq!(first["type"], "dataset");
    assert!(first["resources"].is_array() && first["organization"].is_object());
    let orgs = &result["search_facets"]["organization"];
    assert_eq!(orgs["title"], "organization");
    assert!(orgs["items"][0]["display_name"].is_string(), "{orgs}");
    assert!(result["facets"]["res_format"].is_object());

    let post = post_json(
        &app,
        "/api/action/package_search",
        r#"{"q": "*:*", "rows": 2, "facet.field": ["groups"]}"#,
    )
    .await;
    let post = post.json();
    assert_eq!(post["result"]["results"].as_array().map(Vec::len), Some(2));
    assert_eq!(post["result"]["count"], 5);

    let bad = search("q=title:(").await;
    assert_eq!(bad.status, StatusCode::CONFLICT);
    assert_eq!(bad.json()["success"], false);
    assert_eq!(bad.json()["error"]["__type"], "Search Error");
    let bad = search("sort=colour%20asc").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        bad.json()["error"],
        serde_json::json!({"__type": "Search Query Error", "message": "Search Query is invalid: ('Invalid \"sort\" parameter',)"})
    );
    let bad = search("rows=-1").await;
    assert_eq!(bad.status, StatusCode::CONFLICT);
    assert_eq!(bad.json()["error"]["rows"][0], "Must be a natural number");
}

fn tools_required() -> bool {
    std::env::var("BAUHINIA_TEST_REQUIRE_TOOLS").is_ok_and(|v| v == "1")
}

/// Runs `ckanapi ARGS -r SITE`: whether it succeeded, its output and its errors. Blocking: the
/// server runs on the test runtime's other worker.
fn ckanapi_run(program: &std::path::Path, site: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(program)
        .args(args)
        .args(["-r", site])
        .output()
        .expect("ckanapi runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `ckanapi` — CKAN's own client, from PyPI — searches a real server on 127.0.0.1, through
/// both of its commands: `action package_search` (one call) and `search datasets` (pages of
/// `rows=1000` until an empty page, one JSON line per dataset).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ckanapi_searches_a_real_server() {
    let Some(python) = std::env::var_os("BAUHINIA_TEST_PYTHON").map(PathBuf::from) else {
        assert!(!tools_required(), "BAUHINIA_TEST_PYTHON is not set");
        eprintln!("ckanapi: not run (BAUHINIA_TEST_PYTHON unset; scripts/test always sets it)");
        return;
    };
    let program = python.with_file_name("ckanapi");
    assert!(
        program.exists(),
        "{} is missing: scripts/ensure-test-venv installs it",
        program.display()
    );
    let app = app().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let router = app.router.clone();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    let site = format!("http://{address}");
    let ckanapi = |args: &[&str]| ckanapi_run(&program, &site, args);

    let (ok, stdout, stderr) = ckanapi(&["action", "package_search", "q=數據", "rows=2"]);
    assert!(ok, "{stdout}{stderr}");
    let result: Value = serde_json::from_str(&stdout).expect("ckanapi prints the result");
    assert!(result["count"].as_u64().unwrap_or(0) >= 1, "{result}");
    assert!(result["results"]
        .as_array()
        .is_some_and(|r| !r.is_empty() && r.len() <= 2));

    let (ok, stdout, stderr) = ckanapi(&["search", "datasets", "q=*:*"]);
    assert!(ok, "{stdout}{stderr}");
    let mut names: Vec<String> = stdout
        .lines()
        .map(|line| {
            let dataset: Value = serde_json::from_str(line).expect("one dataset a line");
            dataset["name"].as_str().expect("name").to_owned()
        })
        .collect();
    let listed = get(&app, "/api/3/action/package_list").await.json()["result"].clone();
    let mut expected: Vec<String> = serde_json::from_value(listed).expect("names");
    names.sort();
    expected.sort();
    assert_eq!(names, expected, "every public dataset, once");

    let (ok, stdout, stderr) = ckanapi(&["action", "package_search", "sort=colour asc"]);
    assert!(!ok, "{stdout}");
    assert!(stderr.contains("SearchQueryError"), "{stderr}");
    server.abort();
}
