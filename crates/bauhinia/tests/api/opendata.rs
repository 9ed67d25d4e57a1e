//! The open data catalogue in the composed application: the demo catalogue is loaded at start,
//! and the CKAN Action API answers at both of CKAN's paths in CKAN's shapes — the app's
//! problem+json handling leaves them alone; the OGC API serves the synthetic spatial layers.

use axum::http::StatusCode;

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

    let unknown = get(&app, "/api/3/action/package_search").await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        unknown.json(),
        serde_json::json!("Bad request - Action name not known: package_search")
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
