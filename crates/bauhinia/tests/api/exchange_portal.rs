//! The owner's pages of the data exchange through the whole application: the portal signs in
//! through the built-in OpenID Provider (a real passkey, a real code, a real ID token), the
//! owner reviews and approves a consent, is sent back to the consumer, pauses, resumes and
//! revokes it on the dashboard; every page in three languages; and the refusals — another
//! resident (`exchange.consent_not_owner`, audited), a forged form (`exchange.portal_csrf`),
//! an open redirect, a login state that is not this browser's, an unknown consent.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use bauhinia_exchange::consent::domain::{
    ConsentTerms, FetchType, Frequency, Mode, Owner, ParticipantId, ProductId, Purpose,
    PurposeCode, ResidentId, Span, TimeUnit,
};
use bauhinia_identity::testing::SoftAuthenticator;
use serde_json::json;

use super::{app, post_json, send, Answer, TestApp};

pub(super) const ORIGIN: &str = "http://localhost:8080";
pub(super) const CHAN: &str = "A123456(3)";
pub(super) const WONG: &str = "Y523187(4)";
const RETURN_URL: &str = "http://127.0.0.1:9/consent-done";

/// A browser: cookies by name (paths ignored: a test sends each where it belongs anyway).
#[derive(Default)]
pub(super) struct Browser {
    pub(super) cookies: BTreeMap<String, String>,
    pub(super) lang: Option<&'static str>,
}

impl Browser {
    fn keep(&mut self, answer: &Answer) {
        for value in answer.headers.get_all(header::SET_COOKIE) {
            let text = value.to_str().expect("ascii cookie");
            let pair = text.split(';').next().expect("a pair");
            let (name, value) = pair.split_once('=').expect("name=value");
            if text.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    fn cookie_header(&self) -> String {
        let mut pairs: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if let Some(lang) = self.lang {
            pairs.push(format!("bauhinia_lang={lang}"));
        }
        pairs.join("; ")
    }

    pub(super) async fn request(
        &mut self,
        app: &TestApp,
        method: &str,
        uri: &str,
        origin: Option<&str>,
        form: Option<String>,
    ) -> Answer {
        let uri = uri.strip_prefix(ORIGIN).unwrap_or(uri);
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::ACCEPT, "text/html")
            .header(header::COOKIE, self.cookie_header());
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        let body = match form {
            Some(form) => {
                request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Body::from(form)
            }
            None => Body::empty(),
        };
        let answer = send(app, request.body(body).expect("request")).await;
        self.keep(&answer);
        answer
    }

    pub(super) async fn get(&mut self, app: &TestApp, uri: &str) -> Answer {
        self.request(app, "GET", uri, None, None).await
    }

    /// A form post from the site's own page (with its Origin, as browsers send it).
    pub(super) async fn post(&mut self, app: &TestApp, uri: &str, form: &str) -> Answer {
        self.request(app, "POST", uri, Some(ORIGIN), Some(form.to_owned()))
            .await
    }
}

pub(super) fn location(answer: &Answer) -> String {
    answer
        .headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("a Location ({}): {}", answer.status, answer.text()))
        .to_owned()
}

/// The value of the first `name="csrf"` hidden input on a page.
pub(super) fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .unwrap_or_else(|| panic!("a csrf field in {html}"));
    let rest = &html[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').expect("closing quote")].to_owned()
}

