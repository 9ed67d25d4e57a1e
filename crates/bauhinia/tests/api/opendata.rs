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
