//! The CorpID business pages (`/business`) through the whole application, signed in through
//! the built-in OpenID Provider as the exchange's pages are (a real passkey, code and ID
//! token): an administrator grants a representative by HKID and the new representative then
//! sees the business; roles, the last administrator's protection, delegations, licences and
//! the signing policy through the dashboard's forms; a non-administrator's posts refused with
//! nothing changed; forged forms refused; every page in three languages. The demo directory:
//! CHAN administers X, WONG is a user of X, LEE administers the agent Z.

use axum::http::StatusCode;
use bauhinia_corpid::demo::{X_BRN, Z_BRN};
use bauhinia_corpid::domain::Brn;

use super::exchange_portal::{csrf_of, location, log_in, resident, Browser, CHAN, ORIGIN, WONG};
use super::{app, Answer, TestApp};

const LEE: &str = "K704291(4)";

fn x_path() -> String {
    format!("/business/{X_BRN}")
}

/// A demo resident signed in to the portal, on X's dashboard (or its 404 page).
async fn signed_in(app: &TestApp, hkid: &str) -> (Browser, String) {
    let (mut browser, id) = resident(app, hkid).await;
    let back = log_in(app, &mut browser, &x_path()).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.text());
    assert_eq!(location(&back), x_path());
    (browser, id)
}

/// Posts `fields` with the anti-forgery token of the page at `from`.
async fn submit(
    app: &TestApp,
    browser: &mut Browser,
    from: &str,
    to: &str,
    fields: &str,
) -> Answer {
    let csrf = csrf_of(&browser.get(app, from).await.text());
    let body = if fields.is_empty() {
        format!("csrf={csrf}")
    } else {
        format!("csrf={csrf}&{fields}")
    };
    browser.post(app, to, &body).await
}

fn code_of(answer: &Answer) -> String {
    let text = answer.text();
    let at = text
        .find("data-code=\"")
        .unwrap_or_else(|| panic!("an error code ({}): {text}", answer.status));
    let rest = &text[at + "data-code=\"".len()..];
    rest[..rest.find('"').expect("closing quote")].to_owned()
}

async fn x(app: &TestApp) -> bauhinia_corpid::Business {
    app.state
        .corpid
        .business(&Brn::parse(X_BRN).expect("brn"))
        .await
        .expect("X")
}

/// (resident id, role) of X's representatives, sorted.
async fn x_representatives(app: &TestApp) -> Vec<(String, String)> {
    let id = x(app).await.id;
    let mut out: Vec<(String, String)> = app
        .state
        .corpid
        .representatives(&id)
        .await
        .expect("representatives")
        .into_iter()
        .map(|r| (r.resident_id, r.role))
        .collect();
    out.sort();
    out
}

fn today_hk() -> time::Date {
    time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+8))
        .date()
}

