//! 数码企业身份 CorpID through the whole application, on the demo directory: the businesses a
//! signed-in resident may act for, an administrator granting and revoking a role, a
//! non-administrator refused with nothing changed, the last administrator kept, a delegation
//! in force and then ended, the operator's suspension, a business the caller does not
//! represent answered as not found, bad bodies named by field without echoing the HKID, and
//! the audit trail of every change.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use bauhinia_corpid::demo::{X_BRN, Y_BRN, Z_BRN};
use bauhinia_identity::corporate::CorporateDirectory;
use bauhinia_identity::testing::SoftAuthenticator;
use serde_json::{json, Value};

use super::passkeys::{call, enrol, ORIGIN};
use super::{app, send, Answer, TestApp};

const CHAN: &str = "A123456(3)";
const WONG: &str = "Y523187(4)";

async fn resident_id(app: &TestApp, hkid: &str) -> String {
    let hkid = bauhinia_core::Hkid::parse(hkid).expect("hkid");
    app.state
        .identity
        .find_by_hkid(&hkid)
        .await
        .expect("lookup")
        .expect("demo resident")
        .id
}

/// LEE's HKID with its check character (computed, not written out).
fn lee_hkid() -> String {
    bauhinia_core::Hkid::from_parts("K", [7, 0, 4, 2, 9, 1])
        .expect("hkid")
        .expose()
}

async fn signed_in(app: &TestApp, hkid: &str) -> String {
    let mut device = SoftAuthenticator::new(ORIGIN);
    enrol(app, hkid, &mut device).await.0
}

