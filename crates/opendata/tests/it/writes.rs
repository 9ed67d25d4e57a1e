//! The write side through the router: tokens, each write action, each error, uploads and
//! downloads, the historical archive — and the store's writes on both dialects.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use bauhinia_opendata::publish::TokenRequest;
use bauhinia_opendata::OpenData;
use bauhinia_store::testing::TestDb;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

const SITE: &str = "http://localhost:8080";

struct App {
    router: Router,
    open: Arc<OpenData>,
    test: TestDb,
    admin: String,
    td: String,
    dpo: String,
}

async fn app_on(test: TestDb) -> App {
    let open = OpenData::start(&test.db, SITE, &test.files, 1_700_000_000)
        .await
        .unwrap();
    bauhinia_opendata::demo::load(&open, 1_700_000_000)
        .await
        .unwrap();
    let now = 1_700_000_000;
    let (admin, _) = open
        .issue_token(
            &TokenRequest {
                name: "ops".into(),
                user: "root".into(),
                sysadmin: true,
                organizations: vec![],
                expires_s: None,
            },
            "test",
            now,
        )
        .await
        .unwrap();
    let (td, _) = open
        .issue_token(
            &ask("td", "td-publisher", false, &["hk-dpo"], None),
            "test",
            now,
        )
        .await
        .unwrap();
    let orgs = open.organizations().await.unwrap();
    let other = orgs
        .iter()
        .find(|o| o.item.name.as_str() != "hk-dpo")
        .unwrap()
        .item
        .name
        .as_str()
        .to_owned();
    let (dpo, _) = open
        .issue_token(
            &ask("other", "other-publisher", false, &[other.as_str()], None),
            "test",
            now,
        )
        .await
        .unwrap();
    let open = Arc::new(open);
    App {
        router: bauhinia_opendata::http::router(Arc::clone(&open)),
        open,
        test,
        admin,
        td,
        dpo,
    }
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    bytes: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }
}

impl App {
    async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Answer {
            status,
            headers,
            bytes,
        }
    }

    async fn post(&self, action: &str, token: Option<&str>, body: &Value) -> Answer {
        let mut request = Request::post(format!("/api/3/action/{action}"))
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, token);
        }
        self.send(request.body(Body::from(body.to_string())).unwrap())
            .await
    }

    async fn patch(&self, body: &Value) -> Answer {
        self.post("package_patch", Some(&self.td), body).await
    }

    async fn get(&self, uri: &str) -> Answer {
        self.send(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    async fn upload(
        &self,
        action: &str,
        token: &str,
        fields: &[(&str, &str)],
        file: (&str, &[u8]),
    ) -> Answer {
        let boundary = "XyZbOuNdArY";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"{}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                file.0
            )
            .as_bytes(),
        );
        body.extend_from_slice(file.1);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let request = Request::post(format!("/api/action/{action}"))
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header("x-ckan-api-key", token)
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    async fn audit_count(&self) -> i64 {
        let count = async {
            Ok::<i64, bauhinia_store::StoreError>(bauhinia_store::read!(&self.test.db, conn =>
                sqlx::query_scalar("SELECT COUNT(*) FROM audit_events").fetch_one(conn).await?))
        };
        count.await.unwrap()
    }
}

fn ask(
    name: &str,
    user: &str,
    sysadmin: bool,
    organizations: &[&str],
    expires_s: Option<i64>,
) -> TokenRequest {
    TokenRequest {
        name: name.into(),
        user: user.into(),
        sysadmin,
        organizations: organizations.iter().map(|o| (*o).to_owned()).collect(),
        expires_s,
    }
}

fn new_package(name: &str) -> Value {
    json!({
        "name": name,
        "title": "Bus stops",
        "title_tc": "巴士站",
        "notes": "Every stop.",
        "owner_org": "hk-dpo",
        "groups": [{"name": "transport"}],
        "tags": [{"name": "bus"}],
        "extras": [{"key": "update_frequency", "value": "monthly"}],
        "resources": [{"name": "Stops", "format": "csv", "url": "https://example.org/stops.csv"}],
    })
}

