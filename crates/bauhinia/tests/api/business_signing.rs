//! Company signatures through the whole application: a representative starts one on the
//! business dashboard, approves it in the 智方便 app (`/app/company-sign/{id}`), and finds it
//! in the dashboard's signing history, from where the signature downloads and verifies — over
//! the public API and on the verification page. Two signatories for Y (CHAN, then LEE through
//! the agent Z's delegation); the refusals of the app as pages with their codes, never a 500
//! (already decided, already approved, not a representative, a cross-site post); a user may
//! not start one (audited); a form at fault names each field; three languages.

use axum::http::StatusCode;
use bauhinia_corpid::demo::{X_BRN, Y_BRN};
use bauhinia_corpid::domain::Brn;
use serde_json::json;

use super::exchange_portal::{csrf_of, location, log_in, resident, Browser, CHAN, WONG};
use super::{app, post_json, Answer, TestApp};

const LEE: &str = "K704291(4)";
const DOCUMENT: &[u8] = b"Lease of Unit 1203, 12/F, for three years.";

fn dashboard(brn: &str) -> String {
    format!("/business/{brn}")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn document_hash() -> String {
    hex(&openssl::sha::sha256(DOCUMENT))
}

/// A demo resident signed in to the portal (on `brn`'s dashboard) and to the app.
async fn signed_in(app: &TestApp, hkid: &str, brn: &str) -> (Browser, String) {
    let (mut browser, id) = resident(app, hkid).await;
    let back = log_in(app, &mut browser, &dashboard(brn)).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.text());
    (browser, id)
}

/// Posts the dashboard's signing form with `fields`; the answer.
async fn start(app: &TestApp, browser: &mut Browser, brn: &str, fields: &str) -> Answer {
    let csrf = csrf_of(&browser.get(app, &dashboard(brn)).await.text());
    let to = format!("{}/signatures", dashboard(brn));
    browser
        .post(app, &to, &format!("csrf={csrf}&{fields}"))
        .await
}

/// Starts a signature of [`DOCUMENT`]; the app page it leads to.
async fn started(app: &TestApp, browser: &mut Browser, brn: &str, kind: &str) -> String {
    let fields = format!(
        "document_name=Lease+%E7%A7%9F%E7%B4%84.pdf&document_hash={}&type={kind}",
        document_hash()
    );
    let answer = start(app, browser, brn, &fields).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text());
    let to = location(&answer);
    assert!(to.starts_with("/app/company-sign/"), "{to}");
    to
}

fn attribute(text: &str, name: &str) -> String {
    let needle = format!("{name}=\"");
    let at = text
        .find(&needle)
        .unwrap_or_else(|| panic!("{name} in {text}"));
    let rest = &text[at + needle.len()..];
    rest[..rest.find('"').expect("closing quote")].to_owned()
}

fn code_of(answer: &Answer) -> String {
    attribute(&answer.text(), "data-code")
}

/// How many signing requests X and Y have (as CHAN, who represents both, sees them).
async fn request_count(app: &TestApp) -> usize {
    let chan = app
        .state
        .identity
        .find_by_hkid(&bauhinia_core::Hkid::parse(CHAN).expect("hkid"))
        .await
        .expect("lookup")
        .expect("CHAN")
        .id;
    let now_s = bauhinia_core::background::now_ms() / 1_000;
    let mut n = 0;
    for brn in [X_BRN, Y_BRN] {
        n += app
            .state
            .company_signing
            .history(&chan, &Brn::parse(brn).expect("brn"), now_s)
            .await
            .expect("history")
            .len();
    }
    n
}

