//! Every action of the Action API through the router, with CKAN's envelopes and error shapes.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use bauhinia_opendata::demo::{FACT_DATASETS, PROVIDERS};
use bauhinia_opendata::domain::DatasetDraft;
use bauhinia_opendata::OpenData;
use bauhinia_store::testing::TestDb;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::domain::{good_draft, good_resource};
use crate::store::counter;

const SITE: &str = "http://localhost:8080";

struct App {
    router: Router,
    _db: TestDb,
    private_id: String,
}

async fn app() -> App {
    let test = TestDb::sqlite().await.unwrap();
    let open = OpenData::start(&test.db, SITE, &test.files, 1_700_000_000)
        .await
        .unwrap();
    assert_eq!(
        bauhinia_opendata::demo::load(&open, 1_700_000_000)
            .await
            .unwrap(),
        FACT_DATASETS.len()
    );
    assert_eq!(
        bauhinia_opendata::demo::load(&open, 1_700_000_000)
            .await
            .unwrap(),
        0,
        "idempotent"
    );
    let mut ids = counter();
    let traffic = good_draft()
        .validate(&[good_resource()], &mut ids, 1_700_000_000)
        .unwrap();
    open.store().insert_dataset(&traffic, "test").await.unwrap();
    let private = DatasetDraft {
        name: "hk-td-private-plan".into(),
        private: true,
        ..good_draft()
    }
    .validate(&[], &mut ids, 1_700_000_000)
    .unwrap();
    open.store().insert_dataset(&private, "test").await.unwrap();
    App {
        router: bauhinia_opendata::http::router(Arc::new(open)),
        _db: test,
        private_id: private.id,
    }
}

struct Answer {
    status: StatusCode,
    content_type: String,
    body: Value,
}

