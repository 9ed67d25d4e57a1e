//! The open data catalogue in the composed application: the demo catalogue is loaded at start,
//! and the CKAN Action API answers at both of CKAN's paths in CKAN's shapes — the app's
//! problem+json handling leaves them alone; the OGC API serves the synthetic spatial layers, published after start.

use std::path::PathBuf;
use std::process::Command;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
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
    // The search page: 交通 (the same in both scripts) finds the Smart Traffic Fund; a category
    // filter narrows; words that look like query syntax are only words.
    let found = get(&app, "/opendata?q=%E4%BA%A4%E9%80%9A").await;
    assert_eq!(found.status, StatusCode::OK);
    let html = found.text();
    assert!(
        html.contains("data-dataset=\"hk-td-smart-traffic-fund\""),
        "{html}"
    );
    assert!(html.contains("data-facet=\"groups\""));
    let narrowed = get(&app, "/opendata?groups=transport").await.text();
    assert!(narrowed.contains("data-dataset=\"hk-td-smart-traffic-fund\""));
    assert!(!narrowed.contains("data-dataset=\"hk-itib-international-rankings\""));
    let odd = get(&app, "/opendata?q=title%3A(%20OR%20%22&page=0").await;
    assert_eq!(odd.status, StatusCode::OK);
    assert!(odd.text().contains("id=\"no-results\""));
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
    // `serve` publishes them in the background once it is up; a test runs the same step.
    let published = bauhinia::load_demo_spatial(&app.state)
        .await
        .expect("layers");
    assert_eq!(published, 2);
    let again = bauhinia::load_demo_spatial(&app.state)
        .await
        .expect("again");
    assert_eq!(again, 0, "once per installation");
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

    // The portal's dataset page previews the first features, with the OGC API's link.
    let page = super::send(
        &app,
        Request::get("/opendata/dataset/hk-ogcio-wifi-hk-hotspots-synthetic")
            .header(header::COOKIE, "bauhinia_lang=en")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("The first 20 of 42000 features"), "{html}");
    assert!(html.contains("<th scope=\"col\">longitude</th>"), "{html}");
    assert!(html.contains("/ogc/collections/hk-ogcio-wifi-hk-hotspots-synthetic/items?f=json"));

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
    let listed = get(&app, "/api/3/action/package_list").await.json();
    assert_eq!(
        post["result"]["count"].as_u64(),
        listed["result"].as_array().map(|l| l.len() as u64),
        "every public dataset"
    );

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

fn admin_token(app: &super::TestApp) -> String {
    std::fs::read_to_string(app.dir.join("admin.token"))
        .expect("admin token file")
        .trim()
        .to_owned()
}

async fn send_with(
    app: &super::TestApp,
    method: &str,
    uri: &str,
    authorization: Option<&str>,
    body: &str,
) -> super::Answer {
    let mut request = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header(axum::http::header::CONTENT_TYPE, "application/json");
    if let Some(value) = authorization {
        request = request.header(axum::http::header::AUTHORIZATION, value);
    }
    super::send(
        app,
        request
            .body(axum::body::Body::from(body.to_owned()))
            .expect("request"),
    )
    .await
}