#[tokio::test]
async fn a_representative_signs_from_the_dashboard_approves_in_the_app_and_downloads() {
    let app = app().await;
    let (mut chan, _) = signed_in(&app, CHAN, X_BRN).await;
    let page = chan.get(&app, &dashboard(X_BRN)).await;
    assert!(page.text().contains("id=\"sign-form\""));
    assert!(page.text().contains("id=\"history-none\""));

    let approval = started(&app, &mut chan, X_BRN, "corporate").await;
    let id = approval.rsplit('/').next().expect("id").to_owned();
    assert_eq!(request_count(&app).await, 1, "the request is recorded");
    // The app lists it and shows what is asked: business, BRN, service, document, hash, type.
    let home = chan.get(&app, "/app").await;
    assert!(home.text().contains(&format!("data-request=\"{id}\"")));
    let shown = chan.get(&app, &approval).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text());
    assert_eq!(
        shown.headers.get("cache-control").expect("cache-control"),
        "no-store"
    );
    let text = shown.text();
    for part in [
        "港灣燈火貿易有限公司",
        X_BRN,
        &document_hash(),
        "Lease 租約.pdf",
        "data-kind=\"corporate\"",
        "data-given=\"0\" data-required=\"1\"",
        "id=\"approve\"",
    ] {
        assert!(text.contains(part), "{part} in {text}");
    }
    assert!(
        text.contains("<strong id=\"service-name\">一網通辦</strong>"),
        "the portal asks: {text}"
    );

    // A post from another site is refused and signs nothing.
    let forged = chan
        .request(
            &app,
            "POST",
            &approval,
            Some("https://evil.example"),
            Some("decision=approve".into()),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.text());

    let signed = chan.post(&app, &approval, "decision=approve").await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.text());
    assert_eq!(attribute(&signed.text(), "data-outcome"), "approved");
    assert!(signed
        .text()
        .contains(&format!("/business/{X_BRN}#signing-history")));
    // Decided already: a clear page with its code, not an error.
    let again = chan.post(&app, &approval, "decision=approve").await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text());
    assert_eq!(code_of(&again), "corpid.signing_request_not_pending");
    let gone = chan.get(&app, &approval).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(code_of(&gone), "corpid.signing_request_not_found");

    // The history shows it signed, by whom; the signature downloads and verifies.
    let history = chan.get(&app, &dashboard(X_BRN)).await.text();
    assert!(history.contains(&format!(
        "data-request=\"{id}\" data-status=\"approved\" data-kind=\"corporate\""
    )));
    assert!(
        history.contains("陳大文"),
        "the approver is named: {history}"
    );
    let download = format!("{}/signatures/{id}", dashboard(X_BRN));
    assert!(history.contains(&download));
    let file = chan.get(&app, &download).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.content_type(), "application/json");
    let disposition = file.headers.get("content-disposition").expect("attachment");
    assert!(disposition
        .to_str()
        .expect("ascii")
        .starts_with("attachment"));
    let signature = file.text();
    let verified = post_json(
        &app,
        "/api/corpid/v1/signing/verify",
        json!({ "signature": signature, "document_hash": document_hash() }).to_string(),
    )
    .await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.text());
    assert_eq!(verified.json()["valid"], true, "{}", verified.text());
    assert_eq!(verified.json()["business"]["brn"], X_BRN);

    // The verification page says the same to anyone; text that is no signature is a 422.
    let mut anyone = Browser::default();
    let form = url_encode(&signature);
    let page = anyone
        .post(&app, "/business/verify", &format!("signature={form}"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert_eq!(attribute(&page.text(), "data-valid"), "true");
    let altered = format!("signature={form}&document_hash={}", hex(&[7; 32]));
    let page = anyone.post(&app, "/business/verify", &altered).await;
    assert_eq!(attribute(&page.text(), "data-valid"), "false");
    let page = anyone
        .post(&app, "/business/verify", "signature=not+a+signature")
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code_of(&page), "corpid.signature_malformed");

    // WONG, a user of X, sees the history and downloads, but may not start a signature.
    let (mut wong, wong_id) = signed_in(&app, WONG, X_BRN).await;
    let seen = wong.get(&app, &dashboard(X_BRN)).await.text();
    assert!(!seen.contains("id=\"sign-form\""));
    assert!(seen.contains(&format!("data-request=\"{id}\"")));
    assert_eq!(wong.get(&app, &download).await.text(), signature);
    let before = request_count(&app).await;
    let fields = format!(
        "document_name=x.pdf&document_hash={}&type=corporate",
        document_hash()
    );
    let refused = start(&app, &mut wong, X_BRN, &fields).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());
    assert_eq!(code_of(&refused), "corpid.signing_role_insufficient");
    assert!(refused.text().contains("id=\"error-summary\""));
    assert_eq!(request_count(&app).await, before, "nothing written");
    let x = app
        .state
        .corpid
        .business(&Brn::parse(X_BRN).expect("brn"))
        .await
        .expect("X");
    let audited = app
        .state
        .db
        .audit_for_subject(&format!("business:{}", x.id), 1000)
        .await
        .expect("audit");
    assert!(audited
        .iter()
        .any(|r| r.action == "corpid.signing.request.create"
            && r.actor == format!("resident:{wong_id}")
            && r.detail.contains("role_insufficient")));
    // Someone else's download: the 404 page.
    let (mut lee, _) = resident(&app, LEE).await;
    log_in(&app, &mut lee, &dashboard(X_BRN)).await;
    assert_eq!(lee.get(&app, &download).await.status, StatusCode::NOT_FOUND);
}

fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn two_signatories_refusals_in_the_app_and_three_languages() {
    let app = app().await;
    let (mut chan, _) = signed_in(&app, CHAN, Y_BRN).await;

    // A form at fault: each field named, nothing written.
    let before = request_count(&app).await;
    let refused = start(
        &app,
        &mut chan,
        Y_BRN,
        "document_name=&document_hash=abc&type=stamp",
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text()
    );
    assert_eq!(code_of(&refused), "corpid.signing_request_invalid");
    for anchor in ["#sign-name", "#sign-hash", "#sign-type"] {
        assert!(refused.text().contains(anchor), "{anchor}");
    }
    assert_eq!(request_count(&app).await, before);

    // Y needs two signatories: CHAN approves first, then LEE through the agent Z.
    let approval = started(&app, &mut chan, Y_BRN, "integrated").await;
    assert!(chan
        .get(&app, &approval)
        .await
        .text()
        .contains("data-given=\"0\" data-required=\"2\""));
    let first = chan.post(&app, &approval, "decision=approve").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    assert_eq!(attribute(&first.text(), "data-outcome"), "pending");
    assert!(chan
        .get(&app, &approval)
        .await
        .text()
        .contains("id=\"you-approved\""));
    let twice = chan.post(&app, &approval, "decision=approve").await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert_eq!(code_of(&twice), "corpid.signing_already_approved");

    // WONG represents no Y: not listed, and an approval is refused (audited), not a 500.
    let (mut wong, _) = resident(&app, WONG).await;
    assert_eq!(
        wong.get(&app, &approval).await.status,
        StatusCode::NOT_FOUND
    );
    let stranger = wong.post(&app, &approval, "decision=approve").await;
    assert_eq!(
        stranger.status,
        StatusCode::FORBIDDEN,
        "{}",
        stranger.text()
    );
    assert_eq!(code_of(&stranger), "corpid.signing_not_representative");

    // LEE, in English, sees one of two approvals and signs.
    let (mut lee, _) = resident(&app, LEE).await;
    lee.lang = Some("en");
    let home = lee.get(&app, "/app").await.text();
    let id = approval.rsplit('/').next().expect("id");
    assert!(home.contains(&format!("data-request=\"{id}\"")));
    let page = lee.get(&app, &approval).await.text();
    assert!(page.contains("data-given=\"1\" data-required=\"2\""));
    assert!(page.contains("Approve and sign") && page.contains("Chan Kee Cha Chaan Teng"));
    let signed = lee.post(&app, &approval, "decision=approve").await;
    assert_eq!(attribute(&signed.text(), "data-outcome"), "approved");
    assert!(signed.text().contains("Signed:"), "{}", signed.text());

    // A rejection ends another request unsigned; the history shows both, newest first.
    let other = started(&app, &mut chan, Y_BRN, "corporate").await;
    let rejected = chan.post(&app, &other, "decision=reject").await;
    assert_eq!(attribute(&rejected.text(), "data-outcome"), "rejected");
    let history = chan.get(&app, &dashboard(Y_BRN)).await.text();
    let newest = history.find("data-status=\"rejected\"").expect("rejected");
    let older = history.find("data-status=\"approved\"").expect("approved");
    assert!(newest < older, "newest first");

    // The pages in the other two languages.
    for (lang, words) in [
        ("zh-Hans", ["签署记录", "已拒绝", "签署文件"]),
        ("en", ["Signing history", "Rejected", "Sign a document"]),
    ] {
        chan.lang = Some(lang);
        let page = chan.get(&app, &dashboard(Y_BRN)).await.text();
        for word in words {
            assert!(page.contains(word), "{lang}: {word}");
        }
        let refused = chan.post(&app, &other, "decision=approve").await;
        assert_eq!(code_of(&refused), "corpid.signing_request_not_pending");
        let page = chan.get(&app, "/business/verify").await;
        assert_eq!(page.status, StatusCode::OK);
    }
}
