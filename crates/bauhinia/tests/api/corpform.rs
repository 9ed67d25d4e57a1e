//! Corporate form filling through the whole application: a service registered for
//! `corpid.particulars` and `corpid.licences` logs a representative in for a demo business;
//! the consent page lists the business's data in three languages; the ID token (through the
//! `claims` parameter) and userinfo carry the particulars and only the licences the business
//! marked shared; an unticked field is not released; a request for the business's data
//! without `corpid` is refused; and after the representative is revoked, userinfo and refresh
//! release nothing.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use base64::Engine as _;
use bauhinia_corpid::demo::X_BRN;
use bauhinia_corpid::domain::{Brn, LicenceDraft};
use bauhinia_corpid::Caller;
use bauhinia_identity::oidc::clients::{Profile, Registration, Text3};
use bauhinia_identity::oidc::fields::{Field, Scope};
use serde_json::Value;

use super::exchange_portal::{location, resident, Browser, CHAN, WONG};
use super::{app, send, Answer, TestApp};

const REDIRECT: &str = "http://127.0.0.1:9/corporate/callback";
const VERIFIER: &str = "a-pkce-verifier-of-the-corporate-form-filling-test-0123456789";

fn text3(text: &str) -> Text3 {
    Text3 {
        zh_hant: text.into(),
        zh_hans: text.into(),
        en: text.into(),
    }
}

/// A basic service allowed corporate login and both kinds of the business's data; its id and
/// secret.
async fn register_service(app: &TestApp) -> (String, String) {
    let registration = Registration {
        name: text3("Licensing counter"),
        profile: Profile::Basic,
        redirect_uris: vec![REDIRECT.into()],
        post_logout_redirect_uris: vec![],
        jwks: None,
        jwks_uri: None,
        scopes: vec![
            Scope::Corpid,
            Scope::CorpidParticulars,
            Scope::CorpidLicences,
        ],
        fields: vec![
            Field::CorpForm,
            Field::CorpStatus,
            Field::CorpAddress,
            Field::CorpRegisteredOn,
            Field::CorpLicences,
        ],
        purpose: text3("To fill in a licence application for your business"),
        id_token_signed_response_alg: None,
    };
    let (client, secret) = app
        .state
        .provider
        .clients
        .register(registration, "test")
        .await
        .unwrap();
    (client.client_id, secret.unwrap())
}

fn authorize_uri(client_id: &str, scope: &str, claims: Option<&str>) -> String {
    let challenge = bauhinia_identity::jose::sha256_b64(VERIFIER.as_bytes());
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("response_type", "code")
        .append_pair("scope", scope)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("state", "st")
        .append_pair("nonce", "nn");
    if let Some(claims) = claims {
        query.append_pair("claims", claims);
    }
    format!("/oauth2/authorize?{}", query.finish())
}

/// Starts the request in `browser`; the interaction's path and its consent page.
async fn consent_page(app: &TestApp, browser: &mut Browser, authorize: &str) -> (String, String) {
    let started = browser.get(app, authorize).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.text());
    let interaction = location(&started);
    let page = browser.get(app, &interaction).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    (interaction, page.text())
}

/// Approves with `form` and follows the browser back to the service; the code.
async fn approve(app: &TestApp, browser: &mut Browser, interaction: &str, form: &str) -> String {
    let mut answer = browser
        .post(app, &format!("{interaction}/decision"), form)
        .await;
    for _ in 0..4 {
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text());
        let next = location(&answer);
        if let Some(query) = next.strip_prefix(&format!("{REDIRECT}?")) {
            let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect();
            return pairs
                .iter()
                .find(|(k, _)| k == "code")
                .unwrap_or_else(|| panic!("a code in {next}"))
                .1
                .clone();
        }
        answer = browser.get(app, &next).await;
    }
    panic!("the provider never sent the browser back to the service");
}