/// The operator issues a publisher's token (admin token), the publisher writes with it, an
/// upload is downloaded and found in the historical archive, and the operator revokes it.
#[tokio::test]
async fn publishers_write_with_tokens_the_operator_issues() {
    let app = app().await;
    let tokens = "/api/v1/admin/opendata/tokens";
    let asked = r#"{"name": "td harvester", "user": "td-publisher", "organizations": ["hk-td"]}"#;
    let refused = send_with(&app, "POST", tokens, None, asked).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let admin = format!("Bearer {}", admin_token(&app));
    let bad = send_with(
        &app,
        "POST",
        tokens,
        Some(&admin),
        r#"{"name": "x", "user": "y", "organizations": ["nope"]}"#,
    )
    .await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bad.text()
    );
    assert_eq!(bad.json()["code"], "opendata.token_invalid");
    let issued = send_with(&app, "POST", tokens, Some(&admin), asked).await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text());
    let issued = issued.json();
    let token = issued["token"].as_str().expect("token").to_owned();
    let id = issued["id"].as_str().expect("id").to_owned();

    let package = serde_json::json!({
        "name": "hk-td-bus-routes",
        "title": "Bus routes",
        "notes": "Every franchised bus route.",
        "owner_org": "hk-td",
        "groups": [{"name": "transport"}],
    })
    .to_string();
    let anonymous = post_json(&app, "/api/3/action/package_create", package.clone()).await;
    assert_eq!(anonymous.status, StatusCode::FORBIDDEN);
    assert_eq!(anonymous.json()["error"]["__type"], "Authorization Error");
    let created = send_with(
        &app,
        "POST",
        "/api/3/action/package_create",
        Some(&token),
        &package,
    )
    .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    assert_eq!(created.content_type(), "application/json;charset=utf-8");
    assert_eq!(created.json()["result"]["organization"]["name"], "hk-td");
    let other_org =
        serde_json::json!({"name": "hk-dpo-x", "title": "X", "notes": "Y", "owner_org": "hk-dpo"})
            .to_string();
    let wrong = send_with(
        &app,
        "POST",
        "/api/action/package_create",
        Some(&token),
        &other_org,
    )
    .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);

    let listed = send_with(&app, "GET", tokens, Some(&admin), "").await;
    assert_eq!(listed.status, StatusCode::OK);
    assert!(!listed.text().contains(&token), "no secret in the list");
    assert!(listed.json()["tokens"][0]["last_used_at_s"].is_i64());
    let revoked = send_with(&app, "DELETE", &format!("{tokens}/{id}"), Some(&admin), "").await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let missing = send_with(&app, "DELETE", &format!("{tokens}/nope"), Some(&admin), "").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()["code"], "opendata.token_not_found");
    let after = send_with(
        &app,
        "POST",
        "/api/3/action/package_patch",
        Some(&token),
        r#"{"id": "hk-td-bus-routes", "notes": "z"}"#,
    )
    .await;
    assert_eq!(after.status, StatusCode::FORBIDDEN);

    let archive = get(&app, "/v1/historical-archive/list-files?start=20240101").await;
    assert_eq!(archive.status, StatusCode::BAD_REQUEST);
    assert_eq!(archive.content_type(), "application/problem+json");
    assert_eq!(archive.json()["code"], "opendata.archive_parameter_invalid");
    let archive = get(
        &app,
        "/v1/historical-archive/list-files?start=20240101&end=20240102",
    )
    .await;
    assert_eq!(archive.status, StatusCode::OK);
    assert_eq!(archive.json()["total"], 0);
}

/// The real `ckanapi` (PyPI, pinned in tests/python/requirements.txt), from the venv whose
/// Python `BAUHINIA_TEST_PYTHON` names; `None` (the test says "not run") without it, a failure
/// under `BAUHINIA_TEST_REQUIRE_TOOLS=1`.
fn ckanapi() -> Option<std::path::PathBuf> {
    let required = std::env::var("BAUHINIA_TEST_REQUIRE_TOOLS").is_ok_and(|v| v == "1");
    let python = std::env::var_os("BAUHINIA_TEST_PYTHON").map(std::path::PathBuf::from);
    let script = python
        .as_deref()
        .and_then(std::path::Path::parent)
        .map(|bin| bin.join("ckanapi"))
        .filter(|s| s.exists());
    if script.is_none() {
        assert!(
            !required,
            "ckanapi is not in the venv of BAUHINIA_TEST_PYTHON"
        );
        eprintln!("open data ckanapi interoperability: not run (BAUHINIA_TEST_PYTHON unset or without ckanapi; scripts/test always sets it)");
    }
    script
}

/// Serves the whole application on 127.0.0.1 (a real socket: ckanapi is a separate process).
async fn serve(app: &super::TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let router = app.router.clone();
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await;
    });
    format!("http://{address}")
}