/// Enrols a demo resident's passkey; the browser then holds their 智方便 session.
pub(super) async fn resident(app: &TestApp, hkid: &str) -> (Browser, String) {
    let code = post_json(
        app,
        "/app/demo/enrolment-code",
        json!({ "hkid": hkid }).to_string(),
    )
    .await;
    assert_eq!(code.status, StatusCode::OK, "{}", code.text());
    let started = post_json(
        app,
        "/api/identity/v1/enrolment/start",
        json!({ "hkid": hkid, "code": code.json()["code"] }).to_string(),
    )
    .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text());
    let started = started.json();
    let mut device = SoftAuthenticator::new(ORIGIN);
    let credential = device.create(&started["publicKey"]).expect("create");
    let finished = post_json(
        app,
        "/api/identity/v1/enrolment/finish",
        json!({ "ceremony_id": started["ceremony_id"], "credential": credential, "name": "Phone" })
            .to_string(),
    )
    .await;
    assert_eq!(finished.status, StatusCode::OK, "{}", finished.text());
    let mut browser = Browser::default();
    browser.keep(&finished);
    assert!(browser.cookies.contains_key("bauhinia_session"));
    let id = finished.json()["resident"]["id"]
        .as_str()
        .expect("resident id")
        .to_owned();
    (browser, id)
}

/// Follows the portal's login from `start` (a page that needs a session) through the OpenID
/// Provider — approving the portal on the consent screen the first time — to the callback;
/// returns the callback's answer.
pub(super) async fn log_in(app: &TestApp, browser: &mut Browser, start: &str) -> Answer {
    let first = browser.get(app, start).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.text());
    let login = location(&first);
    assert!(login.starts_with("/exchange/login?next="), "{login}");
    callback_after(app, browser, &login).await
}

/// From `/exchange/login?…` to the callback's answer.
async fn callback_after(app: &TestApp, browser: &mut Browser, login: &str) -> Answer {
    let to_provider = browser.get(app, login).await;
    assert_eq!(to_provider.status, StatusCode::SEE_OTHER);
    let authorize = location(&to_provider);
    assert!(authorize.starts_with("/oauth2/authorize?"), "{authorize}");
    for part in [
        "response_type=code",
        "scope=openid",
        "code_challenge_method=S256",
        "nonce=",
        "state=",
    ] {
        assert!(authorize.contains(part), "{part} in {authorize}");
    }
    assert!(browser.cookies.contains_key("bauhinia_portal_login"));
    let started = browser.get(app, &authorize).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.text());
    let interaction = location(&started);
    let mut answer = browser.get(app, &interaction).await;
    if answer.status == StatusCode::OK {
        // The first login: the portal asks only who the resident is.
        assert!(answer.text().contains("decision"), "{}", answer.text());
        answer = browser
            .post(app, &format!("{interaction}/decision"), "decision=approve")
            .await;
    }
    for _ in 0..4 {
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text());
        let next = location(&answer);
        if next.starts_with(&format!("{ORIGIN}/exchange/callback")) {
            return browser.get(app, &next).await;
        }
        answer = browser.get(app, &next).await;
    }
    panic!("the provider never sent the browser back to the portal");
}

fn now_s() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A PENDING consent of `owner`: HSBC asks for balances and transactions held by Standard
/// Chartered, to assess a loan.
async fn pending_consent(app: &TestApp, owner: &str) -> String {
    let now = now_s();
    let terms = ConsentTerms {
        purpose: Purpose {
            code: PurposeCode::CreditAssessment,
            text: "Personal loan application 2026-118".into(),
        },
        products: vec![
            ProductId::parse("iads.balance").expect("id"),
            ProductId::parse("iads.transactions").expect("id"),
        ],
        owner: Owner::Resident(ResidentId::parse(owner).expect("resident id")),
        consumer: ParticipantId::parse("bank-004").expect("id"),
        providers: vec![ParticipantId::parse("bank-003").expect("id")],
        data_range: Span {
            from_s: now - 180 * 86_400,
            to_s: now,
        },
        frequency: Frequency {
            unit: TimeUnit::Day,
            value: 2,
        },
        validity: Span {
            from_s: now,
            to_s: now + 90 * 86_400,
        },
        mode: Mode::Store,
        fetch_type: FetchType::Periodic,
        data_life: Some(bauhinia_exchange::consent::domain::DataLife {
            unit: TimeUnit::Month,
            value: 6,
        }),
        return_url: Some(RETURN_URL.into()),
    };
    let consent = app
        .state
        .exchange
        .consents()
        .request_terms(terms, now)
        .await
        .expect("a consent request");
    consent.id.to_string()
}