fn brns(answer: &Answer) -> Vec<(String, String)> {
    answer
        .json()
        .as_array()
        .expect("list")
        .iter()
        .map(|r| {
            (
                r["brn"].as_str().unwrap_or("").to_owned(),
                r["role"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn pair(brn: &str, role: &str) -> (String, String) {
    (brn.to_owned(), role.to_owned())
}

fn pointers(answer: &Answer) -> Vec<String> {
    answer.json()["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["pointer"].as_str().map(str::to_owned))
        .collect()
}

fn code(answer: &Answer) -> (u16, String) {
    (
        answer.status.as_u16(),
        answer.json()["code"].as_str().unwrap_or("").to_owned(),
    )
}

async fn admin(app: &TestApp, uri: &str, body: Value) -> Answer {
    let token = std::fs::read_to_string(app.dir.join("admin.token")).expect("admin token file");
    let request = Request::post(uri)
        .header(header::AUTHORIZATION, format!("Bearer {}", token.trim()))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    send(app, request).await
}

/// The business's audit trail of changes made (refusals are in it too: see `audit_refusals`).
async fn audit_actions(app: &TestApp, brn: &str) -> Vec<String> {
    audit_trail(app, brn)
        .await
        .into_iter()
        .filter(|(_, outcome, _)| outcome == "success")
        .map(|(action, _, _)| action)
        .collect()
}

/// The business's audit trail of refusals: (action, reason).
async fn audit_refusals(app: &TestApp, brn: &str) -> Vec<(String, String)> {
    audit_trail(app, brn)
        .await
        .into_iter()
        .filter(|(_, outcome, _)| outcome == "failure")
        .map(|(action, _, detail)| {
            let detail: serde_json::Value = serde_json::from_str(&detail).expect("detail");
            (
                action,
                detail["reason"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

async fn audit_trail(app: &TestApp, brn: &str) -> Vec<(String, String, String)> {
    let business = app
        .state
        .corpid
        .business(&bauhinia_corpid::domain::Brn::parse(brn).expect("brn"))
        .await
        .expect("business");
    app.state
        .db
        .audit_for_subject(&format!("business:{}", business.id), 500)
        .await
        .expect("audit")
        .into_iter()
        .map(|r| (r.action, r.outcome, r.detail))
        .collect()
}

fn now() -> i64 {
    bauhinia_core::background::now_ms() / 1_000
}

#[tokio::test]
async fn representatives_roles_delegations_and_suspension() {
    let app = app().await;
    let chan = signed_in(&app, CHAN).await;
    let wong = signed_in(&app, WONG).await;
    let lee_id = resident_id(&app, &lee_hkid()).await;
    let x = format!("/api/v1/corpid/businesses/{X_BRN}");

    // CHAN represents two businesses, so he must choose at login.
    let mine = call(
        &app,
        "GET",
        "/api/v1/corpid/me/businesses",
        Some(&chan),
        None,
    )
    .await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.text());
    assert_eq!(
        brns(&mine),
        [
            pair(X_BRN, "administrator"),
            pair(Y_BRN, "authorised_signatory")
        ]
    );
    let details = call(&app, "GET", &x, Some(&chan), None).await;
    assert_eq!(details.json()["business"]["signatories_required"], 1);
    assert_eq!(details.json()["me"]["role"], "administrator");

    // WONG, a user of X, may read but not change; nothing changes.
    let before = call(
        &app,
        "GET",
        &format!("{x}/representatives"),
        Some(&wong),
        None,
    )
    .await;
    assert_eq!(before.status, StatusCode::OK);
    let audit_before = audit_actions(&app, X_BRN).await;
    let refused = call(
        &app,
        "POST",
        &format!("{x}/representatives"),
        Some(&wong),
        Some(json!({ "hkid": lee_hkid(), "role": "user" })),
    )
    .await;
    assert_eq!(code(&refused), (403, "corpid.not_administrator".into()));
    let after = call(
        &app,
        "GET",
        &format!("{x}/representatives"),
        Some(&wong),
        None,
    )
    .await;
    assert_eq!(before.json(), after.json(), "nothing changed");
    assert_eq!(audit_actions(&app, X_BRN).await, audit_before);
    assert_eq!(
        audit_refusals(&app, X_BRN).await,
        [(
            "corpid.role.grant".to_owned(),
            "not_administrator".to_owned()
        )],
        "the refusal is audited"
    );

    // CHAN grants LEE a role by HKID; the answer and the list never carry the HKID.
    let granted = call(
        &app,
        "POST",
        &format!("{x}/representatives"),
        Some(&chan),
        Some(json!({ "hkid": lee_hkid(), "role": "user" })),
    )
    .await;
    assert_eq!(granted.status, StatusCode::NO_CONTENT, "{}", granted.text());
    let list = call(
        &app,
        "GET",
        &format!("{x}/representatives"),
        Some(&chan),
        None,
    )
    .await;
    assert!(
        !list.text().contains(&lee_hkid()) && list.text().contains("K704***(*)"),
        "{}",
        list.text()
    );
    let mut roles: Vec<(String, String)> = list
        .json()
        .as_array()
        .expect("list")
        .iter()
        .map(|r| {
            (
                r["english_name"].as_str().unwrap_or("").to_owned(),
                r["role"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    roles.sort();
    assert_eq!(
        roles,
        [
            pair("CHAN, Tai Man", "administrator"),
            pair("LEE, Ka Chun", "user"),
            pair("WONG, Siu Ling", "user")
        ]
    );
    let again = call(
        &app,
        "POST",
        &format!("{x}/representatives"),
        Some(&chan),
        Some(json!({ "hkid": lee_hkid(), "role": "administrator" })),
    )
    .await;
    assert_eq!(code(&again), (409, "corpid.role_exists".into()));

    // The last administrator cannot be revoked or downgraded.
    let chan_id = resident_id(&app, CHAN).await;
    let last = call(
        &app,
        "DELETE",
        &format!("{x}/representatives/{chan_id}"),
        Some(&chan),
        None,
    )
    .await;
    assert_eq!(code(&last), (409, "corpid.last_administrator".into()));
    let last = call(
        &app,
        "PUT",
        &format!("{x}/representatives/{chan_id}"),
        Some(&chan),
        Some(json!({ "role": "user" })),
    )
    .await;
    assert_eq!(code(&last), (409, "corpid.last_administrator".into()));

    // A revoked representative disappears from the login lookup.
    let listed =
        |r: &[bauhinia_identity::corporate::Representation]| r.iter().any(|r| r.brn == X_BRN);
    assert!(listed(
        &app.state
            .corpid
            .representations(&lee_id, now())
            .await
            .expect("lookup")
    ));
    let revoked = call(
        &app,
        "DELETE",
        &format!("{x}/representatives/{lee_id}"),
        Some(&chan),
        None,
    )
    .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text());
    assert!(!listed(
        &app.state
            .corpid
            .representations(&lee_id, now())
            .await
            .expect("lookup")
    ));

    // A delegation to Z (LEE administers it): in force, then ended — explicit times.
    let now = now();
    let until = now + 3_600;
    let rfc = |t: i64| bauhinia_corpid::wire::rfc3339(t);
    let created = call(&app, "POST", &format!("{x}/delegations"), Some(&chan), Some(json!({
        "agent_brn": Z_BRN, "role": "authorised_signatory", "valid_from": rfc(now - 10), "valid_until": rfc(until),
    }))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let via = |list: Vec<bauhinia_identity::corporate::Representation>| {
        list.into_iter()
            .find(|r| r.brn == X_BRN)
            .map(|r| (r.role, r.via_agent_brn, r.valid_until))
    };
    assert_eq!(
        via(app
            .state
            .corpid
            .representations(&lee_id, now)
            .await
            .expect("lookup")),
        Some((
            "authorised_signatory".into(),
            Some(Z_BRN.into()),
            Some(until)
        ))
    );
    assert_eq!(
        via(app
            .state
            .corpid
            .representations(&lee_id, until)
            .await
            .expect("lookup")),
        None
    );
    let delegations = call(&app, "GET", &format!("{x}/delegations"), Some(&chan), None)
        .await
        .json();
    let states: Vec<&str> = delegations
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|d| d["state"].as_str())
        .collect();
    assert_eq!(
        states,
        ["in_force", "ended"],
        "the new one, and the demo's ended one"
    );
    let admin_role = call(&app, "POST", &format!("{x}/delegations"), Some(&chan), Some(json!({
        "agent_brn": "91000004", "role": "administrator", "valid_from": rfc(now), "valid_until": rfc(until),
    }))).await;
    assert_eq!(code(&admin_role), (422, "corpid.invalid".into()));
    assert_eq!(admin_role.json()["errors"][0]["pointer"], "/role");

    // A business the caller does not represent is not found, not forbidden.
    for uri in [
        format!("/api/v1/corpid/businesses/{Y_BRN}"),
        format!("/api/v1/corpid/businesses/{Y_BRN}/licences"),
        "/api/v1/corpid/businesses/99999999".to_owned(),
    ] {
        let hidden = call(&app, "GET", &uri, Some(&wong), None).await;
        assert_eq!(
            code(&hidden),
            (404, "corpid.business_not_found".into()),
            "{uri}"
        );
    }
    let hidden = call(
        &app,
        "PUT",
        &format!("/api/v1/corpid/businesses/{Y_BRN}/signing-policy"),
        Some(&wong),
        Some(json!({ "signatories_required": 1 })),
    )
    .await;
    assert_eq!(code(&hidden), (404, "corpid.business_not_found".into()));

    // Signing policy and a licence, by the administrator.
    let policy = call(
        &app,
        "PUT",
        &format!("{x}/signing-policy"),
        Some(&chan),
        Some(json!({ "signatories_required": 2 })),
    )
    .await;
    assert_eq!(policy.status, StatusCode::OK, "{}", policy.text());
    let licence = call(&app, "POST", &format!("{x}/licences"), Some(&chan), Some(json!({
        "licence_type": "Food Factory Licence", "number": "FF-2026-0001",
        "issuer": "Food and Environmental Hygiene Department", "valid_from": "2026-01-01", "status": "valid",
    }))).await;
    assert_eq!(licence.status, StatusCode::CREATED, "{}", licence.text());
    let licences = call(&app, "GET", &format!("{x}/licences"), Some(&wong), None)
        .await
        .json();
    assert_eq!(
        licences.as_array().map(Vec::len),
        Some(2),
        "the demo's and the new one"
    );

    // The operator suspends X: it yields no representation and is hidden from its own administrator.
    let suspended = admin(
        &app,
        &format!("/api/v1/admin/corpid/businesses/{X_BRN}/suspend"),
        json!({ "reason": "test" }),
    )
    .await;
    assert_eq!(suspended.status, StatusCode::OK, "{}", suspended.text());
    assert_eq!(suspended.json()["status"], "suspended");
    let mine = call(
        &app,
        "GET",
        "/api/v1/corpid/me/businesses",
        Some(&chan),
        None,
    )
    .await;
    assert_eq!(brns(&mine), [pair(Y_BRN, "authorised_signatory")]);
    assert_eq!(
        code(&call(&app, "GET", &x, Some(&chan), None).await),
        (404, "corpid.business_not_found".into())
    );
    assert!(app
        .state
        .corpid
        .representations(&lee_id, now)
        .await
        .expect("lookup")
        .iter()
        .all(|r| r.brn != X_BRN));
    let again = admin(
        &app,
        &format!("/api/v1/admin/corpid/businesses/{X_BRN}/suspend"),
        json!({}),
    )
    .await;
    assert_eq!(code(&again), (409, "corpid.business_state".into()));

    // Every change left its audit event.
    let actions = audit_actions(&app, X_BRN).await;
    for action in [
        "corpid.business.register",
        "corpid.role.grant",
        "corpid.role.revoke",
        "corpid.delegation.create",
        "corpid.signing_policy.set",
        "corpid.licence.add",
        "corpid.business.suspend",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} missing from {actions:?}"
        );
    }
}

#[tokio::test]
async fn the_operator_registers_and_bad_bodies_are_named() {
    let app = app().await;
    let body = json!({
        "brn": "92000001", "form": "partnership", "name_en": "Sai Kung Seafood (SYNTHETIC)",
        "name_zh": "西貢海鮮", "address": ["12 Hoi Pong Street", "Sai Kung"], "registered_on": "2024-01-15",
        "administrator_hkid": WONG,
    });
    let registered = admin(&app, "/api/v1/admin/corpid/businesses", body.clone()).await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{}",
        registered.text()
    );
    assert_eq!(registered.json()["kind"], "registered_business");
    assert!(
        !registered.text().contains("Y523187"),
        "the HKID is never echoed"
    );
    assert_eq!(
        code(&admin(&app, "/api/v1/admin/corpid/businesses", body.clone()).await),
        (409, "corpid.business_exists".into())
    );
    let wong = signed_in(&app, WONG).await;
    let mine = call(
        &app,
        "GET",
        "/api/v1/corpid/me/businesses",
        Some(&wong),
        None,
    )
    .await;
    assert!(
        brns(&mine).contains(&pair("92000001", "administrator")),
        "{}",
        mine.text()
    );

    // Every field at fault at once; the HKID's fault named, its value never repeated.
    let bad = admin(&app, "/api/v1/admin/corpid/businesses", json!({
        "brn": "9200-0002", "form": "llc", "name_en": "", "address": [], "registered_on": "2099-01-01",
        "administrator_hkid": "Z999999(9)",
    })).await;
    assert_eq!(code(&bad), (422, "corpid.invalid".into()));
    assert!(!bad.text().contains("Z999999"), "{}", bad.text());
    assert_eq!(
        pointers(&bad),
        [
            "/brn",
            "/form",
            "/name_en",
            "/address",
            "/registered_on",
            "/administrator_hkid"
        ]
    );
    let unknown = admin(
        &app,
        "/api/v1/admin/corpid/businesses",
        json!({ "brn": "92000003", "colour": "red" }),
    )
    .await;
    assert_eq!(unknown.status.as_u16(), 422);
    let nobody = admin(&app, "/api/v1/admin/corpid/businesses", json!({
        "brn": "92000004", "form": "partnership", "name_en": "Nobody Trading", "address": ["Kowloon"],
        "registered_on": "2024-01-15",
        "administrator_hkid": bauhinia_core::Hkid::from_parts("Z", [1, 2, 3, 4, 5, 6]).expect("hkid").expose(),
    })).await;
    assert_eq!(code(&nobody).0, 404, "{}", nobody.text());
    assert_eq!(code(&nobody).1, "corpid.resident_not_found");

    // Without the token, nothing.
    let stranger = send(
        &app,
        Request::post("/api/v1/admin/corpid/businesses")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .expect("request"),
    )
    .await;
    assert_eq!(code(&stranger), (401, "admin.unauthorized".into()));
    // Bad BRNs in the path, and a malformed grant, are named.
    let chan = signed_in(&app, CHAN).await;
    let path = call(
        &app,
        "GET",
        "/api/v1/corpid/businesses/1234",
        Some(&chan),
        None,
    )
    .await;
    assert_eq!(code(&path), (422, "corpid.invalid".into()));
    let grant = call(
        &app,
        "POST",
        &format!("/api/v1/corpid/businesses/{X_BRN}/representatives"),
        Some(&chan),
        Some(json!({ "hkid": "Q77777", "role": "boss" })),
    )
    .await;
    assert_eq!(code(&grant), (422, "corpid.invalid".into()));
    assert!(!grant.text().contains("Q77777"), "{}", grant.text());
    assert_eq!(pointers(&grant), ["/hkid", "/role"]);
}