#[tokio::test]
async fn an_administrator_grants_by_hkid_and_the_new_representative_sees_the_business() {
    let app = app().await;
    let (mut chan, chan_id) = signed_in(&app, CHAN).await;
    let (mut lee, lee_id) = resident(&app, LEE).await;

    // LEE does not represent X yet: its dashboard is a 404 page, and the list lacks it.
    let back = log_in(&app, &mut lee, &x_path()).await;
    assert_eq!(location(&back), x_path());
    let hidden = lee.get(&app, &x_path()).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert_eq!(code_of(&hidden), "corpid.business_not_found");
    assert!(!hidden.text().contains("Harbour Lights"));
    let list = lee.get(&app, "/business").await;
    assert!(!list.text().contains(&format!("data-brn=\"{X_BRN}\"")));

    // CHAN, X's administrator, sees the forms and grants LEE a role by HKID.
    let dashboard = chan.get(&app, &x_path()).await;
    assert_eq!(dashboard.status, StatusCode::OK);
    assert!(dashboard.text().contains("id=\"grant-form\""));
    assert!(!dashboard.text().contains("id=\"read-only\""));
    let granted = submit(
        &app,
        &mut chan,
        &x_path(),
        &format!("{}/representatives", x_path()),
        "hkid=K704291%284%29&role=authorised_signatory",
    )
    .await;
    assert_eq!(granted.status, StatusCode::SEE_OTHER, "{}", granted.text());
    assert_eq!(
        location(&granted),
        format!("{}?done=granted#representatives", x_path())
    );
    let after = chan.get(&app, &location(&granted)).await;
    assert!(after.text().contains("id=\"notice\""));
    assert!(after.text().contains(&format!(
        "data-resident=\"{lee_id}\" data-role=\"authorised_signatory\""
    )));
    assert!(
        !after.text().contains("K704291(4)"),
        "the HKID is never shown"
    );
    assert!(x_representatives(&app)
        .await
        .contains(&(lee_id.clone(), "authorised_signatory".into())));

    // LEE now sees X in the list and on its (read-only) dashboard.
    let list = lee.get(&app, "/business").await;
    assert!(list.text().contains(&format!("data-brn=\"{X_BRN}\"")));
    let seen = lee.get(&app, &x_path()).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(seen.text().contains("id=\"read-only\""));
    assert!(!seen.text().contains("id=\"grant-form\""));

    // Refusals show on the dashboard with their code, and change nothing.
    let before = x_representatives(&app).await;
    let grants = format!("{}/representatives", x_path());
    for (fields, status, code) in [
        (
            "hkid=K704291%284%29&role=user",
            StatusCode::CONFLICT,
            "corpid.role_exists",
        ),
        (
            "hkid=Z999999%280%29&role=user",
            StatusCode::NOT_FOUND,
            "corpid.resident_not_found",
        ),
        (
            "hkid=NOT-AN-HKID-42&role=owner",
            StatusCode::UNPROCESSABLE_ENTITY,
            "corpid.invalid",
        ),
    ] {
        let refused = submit(&app, &mut chan, &x_path(), &grants, fields).await;
        assert_eq!(refused.status, status, "{fields}: {}", refused.text());
        assert_eq!(code_of(&refused), code, "{fields}");
        assert!(refused.text().contains("id=\"error-summary\""));
        assert!(!refused.text().contains("NOT-AN-HKID-42"), "not echoed");
        assert!(!refused.text().contains("Z999999"), "not echoed");
    }
    assert_eq!(x_representatives(&app).await, before);

    // The last administrator: confirmed, then refused with a clear error.
    let revoke_chan = format!("{}/representatives/{chan_id}/revoke", x_path());
    let confirm = chan.get(&app, &revoke_chan).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.text().contains("id=\"confirm\""));
    let refused = submit(&app, &mut chan, &revoke_chan, &revoke_chan, "").await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(code_of(&refused), "corpid.last_administrator");
    let demote = format!("{}/representatives/{chan_id}/role", x_path());
    let refused = submit(&app, &mut chan, &x_path(), &demote, "role=user").await;
    assert_eq!(code_of(&refused), "corpid.last_administrator");
    assert_eq!(x_representatives(&app).await, before);

    // A role changed, then the representative revoked: X is gone from LEE's pages.
    let change = format!("{}/representatives/{lee_id}/role", x_path());
    let changed = submit(&app, &mut chan, &x_path(), &change, "role=user").await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.text());
    assert!(x_representatives(&app)
        .await
        .contains(&(lee_id.clone(), "user".into())));
    let revoke_lee = format!("{}/representatives/{lee_id}/revoke", x_path());
    let revoked = submit(&app, &mut chan, &revoke_lee, &revoke_lee, "").await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER, "{}", revoked.text());
    assert_eq!(lee.get(&app, &x_path()).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn delegations_licences_and_the_signing_policy_through_the_dashboard() {
    let app = app().await;
    let (mut chan, _) = signed_in(&app, CHAN).await;
    let (mut lee, _) = resident(&app, LEE).await;
    log_in(&app, &mut lee, "/business/91000003").await;
    let today = today_hk();
    let last = today + time::Duration::days(30);

    // A delegation to the agent Z: LEE, Z's administrator, then acts for X through it.
    let delegations = format!("{}/delegations", x_path());
    let form =
        format!("agent_brn={Z_BRN}&delegation_role=user&valid_from={today}&valid_until={last}");
    let made = submit(&app, &mut chan, &x_path(), &delegations, &form).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.text());
    let list = lee.get(&app, "/business").await.text();
    assert!(list.contains(&format!("data-brn=\"{X_BRN}\"")));
    assert!(list.contains(Z_BRN), "through agent Z");
    assert!(list.contains(&last.to_string()), "its last day");
    let again = submit(&app, &mut chan, &x_path(), &delegations, &form).await;
    assert_eq!(code_of(&again), "corpid.delegation_exists");
    let bad = submit(
        &app,
        &mut chan,
        &x_path(),
        &delegations,
        "agent_brn=12&delegation_role=administrator&valid_from=&valid_until=2020-01-01",
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    for input in ["delegation-agent", "delegation-role", "delegation-from"] {
        assert!(
            bad.text().contains(&format!("href=\"#{input}\"")),
            "{input}"
        );
    }
    let page = chan.get(&app, &x_path()).await.text();
    let end = page
        .find("\" data-state=\"in_force\"")
        .expect("the delegation in force");
    let delegation_id = &page[end - 36..end];
    let revoke = format!("{}/delegations/{delegation_id}/revoke", x_path());
    assert!(chan
        .get(&app, &revoke)
        .await
        .text()
        .contains("id=\"confirm\""));
    let revoked = submit(&app, &mut chan, &revoke, &revoke, "").await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER, "{}", revoked.text());
    assert_eq!(lee.get(&app, &x_path()).await.status, StatusCode::NOT_FOUND);

    // Licences: added, refused with the field named, edited, removed.
    let licences = format!("{}/licences", x_path());
    let count = |app: &TestApp| {
        let app_state = app.state.corpid.clone();
        async move {
            let id = app_state
                .business(&Brn::parse(X_BRN).expect("brn"))
                .await
                .expect("X")
                .id;
            app_state.licences(&id).await.expect("licences").len()
        }
    };
    let before = count(&app).await;
    let added = submit(
        &app,
        &mut chan,
        &x_path(),
        &licences,
        "licence_type=Food+Factory+Licence&number=FF-2026-7&issuer=FEHD&licence_from=2026-01-01&licence_until=&status=valid&shared=yes",
    )
    .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text());
    assert_eq!(count(&app).await, before + 1);
    let refused = submit(
        &app,
        &mut chan,
        &x_path(),
        &licences,
        "licence_type=&number=%3Cscript%3E&issuer=FEHD&licence_from=someday&status=valid",
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().contains("href=\"#licence-number\""));
    assert!(!refused.text().contains("<script>"), "escaped");
    assert_eq!(count(&app).await, before + 1);
    let page = chan.get(&app, &x_path()).await.text();
    let row = page.find("FF-2026-7").expect("the licence row");
    let id_at = page[..row].rfind("data-licence=\"").expect("its id") + "data-licence=\"".len();
    let licence = format!("{licences}/{}", &page[id_at..id_at + 36]);
    let edit = chan.get(&app, &licence).await;
    assert_eq!(edit.status, StatusCode::OK);
    assert!(edit.text().contains("value=\"FF-2026-7\""));
    let edited = submit(
        &app,
        &mut chan,
        &licence,
        &licence,
        "licence_type=Food+Factory+Licence&number=FF-2026-7&issuer=FEHD&licence_from=2026-01-01&licence_until=2027-12-31&status=suspended",
    )
    .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.text());
    assert!(chan
        .get(&app, &x_path())
        .await
        .text()
        .contains("2027-12-31"));
    let remove = format!("{licence}/remove");
    let removed = submit(&app, &mut chan, &remove, &remove, "").await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.text());
    assert_eq!(count(&app).await, before);

    // The signing policy: two signatories, then a value that is neither 1 nor 2.
    let policy = format!("{}/signing-policy", x_path());
    let set = submit(
        &app,
        &mut chan,
        &x_path(),
        &policy,
        "signatories_required=2",
    )
    .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.text());
    assert_eq!(x(&app).await.signatories_required, 2);
    let refused = submit(
        &app,
        &mut chan,
        &x_path(),
        &policy,
        "signatories_required=3",
    )
    .await;
    assert_eq!(code_of(&refused), "corpid.invalid");
    assert_eq!(x(&app).await.signatories_required, 2);

    // No company signature exists yet: the history says so, with no rows.
    let page = chan.get(&app, &x_path()).await.text();
    assert!(page.contains("id=\"history-none\""));
}