/// Runs ckanapi with `args`; its workers (`ckanapi load` starts `ckanapi` from `PATH`) find it
/// in the venv.
async fn run_ckanapi(script: &std::path::Path, args: Vec<String>) -> (String, String) {
    let script = script.to_owned();
    let output = tokio::task::spawn_blocking(move || {
        let bin = script.parent().expect("venv bin").to_owned();
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![bin];
        paths.extend(std::env::split_paths(&path));
        std::process::Command::new(&script)
            .args(&args)
            .env("PATH", std::env::join_paths(paths).expect("PATH"))
            .output()
            .expect("ckanapi runs")
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "ckanapi failed: {stdout}\n{stderr}"
    );
    (stdout, stderr)
}

async fn dump(ckanapi: &std::path::Path, thing: &str, out: &str, site: &str) {
    let args = ["dump", thing, "--all", "-q", "-O", out, "-r", site];
    run_ckanapi(ckanapi, args.iter().map(|w| (*w).to_owned()).collect()).await;
}

/// `ckanapi load`, which exits 3 if any object failed and prints each one's outcome
/// (`… create None name`): every one must be `action` without an error.
async fn load(
    ckanapi: &std::path::Path,
    (thing, action): (&str, &str),
    input: &str,
    site: &str,
    token: &str,
) {
    let args = ["load", thing, "-I", input, "-r", site, "-a", token];
    let (_, report) = run_ckanapi(ckanapi, args.iter().map(|w| (*w).to_owned()).collect()).await;
    let lines: Vec<&str> = report.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "{report}");
    let outcome = format!(" {action} None ");
    assert!(lines.iter().all(|l| l.contains(&outcome)), "{report}");
}

async fn sysadmin_token(app: &super::TestApp) -> String {
    let asked = bauhinia_opendata::publish::TokenRequest {
        name: "ckanapi".into(),
        user: "loader".into(),
        sysadmin: true,
        organizations: Vec::new(),
        expires_s: None,
    };
    let (secret, _) = app
        .state
        .opendata
        .issue_token(&asked, "test", 1_700_000_000)
        .await
        .expect("token");
    secret
}

/// A dump's datasets by name, without what each server assigns itself: the times of writes and
/// the ids of its own category groups and tags (CKAN's too; the names are what a dataset
/// names them by).
fn comparable(jsonl: &str) -> std::collections::BTreeMap<String, serde_json::Value> {
    let mut out = std::collections::BTreeMap::new();
    for line in jsonl.lines().filter(|l| !l.trim().is_empty()) {
        let mut d: serde_json::Value = serde_json::from_str(line).expect("a dataset per line");
        let map = d.as_object_mut().expect("object");
        for key in ["metadata_created", "metadata_modified"] {
            map.remove(key);
        }
        if let Some(org) = map.get_mut("organization").and_then(|o| o.as_object_mut()) {
            org.remove("created");
        }
        for list in ["groups", "tags"] {
            for item in map
                .get_mut(list)
                .and_then(|l| l.as_array_mut())
                .into_iter()
                .flatten()
            {
                item.as_object_mut().expect("dict").remove("id");
            }
        }
        for r in map
            .get_mut("resources")
            .and_then(|l| l.as_array_mut())
            .into_iter()
            .flatten()
        {
            for key in ["created", "last_modified", "metadata_modified"] {
                r.as_object_mut().expect("dict").remove(key);
            }
        }
        out.insert(d["name"].as_str().expect("name").to_owned(), d);
    }
    out
}

