//! The open data catalogue in the composed application: the demo catalogue is loaded at start,
//! and the CKAN Action API answers at both of CKAN's paths in CKAN's shapes — the app's
//! problem+json handling leaves them alone.

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