#[tokio::test]
async fn an_owner_signs_in_approves_returns_and_manages_a_consent() {
    let app = app().await;
    let (mut chan, chan_id) = resident(&app, CHAN).await;
    let id = pending_consent(&app, &chan_id).await;
    let review_path = format!("/exchange/consents/{id}");

    // The home page's card is live and leads here; the landing page offers sign-in.
    let home = chan.get(&app, "/").await;
    assert!(
        home.text().contains("href=\"/exchange\""),
        "the card links /exchange"
    );
    let landing = chan.get(&app, "/exchange").await;
    assert_eq!(landing.status, StatusCode::OK);
    assert!(landing.text().contains("id=\"sign-in\""));

    // Signing in through the OpenID Provider brings the resident back to the consent.
    let back = log_in(&app, &mut chan, &review_path).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.text());
    assert_eq!(location(&back), review_path);
    let set = back
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("bauhinia_portal="))
        .expect("a portal session cookie")
        .to_owned();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"));
    assert!(!set.contains("Secure"), "not on http://localhost");
    assert!(
        !chan.cookies.contains_key("bauhinia_portal_login"),
        "the login's state is used up"
    );
    let audit = app
        .state
        .db
        .audit_for_subject(&format!("resident:{chan_id}"), 100)
        .await
        .expect("audit");
    assert!(audit
        .iter()
        .any(|e| e.action == "portal.login" && e.outcome == "success"));

    // The review page, in every language: who, what, why, for how long, from whom.
    for (lang, words) in [
        (
            "zh-Hant",
            [
                "香港上海滙豐銀行",
                "存款戶口結餘",
                "信貸評估",
                "渣打銀行(香港)",
                "每日最多 2 次",
            ],
        ),
        (
            "zh-Hans",
            [
                "香港上海汇丰银行",
                "存款账户结余",
                "信贷评估",
                "渣打银行(香港)",
                "每日最多 2 次",
            ],
        ),
        (
            "en",
            [
                "The Hongkong and Shanghai Banking Corporation",
                "Deposit account balance",
                "Assessing an application for credit",
                "Standard Chartered Bank (Hong Kong)",
                "At most 2 times a day",
            ],
        ),
    ] {
        chan.lang = Some(lang);
        let page = chan.get(&app, &review_path).await;
        assert_eq!(page.status, StatusCode::OK, "{lang}: {}", page.text());
        let html = page.text();
        assert!(html.contains(&format!("<html lang=\"{lang}\"")), "{lang}");
        for word in words {
            assert!(html.contains(word), "{lang}: {word} in the review page");
        }
        assert!(html.contains("Personal loan application 2026-118"));
        assert!(html.contains("data-status=\"pending\""));
    }
    chan.lang = Some("en");
    let page = chan.get(&app, &review_path).await;
    let csrf = csrf_of(&page.text());

    // Approve: the result page leads back to the consumer with the answer.
    let approved = chan
        .post(
            &app,
            &format!("{review_path}/approve"),
            &format!("csrf={csrf}"),
        )
        .await;
    assert_eq!(
        approved.status,
        StatusCode::SEE_OTHER,
        "{}",
        approved.text()
    );
    assert_eq!(location(&approved), format!("{review_path}/done"));
    let done = chan.get(&app, &location(&approved)).await;
    assert_eq!(done.status, StatusCode::OK);
    let html = done.text();
    assert!(
        html.contains(&format!(
            "href=\"{RETURN_URL}?consent_id={id}&#38;status=ACTIVE\""
        )),
        "{html}"
    );
    assert!(html.contains("Return to The Hongkong and Shanghai Banking Corporation"));

    // The dashboard in every language, then pause, resume, revoke.
    for lang in ["zh-Hant", "zh-Hans", "en"] {
        chan.lang = Some(lang);
        let dashboard = chan.get(&app, "/exchange/consents").await;
        assert_eq!(dashboard.status, StatusCode::OK, "{lang}");
        assert!(dashboard
            .text()
            .contains(&format!("id=\"consent-{id}\" data-status=\"active\"")));
        assert!(
            dashboard.text().contains("exchange.consent.approve"),
            "the usage log"
        );
    }
    let dashboard = chan.get(&app, "/exchange/consents").await.text();
    let csrf = csrf_of(&dashboard);
    for (action, status) in [
        ("pause", "paused"),
        ("resume", "active"),
        ("revoke", "revoked"),
    ] {
        let moved = chan
            .post(
                &app,
                &format!("{review_path}/{action}"),
                &format!("csrf={csrf}"),
            )
            .await;
        assert_eq!(
            moved.status,
            StatusCode::SEE_OTHER,
            "{action}: {}",
            moved.text()
        );
        let dashboard = chan.get(&app, &location(&moved)).await.text();
        assert!(
            dashboard.contains(&format!("id=\"consent-{id}\" data-status=\"{status}\"")),
            "{action}"
        );
    }
    let consent = app
        .state
        .exchange
        .consents()
        .get(&bauhinia_exchange::consent::ConsentId::parse(&id).expect("id"))
        .await
        .expect("consent");
    assert_eq!(consent.status.as_str(), "REVOKED");
    // Revoked is final: the lifecycle refuses another move, and the page says so with its code.
    let again = chan
        .post(
            &app,
            &format!("{review_path}/resume"),
            &format!("csrf={csrf}"),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.text().contains("exchange.consent_state"));

    // Once revoked, the result page gives way to the review page, which says where it stands.
    let stale = chan.get(&app, &format!("{review_path}/done")).await;
    assert_eq!(stale.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&stale), review_path);
    let decided = chan.get(&app, &review_path).await.text();
    assert!(decided.contains("data-status=\"revoked\"") && decided.contains("id=\"decided\""));

    // Rejecting another request: the consumer hears so too.
    let other = pending_consent(&app, &chan_id).await;
    let rejected = chan
        .post(
            &app,
            &format!("/exchange/consents/{other}/reject"),
            &format!("csrf={csrf}"),
        )
        .await;
    assert_eq!(
        location(&rejected),
        format!("/exchange/consents/{other}/done")
    );
    let html = chan.get(&app, &location(&rejected)).await.text();
    assert!(html.contains("status=REJECTED"), "{html}");
    assert!(html.contains("<h1 id=\"message-title\">Rejected</h1>"));

    // The receipt, as a page in every language and as JSON.
    for lang in ["zh-Hant", "zh-Hans", "en"] {
        chan.lang = Some(lang);
        let receipt = chan.get(&app, &format!("{review_path}/receipt")).await;
        assert_eq!(receipt.status, StatusCode::OK, "{lang}");
        assert!(receipt.text().contains("KI-CR-v1.1.0"));
    }
    let json = chan.get(&app, &format!("{review_path}/receipt.json")).await;
    assert_eq!(json.status, StatusCode::OK);
    let receipt = json.json();
    assert_eq!(receipt["status"], "REVOKED");
    assert_eq!(receipt["piiPrincipalId"], format!("resident:{chan_id}"));

    // Logging out ends the session: the next page asks to sign in again.
    let csrf = csrf_of(&chan.get(&app, "/exchange/consents").await.text());
    let out = chan
        .post(&app, "/exchange/logout", &format!("csrf={csrf}"))
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(!chan.cookies.contains_key("bauhinia_portal"));
    let after = chan.get(&app, "/exchange/consents").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert!(location(&after).starts_with("/exchange/login"));
}