impl App {
    async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)));
        Answer {
            status,
            content_type,
            body,
        }
    }

    async fn get(&self, uri: &str) -> Answer {
        self.send(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    async fn post(&self, uri: &str, body: &str) -> Answer {
        let request = Request::post(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap();
        self.send(request).await
    }

    /// The result of a successful call, checking the envelope.
    async fn ok(&self, uri: &str) -> Value {
        let answer = self.get(uri).await;
        assert_eq!(answer.status, StatusCode::OK, "{uri}: {}", answer.body);
        assert_eq!(answer.content_type, "application/json;charset=utf-8");
        assert_eq!(answer.body["success"], json!(true));
        let action = uri.rsplit('/').next().unwrap().split('?').next().unwrap();
        assert_eq!(
            answer.body["help"],
            json!(format!("{SITE}/api/3/action/help_show?name={action}"))
        );
        answer.body["result"].clone()
    }
}

#[tokio::test]
async fn package_list_pages_public_datasets() {
    let app = app().await;
    let all = app.ok("/api/3/action/package_list").await;
    let names: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(names.len(), FACT_DATASETS.len() + 1);
    assert!(names.windows(2).all(|w| w[0] < w[1]), "sorted by name");
    assert!(!names.contains(&"hk-td-private-plan"));
    let page = app.ok("/api/3/action/package_list?limit=2&offset=1").await;
    assert_eq!(page, json!(names[1..3]));
    let page = app.ok("/api/action/package_list?limit=2&offset=5").await;
    assert_eq!(page, json!(names[5..7]));
    let posted = app
        .post("/api/action/package_list", r#"{"limit": 1, "offset": "0"}"#)
        .await;
    assert_eq!(posted.body["result"], json!(names[..1]));
}

#[tokio::test]
async fn package_show_by_name_and_id_in_ckans_shape() {
    let app = app().await;
    let p = app
        .ok("/api/3/action/package_show?id=hk-td-tis-traffic-speed")
        .await;
    assert_eq!(p["name"], "hk-td-tis-traffic-speed");
    assert_eq!(p["title"], "Traffic speed");
    assert_eq!(p["notes"], "Speeds on major roads.");
    assert_eq!(p["type"], "dataset");
    assert_eq!(p["state"], "active");
    assert_eq!(p["private"], false);
    assert_eq!(p["license_id"], "data-gov-hk-terms");
    assert_eq!(
        p["license_title"],
        "DATA.GOV.HK Terms and Conditions of Use"
    );
    assert_eq!(p["metadata_created"], "2023-11-14T22:13:20.000000");
    assert_eq!(p["num_resources"], 1);
    assert_eq!(p["num_tags"], 2);
    assert_eq!(p["organization"]["name"], "hk-td");
    assert_eq!(p["organization"]["title"], "Transport Department");
    assert_eq!(p["organization"]["is_organization"], true);
    assert_eq!(p["owner_org"], p["organization"]["id"]);
    assert_eq!(p["groups"][0]["name"], "transport");
    assert_eq!(p["groups"][0]["display_name"], "Transport");
    assert_eq!(p["tags"][0]["name"], "traffic");
    assert_eq!(p["tags"][1]["display_name"], "交通");
    assert!(p["tags"][0]["id"].is_string());
    let r = &p["resources"][0];
    assert_eq!(r["format"], "XML");
    assert_eq!(r["url"], "https://resource.data.one.gov.hk/td/speedmap.xml");
    assert_eq!(r["package_id"], p["id"]);
    assert_eq!(r["position"], 0);
    assert_eq!(r["size"], 1024);
    assert_eq!(r["name_tc"], "速度圖");
    let extras: Vec<(String, String)> = p["extras"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["key"].as_str().unwrap().into(),
                e["value"].as_str().unwrap().into(),
            )
        })
        .collect();
    for (key, value) in [
        ("title_tc", "行車速度"),
        ("title_sc", "行车速度"),
        ("notes_tc", "主要道路的行車速度。"),
        ("update_frequency", "realtime"),
        ("temporal_coverage_from", "2020-01-01"),
        ("temporal_coverage_to", ""),
        ("spatial_coverage", "Hong Kong"),
    ] {
        assert!(
            extras.contains(&(key.into(), value.into())),
            "{key} in {extras:?}"
        );
    }
    let mut keys: Vec<&String> = extras.iter().map(|(k, _)| k).collect();
    keys.dedup();
    assert!(
        keys.windows(2).all(|w| w[0] <= w[1]),
        "extras sorted by key, as CKAN"
    );
    let by_id = app
        .ok(&format!(
            "/api/3/action/package_show?id={}",
            p["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(by_id, p);
    let posted = app
        .post(
            "/api/3/action/package_show",
            r#"{"id": "hk-td-tis-traffic-speed", "use_default_schema": true}"#,
        )
        .await;
    assert_eq!(posted.body["result"], p);
}

#[tokio::test]
async fn package_show_errors() {
    let app = app().await;
    let missing = app.get("/api/3/action/package_show?id=nothing-here").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.body["success"], false);
    assert_eq!(
        missing.body["error"],
        json!({"__type": "Not Found Error", "message": "Not found"})
    );
    assert!(missing.body["help"]
        .as_str()
        .unwrap()
        .ends_with("help_show?name=package_show"));

    let no_id = app.get("/api/3/action/package_show").await;
    assert_eq!(no_id.status, StatusCode::CONFLICT);
    assert_eq!(
        no_id.body["error"],
        json!({"__type": "Validation Error", "id": ["Missing value"]})
    );

    for uri in [
        "/api/3/action/package_show?id=hk-td-private-plan".to_owned(),
        format!("/api/3/action/package_show?id={}", app.private_id),
    ] {
        let private = app.get(&uri).await;
        assert_eq!(private.status, StatusCode::FORBIDDEN, "{uri}");
        assert_eq!(private.body["error"]["__type"], "Authorization Error");
        assert!(private.body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Access denied: "));
    }

    let listy = app.get("/api/3/action/package_show?id=a&id=b").await;
    assert_eq!(listy.status, StatusCode::CONFLICT);
    assert_eq!(listy.body["error"]["id"], json!(["Must be a string"]));
}

#[tokio::test]
async fn organizations() {
    let app = app().await;
    let names = app.ok("/api/3/action/organization_list?sort=name").await;
    let names: Vec<&str> = names
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(names.len(), PROVIDERS.len());
    assert!(names.contains(&"hk-td") && names.contains(&"hk-dpo"));
    assert!(names.windows(2).all(|w| w[0] < w[1]));

    let full = app
        .ok("/api/3/action/organization_list?all_fields=true&sort=package_count%20desc")
        .await;
    let full = full.as_array().unwrap();
    assert_eq!(full[0]["name"], "hk-dpo", "the most datasets");
    let dpo = FACT_DATASETS
        .iter()
        .filter(|f| f.organization == "hk-dpo")
        .count();
    assert_eq!(full[0]["package_count"], dpo);
    assert_eq!(full[0]["type"], "organization");
    let td = full.iter().find(|o| o["name"] == "hk-td").unwrap();
    assert_eq!(td["title"], "Transport Department");
    let td_demo = FACT_DATASETS
        .iter()
        .filter(|f| f.organization == "hk-td")
        .count();
    assert_eq!(
        td["package_count"],
        td_demo + 1,
        "the demo's and the test's public one; the private dataset is not counted"
    );
    assert!(td["extras"]
        .as_array()
        .unwrap()
        .contains(&json!({"key": "title_tc", "value": "運輸署"})));

    let page = app
        .ok("/api/3/action/organization_list?sort=name&limit=2&offset=1")
        .await;
    assert_eq!(page, json!(names[1..3]));

    let show = app
        .ok("/api/3/action/organization_show?id=hk-dpo&include_datasets=true")
        .await;
    assert_eq!(show["name"], "hk-dpo");
    assert_eq!(show["title"], "Digital Policy Office");
    assert_eq!(show["packages"].as_array().unwrap().len(), dpo);
    assert_eq!(show["packages"][0]["organization"]["name"], "hk-dpo");
    let by_id = app
        .ok(&format!(
            "/api/action/organization_show?id={}",
            show["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(by_id["name"], "hk-dpo");
    assert!(by_id.get("packages").is_none());

    let missing = app
        .get("/api/3/action/organization_show?id=hk-nobody")
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.body["error"]["__type"], "Not Found Error");
    let bad = app
        .get("/api/3/action/organization_list?sort=colour&limit=-1")
        .await;
    assert_eq!(bad.status, StatusCode::CONFLICT);
    assert!(bad.body["error"]["sort"].is_array());
    assert_eq!(
        bad.body["error"]["limit"],
        json!(["Must be a natural number"])
    );
}

#[tokio::test]
async fn groups_are_the_nineteen_categories() {
    let app = app().await;
    let names = app.ok("/api/3/action/group_list").await;
    assert_eq!(names.as_array().unwrap().len(), 19);
    assert_eq!(names[0], "city-management", "by English title");
    let full = app.ok("/api/3/action/group_list?all_fields=1").await;
    assert_eq!(full.as_array().unwrap().len(), 19);
    assert_eq!(full[0]["is_organization"], false);
    assert_eq!(full[0]["type"], "group");
    let transport = app
        .ok("/api/3/action/group_show?id=transport&include_datasets=yes")
        .await;
    assert_eq!(transport["title"], "Transport");
    let transport_demo = FACT_DATASETS
        .iter()
        .filter(|f| f.groups.contains(&"transport"))
        .count();
    assert_eq!(transport["package_count"], transport_demo + 1);
    assert!(transport["packages"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "hk-td-tis-traffic-speed"));
    assert!(transport["extras"]
        .as_array()
        .unwrap()
        .contains(&json!({"key": "title_sc", "value": "运输"})));
    let missing = app.get("/api/3/action/group_show?id=hk-td").await;
    assert_eq!(
        missing.status,
        StatusCode::NOT_FOUND,
        "an organisation is not a group"
    );
}

#[tokio::test]
async fn tags() {
    let app = app().await;
    let all = app.ok("/api/3/action/tag_list").await;
    let all: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(all.contains(&"交通") && all.contains(&"smart city"));
    let some = app.ok("/api/3/action/tag_list?query=SMART").await;
    assert_eq!(
        some,
        json!([
            "iAM Smart",
            "smart city",
            "smart lamppost",
            "smart mobility"
        ])
    );
    let full = app
        .ok("/api/3/action/tag_list?query=traffic&all_fields=true")
        .await;
    assert_eq!(full[0]["name"], "traffic");
    assert!(full[0]["id"].is_string());
}

#[tokio::test]
async fn status_and_help() {
    let app = app().await;
    let status = app.ok("/api/3/action/status_show").await;
    assert_eq!(status["site_url"], SITE);
    assert_eq!(status["ckan_version"], "2.10.0");
    assert!(status["extensions"].is_array());
    let help = app.ok("/api/3/action/help_show?name=package_show").await;
    assert!(help.as_str().unwrap().contains(":param id:"));
    let unknown = app.get("/api/3/action/help_show?name=package_revise").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(
        unknown.body["error"]["message"],
        "Not found: Action function not found"
    );
}

#[tokio::test]
async fn unknown_actions_and_bad_bodies_answer_ckans_400() {
    let app = app().await;
    for uri in [
        "/api/3/action/package_revise",
        "/api/action/datastore_upsert",
    ] {
        let action = uri.rsplit('/').next().unwrap();
        for answer in [app.get(uri).await, app.post(uri, "{}").await] {
            assert_eq!(answer.status, StatusCode::BAD_REQUEST);
            assert_eq!(
                answer.body,
                json!(format!("Bad request - Action name not known: {action}"))
            );
        }
    }
    let not_json = app.post("/api/3/action/package_list", "{limit").await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);
    assert!(not_json
        .body
        .as_str()
        .unwrap()
        .starts_with("Bad request - JSON Error: "));
    let not_object = app.post("/api/3/action/package_list", "[1, 2]").await;
    assert_eq!(not_object.status, StatusCode::BAD_REQUEST);
    assert!(not_object
        .body
        .as_str()
        .unwrap()
        .contains("needs to be a dictionary"));
    let empty = app.post("/api/3/action/package_list", "").await;
    assert_eq!(empty.status, StatusCode::OK);
}

#[tokio::test]
async fn injection_shaped_input_is_only_data() {
    let app = app().await;
    let answer = app
        .get("/api/3/action/package_show?id=%27%20OR%20%271%27%3D%271")
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    let tags = app
        .ok("/api/3/action/tag_list?query=%27%3B%20DROP%20TABLE%20opendata_tags%3B--")
        .await;
    assert_eq!(tags, json!([]));
    assert!(!app
        .ok("/api/3/action/tag_list")
        .await
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn demo_datasets_quote_their_source() {
    let app = app().await;
    let p = app
        .ok("/api/3/action/package_show?id=hk-dpo-opendata-datasets-opened")
        .await;
    assert!(p["notes"].as_str().unwrap().contains("5,700"));
    assert_eq!(p["resources"][0]["format"], "CSV");
    let id = p["resources"][0]["id"].as_str().unwrap();
    assert_eq!(
        p["resources"][0]["url"],
        format!("{SITE}/datastore/dump/{id}?format=csv")
    );
}
