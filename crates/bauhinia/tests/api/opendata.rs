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