#[tokio::test]
async fn another_resident_forged_forms_and_unknown_consents_are_refused() {
    let app = app().await;
    let (_, chan_id) = resident(&app, CHAN).await;
    let id = pending_consent(&app, &chan_id).await;
    let review_path = format!("/exchange/consents/{id}");
    let (mut wong, wong_id) = resident(&app, WONG).await;
    let back = log_in(&app, &mut wong, "/exchange/consents").await;
    assert_eq!(location(&back), "/exchange/consents");

    // WONG is not the owner: a 403 page with the stable code, for looking and for acting.
    let page = wong.get(&app, &review_path).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page
        .text()
        .contains("data-code=\"exchange.consent_not_owner\""));
    assert!(
        !page.text().contains("Personal loan application"),
        "nothing of the consent shows"
    );
    let csrf = csrf_of(&wong.get(&app, "/exchange/consents").await.text());
    let refused = wong
        .post(
            &app,
            &format!("{review_path}/approve"),
            &format!("csrf={csrf}"),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.text().contains("exchange.consent_not_owner"));
    let receipt = wong.get(&app, &format!("{review_path}/receipt.json")).await;
    assert_eq!(receipt.status, StatusCode::FORBIDDEN);
    let audit = app
        .state
        .db
        .audit_for_subject(&format!("consent:{id}"), 100)
        .await
        .expect("audit");
    let by_wong: Vec<_> = audit
        .iter()
        .filter(|e| e.actor == format!("resident:{wong_id}"))
        .map(|e| (e.action.as_str(), e.outcome.as_str()))
        .collect();
    assert!(
        by_wong.contains(&("exchange.consent.view", "failure")),
        "{by_wong:?}"
    );
    assert!(
        by_wong.contains(&("exchange.consent.approve", "failure")),
        "{by_wong:?}"
    );

    // A form without the session's token, or from another origin, is refused; nothing moves.
    let no_token = wong.post(&app, &format!("{review_path}/reject"), "").await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    assert!(no_token.text().contains("exchange.portal_csrf"));
    let cross = wong
        .request(
            &app,
            "POST",
            &format!("{review_path}/reject"),
            Some("https://evil.example"),
            Some(format!("csrf={csrf}")),
        )
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    assert!(cross.text().contains("exchange.portal_csrf"));
    let consent = app
        .state
        .exchange
        .consents()
        .get(&bauhinia_exchange::consent::ConsentId::parse(&id).expect("id"))
        .await
        .expect("consent");
    assert_eq!(consent.status.as_str(), "PENDING");

    // An unknown consent is a 404 page, in every language.
    for lang in ["zh-Hant", "zh-Hans", "en"] {
        wong.lang = Some(lang);
        let missing = wong
            .get(
                &app,
                "/exchange/consents/00000000-0000-4000-8000-000000000000",
            )
            .await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{lang}");
        assert!(missing.text().contains("exchange.consent_not_found"));
        assert!(missing.text().contains(&format!("<html lang=\"{lang}\"")));
    }

    // Not signed in: every owner's page sends the browser to log in and back.
    let mut stranger = Browser::default();
    let answer = stranger.get(&app, &review_path).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(
        location(&answer),
        format!("/exchange/login?next=%2Fexchange%2Fconsents%2F{id}")
    );
    let post = stranger
        .request(
            &app,
            "POST",
            &format!("{review_path}/approve"),
            Some(ORIGIN),
            Some(String::new()),
        )
        .await;
    assert_eq!(post.status, StatusCode::SEE_OTHER);
    assert!(location(&post).starts_with("/exchange/login"));
}

