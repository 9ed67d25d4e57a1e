//! The composed application, driven in-process with `oneshot`: operational endpoints, the
//! problem+json contract for bad input, the OpenAPI document, and the portal pages.

// Test and benchmark code fails by panicking; the production lints do not apply here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use bauhinia::config::{Config, Layer};
use http_body_util::BodyExt;
use tower::ServiceExt;

#[path = "api/business_portal.rs"]
mod business_portal;
#[path = "api/business_signing.rs"]
mod business_signing;
#[path = "api/corpform.rs"]
mod corpform;
#[path = "api/corpid.rs"]
mod corpid;
#[path = "api/exchange.rs"]
mod exchange;
#[path = "api/exchange_admin.rs"]
mod exchange_admin;
#[path = "api/exchange_audit.rs"]
mod exchange_audit;
#[path = "api/exchange_gateway.rs"]
mod exchange_gateway;
#[path = "api/exchange_portal.rs"]
mod exchange_portal;
#[path = "api/fps.rs"]
mod fps;
#[path = "api/fps_flows.rs"]
mod fps_flows;
#[path = "api/opendata.rs"]
mod opendata;
#[path = "api/passkeys.rs"]
mod passkeys;
#[path = "api/webhooks.rs"]
mod webhooks;

struct TestApp {
    router: Router,
    dir: std::path::PathBuf,
    doc: serde_json::Value,
    state: bauhinia::app::AppState,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn app() -> TestApp {
    app_with(Layer::default()).await
}

/// A fresh application on its own SQLite directory, configured by `flags`.
async fn app_with(flags: Layer) -> TestApp {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("bauhinia-api-test-{}-{n}", std::process::id()));
    let flags = Layer {
        data_dir: Some(dir.clone()),
        ..flags
    };
    let config = Config::load(None, &BTreeMap::new(), flags).expect("config");
    let state = bauhinia::start(&config).await.expect("start");
    let doc = serde_json::to_value(bauhinia::app::openapi_document(&state)).expect("doc");
    TestApp {
        router: bauhinia::app::build(state.clone(), bauhinia::app::Limits::from_config(&config)),
        dir,
        doc,
        state,
    }
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

async fn send(app: &TestApp, request: Request<Body>) -> Answer {
    let response = app
        .router
        .clone()
        .oneshot(request)
        .await
        .expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

async fn get(app: &TestApp, uri: &str) -> Answer {
    send(
        app,
        Request::get(uri)
            .header(header::ACCEPT, "text/html")
            .body(Body::empty())
            .expect("request"),
    )
    .await
}

async fn post_json(app: &TestApp, uri: &str, body: impl Into<Body>) -> Answer {
    send(
        app,
        Request::post(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.into())
            .expect("request"),
    )
    .await
}

const MANUFACTURER: &str = r#"{"applicant_type":"manufacturer","sectors":["manufacturing"],"employees":30,"years_operating":12,"locations":["hong_kong"],"purposes":["smart_production_line"],"project_cost_hkd":"20000000","operates_production_line_in_hk":true}"#;

#[tokio::test]
async fn operational_endpoints_and_request_ids() {
    let app = app().await;
    for uri in ["/healthz", "/readyz"] {
        let answer = get(&app, uri).await;
        assert_eq!(answer.status, StatusCode::OK, "{uri}");
        assert!(answer.headers.contains_key("x-request-id"), "{uri}");
    }
    // A caller's request id is kept, not replaced.
    let answer = send(
        &app,
        Request::get("/healthz")
            .header("x-request-id", "trace-me-42")
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert_eq!(
        answer
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("trace-me-42")
    );
    let _ = post_json(&app, "/api/v1/funding/match", MANUFACTURER).await;
    let metrics = get(&app, "/metrics").await;
    assert!(metrics.content_type().starts_with("text/plain"));
    let text = metrics.text();
    assert!(text.contains("bauhinia_http_requests_total{method=\"POST\",route=\"/api/v1/funding/match\",status=\"200\"} 1"), "{text}");
    assert!(text.contains("bauhinia_funding_schemes "), "{text}");
    // The demo funding of ten participants in two currencies, committed as one batch.
    assert!(text.contains("bauhinia_fps_ledger_transfers 20"), "{text}");
    assert!(text.contains("bauhinia_fps_ledger_batches 1"), "{text}");
}

#[tokio::test]
async fn match_answers_the_contract() {
    let app = app().await;
    let answer = post_json(&app, "/api/v1/funding/match", MANUFACTURER).await;
    assert_eq!(answer.status, StatusCode::OK);
    let body = answer.json();
    let first = &body["eligible"][0];
    assert_eq!(first["id"], "new-industrialisation-funding");
    assert_eq!(first["max_grant_hkd"], "15000000.00");
    assert!(first["reasons"].as_array().is_some_and(|r| !r.is_empty()));
    assert!(body["ineligible"].as_array().is_some_and(|i| i
        .iter()
        .all(|x| !x["reasons"].as_array().expect("reasons").is_empty())));
    // Language by query, then by header.
    let zh = post_json(&app, "/api/v1/funding/match?lang=zh-Hant", MANUFACTURER)
        .await
        .json();
    assert_eq!(zh["eligible"][0]["name"], "新型工業化資助計劃");
    let answer = send(
        &app,
        Request::post("/api/v1/funding/match")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT_LANGUAGE, "zh-CN")
            .body(Body::from(MANUFACTURER))
            .expect("req"),
    )
    .await;
    assert_eq!(answer.json()["eligible"][0]["name"], "新型工业化资助计划");
}

/// (body, expected status, expected code, the field the problem must name)
fn bad_inputs() -> Vec<(String, u16, &'static str, Option<&'static str>)> {
    vec![
        ("{".into(), 400, "request.malformed_json", None),
        ("".into(), 400, "request.malformed_json", None),
        ("{\"applicant_type\":\"company\"".into(), 400, "request.malformed_json", None),
        ("nul".into(), 400, "request.malformed_json", None),
        (r#"{"applicant_type":"company","purposes":["digital_adoption"],"colour":"red"}"#.into(), 422, "request.unknown_field", Some("/colour")),
        (r#"{"applicant_type":"company","purposes":["digital_adoption"],"employees":"ten"}"#.into(), 422, "request.invalid_field", Some("/employees")),
        (r#"{"applicant_type":"company","purposes":["digital_adoption"],"employees":1.5}"#.into(), 422, "request.invalid_field", Some("/employees")),
        (r#"{"applicant_type":"company","purposes":["digital_adoption"],"employees":99999999999999999999999}"#.into(), 422, "request.invalid_field", Some("/employees")),
        (r#"{"applicant_type":"company","purposes":["digital_adoption"],"employees":-1}"#.into(), 422, "funding.profile_invalid", Some("/employees")),
        (r#"{"applicant_type":"company","purposes":["digital_adoption"],"employees":5000000}"#.into(), 422, "funding.profile_invalid", Some("/employees")),
        (r#"{"applicant_type":"company","purposes":["digital_adoption"],"project_cost_hkd":"-20000000"}"#.into(), 422, "funding.profile_invalid", Some("/project_cost_hkd")),
        (r#"{"applicant_type":"company","purposes":["digital_adoption"],"project_cost_hkd":1e300}"#.into(), 422, "funding.profile_invalid", Some("/project_cost_hkd")),
        (r#"{"applicant_type":"company","purposes":["digital_adoption"],"project_cost_hkd":"999999999999999"}"#.into(), 422, "funding.profile_invalid", Some("/project_cost_hkd")),
        (r#"{"applicant_type":"company","purposes":["digital_adoption"],"years_operating":-2}"#.into(), 422, "funding.profile_invalid", Some("/years_operating")),
        (r#"{"applicant_type":"spaceship","purposes":["digital_adoption"]}"#.into(), 422, "request.invalid_field", Some("/applicant_type")),
        (r#"{"applicant_type":"company","purposes":"digital_adoption"}"#.into(), 422, "request.invalid_field", Some("/purposes")),
        (r#"{"applicant_type":"company","purposes":["digital_adoption", 3]}"#.into(), 422, "request.invalid_field", Some("/purposes/1")),
        (r#"{"applicant_type":"company","purposes":[]}"#.into(), 422, "funding.profile_invalid", Some("/purposes")),
        (r#"{"purposes":["digital_adoption"]}"#.into(), 422, "request.invalid_field", Some("/")),
        (r#"[1,2,3]"#.into(), 422, "request.invalid_field", Some("/0")),
        (format!(r#"{{"applicant_type":"company","purposes":["digital_adoption"],"sectors":[{}]}}"#, vec!["\"retail\""; 17].join(",")), 422, "funding.profile_invalid", Some("/sectors")),
    ]
}

#[tokio::test]
async fn bad_input_is_a_problem_naming_the_field() {
    let app = app().await;
    for (body, status, code, field) in bad_inputs() {
        let answer = post_json(&app, "/api/v1/funding/match", body.clone()).await;
        assert_eq!(answer.status.as_u16(), status, "{body}: {}", answer.text());
        assert_eq!(answer.content_type(), "application/problem+json", "{body}");
        let problem = answer.json();
        assert_eq!(problem["code"], code, "{body}: {problem}");
        assert_eq!(problem["status"], status, "{body}");
        if let Some(field) = field {
            let pointers: Vec<&str> = problem["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e["pointer"].as_str())
                .collect();
            assert!(pointers.contains(&field), "{body}: {problem}");
        }
    }
}

#[tokio::test]
async fn oversize_wrong_type_and_unknown_routes_are_problems() {
    let app = app().await;
    let huge = format!(
        r#"{{"applicant_type":"company","purposes":["digital_adoption"],"pad":"{}"}}"#,
        "x".repeat(100 * 1024)
    );
    let answer = post_json(&app, "/api/v1/funding/match", huge).await;
    assert_eq!(
        (answer.status.as_u16(), answer.json()["code"].clone()),
        (413, "request.body_too_large".into())
    );
    let answer = send(
        &app,
        Request::post("/api/v1/funding/match")
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from(MANUFACTURER))
            .expect("req"),
    )
    .await;
    assert_eq!(
        (answer.status.as_u16(), answer.json()["code"].clone()),
        (415, "request.unsupported_media_type".into())
    );
    let answer = send(
        &app,
        Request::delete("/api/v1/funding/match")
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert_eq!(
        (answer.status.as_u16(), answer.json()["code"].clone()),
        (405, "request.method_not_allowed".into())
    );
    let answer = get(&app, "/api/v1/funding/schemes/no-such-scheme").await;
    assert_eq!(
        (answer.status.as_u16(), answer.json()["code"].clone()),
        (404, "funding.scheme_not_found".into())
    );
    let answer = get(&app, "/api/v1/nothing-here").await;
    assert_eq!(
        (answer.status.as_u16(), answer.json()["code"].clone()),
        (404, "request.not_found".into())
    );
    let answer = get(&app, "/api/v1/funding/match?lang=fr").await;
    assert_eq!(answer.status.as_u16(), 405);
    let answer = post_json(&app, "/api/v1/funding/match?lang=fr", MANUFACTURER).await;
    assert_eq!(
        (answer.status.as_u16(), answer.json()["code"].clone()),
        (400, "request.invalid_query".into())
    );
    let page = get(&app, "/no-such-page").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.content_type().starts_with("text/html"));
}

#[tokio::test]
async fn openapi_lists_every_api_route_and_each_answers() {
    let app = app().await;
    let served = get(&app, "/openapi.json").await.json();
    assert_eq!(served, app.doc);
    assert!(
        served["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        served["openapi"]
    );
    let paths: Vec<&str> = served["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .map(String::as_str)
        .collect();
    for expected in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
        "/api/v1/funding/schemes",
        "/api/v1/funding/schemes.json",
        "/api/v1/funding/schemes.csv",
        "/api/v1/funding/schemes/{id}",
        "/api/v1/funding/schemes/{id}/versions",
        "/api/v1/funding/match",
        "/api/v1/fps/qr/decode",
        "/api/v1/fps/qr/encode",
        "/api/v1/fps/qr/image",
        "/api/v1/fps/proxies",
        "/api/v1/fps/proxies/change",
        "/api/v1/fps/proxies/remove",
        "/api/v1/fps/proxies/registration",
        "/api/v1/fps/proxies/lookup",
        "/api/v1/fps/proxies/lookup/bulk",
        "/api/v1/banks",
        "/api/v1/banks/accounts/{number}",
        "/api/v1/banks/accounts/{number}/deposits",
        "/api/identity/v1/enrolment/start",
        "/api/identity/v1/enrolment/finish",
        "/api/identity/v1/passkeys/login/start",
        "/api/identity/v1/passkeys/login/finish",
        "/api/identity/v1/me",
        "/api/identity/v1/me/passkeys",
        "/api/identity/v1/me/passkeys/register/start",
        "/api/identity/v1/me/passkeys/register/finish",
        "/api/identity/v1/me/passkeys/{id}",
        "/api/identity/v1/me/logout",
        "/api/signing/v1/verify",
        "/api/signing/v1/ca.pem",
    ] {
        assert!(
            paths.contains(&expected),
            "{expected} missing from {paths:?}"
        );
    }
    // Every documented GET answers (none is a doc-only ghost). Those that need the session
    // cookie or the administrator token refuse a caller without (401 problem); administrative
    // ones answer with the token.
    let token = std::fs::read_to_string(app.dir.join("admin.token")).expect("admin token file");
    for path in paths {
        let uri = path
            .replace("{id}", "new-industrialisation-funding")
            .replace("{participant}", "bank-004")
            .replace("{product}", "iads.balance")
            .replace("{brn}", "99999999")
            .replace("{serial}", "01");
        let methods = served["paths"][path].as_object().expect("item");
        let Some(operation) = methods.get("get") else {
            continue;
        };
        if operation.get("security").is_none() {
            assert_eq!(get(&app, &uri).await.status, StatusCode::OK, "GET {uri}");
            continue;
        }
        let refused = get(&app, &uri).await;
        assert_eq!(
            refused.status,
            StatusCode::UNAUTHORIZED,
            "GET {uri} without credentials"
        );
        if !operation["security"].to_string().contains("admin_token") {
            // The session cookie: 401 is all a caller without one gets.
            continue;
        }
        assert_eq!(refused.json()["code"], "admin.unauthorized");
        let request = Request::get(
            uri.replace("{client_id}", "svc_unknown")
                .replace("{number}", "004-999999999"),
        )
        .header(header::AUTHORIZATION, format!("Bearer {}", token.trim()))
        .body(Body::empty())
        .expect("request");
        let answered = send(&app, request).await.status;
        let expected = if path.contains('{') {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::OK
        };
        assert_eq!(answered, expected, "GET {uri} with the token");
    }
    assert!(
        served["components"]["securitySchemes"]["session"].is_object(),
        "the session cookie is a documented security scheme"
    );
}

#[tokio::test]
async fn strangers_are_rate_limited() {
    let app = app_with(Layer {
        rate_limit_per_second: Some(2),
        ..Layer::default()
    })
    .await;
    // A burst of 4 (twice the rate) passes; the 5th is refused with a problem and Retry-After.
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(post_json(&app, "/api/v1/funding/match", MANUFACTURER).await);
    }
    let codes: Vec<u16> = statuses.iter().map(|a| a.status.as_u16()).collect();
    assert_eq!(codes, [200, 200, 200, 200, 429]);
    let refused = statuses.last().expect("five");
    assert_eq!(refused.json()["code"], "request.rate_limited");
    assert!(refused.headers.get(header::RETRY_AFTER).is_some());
    // Probes are never limited.
    assert_eq!(get(&app, "/healthz").await.status, StatusCode::OK);
    assert_eq!(get(&app, "/readyz").await.status, StatusCode::OK);
    // An FPS participant's gateway is not a stranger: its valid token is not counted against
    // the address (which is already over its budget here); a made-up token is.
    let admin = std::fs::read_to_string(app.dir.join("admin.token")).expect("admin token file");
    let issue = Request::post("/api/v1/fps/participants/004/tokens")
        .header(header::AUTHORIZATION, format!("Bearer {}", admin.trim()))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"label":"gateway"}"#))
        .expect("request");
    // The address is over its budget: wait for one token's worth of refill for this call.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let issued = send(&app, issue).await;
    assert_eq!(issued.status, StatusCode::CREATED, "{:?}", issued.json());
    let token = issued.json()["token"].as_str().expect("token").to_owned();
    for _ in 0..10 {
        let request = Request::get("/api/v1/fps/participants/004/positions")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request");
        assert_eq!(send(&app, request).await.status, StatusCode::OK);
    }
    let stranger = Request::get("/api/v1/fps/participants/004/positions")
        .header(header::AUTHORIZATION, "Bearer fps_made_up")
        .body(Body::empty())
        .expect("request");
    assert_eq!(
        send(&app, stranger).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// The documented enum values are exactly the ones the API accepts (a schema that names Rust
/// variants instead of the wire strings would send every client's first request to a 422).
#[tokio::test]
async fn openapi_enums_are_the_wire_values() {
    use bauhinia_funding::domain::*;
    fn wire<T: serde::Serialize>(all: &[T]) -> Vec<serde_json::Value> {
        all.iter()
            .map(|v| serde_json::to_value(v).expect("serialises"))
            .collect()
    }
    let app = app().await;
    let schemas = &app.doc["components"]["schemas"];
    let cases = [
        ("ApplicantType", wire(ApplicantType::ALL)),
        ("Sector", wire(Sector::ALL)),
        ("Purpose", wire(Purpose::ALL)),
        ("Location", wire(Location::ALL)),
        ("University", wire(University::ALL)),
        ("Status", wire(Status::ALL)),
        ("Section", wire(Section::ALL)),
        ("SchemeKind", wire(SchemeKind::ALL)),
        ("Lang", wire(&bauhinia_core::Lang::ALL)),
    ];
    for (name, values) in cases {
        assert_eq!(schemas[name]["enum"].as_array(), Some(&values), "{name}");
    }
}

#[tokio::test]
async fn downloads_parse() {
    let app = app().await;
    let csv = get(&app, "/api/v1/funding/schemes.csv").await;
    assert!(csv.content_type().starts_with("text/csv"));
    let mut reader = csv::Reader::from_reader(csv.body.as_slice());
    let rows = reader
        .records()
        .collect::<Result<Vec<_>, _>>()
        .expect("valid CSV");
    let json = get(&app, "/api/v1/funding/schemes.json").await.json();
    assert_eq!(rows.len(), json["schemes"].as_array().map_or(0, Vec::len));
    assert!(rows.len() >= 25);
    let versions = get(
        &app,
        "/api/v1/funding/schemes/new-industrialisation-funding/versions",
    )
    .await
    .json();
    assert_eq!(versions["versions"][0]["version"], 2);
}

#[tokio::test]
async fn portal_pages_in_three_languages() {
    let app = app().await;
    for (lang, needle) in [
        ("zh-Hant", "資助易"),
        ("zh-Hans", "资助易"),
        ("en", "Funding Easy"),
    ] {
        for page in [
            "/",
            "/funding",
            "/docs/api",
            "/docs/errors",
            "/app",
            "/app/enrol",
        ] {
            let answer = send(
                &app,
                Request::get(page)
                    .header(header::COOKIE, format!("bauhinia_lang={lang}"))
                    .body(Body::empty())
                    .expect("req"),
            )
            .await;
            assert_eq!(answer.status, StatusCode::OK, "{page} {lang}");
            let html = answer.text();
            assert!(
                html.contains(&format!("<html lang=\"{lang}\">")),
                "{page} {lang}"
            );
            assert!(html.contains(needle), "{page} {lang}");
        }
    }
    let prefs = get(&app, "/prefs?lang=en&next=%2Ffunding").await;
    assert_eq!(prefs.status, StatusCode::SEE_OTHER);
    assert_eq!(
        prefs
            .headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok()),
        Some("/funding")
    );
    assert!(prefs
        .headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("bauhinia_lang=en;")));
    let results = get(&app, "/funding/results?applicant_type=manufacturer&sectors=manufacturing&employees=30&locations=hong_kong&purposes=smart_production_line&project_cost_hkd=20000000&operates_production_line_in_hk=true").await;
    assert_eq!(results.status, StatusCode::OK);
    assert!(results
        .text()
        .contains("data-scheme-id=\"new-industrialisation-funding\""));
    let invalid = get(
        &app,
        "/funding/results?applicant_type=company&purposes=digital_adoption&employees=-5",
    )
    .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(invalid.text().contains("id=\"error-employees\""));
}

/// A demo resident enrolled, a request made and approved: the signature and the document hash.
async fn demo_signature(app: &TestApp, document: &[u8]) -> (String, [u8; 32]) {
    use bauhinia_identity::signing::SigningTarget;
    let draft = bauhinia_identity::demo::residents().remove(0);
    let hkid = bauhinia_identity::domain::Hkid::parse(&draft.hkid).expect("hkid");
    let resident = app
        .state
        .identity
        .find_by_hkid(&hkid)
        .await
        .expect("find")
        .expect("demo resident");
    let signing = &app.state.signing;
    if signing
        .certificate_for(&resident.id)
        .await
        .expect("read")
        .is_none()
    {
        signing
            .enrol(&resident.id, "system:test")
            .await
            .expect("enrol");
    }
    let hash = openssl::sha::sha256(document);
    let request = signing
        .create_request(
            "test-client",
            SigningTarget::Resident(resident.id.clone()),
            "Lease.pdf",
            &hash,
        )
        .await
        .expect("request");
    let approved = signing
        .approve(&request.id, &resident.id)
        .await
        .expect("approve");
    (approved.signature.expect("signature"), hash)
}

#[tokio::test]
async fn signatures_verify_over_http() {
    use base64::Engine as _;
    let app = app().await;
    let chain = get(&app, "/api/signing/v1/ca.pem").await;
    assert_eq!(chain.status, StatusCode::OK);
    assert_eq!(chain.content_type(), "application/pem-certificate-chain");
    assert_eq!(
        chain.text().matches("-----BEGIN CERTIFICATE-----").count(),
        2
    );

    let (jws, hash) = demo_signature(&app, b"a lease").await;
    let verify =
        |body: serde_json::Value| post_json(&app, "/api/signing/v1/verify", body.to_string());
    let answer = verify(serde_json::json!({ "signature": jws })).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let report = answer.json();
    assert_eq!(report["valid"], true, "{report}");
    assert_eq!(report["chain_valid"], true);
    assert_eq!(report["signer"]["name"], "CHAN, Tai Man");
    assert_eq!(report["document"]["name"], "Lease.pdf");
    assert_eq!(report["errors"], serde_json::json!([]));

    // The caller's own hash, in base64: matched, or not.
    let b64 = base64::engine::general_purpose::STANDARD.encode(hash);
    let answer = verify(serde_json::json!({ "signature": jws, "document_hash": b64 })).await;
    assert_eq!(answer.json()["valid"], true);
    let other = base64::engine::general_purpose::STANDARD.encode(openssl::sha::sha256(b"x"));
    let answer = verify(serde_json::json!({ "signature": jws, "document_hash": other })).await;
    assert_eq!(answer.json()["valid"], false);
    assert_eq!(answer.json()["errors"][0]["code"], "document_hash_mismatch");

    // One flipped character of the payload: a report saying no, not an error.
    let (head, rest) = jws.split_once('.').expect("dot");
    let (payload, signature) = rest.split_once('.').expect("dot");
    let mut bytes = payload.as_bytes().to_vec();
    bytes[10] = if bytes[10] == b'A' { b'B' } else { b'A' };
    let tampered = format!(
        "{head}.{}.{signature}",
        String::from_utf8(bytes).expect("ascii")
    );
    let answer = verify(serde_json::json!({ "signature": tampered })).await;
    if answer.status == StatusCode::OK {
        assert_eq!(answer.json()["valid"], false);
        assert_eq!(answer.json()["signature_valid"], false);
    } else {
        // The flip may break the payload's JSON instead: then it is not a signature at all.
        assert_eq!(answer.json()["code"], "signing.signature_malformed");
    }
}

#[tokio::test]
async fn bad_verification_requests_are_problems() {
    let app = app().await;
    let cases: Vec<(String, u16, &str, Option<&str>)> = vec![
        ("{".into(), 400, "request.malformed_json", None),
        (
            r#"{"signature":"nope"}"#.into(),
            422,
            "signing.signature_malformed",
            Some("/signature"),
        ),
        (
            r#"{"signature":"a.b.c"}"#.into(),
            422,
            "signing.signature_malformed",
            Some("/signature"),
        ),
        (
            r#"{"signature":""}"#.into(),
            422,
            "signing.signature_malformed",
            Some("/signature"),
        ),
        (
            format!(r#"{{"signature":"{}"}}"#, "a".repeat(20_000)),
            422,
            "signing.signature_malformed",
            Some("/signature"),
        ),
        (
            r#"{"signature":5}"#.into(),
            422,
            "request.invalid_field",
            Some("/signature"),
        ),
        (r#"{}"#.into(), 422, "request.invalid_field", Some("/")),
        (
            r#"{"signature":"a.b.c","colour":1}"#.into(),
            422,
            "request.unknown_field",
            Some("/colour"),
        ),
        (
            r#"{"signature":"a.b.c","document_hash":"zz"}"#.into(),
            422,
            "request.invalid_field",
            Some("/document_hash"),
        ),
    ];
    for (body, status, code, field) in cases {
        let answer = post_json(&app, "/api/signing/v1/verify", body.clone()).await;
        assert_eq!(answer.status.as_u16(), status, "{body}: {}", answer.text());
        assert_eq!(answer.content_type(), "application/problem+json", "{body}");
        let problem = answer.json();
        assert_eq!(problem["code"], code, "{body}: {problem}");
        if let Some(field) = field {
            assert!(
                problem["errors"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|e| e["pointer"] == field),
                "{body}: {problem}"
            );
        }
    }
}

/// Whatever arrives as a signature, the verification endpoint answers 200 or 422, never 500.
#[test]
fn the_verification_endpoint_never_fails_on_any_input() {
    use proptest::test_runner::{Config, TestRunner};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let app = runtime.block_on(app_with(Layer {
        rate_limit_per_second: Some(0),
        ..Layer::default()
    }));
    let (jws, _) = runtime.block_on(demo_signature(&app, b"document"));
    let mut runner = TestRunner::new(Config {
        cases: 128,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        proptest::string::string_regex(".{0,300}").expect("regex"),
        0..jws.len(),
        0usize..3,
    );
    runner
        .run(&strategy, |(text, at, mode)| {
            // Arbitrary text, a genuine signature cut short, or one with arbitrary text spliced in.
            let signature = match mode {
                0 => text,
                1 => jws.get(..at).unwrap_or("").to_owned(),
                _ => format!(
                    "{}{text}{}",
                    jws.get(..at).unwrap_or(""),
                    jws.get(at..).unwrap_or("")
                ),
            };
            let body = serde_json::json!({ "signature": signature }).to_string();
            let answer = runtime.block_on(post_json(&app, "/api/signing/v1/verify", body));
            proptest::prop_assert!(
                matches!(answer.status.as_u16(), 200 | 422),
                "{}: {}",
                answer.status,
                answer.text()
            );
            if answer.status == StatusCode::OK && !text_is_empty_splice(&signature, &jws) {
                proptest::prop_assert_eq!(&answer.json()["valid"], &serde_json::json!(false));
            }
            Ok(())
        })
        .expect("never a server error");
}

/// Splicing an empty string into the genuine signature leaves it genuine.
fn text_is_empty_splice(signature: &str, jws: &str) -> bool {
    signature.trim() == jws
}

/// `bauhinia fps qr encode|decode`: the payload printed, pictures written, and a bad payload
/// refused with a non-zero exit and exactly what is wrong.
#[test]
fn fps_qr_command_line() {
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_bauhinia"))
            .args(args)
            .env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LIB_BACKTRACE")
            .output()
            .expect("runs")
    };
    let dir = std::env::temp_dir().join(format!("bauhinia-fps-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let png = dir.join("code.png");
    let svg = dir.join("code.svg");
    let out = run(&[
        "fps",
        "qr",
        "encode",
        "--participant",
        "004",
        "--fps-id",
        "123456789",
        "--amount",
        "12.30",
        "--reference",
        "INV01",
        "--png",
        png.to_str().expect("utf-8"),
        "--svg",
        svg.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{out:?}");
    let payload = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(
        payload.trim_end(),
        "00020101021226360012hk.com.hkicl01030040209123456789520400005303344540512.30\
         5802HK5902NA6002HK62090505INV016304AD06"
    );
    assert!(std::fs::read(&png)
        .expect("png")
        .starts_with(b"\x89PNG\r\n\x1a\n"));
    assert!(std::fs::read_to_string(&svg).expect("svg").contains("<svg"));
    let _ = std::fs::remove_dir_all(&dir);

    let out = run(&[
        "fps",
        "qr",
        "decode",
        payload.trim_end(),
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{out:?}");
    let decoded: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(decoded["amount_minor"], 1230);
    assert_eq!(decoded["proxy"]["value"], "123456789");
    let out = run(&["fps", "qr", "decode", payload.trim_end()]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("FPS ID 123456789 at participant 004"));

    let truncated = &payload.trim_end()[..payload.trim_end().len() - 2];
    let out = run(&["fps", "qr", "decode", truncated]);
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        "Error: not a valid FPS QR payload (truncated_value, field 63, position 107): field 63 at \
         position 107 declares 4 characters of value but the payload has only 2 left"
    );
    let out = run(&["fps", "qr", "decode", truncated, "--format", "json"]);
    assert!(!out.status.success());
    let problem: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(problem["reason"], "truncated_value");

    let out = run(&[
        "fps", "qr", "encode", "--mobile", "1234", "--amount", "1.234",
    ]);
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        "Error: --mobile: must be a Hong Kong mobile number written +852-XXXXXXXX (8 digits)\n\
         --amount: has more than 2 decimal places; HKD and CNY amounts have at most 2"
    );
}