async fn token(app: &TestApp, service: &(String, String), form: &str) -> Answer {
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", service.0, service.1));
    send(
        app,
        Request::post("/oauth2/token")
            .header(header::AUTHORIZATION, format!("Basic {basic}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form.to_owned()))
            .unwrap(),
    )
    .await
}

async fn redeem(app: &TestApp, service: &(String, String), code: &str) -> Value {
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", code)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("code_verifier", VERIFIER)
        .finish();
    let answer = token(app, service, &form).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    answer.json()
}

async fn userinfo(app: &TestApp, access_token: &str) -> Answer {
    send(
        app,
        Request::get("/oauth2/userinfo")
            .header(header::AUTHORIZATION, format!("Bearer {access_token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

/// The ID token's claims, its signature checked with the provider's own keys.
fn id_token_claims(app: &TestApp, tokens: &Value) -> Value {
    Value::Object(
        app.state
            .provider
            .keys
            .verify_own(tokens["id_token"].as_str().unwrap())
            .unwrap(),
    )
}

fn licence(number: &str, shared: bool) -> LicenceDraft {
    LicenceDraft {
        licence_type: "Restricted Food Permit".into(),
        number: number.into(),
        issuer: "Food and Environmental Hygiene Department".into(),
        valid_from: "2025-09-01".into(),
        valid_until: None,
        status: "valid".into(),
        shared,
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The form a browser sends: every field ticked but those in `untick`, for `business`.
fn decision(business: &str, untick: &[&str]) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("decision", "approve")
        .append_pair("business", business);
    for field in [
        "corp_form",
        "corp_status",
        "corp_address",
        "corp_registered_on",
        "corp_licences",
    ] {
        if !untick.contains(&field) {
            form.append_pair("field", field);
        }
    }
    form.finish()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_representative_releases_the_business_particulars_and_shared_licences_only() {
    let app = app().await;
    let service = register_service(&app).await;
    let (mut chan, chan_id) = resident(&app, CHAN).await;
    let (mut wong, wong_id) = resident(&app, WONG).await;
    let x = Brn::parse(X_BRN).unwrap();
    let business = app.state.corpid.business(&x).await.unwrap();
    // X keeps a licence it does not share beside the demo's shared one.
    app.state
        .corpid
        .add_licence(
            &x,
            &licence("RFP-NOT-SHARED-1", false),
            &Caller::Resident(chan_id.clone()),
            now(),
        )
        .await
        .unwrap();

    // The consent page lists the business's data, in each language.
    let scope = "openid corpid corpid.particulars corpid.licences";
    let claims = r#"{"id_token":{"corp_form":null,"corp_address":null}}"#;
    let authorize = authorize_uri(&service.0, scope, Some(claims));
    for (lang, legend, address) in [
        // Askama escapes the apostrophe of "business's".
        (
            "en",
            "Choose the business&#39;s data to provide",
            "registered address",
        ),
        ("zh-Hant", "選擇要提供的企業資料", "企業的註冊地址"),
        ("zh-Hans", "选择要提供的企业资料", "企业的注册地址"),
    ] {
        wong.lang = Some(lang);
        let (_, page) = consent_page(&app, &mut wong, &authorize).await;
        assert!(page.contains(legend), "{lang}: {page}");
        assert!(page.contains(address), "{lang}");
        assert!(page.contains(r#"name="field" value="corp_licences" checked"#));
        assert!(page.contains(&format!(r#"name="business" value="{}""#, business.id)));
    }
    wong.lang = None;

    // WONG (a user of X) approves everything but the date of registration.
    let (interaction, _) = consent_page(&app, &mut wong, &authorize).await;
    let code = approve(
        &app,
        &mut wong,
        &interaction,
        &decision(&business.id, &["corp_registered_on"]),
    )
    .await;
    let tokens = redeem(&app, &service, &code).await;
    let id = id_token_claims(&app, &tokens);
    assert_eq!(id["corp_brn"], X_BRN);
    assert_eq!(id["corp_role"], "user");
    assert_eq!(id["corp_form"], "private_limited_by_shares");
    assert_eq!(id["corp_address"][2], "Wan Chai, Hong Kong", "{id}");
    assert!(
        id.get("corp_licences").is_none(),
        "not asked for in the ID token: {id}"
    );

    let info = userinfo(&app, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(info.status, StatusCode::OK, "{}", info.text());
    let info = info.json();
    assert_eq!(info["corp_brn"], X_BRN);
    assert_eq!(
        info["corp_name_en"],
        "Harbour Lights Trading Limited (SYNTHETIC)"
    );
    assert_eq!(info["corp_name_zh"], "港灣燈火貿易有限公司");
    assert_eq!(info["corp_form"], "private_limited_by_shares");
    assert_eq!(info["corp_status"], "active");
    assert_eq!(
        info["corp_address"],
        serde_json::json!([
            "Unit 1203, 12/F, Harbour Commercial Building",
            "25 Harbour Road",
            "Wan Chai, Hong Kong"
        ])
    );
    assert!(info.get("corp_registered_on").is_none(), "unticked: {info}");
    let licences = info["corp_licences"].as_array().unwrap();
    assert_eq!(licences.len(), 1, "{info}");
    assert_eq!(licences[0]["number"], "DCL-2025-004512");
    assert_eq!(
        licences[0]["type"],
        "Dutiable Commodities Licence (import and export)"
    );
    assert_eq!(licences[0]["issuer"], "Customs and Excise Department");
    assert_eq!(licences[0]["valid_until"], "2026-05-31");
    // Neither the licence X keeps to itself nor a director's name is ever released.
    let text = info.to_string();
    assert!(!text.contains("RFP-NOT-SHARED-1"), "{text}");
    assert!(
        !text.contains("HO, Wing Yee") && !text.contains("CHAN, Tai Man"),
        "{text}"
    );

    // Sharing is the business's choice, read at each release: shared now, released now.
    let listed = app.state.corpid.licences(&business.id).await.unwrap();
    let private = listed
        .iter()
        .find(|l| l.number == "RFP-NOT-SHARED-1")
        .unwrap();
    app.state
        .corpid
        .update_licence(
            &x,
            &private.id,
            &licence("RFP-NOT-SHARED-1", true),
            &Caller::Resident(chan_id.clone()),
            now(),
        )
        .await
        .unwrap();
    let again = userinfo(&app, tokens["access_token"].as_str().unwrap())
        .await
        .json();
    assert_eq!(
        again["corp_licences"].as_array().unwrap().len(),
        2,
        "{again}"
    );

    // The administrator revokes WONG: userinfo and refresh release nothing any more.
    app.state
        .corpid
        .revoke(&x, &wong_id, &Caller::Resident(chan_id.clone()), now())
        .await
        .unwrap();
    let refused = userinfo(&app, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(
        refused.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        refused.text()
    );
    assert!(!refused.text().contains("Wan Chai"));
    let refresh = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "refresh_token")
        .append_pair("refresh_token", tokens["refresh_token"].as_str().unwrap())
        .finish();
    let refreshed = token(&app, &service, &refresh).await;
    assert_eq!(refreshed.status, StatusCode::BAD_REQUEST);
    assert_eq!(refreshed.json()["error"], "invalid_grant");

    // The business's data needs corporate login: asked without `corpid`, the request goes
    // back to the service with invalid_scope.
    let alone = chan
        .get(
            &app,
            &authorize_uri(&service.0, "openid corpid.particulars", None),
        )
        .await;
    assert_eq!(alone.status, StatusCode::SEE_OTHER, "{}", alone.text());
    let back = location(&alone);
    assert!(back.starts_with(REDIRECT), "{back}");
    assert!(back.contains("error=invalid_scope"), "{back}");
}
