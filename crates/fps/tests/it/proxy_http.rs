//! The addressing API, driven in-process on a SQLite store: who may call it, registration and
//! FPS ID issue, lookups (one, by query or body, and in bulk), changes, removal, problems, and
//! the OpenAPI entries.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use bauhinia_core::admin::AdminToken;
use bauhinia_fps::http::FpsState;
use bauhinia_fps::proxy::http::{router, ProxyState};
use bauhinia_store::testing::TestDb;
use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use tower::ServiceExt as _;

type Error = Box<dyn std::error::Error + Send + Sync>;

const ADMIN: &str = "admin-token-for-the-proxy-http-tests-0123456789";

struct Api {
    router: Router,
    doc: utoipa::openapi::OpenApi,
    tokens: Vec<String>,
    _db: TestDb,
}

struct Answer {
    status: StatusCode,
    body: Value,
}

async fn api() -> Result<Api, Error> {
    let db = TestDb::sqlite().await?;
    let (switch, proxies) = super::proxy_store::service(&db.db).await?;
    let mut tokens = Vec::new();
    for code in ["004", "012"] {
        let code = bauhinia_fps::switch::ParticipantCode::parse(code).ok_or("code")?;
        tokens.push(switch.issue_token(code, "test", "test").await?);
    }
    let state = ProxyState {
        fps: FpsState {
            webhooks: Arc::new(bauhinia_fps::webhooks::Webhooks::new(
                switch.db(),
                Arc::new(bauhinia_core::crypto::Vault::new(
                    &bauhinia_core::crypto::MasterKey::generate(),
                )),
            )),
            flows: Arc::new(bauhinia_fps::flows::FlowService::new(
                Arc::clone(&switch),
                Arc::new(bauhinia_core::crypto::Vault::new(
                    &bauhinia_core::crypto::MasterKey::generate(),
                )),
            )),
            switch,
            admin: Arc::new(AdminToken::from_secret(ADMIN)?),
        },
        proxies: Arc::new(proxies),
    };
    let (router, doc) = router(state).split_for_parts();
    Ok(Api {
        router,
        doc,
        tokens,
        _db: db,
    })
}

impl Api {
    fn token(&self, i: usize) -> Result<&str, Error> {
        Ok(self.tokens.get(i).ok_or("no such token")?)
    }

    async fn send(&self, request: Request<Body>) -> Result<Answer, Error> {
        let response = self.router.clone().oneshot(request).await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)?
        };
        Ok(Answer { status, body })
    }

    async fn post(&self, token: Option<&str>, uri: &str, body: Value) -> Result<Answer, Error> {
        let mut request = Request::post(uri).header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        self.send(request.body(Body::from(body.to_string()))?).await
    }

    async fn get(&self, token: Option<&str>, uri: &str) -> Result<Answer, Error> {
        let mut request = Request::get(uri);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        self.send(request.body(Body::empty())?).await
    }
}