#[tokio::test]
async fn a_non_administrator_reads_only_and_forged_or_foreign_requests_are_refused() {
    let app = app().await;
    let (mut wong, _) = signed_in(&app, WONG).await;
    let page = wong.get(&app, &x_path()).await;
    assert_eq!(page.status, StatusCode::OK);
    for form in [
        "grant-form",
        "delegation-form",
        "licence-form",
        "policy-form",
    ] {
        assert!(!page.text().contains(&format!("id=\"{form}\"")), "{form}");
    }
    assert!(page.text().contains("id=\"read-only\""));

    // Posting anyway is refused by the directory, and nothing changes.
    let representatives = x_representatives(&app).await;
    let licences_before = app
        .state
        .corpid
        .licences(&x(&app).await.id)
        .await
        .expect("licences")
        .len();
    let today = today_hk();
    let delegation = format!(
        "agent_brn={Z_BRN}&delegation_role=user&valid_from={today}&valid_until={}",
        today + time::Duration::days(30)
    );
    for (to, fields) in [
        ("representatives", "hkid=K704291%284%29&role=administrator"),
        ("signing-policy", "signatories_required=2"),
        (
            "licences",
            "licence_type=Permit&number=P-1&issuer=FEHD&licence_from=2026-01-01&status=valid",
        ),
        ("delegations", delegation.as_str()),
        ("signing-policy", "signatories_required=not-a-number"),
    ] {
        let to = format!("{}/{to}", x_path());
        let refused = submit(&app, &mut wong, &x_path(), &to, fields).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{to}: {}",
            refused.text()
        );
        assert_eq!(code_of(&refused), "corpid.not_administrator", "{to}");
    }
    assert_eq!(x_representatives(&app).await, representatives);
    assert_eq!(x(&app).await.signatories_required, 1);
    let licences_after = app
        .state
        .corpid
        .licences(&x(&app).await.id)
        .await
        .expect("licences")
        .len();
    assert_eq!(licences_after, licences_before);
    // Each refusal is audited, as the directory audits the refusals it makes itself.
    let refused: Vec<(String, String)> = app
        .state
        .db
        .audit_for_subject(&format!("business:{}", x(&app).await.id), 500)
        .await
        .expect("audit")
        .into_iter()
        .filter(|r| r.outcome == "failure")
        .map(|r| {
            let detail: serde_json::Value = serde_json::from_str(&r.detail).expect("detail");
            (
                r.action,
                detail["reason"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let reason = "not_administrator".to_owned();
    assert_eq!(
        refused,
        [
            "corpid.role.grant",
            "corpid.signing_policy.set",
            "corpid.licence.add",
            "corpid.delegation.create",
            "corpid.signing_policy.set",
        ]
        .map(|action| (action.to_owned(), reason.clone())),
        "oldest first"
    );

    // The administrator's form without the session's token, or from another origin.
    let (mut chan, _) = signed_in(&app, CHAN).await;
    let grants = format!("{}/representatives", x_path());
    let forged = chan
        .post(
            &app,
            &grants,
            "csrf=forged&hkid=K704291%284%29&role=administrator",
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(code_of(&forged), "exchange.portal_csrf");
    let csrf = csrf_of(&chan.get(&app, &x_path()).await.text());
    let cross = chan
        .request(
            &app,
            "POST",
            &grants,
            Some("https://evil.example"),
            Some(format!(
                "csrf={csrf}&hkid=K704291%284%29&role=administrator"
            )),
        )
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    assert_eq!(code_of(&cross), "exchange.portal_csrf");
    assert_eq!(x_representatives(&app).await, representatives);

    // Unknown, malformed and unrepresented businesses are the same 404 page.
    for path in [
        "/business/99999999",
        "/business/not-a-brn",
        "/business/91000003",
    ] {
        let missing = chan.get(&app, path).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(code_of(&missing), "corpid.business_not_found");
    }

    // Signed out: pages send the browser to log in and back; a post changes nothing.
    let mut stranger = Browser::default();
    let answer = stranger.get(&app, &x_path()).await;
    assert_eq!(
        location(&answer),
        format!("/exchange/login?next=%2Fbusiness%2F{X_BRN}")
    );
    let post = stranger
        .request(&app, "POST", &grants, Some(ORIGIN), Some("hkid=x".into()))
        .await;
    assert_eq!(post.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&post), "/exchange/login?next=%2Fbusiness");
    let landing = stranger.get(&app, "/business").await;
    assert_eq!(landing.status, StatusCode::OK);
    assert!(landing
        .text()
        .contains("href=\"/exchange/login?next=%2Fbusiness\""));
}

#[tokio::test]
async fn the_business_pages_speak_three_languages() {
    let app = app().await;
    let (mut chan, _) = signed_in(&app, CHAN).await;
    let home = chan.get(&app, "/").await.text();
    assert!(home.contains("href=\"/business\""), "the card and the menu");
    for (lang, words) in [
        (
            "zh-Hant",
            ["代表及角色", "管理員", "簽署紀錄", "私人股份有限公司"],
        ),
        (
            "zh-Hans",
            ["代表及角色", "管理员", "签署记录", "私人股份有限公司"],
        ),
        (
            "en",
            [
                "Representatives and roles",
                "Administrator",
                "Signing history",
                "Private company limited by shares",
            ],
        ),
    ] {
        chan.lang = Some(lang);
        let page = chan.get(&app, &x_path()).await;
        assert_eq!(page.status, StatusCode::OK, "{lang}");
        let text = page.text();
        assert!(text.contains(&format!("<html lang=\"{lang}\"")), "{lang}");
        for word in words {
            assert!(text.contains(word), "{lang}: {word}");
        }
        assert!(
            text.contains("href=\"/business\" aria-current=\"page\""),
            "{lang}"
        );
        let list = chan.get(&app, "/business").await.text();
        assert!(list.contains(&format!("data-brn=\"{X_BRN}\"")), "{lang}");
        let refused = submit(
            &app,
            &mut chan,
            &x_path(),
            &format!("{}/signing-policy", x_path()),
            "signatories_required=9",
        )
        .await;
        assert!(refused.text().contains(&format!("<html lang=\"{lang}\"")));
        assert_eq!(code_of(&refused), "corpid.invalid");
    }
}