/// `ckanapi dump datasets --all` from a server with the demo catalogue, `ckanapi load
/// organizations` and `ckanapi load datasets` into a fresh one (as between two CKAN sites: the
/// providers first), and a dump of the fresh one equal to the first: nothing lost. Then
/// `ckanapi action package_create` with a token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ckanapi_dumps_and_loads_without_loss() {
    let Some(ckanapi) = ckanapi() else {
        return;
    };
    let source = app().await;
    let target = super::app_with(bauhinia::config::Layer {
        demo: Some(false),
        ..bauhinia::config::Layer::default()
    })
    .await;
    let (a, b) = (serve(&source).await, serve(&target).await);
    let token = sysadmin_token(&target).await;
    let dir = source.dir.join("ckanapi");
    std::fs::create_dir_all(&dir).expect("dir");
    let file = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let args = |words: &[&str]| words.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>();

    dump(&ckanapi, "datasets", &file("a.jsonl"), &a).await;
    dump(&ckanapi, "organizations", &file("orgs.jsonl"), &a).await;
    load(
        &ckanapi,
        ("organizations", "create"),
        &file("orgs.jsonl"),
        &b,
        &token,
    )
    .await;
    load(
        &ckanapi,
        ("datasets", "create"),
        &file("a.jsonl"),
        &b,
        &token,
    )
    .await;
    dump(&ckanapi, "datasets", &file("b.jsonl"), &b).await;

    let before = comparable(&std::fs::read_to_string(file("a.jsonl")).expect("a"));
    let after = comparable(&std::fs::read_to_string(file("b.jsonl")).expect("b"));
    assert!(before.len() >= 5, "{}", before.len());
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (name, dataset) in &before {
        assert_eq!(
            Some(dataset),
            after.get(name),
            "{name} changed in the round trip"
        );
    }
    // Loading again updates in place (package_show finds each, then package_update).
    load(
        &ckanapi,
        ("datasets", "update"),
        &file("a.jsonl"),
        &b,
        &token,
    )
    .await;

    let (created, _) = run_ckanapi(
        &ckanapi,
        args(&[
            "action",
            "package_create",
            "-r",
            &b,
            "-a",
            &token,
            "name=hk-td-ckanapi-made",
            "title=Made by ckanapi",
            "notes=Through the CLI",
            "owner_org=hk-td",
            "groups:[{\"name\": \"transport\"}]",
        ]),
    )
    .await;
    let created: serde_json::Value =
        serde_json::from_str(&created).expect("ckanapi prints the result");
    assert_eq!(created["name"], "hk-td-ckanapi-made");
    assert_eq!(created["organization"]["name"], "hk-td");
    // An upload as ckanapi sends it (multipart/form-data, the file in `upload`), then
    // downloaded from the server.
    let csv = "stop,name\n1,中環 Central\n";
    std::fs::write(file("stops.csv"), csv).expect("csv");
    let (uploaded, _) = run_ckanapi(
        &ckanapi,
        args(&[
            "action",
            "resource_create",
            "-r",
            &b,
            "-a",
            &token,
            "package_id=hk-td-ckanapi-made",
            &format!("upload@{}", file("stops.csv")),
        ]),
    )
    .await;
    let uploaded: serde_json::Value = serde_json::from_str(&uploaded).expect("the resource");
    assert_eq!(uploaded["url_type"], "upload");
    assert_eq!(uploaded["format"], "CSV");
    let url = uploaded["url"].as_str().expect("url");
    let path = &url[url.find("/dataset/").expect("download path")..];
    assert!(path.ends_with("/download/stops.csv"), "{path}");
    let downloaded = reqwest::get(format!("{b}{path}")).await.expect("download");
    assert_eq!(downloaded.status(), reqwest::StatusCode::OK);
    assert_eq!(downloaded.text().await.expect("body"), csv);

    let refused = tokio::task::spawn_blocking({
        let (ckanapi, b) = (ckanapi.clone(), b.clone());
        move || {
            std::process::Command::new(ckanapi)
                .args([
                    "action",
                    "package_create",
                    "-r",
                    &b,
                    "name=hk-td-no-token",
                    "title=x",
                    "notes=y",
                    "owner_org=hk-td",
                ])
                .output()
                .expect("ckanapi runs")
        }
    })
    .await
    .expect("join");
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("NotAuthorized"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    println!("open data ckanapi interoperability: passed");
}

async fn resource_of(app: &super::TestApp, dataset: &str) -> String {
    let package = get(app, &format!("/api/3/action/package_show?id={dataset}"))
        .await
        .json();
    assert_eq!(
        package["result"]["resources"][0]["format"], "CSV",
        "{dataset}"
    );
    package["result"]["resources"][0]["id"]
        .as_str()
        .expect("resource id")
        .to_owned()
}

