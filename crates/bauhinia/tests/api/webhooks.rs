//! FPS webhooks through the whole application, with the worker `bauhinia::start` runs: a
//! participant registers an endpoint (a receiver on 127.0.0.1 inside the test) and gets its
//! secret once; a transfer reaches the endpoint signed (Standard Webhooks); deliveries can be
//! listed and redelivered; camt.054 notifications can be pulled; bad registrations are
//! problems naming the field; nobody sees another participant's subscriptions; every change is
//! audited without the secret or the address's query string.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, Request, StatusCode};
use bauhinia_fps::webhooks::domain::{verify, Secret};

use super::fps::token;
use super::{app, send, Answer, TestApp};

type Got = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// A receiver on 127.0.0.1 that answers 200 and keeps what it got.
async fn receiver() -> (String, Got) {
    let got: Got = Arc::default();
    let keep = Arc::clone(&got);
    let app = axum::Router::new().route(
        "/fps-events",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let keep = Arc::clone(&keep);
            async move {
                keep.lock().expect("lock").push((headers, body));
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/fps-events?auth=s3cr3t-query"), got)
}

async fn wait_for(got: &Got, n: usize) -> Vec<(HeaderMap, Bytes)> {
    for _ in 0..1000 {
        let now = got.lock().expect("lock").clone();
        if now.len() >= n {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "the receiver got {} of {n}",
        got.lock().expect("lock").len()
    );
}

async fn call(app: &TestApp, method: &str, uri: &str, token: &str, body: Option<&str>) -> Answer {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    let request = match body {
        Some(json) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json.to_owned())),
        None => request.body(Body::empty()),
    };
    send(app, request.expect("request")).await
}

fn pointers(answer: &Answer) -> Vec<String> {
    answer.json()["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["pointer"].as_str().expect("pointer").to_owned())
        .collect()
}

fn check_signature(secret: &Secret, headers: &HeaderMap, body: &[u8]) {
    let h = |k: &str| headers[k].to_str().expect("ascii").to_owned();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let ts: i64 = h("webhook-timestamp").parse().expect("seconds");
    verify(
        secret,
        &h("webhook-id"),
        ts,
        &h("webhook-signature"),
        body,
        now,
        300,
    )
    .expect("a valid Standard Webhooks signature");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_registrations_are_problems_naming_the_field() {
    let app = app().await;
    let t012 = token(&app, "012").await;
    let bad = call(
        &app,
        "POST",
        "/api/v1/fps/webhooks",
        &t012,
        Some(r#"{"url":"http://hooks.example.hk/x","event_types":["Transfer.*","transfer.*","transfer.*"],"format":"xml"}"#),
    )
    .await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bad.text()
    );
    assert_eq!(bad.json()["code"], "fps.webhook_invalid");
    assert_eq!(
        pointers(&bad),
        ["/url", "/event_types/0", "/event_types/2", "/format"]
    );
    for (body, pointer) in [
        (r#"{"url":"ftp://hooks.example.hk/x"}"#, "/url"),
        (r#"{"url":"https://u:p@hooks.example.hk/x"}"#, "/url"),
        (r#"{"url":"not a url"}"#, "/url"),
        (r#"{"url":"http://10.1.2.3/x"}"#, "/url"),
    ] {
        let answer = call(&app, "POST", "/api/v1/fps/webhooks", &t012, Some(body)).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(pointers(&answer), [pointer], "{body}");
    }
    let unknown = call(
        &app,
        "POST",
        "/api/v1/fps/webhooks",
        &t012,
        Some(r#"{"url":"https://hooks.example.hk/x","secret":"mine"}"#),
    )
    .await;
    assert_eq!(unknown.json()["code"], "request.unknown_field");
    // The operator owns no subscription.
    let admin = std::fs::read_to_string(app.dir.join("admin.token")).expect("admin token");
    let operator = call(
        &app,
        "POST",
        "/api/v1/fps/webhooks",
        admin.trim(),
        Some(r#"{"url":"https://hooks.example.hk/x"}"#),
    )
    .await;
    assert_eq!(operator.status, StatusCode::FORBIDDEN);
    assert_eq!(operator.json()["code"], "fps.forbidden");
    let stranger = call(&app, "GET", "/api/v1/fps/webhooks", "nope", None).await;
    assert_eq!(stranger.status, StatusCode::UNAUTHORIZED);
    // Nothing was created.
    let listed = call(&app, "GET", "/api/v1/fps/webhooks", &t012, None).await;
    assert_eq!(listed.json(), serde_json::json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_reaches_the_participants_endpoint_signed() {
    let app = app().await;
    let (t004, t012) = (token(&app, "004").await, token(&app, "012").await);
    let (url, got) = receiver().await;
    let created = call(
        &app,
        "POST",
        "/api/v1/fps/webhooks",
        &t012,
        Some(&serde_json::json!({ "url": url, "event_types": ["transfer.*"] }).to_string()),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let created = created.json();
    let id = created["id"].as_str().expect("id").to_owned();
    let secret_text = created["secret"].as_str().expect("secret, once").to_owned();
    assert!(secret_text.starts_with("whsec_"));
    let secret = Secret::from_text(&secret_text).expect("base64");
    assert_eq!(created["format"], "json");

    // Listed without the secret; invisible to another participant.
    let listed = call(&app, "GET", "/api/v1/fps/webhooks", &t012, None)
        .await
        .json();
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert!(listed[0].get("secret").is_none());
    let admin = std::fs::read_to_string(app.dir.join("admin.token")).expect("admin token");
    let operator = call(&app, "GET", "/api/v1/fps/webhooks", admin.trim(), None)
        .await
        .json();
    assert_eq!(operator[0]["id"], id.as_str());
    assert!(!operator.to_string().contains("s3cr3t-query"), "{operator}");
    let theirs = call(&app, "GET", "/api/v1/fps/webhooks", &t004, None)
        .await
        .json();
    assert_eq!(theirs, serde_json::json!([]));
    let other = call(
        &app,
        "GET",
        &format!("/api/v1/fps/webhooks/{id}"),
        &t004,
        None,
    )
    .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(other.json()["code"], "fps.webhook_not_found");

    let paid = call(
        &app,
        "POST",
        "/api/v1/fps/transfers",
        &t004,
        Some(r#"{"id":"01890a5d-ac96-774b-bcce-b302099a8057","debtor":"004","creditor":"012","currency":"HKD","amount":"88.80","reference":"Lunch"}"#),
    )
    .await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text());

    let first = wait_for(&got, 1).await;
    let (headers, body) = &first[0];
    check_signature(&secret, headers, body);
    let event: serde_json::Value = serde_json::from_slice(body).expect("JSON");
    assert_eq!(event["type"], "transfer.settled");
    assert_eq!(event["participant"], "012");
    assert_eq!(event["data"]["amount"], "88.80");
    assert_eq!(event["data"]["reference"], "Lunch");
    assert_eq!(event["id"], headers["webhook-id"].to_str().expect("id"));

    // The receiver has answered; the worker records the answer right after.
    let mut deliveries = serde_json::Value::Null;
    for _ in 0..500 {
        let answer = call(
            &app,
            "GET",
            &format!("/api/v1/fps/webhooks/{id}/deliveries"),
            &t012,
            None,
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK);
        deliveries = answer.json();
        if deliveries[0]["status"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(deliveries[0]["status"], "delivered", "{deliveries}");
    assert_eq!(deliveries[0]["last_status_code"], 200);
    let delivery = deliveries[0]["id"].as_i64().expect("delivery id");

    // Redelivery: the same event again, the same webhook-id.
    let again = call(
        &app,
        "POST",
        &format!("/api/v1/fps/webhooks/{id}/deliveries/{delivery}/redeliver"),
        &t012,
        None,
    )
    .await;
    assert_eq!(again.status, StatusCode::ACCEPTED);
    let both = wait_for(&got, 2).await;
    assert_eq!(both[1].0["webhook-id"], both[0].0["webhook-id"]);
    check_signature(&secret, &both[1].0, &both[1].1);
    let missing = call(
        &app,
        "POST",
        &format!("/api/v1/fps/webhooks/{id}/deliveries/999999/redeliver"),
        &t012,
        None,
    )
    .await;
    assert_eq!(missing.json()["code"], "fps.webhook_delivery_not_found");

    // A new secret, shown once; the old one no longer signs.
    let rotated = call(
        &app,
        "POST",
        &format!("/api/v1/fps/webhooks/{id}/secret"),
        &t012,
        None,
    )
    .await;
    assert_eq!(rotated.status, StatusCode::CREATED);
    assert_ne!(
        rotated.json()["secret"].as_str(),
        Some(secret_text.as_str())
    );

    // Deleted by its owner only, once.
    let path = format!("/api/v1/fps/webhooks/{id}");
    for (who, expected) in [
        (&t004, StatusCode::NOT_FOUND),
        (&t012, StatusCode::NO_CONTENT),
        (&t012, StatusCode::NOT_FOUND),
    ] {
        assert_eq!(
            call(&app, "DELETE", &path, who, None).await.status,
            expected
        );
    }

    // Audited, without the secret or the query string.
    let audit: Vec<(String, String)> = app
        .state
        .db
        .audit_for_subject(&format!("webhook:{id}"), 100)
        .await
        .expect("audit")
        .into_iter()
        .map(|r| (r.action, r.detail))
        .collect();
    let actions: Vec<&str> = audit.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "fps.webhook.subscribe",
            "fps.webhook.secret_issued",
            "fps.webhook.secret_issued",
            "fps.webhook.unsubscribe"
        ]
    );
    let b64 = secret_text.trim_start_matches("whsec_");
    for (_, detail) in &audit {
        assert!(
            !detail.contains(b64) && !detail.contains("s3cr3t-query"),
            "{detail}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_are_camt_054_for_the_participant_only() {
    let app = app().await;
    let (t004, t012) = (token(&app, "004").await, token(&app, "012").await);
    let paid = call(
        &app,
        "POST",
        "/api/v1/fps/transfers",
        &t004,
        Some(r#"{"id":"01890a5d-ac96-774b-bcce-b302099a8058","debtor":"004","creditor":"012","currency":"HKD","amount":"12.34"}"#),
    )
    .await;
    assert_eq!(paid.status, StatusCode::CREATED);
    let pulled = call(
        &app,
        "GET",
        "/api/v1/fps/participants/012/notifications?after=0",
        &t012,
        None,
    )
    .await;
    assert_eq!(pulled.status, StatusCode::OK, "{}", pulled.text());
    assert!(pulled.content_type().starts_with("application/xml"));
    let next: i64 = pulled.headers["fps-next-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("a seq");
    assert!(next > 0);
    let bauhinia_fps::iso20022::Message::Notification(n) =
        bauhinia_fps::iso20022::parse(&pulled.body).expect("a valid camt.054")
    else {
        panic!("not a camt.054: {}", pulled.text());
    };
    let entries: Vec<_> = n
        .notifications
        .as_slice()
        .iter()
        .flat_map(|a| a.entries.iter())
        .collect();
    let ours: Vec<_> = entries
        .iter()
        .filter(|e| e.amount.money().minor == 1234)
        .collect();
    assert_eq!(ours.len(), 1, "{}", pulled.text());
    assert_eq!(
        ours[0].credit_debit,
        bauhinia_fps::iso20022::CreditDebit::Credit
    );
    // Nothing newer yet.
    let later = call(
        &app,
        "GET",
        &format!("/api/v1/fps/participants/012/notifications?after={next}"),
        &t012,
        None,
    )
    .await;
    assert_eq!(later.headers["fps-next-after"], next.to_string().as_str());
    assert!(!later.text().contains("<Ntry>"));
    let forbidden = call(
        &app,
        "GET",
        "/api/v1/fps/participants/012/notifications",
        &t004,
        None,
    )
    .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let bad = call(
        &app,
        "GET",
        "/api/v1/fps/participants/012/notifications?after=x",
        &t012,
        None,
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["code"], "request.invalid_query");
}