fn error_type(a: &Answer) -> String {
    a.json()["error"]["__type"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn run_suite(app: &App) {
    // Without a token, with an unknown one (anonymous, as CKAN), with one of another
    // organisation: 403.
    let body = new_package("hk-dpo-bus-stops");
    for token in [None, Some("bod_not-a-token"), Some(app.dpo.as_str())] {
        let a = app.post("package_create", token, &body).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{token:?}: {}", a.json());
        assert_eq!(error_type(&a), "Authorization Error");
    }
    assert_eq!(
        app.get("/api/3/action/package_show?id=hk-dpo-bus-stops")
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // An unknown token reads as anyone.
    let anyone = app
        .send(
            Request::get("/api/3/action/package_list")
                .header(header::AUTHORIZATION, "bod_not-a-token")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(anyone.status, StatusCode::OK);

    // GET is refused for writes.
    let a = app.get("/api/3/action/package_create?name=x").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);

    // Created, with Bearer.
    let bearer = format!("Bearer {}", app.td);
    let a = app.post("package_create", Some(&bearer), &body).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json());
    let created = a.json()["result"].clone();
    assert_eq!(created["title"], "Bus stops");
    assert_eq!(created["resources"][0]["format"], "CSV");
    let id = created["id"].as_str().unwrap().to_owned();
    let shown = app
        .get(&format!("/api/3/action/package_show?id={id}"))
        .await
        .json();
    assert_eq!(shown["result"]["name"], "hk-dpo-bus-stops");

    // Validation: every field named, nothing stored.
    let audits = app.audit_count().await;
    let a = app
        .post(
            "package_create",
            Some(&app.td),
            &json!({"name": "X!", "title": "", "owner_org": "hk-dpo", "license_id": "nope",
                    "resources": [{"url": "ftp://x", "format": "PDF"}]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    let e = a.json()["error"].clone();
    assert_eq!(e["__type"], "Validation Error");
    for key in ["name", "title", "notes", "license_id", "resources"] {
        assert!(e.get(key).is_some(), "{key} in {e}");
    }
    assert_eq!(app.audit_count().await, audits, "nothing audited");
    let a = app.post("package_create", Some(&app.td), &body).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "name taken");
    assert_eq!(a.json()["error"]["name"][0], "That URL is already in use.");
    let mut same_id = new_package("hk-dpo-bus-stops-again");
    same_id["id"] = json!(id);
    same_id["resources"][0]["id"] = created["resources"][0]["id"].clone();
    let a = app.post("package_create", Some(&app.td), &same_id).await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert_eq!(
        a.json()["error"]["id"][0],
        "That id is already in use.",
        "{}",
        a.json()
    );
    same_id.as_object_mut().unwrap().remove("id");
    let a = app.post("package_create", Some(&app.td), &same_id).await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert!(
        a.json()["error"]["resources"][0]["id"].is_array(),
        "{}",
        a.json()
    );

    // Injection-shaped strings are stored and returned verbatim.
    let nasty = "'; DROP TABLE opendata_datasets; -- <script>alert(1)</script> {{7*7}}";
    let a = app.patch(&json!({"id": id, "notes": nasty})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json());
    assert_eq!(a.json()["result"]["notes"], nasty);
    assert_eq!(
        a.json()["result"]["title"],
        "Bus stops",
        "patch keeps the rest"
    );
    assert_eq!(a.json()["result"]["resources"].as_array().unwrap().len(), 1);

    // Update replaces: resources not given are removed.
    let mut replaced = body.clone();
    replaced["id"] = json!(id);
    replaced["resources"] = json!([]);
    let a = app.post("package_update", Some(&app.td), &replaced).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json());
    assert_eq!(a.json()["result"]["num_resources"], 0);
    assert_eq!(a.json()["result"]["notes"], "Every stop.");

    // Another organisation's publisher may not touch it.
    let a = app
        .post(
            "package_patch",
            Some(&app.dpo),
            &json!({"id": id, "notes": "x"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);

    // Upload a file as a new resource; download it; upload a second version.
    let a = app
        .upload(
            "resource_create",
            &app.td,
            &[("package_id", &id), ("name", "Stops")],
            ("stops.csv", b"stop,name\n1,Central\n"),
        )
        .await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&a.bytes)
    );
    let r = a.json()["result"].clone();
    assert_eq!(r["url_type"], "upload");
    assert_eq!(r["format"], "CSV");
    assert_eq!(r["size"], 20);
    let rid = r["id"].as_str().unwrap().to_owned();
    let url = r["url"].as_str().unwrap().to_owned();
    assert_eq!(
        url,
        format!("{SITE}/dataset/{id}/resource/{rid}/download/stops.csv")
    );
    let path = url.trim_start_matches(SITE).to_owned();
    let d = app.get(&path).await;
    assert_eq!(d.status, StatusCode::OK);
    assert_eq!(d.bytes, b"stop,name\n1,Central\n");
    assert_eq!(d.headers[header::CONTENT_TYPE], "text/csv");
    assert_eq!(d.headers[header::CONTENT_LENGTH], "20");
    let etag = d.headers[header::ETAG].to_str().unwrap().to_owned();
    let cached = app
        .send(
            Request::get(&path)
                .header(header::IF_NONE_MATCH, &etag)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
    let shown = app
        .get(&format!("/api/3/action/resource_show?id={rid}"))
        .await
        .json();
    assert_eq!(shown["result"]["id"], rid);

    let a = app
        .upload(
            "resource_update",
            &app.td,
            &[("id", &rid)],
            ("stops.csv", b"stop,name\n1,Central\n2,Admiralty\n"),
        )
        .await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&a.bytes)
    );
    assert_eq!(
        app.get(&path).await.bytes,
        b"stop,name\n1,Central\n2,Admiralty\n"
    );
    // The new version's rows replaced the first's in the datastore.
    let rows = app
        .get(&format!("/api/3/action/datastore_search?resource_id={rid}"))
        .await
        .json();
    assert_eq!(
        rows["result"]["records"],
        json!([{"_id": 1, "stop": 1, "name": "Central"}, {"_id": 2, "stop": 2, "name": "Admiralty"}]),
        "{rows}"
    );
    // A CSV that does not parse is refused whole: no new version, the rows stay.
    let audits = app.audit_count().await;
    let a = app
        .upload(
            "resource_update",
            &app.td,
            &[("id", &rid)],
            ("stops.csv", b"stop,name\n3\n"),
        )
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.json());
    assert_eq!(a.json()["error"]["__type"], "Validation Error");
    assert!(
        a.json()["error"]["upload"][0]
            .as_str()
            .unwrap()
            .contains("line 2: 1 fields where the header has 2"),
        "{}",
        a.json()
    );
    assert_eq!(app.audit_count().await, audits);
    assert_eq!(
        app.get(&path).await.bytes,
        b"stop,name\n1,Central\n2,Admiralty\n"
    );

    // A GeoJSON upload becomes an OGC collection; one that is not valid GeoJSON is refused.
    let points = br#"{"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "stop-1", "properties": {"name": "Central"},
         "geometry": {"type": "Point", "coordinates": [114.158, 22.282]}}]}"#;
    let a = app
        .upload(
            "resource_create",
            &app.td,
            &[("package_id", &id), ("name", "Stops on a map")],
            ("stops.geojson", points),
        )
        .await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&a.bytes)
    );
    assert_eq!(a.json()["result"]["format"], "GeoJSON");
    let collections = app.get("/ogc/collections").await.json();
    let ids: Vec<&str> = collections["collections"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    let collection = ids
        .iter()
        .find(|c| c.starts_with("hk-dpo-bus-stops"))
        .unwrap_or_else(|| panic!("{ids:?}"));
    let items = app
        .get(&format!(
            "/ogc/collections/{collection}/items?bbox=114.1,22.2,114.2,22.3"
        ))
        .await
        .json();
    assert_eq!(items["numberMatched"], 1, "{items}");
    let collection = (*collection).to_owned();
    let audits = app.audit_count().await;
    let a = app
        .upload(
            "resource_create",
            &app.td,
            &[("package_id", &id), ("name", "Broken map")],
            ("broken.geojson", br#"{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [999]}}]}"#),
        )
        .await;
    assert_eq!(
        a.status,
        StatusCode::CONFLICT,
        "{}",
        String::from_utf8_lossy(&a.bytes)
    );
    assert_eq!(a.json()["error"]["__type"], "Validation Error");
    assert_eq!(app.audit_count().await, audits);
    // Other writes to the dataset leave the collection; deleting its resource ends it.
    let a = app
        .post(
            "package_patch",
            Some(&app.td),
            &json!({"id": id, "notes": "Stops, mapped."}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json());
    let map_id = a.json()["result"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["format"] == "GeoJSON")
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .unwrap();
    let items_uri = format!("/ogc/collections/{collection}/items");
    assert_eq!(app.get(&items_uri).await.status, StatusCode::OK);
    let a = app
        .post("resource_delete", Some(&app.td), &json!({"id": map_id}))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json());
    assert_eq!(app.get(&items_uri).await.status, StatusCode::NOT_FOUND);

    // The archive keeps both versions.
    let encoded: String = url::form_urlencoded::byte_serialize(url.as_bytes()).collect();
    let versions = app
        .get(&format!(
            "/v1/historical-archive/list-file-versions?url={encoded}&start=20000101&end=20991231"
        ))
        .await;
    assert_eq!(versions.status, StatusCode::OK);
    let stamps = versions.json()["timestamps"].as_array().unwrap().clone();
    assert_eq!(stamps.len(), 2, "{}", versions.json());
    let files = app
        .get("/v1/historical-archive/list-files?start=20000101&end=20991231&category=transport&provider=hk-dpo&format=csv")
        .await
        .json();
    assert_eq!(files["total"], 1, "{files}");
    assert_eq!(files["files"][0]["num-of-versions"], 2);
    let latest = stamps[1].as_str().unwrap();
    let got = app
        .get(&format!(
            "/v1/historical-archive/get-file?url={encoded}&time={latest}"
        ))
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.bytes, b"stop,name\n1,Central\n2,Admiralty\n");
    let before = app
        .get(&format!(
            "/v1/historical-archive/get-file?url={encoded}&time=19990101-0000"
        ))
        .await;
    assert_eq!(before.status, StatusCode::NOT_FOUND);
    assert_eq!(before.json()["code"], "opendata.archive_file_not_found");
    let bad = app
        .get("/v1/historical-archive/list-files?start=2024-01-01")
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        bad.headers[header::CONTENT_TYPE],
        "application/problem+json"
    );
    assert_eq!(bad.json()["code"], "opendata.archive_parameter_invalid");

    // resource_patch by JSON keeps the file; resource_delete removes the resource, not the
    // archive.
    let a = app
        .post(
            "resource_patch",
            Some(&app.td),
            &json!({"id": rid, "description": "All stops"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json());
    assert_eq!(a.json()["result"]["url"], url);
    let a = app
        .post(
            "resource_create",
            Some(&app.td),
            &json!({"package_id": id, "url": "not a url", "format": "CSV"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert!(a.json()["error"].get("url").is_some(), "{}", a.json());
    let a = app
        .post("resource_delete", Some(&app.td), &json!({"id": rid}))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json());
    assert_eq!(
        app.get(&format!("/api/3/action/resource_show?id={rid}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&format!(
            "/v1/historical-archive/get-file?url={encoded}&time={latest}"
        ))
        .await
        .status,
        StatusCode::OK
    );

    // Private: the publisher sees it, anonymous callers do not.
    let a = app.patch(&json!({"id": id, "private": true})).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        app.get(&format!("/api/3/action/package_show?id={id}"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let own = app
        .send(
            Request::get(format!("/api/3/action/package_show?id={id}"))
                .header(header::AUTHORIZATION, &app.td)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(own.status, StatusCode::OK);

    // Delete: state deleted, anonymous 403.
    let a = app
        .post("package_delete", Some(&app.td), &json!({"id": id}))
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json()["result"], Value::Null);
    let gone = app
        .get(&format!("/api/3/action/package_show?id={id}"))
        .await;
    assert_eq!(gone.status, StatusCode::FORBIDDEN);
    assert_eq!(error_type(&gone), "Authorization Error");

    // A 100 MB single field: refused with a clear error, nothing stored.
    let audits = app.audit_count().await;
    let mut huge = new_package("hk-dpo-huge");
    huge["notes"] = json!("x".repeat(100 * 1024 * 1024));
    let a = app.post("package_create", Some(&app.admin), &huge).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(a.json()["success"], false);
    drop(huge);
    // Malformed JSON: CKAN's 400.
    let a = app
        .send(
            Request::post("/api/3/action/package_create")
                .header(header::AUTHORIZATION, &app.admin)
                .body(Body::from("{\"name\": "))
                .unwrap(),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.audit_count().await, audits);
    assert_eq!(
        app.get("/api/3/action/package_show?id=hk-dpo-huge")
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // A sysadmin creates an organisation, keeping the id given.
    let org_id = "0b7c2d1e-7a5b-4c3d-9e8f-0123456789ab";
    let a = app
        .post(
            "organization_create",
            Some(&app.admin),
            &json!({"id": org_id, "name": "hk-new", "title": "New"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json());
    assert_eq!(a.json()["result"]["id"], org_id);
    let a = app
        .post(
            "organization_create",
            Some(&app.td),
            &json!({"name": "hk-newer", "title": "New"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn writes_sqlite() {
    let app = app_on(TestDb::sqlite().await.unwrap()).await;
    run_suite(&app).await;
    tokens(&app).await;
}

#[tokio::test]
async fn writes_postgres() {
    let Some(test) = TestDb::postgres().await.expect("postgres test database") else {
        eprintln!("open data writes: postgres not run (DATABASE_URL unset)");
        return;
    };
    let app = app_on(test).await;
    run_suite(&app).await;
    tokens(&app).await;
    println!("open data writes: postgres passed");
}

/// Tokens: listed without secrets, revoked and then refused, expired and refused.
async fn tokens(app: &App) {
    let store = app.open.store();
    let all = store.tokens().await.unwrap();
    assert_eq!(all.len(), 3);
    let td = all.iter().find(|t| t.publisher == "td-publisher").unwrap();
    assert!(td.last_used_s.is_some(), "use recorded");
    store
        .revoke_token(&td.id, "test", 1_800_000_000)
        .await
        .unwrap();
    let a = app
        .post(
            "package_create",
            Some(&app.td),
            &new_package("hk-dpo-after"),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(matches!(
        store.revoke_token("nope", "test", 0).await,
        Err(bauhinia_opendata::OpendataError::NotFound(_))
    ));
    let (expired, _) = app
        .open
        .issue_token(
            &TokenRequest {
                name: "old".into(),
                user: "p".into(),
                sysadmin: true,
                organizations: vec![],
                expires_s: Some(1_000),
            },
            "test",
            0,
        )
        .await
        .unwrap();
    assert_eq!(
        app.post("package_create", Some(&expired), &new_package("hk-dpo-x"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let bad = app
        .open
        .issue_token(&ask("", "p", true, &["hk-dpo"], None), "test", 0)
        .await;
    assert!(matches!(bad, Err(bauhinia_opendata::OpendataError::Invalid(f)) if f.len() == 2));
}

/// An upload over the limit: CKAN's envelope with 413, no resource, no version, no file left.
#[tokio::test]
async fn an_upload_over_the_limit_stores_nothing() {
    let test = TestDb::sqlite().await.unwrap();
    let open = OpenData::start(&test.db, SITE, &test.files, 1_700_000_000)
        .await
        .unwrap()
        .with_limits(bauhinia_opendata::publish::WriteLimits {
            json_body_max_bytes: 4_096,
            upload_max_bytes: 16,
        });
    bauhinia_opendata::demo::load(&open, 1_700_000_000)
        .await
        .unwrap();
    let (admin, _) = open
        .issue_token(&ask("ops", "root", true, &[], None), "test", 0)
        .await
        .unwrap();
    let open = Arc::new(open);
    let app = App {
        router: bauhinia_opendata::http::router(Arc::clone(&open)),
        open: Arc::clone(&open),
        test,
        admin: admin.clone(),
        td: admin.clone(),
        dpo: admin.clone(),
    };
    let dataset = "hk-dpo-opendata-datasets-opened";
    let before = app.open.package_for(dataset, None).await.unwrap();
    let audits = app.audit_count().await;
    let a = app
        .upload(
            "resource_create",
            &admin,
            &[("package_id", dataset)],
            ("big.csv", &[b'x'; 17]),
        )
        .await;
    assert_eq!(
        a.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        String::from_utf8_lossy(&a.bytes)
    );
    assert_eq!(a.json()["success"], false);
    assert_eq!(app.open.package_for(dataset, None).await.unwrap(), before);
    assert_eq!(app.audit_count().await, audits);
    let tmp = app.test.files.join("files/tmp");
    assert_eq!(std::fs::read_dir(&tmp).map(|d| d.count()).unwrap_or(0), 0);
    let big = json!({"id": dataset, "notes": "y".repeat(5_000)});
    let a = app.post("package_patch", Some(&admin), &big).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    let fits = app
        .upload(
            "resource_create",
            &admin,
            &[("package_id", dataset), ("format", "csv")],
            ("small", b"a,b\n1,2\n"),
        )
        .await;
    assert_eq!(
        fits.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&fits.bytes)
    );
    assert_eq!(fits.json()["result"]["format"], "CSV");
    assert_eq!(fits.json()["result"]["name"], "small");
}