#[tokio::test]
async fn the_login_refuses_open_redirects_and_foreign_states() {
    let app = app().await;
    let (mut chan, _) = resident(&app, CHAN).await;

    // An outside `next` is never followed: the login ends on the dashboard.
    for next in [
        "https%3A%2F%2Fevil.example%2F",
        "%2F%2Fevil.example%2Fx",
        "%2F%5Cevil.example",
    ] {
        let back = callback_after(&app, &mut chan, &format!("/exchange/login?next={next}")).await;
        assert_eq!(
            back.status,
            StatusCode::SEE_OTHER,
            "{next}: {}",
            back.text()
        );
        assert_eq!(location(&back), "/exchange/consents", "{next}");
    }

    // A callback whose state is not this browser's is refused, and audited.
    let started = chan.get(&app, "/exchange/login?next=%2Fexchange").await;
    let authorize = location(&started);
    let state = authorize
        .split('&')
        .find_map(|p| p.strip_prefix("state="))
        .expect("a state")
        .to_owned();
    chan.cookies
        .insert("bauhinia_portal_login".into(), "x".repeat(43));
    let forged = chan
        .get(&app, &format!("/exchange/callback?code=abc&state={state}"))
        .await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST);
    assert!(forged.text().contains("exchange.portal_login_failed"));
    // The same state with the right cookie but a made-up code: refused by the provider.
    chan.cookies
        .insert("bauhinia_portal_login".into(), state.clone());
    let made_up = chan
        .get(&app, &format!("/exchange/callback?code=abc&state={state}"))
        .await;
    assert_eq!(made_up.status, StatusCode::BAD_REQUEST);
    // And a state is used once: replaying it finds nothing.
    chan.cookies
        .insert("bauhinia_portal_login".into(), state.clone());
    let replayed = chan
        .get(&app, &format!("/exchange/callback?code=abc&state={state}"))
        .await;
    assert_eq!(replayed.status, StatusCode::BAD_REQUEST);
    let audit = app
        .state
        .db
        .audit_for_subject("portal", 100)
        .await
        .expect("audit");
    let reasons: Vec<String> = audit
        .iter()
        .filter(|e| e.action == "portal.login" && e.outcome == "failure")
        .map(|e| {
            serde_json::from_str::<serde_json::Value>(&e.detail).expect("json")["reason"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    assert_eq!(reasons, ["state_mismatch", "code_refused", "unknown_state"]);

    // The resident declining at the provider comes back as a clear failure, not a session.
    let declined = chan
        .get(
            &app,
            &format!(
                "/exchange/callback?error=access_denied&state={}",
                "y".repeat(43)
            ),
        )
        .await;
    assert_eq!(declined.status, StatusCode::BAD_REQUEST);
    assert!(declined
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .all(|c| !c.to_str().unwrap_or("").starts_with("bauhinia_portal=")));
}

#[tokio::test]
async fn the_landing_page_speaks_three_languages_and_the_registration_is_kept() {
    let app = app().await;
    let mut visitor = Browser::default();
    for (lang, title) in [
        ("zh-Hant", "授權數據交換"),
        ("zh-Hans", "授权数据交换"),
        ("en", "Consented data exchange"),
    ] {
        visitor.lang = Some(lang);
        let page = visitor.get(&app, "/exchange").await;
        assert_eq!(page.status, StatusCode::OK);
        let html = page.text();
        assert!(html.contains(&format!("<h1>{title}</h1>")), "{lang}");
        for system in ["CDEG", "CDI", "IADS"] {
            assert!(html.contains(system), "{lang}: {system}");
        }
    }
    // Registered once, as a basic service with exactly the portal's callback.
    let client_id = &app.state.exchange_portal.rp.client.client_id;
    let client = app
        .state
        .provider
        .clients
        .get(client_id)
        .await
        .expect("read")
        .expect("registered");
    assert_eq!(
        client.registration.redirect_uris,
        [format!("{ORIGIN}/exchange/callback")]
    );
    let again = bauhinia_web::exchange::relying_party::PortalClient::ensure(
        &app.state.db,
        &bauhinia_core::crypto::Vault::new(
            &bauhinia_core::crypto::MasterKey::load_or_create(&app.dir.join("master.key"))
                .expect("key")
                .0,
        ),
        &app.state.provider,
        ORIGIN,
    )
    .await
    .expect("ensure");
    assert_eq!(
        &again.client_id, client_id,
        "idempotent: the remembered registration"
    );
}