#[tokio::test]
async fn the_fact_sheet_tables_are_in_the_datastore_and_previewed_in_three_languages() {
    let app = app().await;
    let id = resource_of(&app, "hk-itib-international-rankings").await;
    let found = get(
        &app,
        &format!("/api/3/action/datastore_search?resource_id={id}&sort=edition_year%20asc"),
    )
    .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text());
    let found = found.json();
    assert_eq!(found["success"], true);
    assert_eq!(found["result"]["total"], 8);
    let records = found["result"]["records"].as_array().expect("records");
    assert_eq!(records.len(), 8);
    assert_eq!(records[0]["ranking_en"], "Digital Intelligence Index");
    assert_eq!(records[0]["edition_year"], 2020);
    assert_eq!(records[0]["global_rank"], 3);
    let imd = records
        .iter()
        .find(|r| r["ranking_en"] == "World Digital Competitiveness Ranking")
        .expect("IMD");
    assert_eq!(
        (imd["regional_rank"].as_i64(), imd["global_rank"].as_i64()),
        (Some(2), Some(4))
    );
    assert!(imd["source"]
        .as_str()
        .is_some_and(|s| s.contains("亚太区第 2、全球第 4")));

    let dump = get(&app, &format!("/datastore/dump/{id}?format=csv")).await;
    assert_eq!(dump.status, StatusCode::OK);
    assert!(dump.text().starts_with("_id,ranking_en,ranking_zh_hant,"));

    for (lang, title, resource) in [
        ("zh-Hant", "香港在創新、數碼競爭力及智慧城市國際排名中的位置", "國際排名（表格）"),
        ("zh-Hans", "香港在创新、数码竞争力及智慧城市国际排名中的位置", "国际排名（表格）"),
        (
            "en",
            "Hong Kong in international rankings of innovation, digital competitiveness and smart cities",
            "International rankings (table)",
        ),
    ] {
        let page = super::send(
            &app,
            Request::get("/opendata/dataset/hk-itib-international-rankings")
                .header(header::COOKIE, format!("bauhinia_lang={lang}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
        assert_eq!(page.status, StatusCode::OK, "{lang}");
        let html = page.text();
        assert!(html.contains(&format!("<html lang=\"{lang}\">")), "{lang}");
        assert!(html.contains(title), "{lang}: title");
        assert!(html.contains(resource), "{lang}: resource name");
        assert!(html.contains("<table class=\"preview\">"), "{lang}: preview");
        for cell in ["World Digital Competitiveness Ranking", "世界數碼競爭力排名", "ISUI 智慧城市指数"] {
            assert!(html.contains(cell), "{lang}: {cell}");
        }
    }
}

#[tokio::test]
async fn the_funding_easy_catalogue_is_a_table_whose_amounts_its_sentences_state() {
    let app = app().await;
    let id = resource_of(&app, bauhinia_opendata::demo::FUNDING_DATASET).await;
    let found = get(
        &app,
        &format!("/api/3/action/datastore_search?resource_id={id}&limit=1000"),
    )
    .await
    .json();
    let schemes = app.state.funding.catalogue().len();
    assert!(schemes > 10);
    assert_eq!(found["result"]["total"], schemes);
    let records = found["result"]["records"].as_array().expect("records");
    assert_eq!(records.len(), schemes);
    let mut amounts = 0;
    for record in records {
        let source = record["source"].as_str().expect("source");
        let stated = bauhinia_opendata::demo::figures(source);
        let object = record.as_object().expect("record");
        for (field, value) in object.iter().filter(|(k, _)| k.ends_with("_hkd")) {
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if let Some(amount) = bauhinia_opendata::demo::canonical(&text) {
                assert!(
                    stated.contains(&amount),
                    "{}: {field} = {amount} not in 「{source}」",
                    record["id"]
                );
                amounts += 1;
            }
        }
    }
    assert!(amounts >= 10, "{amounts} amounts checked");
}
