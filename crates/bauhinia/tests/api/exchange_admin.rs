//! The exchange operator's API (`/api/v1/admin/exchange`): nothing without the administrator
//! token; bad requests are problems naming their field with stable codes; every change is in
//! the audit log as `admin`, and an endpoint's query string is never there; a dead letter is
//! listed and replayed.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use bauhinia_exchange::consent::domain::{rfc3339, ParticipantId};
use bauhinia_exchange::webhooks::store::AttemptResult;
use bauhinia_identity::jose::{Alg, Jwk};
use bauhinia_store::audit::{AuditEvent, Outcome};
use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::PKey;
use serde_json::{json, Value};

use super::{send, Answer, TestApp};

const BASE: &str = "/api/v1/admin/exchange";
const ID: &str = "bank-admin-test";

fn token(app: &TestApp) -> String {
    std::fs::read_to_string(app.dir.join("admin.token"))
        .expect("admin token file")
        .trim()
        .to_owned()
}

/// A request with `token` (none: no Authorization header) and an optional JSON body.
async fn call(
    app: &TestApp,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = match body {
        Some(json) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    send(app, request.body(body).expect("request")).await
}

fn public_jwk(kid: &str) -> Value {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("P-256");
    let key = PKey::from_ec_key(EcKey::generate(&group).expect("key")).expect("key");
    let jwk = Jwk::from_key(&key, Some(kid.to_owned()), Some(Alg::ES256)).expect("jwk");
    serde_json::to_value(jwk).expect("json")
}

fn registration() -> Value {
    json!({
        "id": ID,
        "name": { "en": "Admin Test Bank", "zh_hant": "管理測試銀行", "zh_hans": "管理测试银行" },
        "roles": "both",
        "licence": "bank",
        "jwks": { "keys": [public_jwk("k1")] },
        "provides": ["iads.balance"],
    })
}

fn pointers(answer: &Answer) -> Vec<String> {
    answer.json()["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["pointer"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// (action, detail) of the audit events `admin` wrote about the test participant.
async fn audited(app: &TestApp) -> Vec<(String, String)> {
    let subject = format!("exchange_participant:{ID}");
    let records = app
        .state
        .db
        .audit_for_subject(&subject, 1000)
        .await
        .expect("audit rows");
    records
        .into_iter()
        .filter(|r| r.actor == "admin")
        .map(|r| (r.action, r.detail))
        .collect()
}

#[tokio::test]
async fn every_operator_route_needs_the_token() {
    let app = super::app().await;
    let routes = [
        (Method::POST, format!("{BASE}/participants")),
        (
            Method::POST,
            format!("{BASE}/participants/bank-004/suspend"),
        ),
        (
            Method::POST,
            format!("{BASE}/participants/bank-004/reactivate"),
        ),
        (Method::PUT, format!("{BASE}/participants/bank-004/keys")),
        (Method::PUT, format!("{BASE}/participants/bank-004/webhook")),
        (
            Method::DELETE,
            format!("{BASE}/participants/bank-004/webhook"),
        ),
        (Method::GET, format!("{BASE}/dead-letters")),
        (Method::POST, format!("{BASE}/dead-letters/1/replay")),
        (
            Method::POST,
            format!("{BASE}/participants/bank-004/dead-letters/replay"),
        ),
    ];
    for (method, uri) in routes {
        for token in [None, Some("not-the-administrator-token-at-all")] {
            let answer = call(&app, method.clone(), &uri, token, Some(json!({}))).await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{method} {uri}");
            assert_eq!(answer.json()["code"], "admin.unauthorized");
        }
    }
    // Nothing was suspended by the refused calls.
    let hsbc = super::get(&app, "/api/v1/exchange/participants/bank-004").await;
    assert_eq!(hsbc.json()["status"], "active");
}

#[tokio::test]
async fn the_operator_manages_a_participant_and_every_change_is_audited() {
    let app = super::app().await;
    let token = token(&app);
    let t = Some(token.as_str());
    let participants = format!("{BASE}/participants");
    let one = format!("{participants}/{ID}");

    // Registration: the shape and every field named; then created, once.
    let mut bad = registration();
    bad["id"] = json!("X");
    bad["jwks"] = json!({ "keys": [] });
    let answer = call(&app, Method::POST, &participants, t, Some(bad)).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.json()["code"], "exchange.participant_invalid");
    assert!(
        pointers(&answer).contains(&"/id".to_owned()),
        "{}",
        answer.text()
    );
    assert!(pointers(&answer).contains(&"/jwks/keys".to_owned()));
    let not_json = send(
        &app,
        Request::post(&participants)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from("{}"))
            .expect("request"),
    )
    .await;
    assert_eq!(not_json.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let created = call(&app, Method::POST, &participants, t, Some(registration())).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(created.json()["id"], ID);
    let again = call(&app, Method::POST, &participants, t, Some(registration())).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.json()["code"], "exchange.participant_exists");

    // Suspension needs a reason; it shows in the public directory at once.
    let suspend = format!("{one}/suspend");
    let answer = call(
        &app,
        Method::POST,
        &suspend,
        t,
        Some(json!({ "reason": " " })),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.json()["code"], "exchange.admin_invalid");
    assert_eq!(pointers(&answer), ["/reason"]);
    let answer = call(
        &app,
        Method::POST,
        &format!("{participants}/no-such-bank/suspend"),
        t,
        Some(json!({ "reason": "test" })),
    )
    .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.json()["code"], "exchange.participant_not_found");
    let reason = json!({ "reason": "licence under review" });
    let answer = call(&app, Method::POST, &suspend, t, Some(reason)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["status"], "suspended");
    let public = super::get(&app, &format!("/api/v1/exchange/participants/{ID}")).await;
    assert_eq!(public.json()["status"], "suspended");
    let answer = call(&app, Method::POST, &format!("{one}/reactivate"), t, None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["status"], "active");

    // Keys: a bad set is named by pointer; a rotation publishes the new key beside the old.
    let keys = format!("{one}/keys");
    let bad_keys = json!({ "jwks": { "keys": [{ "kty": "oct", "k": "c2VjcmV0", "kid": "h" }] } });
    let answer = call(&app, Method::PUT, &keys, t, Some(bad_keys)).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.json()["code"], "exchange.participant_invalid");
    let rotation = json!({ "jwks": { "keys": [public_jwk("k2")] }, "grace_s": 3600 });
    let answer = call(&app, Method::PUT, &keys, t, Some(rotation)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(
        answer.json()["jwks"]["keys"].as_array().map(Vec::len),
        Some(2)
    );

    // The webhook endpoint: https or loopback http only; shown and audited without its query.
    let webhook = format!("{one}/webhook");
    for bad in [
        "http://hooks.example.hk/x",
        "ftp://hooks.example.hk/x",
        "https://u:p@h.example/",
    ] {
        let answer = call(&app, Method::PUT, &webhook, t, Some(json!({ "url": bad }))).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(answer.json()["code"], "exchange.webhook_url_invalid");
        assert_eq!(pointers(&answer), ["/url"]);
    }
    let url = json!({ "url": "https://hooks.example.hk/exchange?token=participant-secret" });
    let answer = call(&app, Method::PUT, &webhook, t, Some(url)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json()["url"], "https://hooks.example.hk/exchange");
    let cleared = call(&app, Method::DELETE, &webhook, t, None).await;
    assert_eq!(cleared.status, StatusCode::OK);
    assert_eq!(cleared.json()["cancelled"], 0);
    let again = call(&app, Method::DELETE, &webhook, t, None).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.json()["code"], "exchange.webhook_no_endpoint");

    let actions: Vec<String> = audited(&app).await.into_iter().map(|(a, _)| a).collect();
    assert_eq!(
        actions,
        [
            "exchange.participant.register",
            "exchange.participant.suspend",
            "exchange.participant.reactivate",
            "exchange.participant.keys.replace",
            "exchange.webhook.endpoint_set",
            "exchange.webhook.endpoint_cleared",
        ]
    );
    for (action, detail) in audited(&app).await {
        assert!(!detail.contains("participant-secret"), "{action}: {detail}");
        assert!(!detail.contains(&token), "{action}: {detail}");
    }
}