fn registration(kind: &str, key: Option<&str>, account: &str) -> Value {
    let mut body = json!({
        "kind": kind,
        "account_reference": account,
        "display_name": "CHAN Tai Man",
        "consent": { "at": "2026-01-15T10:00:00+08:00", "version": "v3", "channel": "online" },
    });
    if let (Some(key), Some(map)) = (key, body.as_object_mut()) {
        map.insert("key".into(), json!(key));
    }
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_participants_call_the_addressing_api() -> Result<(), Error> {
    let api = api().await?;
    let body = registration("mobile", Some("91234567"), "A-1");
    let none = api.post(None, "/api/v1/fps/proxies", body.clone()).await?;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.body["code"], "fps.unauthorized");
    let operator = api.post(Some(ADMIN), "/api/v1/fps/proxies", body).await?;
    assert_eq!(operator.status, StatusCode::FORBIDDEN);
    assert_eq!(operator.body["code"], "fps.proxy_forbidden");
    let lookup = api
        .get(None, "/api/v1/fps/proxies/lookup?kind=mobile&key=91234567")
        .await?;
    assert_eq!(lookup.status, StatusCode::UNAUTHORIZED);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_look_up_change_and_remove() -> Result<(), Error> {
    let api = api().await?;
    let (a, b) = (api.token(0)?, api.token(1)?);
    let created = api
        .post(
            Some(a),
            "/api/v1/fps/proxies",
            registration("mobile", Some("+852 9123 4567"), "A-1"),
        )
        .await?;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["key"], "+852-91234567");
    assert_eq!(created.body["default"], true);
    assert_eq!(created.body["masked_name"], "CHAN T** M**");
    assert_eq!(created.body["account_reference"], "A-1");
    let again = api
        .post(
            Some(a),
            "/api/v1/fps/proxies",
            registration("mobile", Some("91234567"), "A-2"),
        )
        .await?;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.body["code"], "fps.proxy_exists");

    // Another participant: participant and mask, no account reference.
    let seen = api
        .get(
            Some(b),
            "/api/v1/fps/proxies/lookup?kind=mobile&key=9123-4567",
        )
        .await?;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
    assert_eq!(
        seen.body,
        json!({ "kind": "mobile", "participant": "004", "participant_name": "Bank A",
                "masked_name": "CHAN T** M**" })
    );
    let own = api
        .post(
            Some(a),
            "/api/v1/fps/proxies/lookup",
            json!({ "kind": "mobile", "key": "91234567", "purpose": "merchant" }),
        )
        .await?;
    assert_eq!(own.body["account_reference"], "A-1");

    // An FPS ID is issued, not chosen.
    let chosen = api
        .post(
            Some(b),
            "/api/v1/fps/proxies",
            registration("fps_id", Some("123456782"), "B-1"),
        )
        .await?;
    assert_eq!(chosen.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(chosen.body["errors"][0]["pointer"], "/key");
    let issued = api
        .post(
            Some(b),
            "/api/v1/fps/proxies",
            registration("fps_id", None, "B-1"),
        )
        .await?;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.body);
    let id = issued.body["key"].as_str().ok_or("no FPS ID")?.to_owned();
    assert_eq!(id.len(), 9);
    let found = api
        .get(
            Some(a),
            &format!("/api/v1/fps/proxies/lookup?kind=fps_id&key={id}"),
        )
        .await?;
    assert_eq!(found.body["participant"], "012");

    // Bulk: found, invalid, forbidden (an HKID outside payroll), not found.
    let hkid = api
        .post(
            Some(b),
            "/api/v1/fps/proxies",
            registration("hkid", Some("A123456(3)"), "B-PAY"),
        )
        .await?;
    assert_eq!(hkid.status, StatusCode::CREATED);
    assert_eq!(hkid.body["key"], "A123***(*)", "an HKID is answered masked");
    let keys = json!([
        { "kind": "mobile", "key": "91234567" },
        { "kind": "mobile", "key": "21234567" },
        { "kind": "hkid", "key": "A123456(3)" },
        { "kind": "email", "key": "nobody@example.hk" },
    ]);
    let bulk = api
        .post(
            Some(a),
            "/api/v1/fps/proxies/lookup/bulk",
            json!({ "purpose": "p2p", "keys": keys }),
        )
        .await?;
    assert_eq!(bulk.status, StatusCode::OK, "{}", bulk.body);
    let statuses: Vec<&str> = bulk.body["results"]
        .as_array()
        .ok_or("results")?
        .iter()
        .filter_map(|r| r["status"].as_str())
        .collect();
    assert_eq!(statuses, ["found", "invalid", "forbidden", "not_found"]);
    let payroll = api
        .post(
            Some(a),
            "/api/v1/fps/proxies/lookup/bulk",
            json!({ "purpose": "payroll", "keys": keys }),
        )
        .await?;
    assert_eq!(payroll.body["results"][2]["status"], "found");
    assert_eq!(payroll.body["results"][2]["payee"]["participant"], "012");
    let single_hkid = api
        .get(
            Some(a),
            "/api/v1/fps/proxies/lookup?kind=hkid&key=A123456(3)&purpose=payroll",
        )
        .await?;
    assert_eq!(single_hkid.status, StatusCode::FORBIDDEN);
    assert_eq!(single_hkid.body["code"], "fps.proxy_forbidden");

    // The default moves to B when the customer asks; removing it leaves no default.
    let at_b = api
        .post(
            Some(b),
            "/api/v1/fps/proxies",
            registration("mobile", Some("91234567"), "B-2"),
        )
        .await?;
    assert_eq!(at_b.body["default"], false);
    let moved = api
        .post(
            Some(b),
            "/api/v1/fps/proxies/change",
            json!({ "kind": "mobile", "key": "91234567", "set_default": true }),
        )
        .await?;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    assert_eq!(moved.body["replaced"], "004");
    let removed = api
        .post(
            Some(b),
            "/api/v1/fps/proxies/remove",
            json!({ "kind": "mobile", "key": "91234567" }),
        )
        .await?;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let gone = api
        .get(
            Some(a),
            "/api/v1/fps/proxies/lookup?kind=mobile&key=91234567",
        )
        .await?;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.body["code"], "fps.proxy_not_found");
    let mine = api
        .post(
            Some(a),
            "/api/v1/fps/proxies/registration",
            json!({ "kind": "mobile", "key": "91234567" }),
        )
        .await?;
    assert_eq!(mine.body["default"], false);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_problems_naming_the_field() -> Result<(), Error> {
    let api = api().await?;
    let a = api.token(0)?;
    let mut bad = registration("mobile", Some("2123 4567"), "");
    if let Some(map) = bad.as_object_mut() {
        map.insert("display_name".into(), json!("<script>"));
        map.insert(
            "consent".into(),
            json!({ "at": "2099-01-01T00:00:00Z", "version": "v1", "channel": "branch" }),
        );
    }
    let answer = api.post(Some(a), "/api/v1/fps/proxies", bad).await?;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.body["code"], "fps.proxy_invalid");
    let pointers: Vec<&str> = answer.body["errors"]
        .as_array()
        .ok_or("errors")?
        .iter()
        .filter_map(|e| e["pointer"].as_str())
        .collect();
    assert_eq!(
        pointers,
        ["/key", "/account_reference", "/consent/at", "/display_name"]
    );
    let query = api
        .get(Some(a), "/api/v1/fps/proxies/lookup?kind=telex&key=1")
        .await?;
    assert_eq!(query.status, StatusCode::BAD_REQUEST);
    assert_eq!(query.body["code"], "request.invalid_query");
    let too_many: Vec<Value> = (0..1001)
        .map(|i| json!({ "kind": "fps_id", "key": format!("{:07}", i) }))
        .collect();
    let bulk = api
        .post(
            Some(a),
            "/api/v1/fps/proxies/lookup/bulk",
            json!({ "purpose": "payroll", "keys": too_many }),
        )
        .await?;
    assert_eq!(bulk.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bulk.body["errors"][0]["pointer"], "/keys");
    let unknown = api
        .post(
            Some(a),
            "/api/v1/fps/proxies/change",
            json!({ "kind": "email", "key": "nobody@example.hk", "status": "suspended" }),
        )
        .await?;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_documents_every_proxy_route() -> Result<(), Error> {
    let doc = serde_json::to_value(&api().await?.doc)?;
    for (path, method) in [
        ("/api/v1/fps/proxies", "post"),
        ("/api/v1/fps/proxies/change", "post"),
        ("/api/v1/fps/proxies/remove", "post"),
        ("/api/v1/fps/proxies/registration", "post"),
        ("/api/v1/fps/proxies/lookup", "get"),
        ("/api/v1/fps/proxies/lookup", "post"),
        ("/api/v1/fps/proxies/lookup/bulk", "post"),
    ] {
        let operation = &doc["paths"][path][method];
        assert_eq!(operation["tags"], json!(["fps"]), "{method} {path}");
        assert_eq!(
            operation["security"],
            json!([{ "fps_token": [] }]),
            "{path}"
        );
        for status in ["401", "403", "422"] {
            assert!(
                operation["responses"][status].is_object(),
                "{method} {path} {status}"
            );
        }
    }
    Ok(())
}