#[tokio::test]
async fn a_dead_letter_is_listed_and_replayed() {
    let app = super::app().await;
    let token = token(&app);
    let t = Some(token.as_str());
    let created = call(
        &app,
        Method::POST,
        &format!("{BASE}/participants"),
        t,
        Some(registration()),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let replay_all = format!("{BASE}/participants/{ID}/dead-letters/replay");
    let answer = call(&app, Method::POST, &replay_all, t, None).await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "no endpoint yet");
    assert_eq!(answer.json()["code"], "exchange.webhook_no_endpoint");
    let unknown = format!("{BASE}/participants/no-such-bank/dead-letters/replay");
    let answer = call(&app, Method::POST, &unknown, t, None).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    let url = json!({ "url": "http://127.0.0.1:9/hooks" });
    let answer = call(
        &app,
        Method::PUT,
        &format!("{BASE}/participants/{ID}/webhook"),
        t,
        Some(url),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);

    // A consent this participant asked for tells it so: one delivery, which (no worker runs
    // here) is made a dead letter by hand, as the worker would after its last attempt.
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let request = json!({
        "purpose": { "code": "102", "text": "To assess your loan application" },
        "products": ["iads.balance"],
        "owner": { "resident": "5b1e0f7c-0000-4000-8000-000000000001" },
        "providers": ["bank-004"],
        "data_range": { "from": rfc3339(now - 86_400 * 30), "to": rfc3339(now) },
        "frequency": { "unit": "DAY", "value": 1 },
        "validity": { "from": rfc3339(now), "until": rfc3339(now + 86_400 * 30) },
        "mode": "VIEW",
        "fetch_type": "ONETIME",
    });
    let consumer = ParticipantId::parse(ID).expect("id");
    let consent = app
        .state
        .exchange
        .consents()
        .request(&consumer, &request, now)
        .await
        .expect("requested");
    let store = app.state.exchange.webhooks().store();
    let rows = store
        .deliveries_of_consent(consent.id.as_str())
        .await
        .expect("deliveries");
    assert_eq!(
        rows.len(),
        1,
        "bank-004 has no endpoint, so only the consumer hears"
    );
    let delivery = rows[0].id;
    // Its one attempt failed for the last time, as the worker would record it.
    let now_ms = now * 1000 + 1000;
    let due = store.due(now_ms, 10).await.expect("due");
    let taken = store.claim(due, now_ms + 60_000).await.expect("claimed");
    let failed: Vec<_> = taken
        .into_iter()
        .map(|d| {
            let audit = AuditEvent {
                actor: "system:test".into(),
                action: "exchange.webhook.dead_letter",
                subject: format!("exchange_participant:{ID}"),
                outcome: Outcome::Failure,
                detail: json!({}),
                request_id: None,
            };
            let error = "connection refused".to_owned();
            (
                d,
                AttemptResult::Failed {
                    status_code: None,
                    error,
                    audit,
                },
            )
        })
        .collect();
    assert_eq!(failed.len(), 1);
    store.record(&failed, now).await.expect("recorded");

    let letters = call(
        &app,
        Method::GET,
        &format!("{BASE}/dead-letters?participant={ID}"),
        t,
        None,
    )
    .await;
    assert_eq!(letters.status, StatusCode::OK);
    let letters = letters.json();
    assert_eq!(letters[0]["id"], delivery);
    assert_eq!(letters[0]["type"], "consent.requested");
    assert_eq!(letters[0]["status"], "PENDING");
    assert_eq!(letters[0]["attempts"], 1);
    assert_eq!(letters[0]["last_error"], "connection refused");
    let bad = call(
        &app,
        Method::GET,
        &format!("{BASE}/dead-letters?limit=0"),
        t,
        None,
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["code"], "request.invalid_query");

    for missing in ["999999", "not-a-number"] {
        let uri = format!("{BASE}/dead-letters/{missing}/replay");
        let answer = call(&app, Method::POST, &uri, t, None).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{missing}");
        assert_eq!(
            answer.json()["code"],
            "exchange.webhook_dead_letter_not_found"
        );
    }
    let uri = format!("{BASE}/dead-letters/{delivery}/replay");
    let answer = call(&app, Method::POST, &uri, t, None).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.text());
    let row = store.delivery(delivery).await.expect("read").expect("row");
    assert_eq!((row.status.as_str(), row.attempts), ("pending", 0));
    let answer = call(&app, Method::POST, &uri, t, None).await;
    assert_eq!(
        answer.status,
        StatusCode::NOT_FOUND,
        "no longer a dead letter"
    );
    let answer = call(&app, Method::POST, &replay_all, t, None).await;
    assert_eq!(answer.json()["replayed"], 0);
    let actions: Vec<String> = audited(&app).await.into_iter().map(|(a, _)| a).collect();
    assert!(
        actions.contains(&"exchange.webhook.replay".to_owned()),
        "{actions:?}"
    );
}
