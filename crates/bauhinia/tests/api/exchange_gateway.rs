//! The exchange's signed participant API end to end over HTTP: a consuming bank asks for an
//! IADS consent (naming the owner by HKID), the owner approves, the bank fetches balance and
//! transactions data-blind and opens them; the ciphertext opens with no other key; the
//! database holds none of the plaintext. Then the negative suite: each refusal with its code,
//! each in the audit.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use bauhinia_exchange::client::{Consumer, Signed};
use bauhinia_exchange::consent::domain::{ConsentId, OwnerAction, ResidentId};
use bauhinia_exchange::crypto::blind::{self, Envelope, EphemeralKeys};
use bauhinia_exchange::crypto::jws;
use bauhinia_exchange::directory::ParticipantDraft;
use bauhinia_identity::jose::{Alg, Jwk, JwkSet};
use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private, Public};
use serde_json::{json, Value};

use super::{app, send, Answer, TestApp};

const PROVIDER: &str = "bank-004";

fn p256() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
}

/// Registers a participant with a fresh key; its client.
async fn register(app: &TestApp, id: &str, roles: &str) -> Consumer {
    let key = p256();
    let kid = format!("{id}-key-1");
    let jwk = Jwk::from_key(&key, Some(kid.clone()), Some(Alg::ES256)).unwrap();
    let draft = json!({
        "id": id,
        "name": {"en": format!("Test bank {id}"), "zh_hant": "測試銀行", "zh_hans": "测试银行"},
        "roles": roles,
        "licence": "bank",
        "jwks": JwkSet { keys: vec![jwk] },
    });
    let new = ParticipantDraft::from_json(draft.to_string().as_bytes()).unwrap();
    app.state
        .exchange
        .directory()
        .register(&new, "test")
        .await
        .unwrap();
    Consumer::new(id, &kid, key)
}

async fn call_signed(
    app: &TestApp,
    method: &str,
    path: &str,
    body: &[u8],
    signed: &Signed,
) -> Answer {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json");
    for (name, value) in signed.headers() {
        request = request.header(name, value);
    }
    send(app, request.body(Body::from(body.to_vec())).unwrap()).await
}

/// Signs and sends; the answer and the signed request.
async fn call(
    app: &TestApp,
    who: &Consumer,
    method: &str,
    path: &str,
    body: &[u8],
) -> (Answer, Signed) {
    let signed = who
        .sign(method, path.split('?').next().unwrap(), body)
        .unwrap();
    (call_signed(app, method, path, body, &signed).await, signed)
}

fn rfc(at_s: i64) -> String {
    bauhinia_exchange::consent::domain::rfc3339(at_s)
}

fn now() -> i64 {
    jws::now_s()
}

const DAY: i64 = 86_400;

fn consent_request(owner: Value, products: &[&str], frequency: u32) -> Value {
    let now = now();
    json!({
        "purpose": {"code": "101", "text": "To open your account with us using your existing bank's records."},
        "products": products,
        "owner": owner,
        "providers": [PROVIDER],
        "data_range": {"from": rfc(now - 180 * DAY), "to": rfc(now)},
        "frequency": {"unit": "DAY", "value": frequency},
        "validity": {"from": rfc(now - 60), "until": rfc(now + 30 * DAY)},
        "mode": "VIEW",
        "fetch_type": "PERIODIC",
        "return_url": "https://bank.example/consents/done",
    })
}

async fn create(app: &TestApp, bank: &Consumer, request: &Value) -> Value {
    let (answer, _) = call(
        app,
        bank,
        "POST",
        "/api/v1/exchange/consents",
        request.to_string().as_bytes(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    answer.json()
}

async fn approve(app: &TestApp, consent: &Value, owner: &str) {
    let id = ConsentId::parse(consent["id"].as_str().unwrap()).unwrap();
    app.state
        .exchange
        .consents()
        .act(
            &id,
            &ResidentId::parse(owner).unwrap(),
            OwnerAction::Approve,
            now(),
        )
        .await
        .unwrap();
}

fn provider_key(app: &TestApp) -> impl Fn(&str) -> Option<PKey<Public>> + '_ {
    move |kid: &str| {
        let participant = futures_block(app.state.exchange.directory().get(PROVIDER))?;
        participant
            .verification_key(kid, now())
            .and_then(|jwk| jwk.to_key().ok())
    }
}

/// The directory lookup inside a synchronous key callback.
fn futures_block<T, E>(f: impl std::future::Future<Output = Result<T, E>>) -> Option<T> {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f)).ok()
}

async fn fetch(
    app: &TestApp,
    bank: &Consumer,
    consent: &str,
    products: &[&str],
    from: i64,
    to: i64,
) -> (Answer, Signed, EphemeralKeys) {
    let (body, keys) = Consumer::data_request(PROVIDER, products, &rfc(from), &rfc(to)).unwrap();
    let path = format!("/api/v1/exchange/consents/{consent}/fetch");
    let (answer, signed) = call(app, bank, "POST", &path, &body).await;
    (answer, signed, keys)
}

fn demo_resident_hkid() -> String {
    bauhinia_identity::demo::residents()[0].hkid.clone()
}

async fn demo_resident_id(app: &TestApp) -> String {
    resident_id_of(app, &demo_resident_hkid()).await
}

/// Every byte of the database's files (the main file and its write-ahead log).
fn database_bytes(app: &TestApp) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(&app.dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            bytes.extend(std::fs::read(&path).unwrap());
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_iads_consent_end_to_end_and_the_gateway_keeps_no_plaintext() {
    let app = app().await;
    let bank = register(&app, "test-bank-a", "consumer").await;
    let owner = demo_resident_id(&app).await;

    // The bank names the owner by HKID; the consent names the resident, never the HKID.
    let consent = create(
        &app,
        &bank,
        &consent_request(
            json!({"hkid": demo_resident_hkid()}),
            &["iads.balance", "iads.transactions"],
            4,
        ),
    )
    .await;
    assert_eq!(consent["status"], "PENDING");
    assert_eq!(consent["owner"]["resident"], owner.as_str());
    let id = consent["id"].as_str().unwrap().to_owned();
    assert!(consent["approval_url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/exchange/consents/{id}")));

    // Not yet approved: refused.
    let (pending, _, _) = fetch(
        &app,
        &bank,
        &id,
        &["iads.balance"],
        now() - 30 * DAY,
        now() - 60,
    )
    .await;
    assert_eq!(
        pending.json()["code"],
        "exchange.consent_pending",
        "{}",
        pending.text()
    );

    approve(&app, &consent, &owner).await;
    let path = format!("/api/v1/exchange/consents/{id}");
    let (read, _) = call(&app, &bank, "GET", &path, b"").await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text());
    let read = read.json();
    assert_eq!(read["status"], "ACTIVE");
    // The artefact verifies with the gateway's published key.
    let artefact = read["artefact"].as_str().unwrap();
    let claims = app.state.exchange.keys().verify_compact(artefact).unwrap();
    assert_eq!(claims["consent_id"], id.as_str(), "{claims}");

    // The fetch: the provider's answer, signed, sealed to the bank's one-time key.
    let (answer, signed, keys) = fetch(
        &app,
        &bank,
        &id,
        &["iads.balance", "iads.transactions"],
        now() - 90 * DAY,
        now() - 60,
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let signature = answer.headers[jws::HEADER_NAME]
        .to_str()
        .unwrap()
        .to_owned();
    let data = tokio::task::block_in_place(|| {
        Consumer::open_answer(
            &keys,
            &id,
            &answer.body,
            &signature,
            &signed.jti,
            provider_key(&app),
        )
    })
    .unwrap();
    let balance = &data["products"]["iads.balance"];
    let transactions = &data["products"]["iads.transactions"];
    assert!(
        balance["accounts"]
            .as_array()
            .is_some_and(|a| !a.is_empty()),
        "{balance}"
    );
    let entries = transactions["accounts"][0]["transactions"]
        .as_array()
        .unwrap();
    assert!(!entries.is_empty(), "{transactions}");
    // The data is what its schema says.
    for (product, doc) in [
        ("iads.balance", balance),
        ("iads.transactions", transactions),
    ] {
        let product = bauhinia_exchange::products::ProductId::parse(product).unwrap();
        let schema: Value = serde_json::from_str(product.schema()).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        assert!(validator.is_valid(doc), "{product:?}: {doc}");
    }

    // The same ciphertext opens with no other key: another one-time key, or the right key
    // with another consent or session bound in.
    let body: Value = answer.json();
    let envelope = Envelope::from_json(&serde_json::to_vec(&body["envelope"]).unwrap()).unwrap();
    let session = body["session"].as_str().unwrap();
    for _ in 0..20 {
        let other = EphemeralKeys::generate().unwrap();
        assert!(blind::open(&other, &envelope, &blind::canonical_aad(&id, session)).is_err());
    }
    assert!(blind::open(
        &keys,
        &envelope,
        &blind::canonical_aad("other-consent", session)
    )
    .is_err());
    assert!(blind::open(
        &keys,
        &envelope,
        &blind::canonical_aad(&id, "other-session")
    )
    .is_err());
    assert!(blind::open(&keys, &envelope, &blind::canonical_aad(&id, session)).is_ok());

    // The use is on the owner's dashboard, the audit and the chain.
    let uses = app
        .state
        .exchange
        .consents()
        .list_for_owner(&ResidentId::parse(&owner).unwrap())
        .await
        .unwrap();
    let mine = uses.iter().find(|c| c.consent.id.as_str() == id).unwrap();
    assert_eq!(mine.uses.len(), 1);
    let audit = app
        .state
        .db
        .audit_for_subject(&format!("consent:{id}"), 500)
        .await
        .unwrap();
    assert!(audit
        .iter()
        .any(|e| e.action == "exchange.consent.use" && e.outcome == "success"));

    // No plaintext of the payload anywhere in the database's files.
    let db = database_bytes(&app);
    let account = balance["accounts"][0]["account_number"].as_str().unwrap();
    let mut needles: Vec<String> = vec![
        serde_json::to_string(balance).unwrap(),
        serde_json::to_string(transactions).unwrap(),
        account.to_owned(),
    ];
    for entry in entries.iter().take(50) {
        for member in ["transaction_id", "fps_reference"] {
            if let Some(text) = entry[member].as_str() {
                needles.push(text.to_owned());
            }
        }
    }
    assert!(needles.len() > 10, "enough to look for: {needles:?}");
    for needle in &needles {
        assert!(
            !contains(&db, needle.as_bytes()),
            "the database holds payload plaintext: {needle:?}"
        );
    }
}

/// Runs SQL on the test app's database (to play an intruder who altered a row).
async fn tamper(app: &TestApp, sql: &str) {
    match &app.state.db {
        bauhinia_store::Database::Sqlite(s) => {
            sqlx::raw_sql(sql)
                .execute(&mut *s.write().await.unwrap())
                .await
                .unwrap();
        }
        bauhinia_store::Database::Postgres(pool) => {
            sqlx::raw_sql(sql).execute(pool).await.unwrap();
        }
    }
}

/// The audit's failures for `subject`, newest last: (action, detail).
async fn failures(app: &TestApp, subject: &str) -> Vec<(String, String)> {
    app.state
        .db
        .audit_for_subject(subject, 500)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.outcome == "failure")
        .map(|e| (e.action, e.detail))
        .collect()
}

/// Checks one refusal: the answer's status and code, and one more failure in the audit for
/// `subject` that names `reason`.
struct Suite<'a> {
    app: &'a TestApp,
    cases: Vec<String>,
}

impl Suite<'_> {
    /// A data request `who` signs and sends under consent `c`, refused as expected.
    #[allow(clippy::too_many_arguments)]
    async fn fetch(
        &mut self,
        case: &str,
        who: &Consumer,
        c: &Value,
        body: &[u8],
        status: StatusCode,
        code: &str,
        reason: &str,
    ) -> Answer {
        let signed = who.sign("POST", &fetch_path(c), body).unwrap();
        self.signed(case, c, body, &signed, status, code, reason)
            .await
    }

    /// A data request sent as `signed` under consent `c`, refused as expected.
    #[allow(clippy::too_many_arguments)]
    async fn signed(
        &mut self,
        case: &str,
        c: &Value,
        body: &[u8],
        signed: &Signed,
        status: StatusCode,
        code: &str,
        reason: &str,
    ) -> Answer {
        let subject = subject(c);
        let before = failures(self.app, &subject).await.len();
        let answer = call_signed(self.app, "POST", &fetch_path(c), body, signed).await;
        self.refused(case, &subject, before, &answer, status, code, reason)
            .await;
        answer
    }

    #[allow(clippy::too_many_arguments)]
    async fn refused(
        &mut self,
        case: &str,
        subject: &str,
        before: usize,
        answer: &Answer,
        status: StatusCode,
        code: &str,
        reason: &str,
    ) {
        assert_eq!(answer.status, status, "{case}: {}", answer.text());
        assert_eq!(answer.content_type(), "application/problem+json", "{case}");
        assert_eq!(answer.json()["code"], code, "{case}: {}", answer.text());
        let after = failures(self.app, subject).await;
        assert_eq!(
            after.len(),
            before + 1,
            "{case}: one audit record more: {after:?}"
        );
        let (action, detail) = after.last().unwrap();
        assert!(
            detail.contains(&format!("\"reason\":\"{reason}\"")),
            "{case}: the audit names the reason {reason}: {action} {detail}"
        );
        self.cases.push(format!("{case} -> {code}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_has_its_code_and_is_audited() {
    let app = app().await;
    let bank = register(&app, "test-bank-n", "consumer").await;
    let other_bank = register(&app, "test-bank-o", "consumer").await;
    let provider_only = register(&app, "test-provider-p", "provider").await;
    let owner = demo_resident_id(&app).await;
    let mut suite = Suite {
        app: &app,
        cases: Vec::new(),
    };
    let resident = json!({ "resident": owner });
    let range = (now() - 30 * DAY, now() - 60);
    let balance_body = |from: i64, to: i64| {
        Consumer::data_request(PROVIDER, &["iads.balance"], &rfc(from), &rfc(to))
            .unwrap()
            .0
    };

    // EXPIRED first: it is expired by a sweep at a time every PENDING consent is past its
    // 15-minute approval window.
    let expired = create(
        &app,
        &bank,
        &consent_request(resident.clone(), &["iads.balance"], 4),
    )
    .await;
    app.state
        .exchange
        .consents()
        .expire_due(now() + 16 * 60)
        .await
        .unwrap();

    let pending = create(
        &app,
        &bank,
        &consent_request(resident.clone(), &["iads.balance"], 4),
    )
    .await;
    let active = create(
        &app,
        &bank,
        &consent_request(resident.clone(), &["iads.balance"], 1000),
    )
    .await;
    approve(&app, &active, &owner).await;
    let paused = create(
        &app,
        &bank,
        &consent_request(resident.clone(), &["iads.balance"], 4),
    )
    .await;
    approve(&app, &paused, &owner).await;
    let revoked = create(
        &app,
        &bank,
        &consent_request(resident.clone(), &["iads.balance"], 4),
    )
    .await;
    approve(&app, &revoked, &owner).await;
    let rejected = create(
        &app,
        &bank,
        &consent_request(resident.clone(), &["iads.balance"], 4),
    )
    .await;
    let once = create(
        &app,
        &bank,
        &consent_request(resident.clone(), &["iads.balance"], 1),
    )
    .await;
    approve(&app, &once, &owner).await;
    let altered = create(
        &app,
        &bank,
        &consent_request(resident.clone(), &["iads.balance"], 4),
    )
    .await;
    approve(&app, &altered, &owner).await;
    let widened = create(
        &app,
        &bank,
        &consent_request(resident.clone(), &["iads.balance"], 4),
    )
    .await;
    approve(&app, &widened, &owner).await;
    let consents = app.state.exchange.consents();
    let owner_id = ResidentId::parse(&owner).unwrap();
    for (c, action) in [
        (&paused, OwnerAction::Pause),
        (&revoked, OwnerAction::Revoke),
        (&rejected, OwnerAction::Reject),
    ] {
        let id = ConsentId::parse(c["id"].as_str().unwrap()).unwrap();
        consents.act(&id, &owner_id, action, now()).await.unwrap();
    }

    // 1. No consent.
    let missing = json!({ "id": uuid_like() });
    suite
        .fetch(
            "no consent",
            &bank,
            &missing,
            &balance_body(range.0, range.1),
            StatusCode::NOT_FOUND,
            "exchange.consent_not_found",
            "not_found",
        )
        .await;

    // 2. Another consumer's consent.
    suite
        .fetch(
            "another consumer's consent",
            &other_bank,
            &active,
            &balance_body(range.0, range.1),
            StatusCode::FORBIDDEN,
            "exchange.consent_wrong_consumer",
            "wrong_consumer",
        )
        .await;

    // 3–7. Each status that allows no fetch.
    for (case, c, code, reason) in [
        (
            "PENDING consent",
            &pending,
            "exchange.consent_pending",
            "pending",
        ),
        (
            "PAUSED consent",
            &paused,
            "exchange.consent_paused",
            "paused",
        ),
        (
            "REVOKED consent",
            &revoked,
            "exchange.consent_revoked",
            "revoked",
        ),
        (
            "EXPIRED consent",
            &expired,
            "exchange.consent_expired",
            "expired",
        ),
        (
            "REJECTED consent",
            &rejected,
            "exchange.consent_rejected",
            "rejected",
        ),
    ] {
        suite
            .fetch(
                case,
                &bank,
                c,
                &balance_body(range.0, range.1),
                StatusCode::FORBIDDEN,
                code,
                reason,
            )
            .await;
    }

    // 8. A product the consent does not cover.
    let body = Consumer::data_request(
        PROVIDER,
        &["iads.transactions"],
        &rfc(range.0),
        &rfc(range.1),
    )
    .unwrap()
    .0;
    suite
        .fetch(
            "product not in the consent",
            &bank,
            &active,
            &body,
            StatusCode::FORBIDDEN,
            "exchange.consent_product",
            "product",
        )
        .await;

    // 9. Dates outside the consent's range.
    suite
        .fetch(
            "dates outside the range",
            &bank,
            &active,
            &balance_body(now() - 200 * DAY, now() - 190 * DAY),
            StatusCode::FORBIDDEN,
            "exchange.consent_date_range",
            "date_range",
        )
        .await;

    // 10. Over the frequency limit (once a day): the second fetch, with Retry-After.
    let (first, _) = call(
        &app,
        &bank,
        "POST",
        &fetch_path(&once),
        &balance_body(range.0, range.1),
    )
    .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    let answer = suite
        .fetch(
            "over the frequency limit",
            &bank,
            &once,
            &balance_body(range.0, range.1),
            StatusCode::TOO_MANY_REQUESTS,
            "exchange.consent_frequency",
            "frequency",
        )
        .await;
    let retry: i64 = answer.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=DAY).contains(&retry), "Retry-After {retry}");

    // 11. A provider the consent does not name.
    let before = failures(&app, &subject(&active)).await.len();
    let body = Consumer::data_request("bank-024", &["iads.balance"], &rfc(range.0), &rfc(range.1))
        .unwrap()
        .0;
    let (answer, _) = call(&app, &bank, "POST", &fetch_path(&active), &body).await;
    suite
        .refused(
            "provider not named",
            &subject(&active),
            before,
            &answer,
            StatusCode::FORBIDDEN,
            "exchange.consent_provider",
            "provider",
        )
        .await;

    // 12. A suspended provider.
    let directory = app.state.exchange.directory();
    directory.suspend(PROVIDER, "test", "test").await.unwrap();
    suite
        .fetch(
            "suspended provider",
            &bank,
            &active,
            &balance_body(range.0, range.1),
            StatusCode::FORBIDDEN,
            "exchange.participant_suspended",
            "provider_suspended",
        )
        .await;
    directory.reactivate(PROVIDER, "test").await.unwrap();

    // 13. A suspended consumer.
    directory
        .suspend("test-bank-n", "test", "test")
        .await
        .unwrap();
    suite
        .fetch(
            "suspended consumer",
            &bank,
            &active,
            &balance_body(range.0, range.1),
            StatusCode::FORBIDDEN,
            "exchange.participant_suspended",
            "participant_suspended",
        )
        .await;
    directory.reactivate("test-bank-n", "test").await.unwrap();

    // 14. A participant not registered as a consumer.
    suite
        .fetch(
            "not a data consumer",
            &provider_only,
            &active,
            &balance_body(range.0, range.1),
            StatusCode::FORBIDDEN,
            "exchange.participant_role",
            "participant_role",
        )
        .await;

    // 15. A replayed request: the same body and signature again.
    let body = balance_body(range.0, range.1);
    let signed = bank.sign("POST", &fetch_path(&active), &body).unwrap();
    let ok = call_signed(&app, "POST", &fetch_path(&active), &body, &signed).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    suite
        .signed(
            "replayed request",
            &active,
            &body,
            &signed,
            StatusCode::CONFLICT,
            "exchange.request_replayed",
            "replayed",
        )
        .await;

    // 16. A tampered signature.
    let body = balance_body(range.0, range.1);
    let mut signed = bank.sign("POST", &fetch_path(&active), &body).unwrap();
    // One character in the middle of the signature part (a last character carries padding
    // bits a strict decoder refuses as malformed instead).
    let at = signed.signature.len() - 40;
    let flipped = if &signed.signature[at..=at] == "A" {
        "B"
    } else {
        "A"
    };
    signed.signature.replace_range(at..=at, flipped);
    suite
        .signed(
            "tampered signature",
            &active,
            &body,
            &signed,
            StatusCode::UNAUTHORIZED,
            "exchange.signature_invalid",
            "signature_invalid",
        )
        .await;

    // 17. A body altered after signing.
    let signed = bank.sign("POST", &fetch_path(&active), &body).unwrap();
    let altered_body = balance_body(range.0 - DAY, range.1);
    suite
        .signed(
            "body altered after signing",
            &active,
            &altered_body,
            &signed,
            StatusCode::UNAUTHORIZED,
            "exchange.signature_invalid",
            "signature_invalid",
        )
        .await;

    // 18. Signed with a key the participant never registered.
    let stranger = Consumer::new("test-bank-n", "test-bank-n-key-1", p256());
    suite
        .fetch(
            "unregistered key (same kid)",
            &stranger,
            &active,
            &body,
            StatusCode::UNAUTHORIZED,
            "exchange.signature_invalid",
            "signature_invalid",
        )
        .await;
    let stranger = Consumer::new("test-bank-n", "not-registered", p256());
    suite
        .fetch(
            "unregistered key",
            &stranger,
            &active,
            &body,
            StatusCode::UNAUTHORIZED,
            "exchange.signature_unknown_key",
            "signature_unknown_key",
        )
        .await;

    // 19. A participant the directory does not know.
    let nobody = Consumer::new("no-such-bank", "k1", p256());
    suite
        .fetch(
            "unknown participant",
            &nobody,
            &active,
            &body,
            StatusCode::UNAUTHORIZED,
            "exchange.signature_unknown_key",
            "participant_unknown",
        )
        .await;

    // 20. No signature at all.
    let before = failures(&app, &subject(&active)).await.len();
    let answer = send(
        &app,
        Request::post(fetch_path(&active))
            .header("x-participant-id", "test-bank-n")
            .body(Body::from(body.clone()))
            .unwrap(),
    )
    .await;
    suite
        .refused(
            "no signature",
            &subject(&active),
            before,
            &answer,
            StatusCode::UNAUTHORIZED,
            "exchange.signature_missing",
            "signature_missing",
        )
        .await;

    // 21. A stale signature (ten minutes old).
    let signed = bank
        .sign_at("POST", &fetch_path(&active), &body, now() - 600)
        .unwrap();
    suite
        .signed(
            "stale signature",
            &active,
            &body,
            &signed,
            StatusCode::UNAUTHORIZED,
            "exchange.request_stale",
            "request_stale",
        )
        .await;

    // 22. A signature made for another request (another consent's path).
    let signed = bank.sign("POST", &fetch_path(&once), &body).unwrap();
    suite
        .signed(
            "signature for another request",
            &active,
            &body,
            &signed,
            StatusCode::UNAUTHORIZED,
            "exchange.signature_binding",
            "signature_binding",
        )
        .await;

    // 23. `alg: none`.
    let header = bauhinia_identity::jose::b64(
        br#"{"alg":"none","kid":"test-bank-n-key-1","iat":0,"jti":"x"}"#,
    );
    let unsigned = Signed {
        participant: "test-bank-n".into(),
        signature: format!("{header}.."),
        jti: "x".into(),
    };
    suite
        .signed(
            "alg none",
            &active,
            &body,
            &unsigned,
            StatusCode::UNAUTHORIZED,
            "exchange.signature_algorithm",
            "signature_algorithm",
        )
        .await;

    // An address that keeps failing is refused before any work (and without filling the
    // audit), for as long as its budget takes to refill.
    let mut blocked = None;
    for _ in 0..40 {
        let answer = call_signed(&app, "POST", &fetch_path(&active), &body, &unsigned).await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            blocked = Some(answer);
            break;
        }
    }
    let blocked = blocked.expect("repeated failures from one address are limited");
    assert_eq!(blocked.json()["code"], "exchange.rate_limited");
    assert_eq!(blocked.json()["reason"], "address");
    let wait: u64 = blocked.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(wait + 1)).await;

    // 24. The consent's signed artefact altered in the database.
    let id = altered["id"].as_str().unwrap();
    tamper(
        &app,
        &format!("UPDATE exchange_consents SET artefact = artefact || 'x' WHERE id = '{id}'"),
    )
    .await;
    suite
        .fetch(
            "consent JWS altered",
            &bank,
            &altered,
            &balance_body(range.0, range.1),
            StatusCode::FORBIDDEN,
            "exchange.consent_artefact_invalid",
            "artefact_invalid",
        )
        .await;

    // 25. The consent's terms widened in the database (the artefact no longer matches).
    let id = widened["id"].as_str().unwrap();
    let consent = consents.get(&ConsentId::parse(id).unwrap()).await.unwrap();
    let mut terms = serde_json::to_value(&consent.terms).unwrap();
    terms["data_range"]["from_s"] = json!(0);
    let terms = terms.to_string().replace('\'', "''");
    tamper(
        &app,
        &format!("UPDATE exchange_consents SET terms = '{terms}' WHERE id = '{id}'"),
    )
    .await;
    suite
        .fetch(
            "consent terms altered",
            &bank,
            &widened,
            &balance_body(range.0, range.1),
            StatusCode::FORBIDDEN,
            "exchange.consent_artefact_invalid",
            "artefact_invalid",
        )
        .await;

    // 26. A malformed data request.
    suite
        .fetch(
            "malformed data request",
            &bank,
            &active,
            br#"{"provider":"bank-004"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "exchange.fetch_invalid",
            "invalid",
        )
        .await;

    // 27. The owner approving someone else's consent (the portal's path: the engine refuses
    // and audits; the portal shows the code).
    let someone_else = create(
        &app,
        &bank,
        &consent_request(
            json!({"resident": "another-resident"}),
            &["iads.balance"],
            4,
        ),
    )
    .await;
    let before = failures(&app, &subject(&someone_else)).await.len();
    let refused = consents
        .act(
            &ConsentId::parse(someone_else["id"].as_str().unwrap()).unwrap(),
            &owner_id,
            OwnerAction::Approve,
            now(),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.problem().code.code(), "exchange.consent_not_owner");
    let after = failures(&app, &subject(&someone_else)).await;
    assert_eq!(after.len(), before + 1);
    assert!(after.last().unwrap().1.contains("\"reason\":\"not_owner\""));
    suite
        .cases
        .push("owner approving someone else's consent -> exchange.consent_not_owner".into());

    // 28. Another consumer reading a consent: it does not exist for them (and it is audited).
    let path = format!(
        "/api/v1/exchange/consents/{}",
        active["id"].as_str().unwrap()
    );
    let before = failures(&app, &subject(&active)).await.len();
    let (answer, _) = call(&app, &other_bank, "GET", &path, b"").await;
    suite
        .refused(
            "another consumer reading a consent",
            &subject(&active),
            before,
            &answer,
            StatusCode::NOT_FOUND,
            "exchange.consent_not_found",
            "not_named",
        )
        .await;

    assert!(suite.cases.len() >= 20, "{:#?}", suite.cases);
    eprintln!(
        "{} refusals, each with its code and audited:\n{}",
        suite.cases.len(),
        suite.cases.join("\n")
    );

    // And after all of it the chain still verifies.
    let report = bauhinia_exchange::chain::verify(&app.state.db, |kid| {
        app.state
            .exchange
            .keys()
            .jwks()
            .keys
            .iter()
            .find(|k| k.kid.as_deref() == Some(kid))
            .and_then(|k| k.to_key().ok())
    })
    .await
    .unwrap();
    assert!(report.intact(), "{report:?}");
}

fn subject(c: &Value) -> String {
    format!("consent:{}", c["id"].as_str().unwrap())
}

fn fetch_path(c: &Value) -> String {
    format!(
        "/api/v1/exchange/consents/{}/fetch",
        c["id"].as_str().unwrap()
    )
}

fn uuid_like() -> String {
    format!("{:08x}-0000-4000-8000-{:012x}", std::process::id(), now())
}

/// The resident id of a demo resident named by HKID.
async fn resident_id_of(app: &TestApp, hkid: &str) -> String {
    let hkid = bauhinia_core::Hkid::parse(hkid).unwrap();
    app.state
        .identity
        .find_by_hkid(&hkid)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// CDEG's Companies Registry route: company particulars come from the business directory
/// (CorpID), a consent for them is the company's, approved by one of its administrators —
/// checked at the request and again at approval — and the fetch stays data-blind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_companies_registry_serves_a_companys_particulars_under_its_administrators_consent() {
    use super::exchange_portal::{CHAN, WONG};
    use bauhinia_corpid::demo::{X_BRN, Y_BRN};
    use bauhinia_corpid::domain::{Brn, Role};
    use bauhinia_corpid::Caller;
    const REGISTRY: &str = "companies-registry";
    const PRODUCT: &str = "cdeg.company_particulars";

    let app = app().await;
    let bank = register(&app, "test-bank-cr", "consumer").await;
    let (chan, wong) = (
        resident_id_of(&app, CHAN).await,
        resident_id_of(&app, WONG).await,
    );
    let asking = |owner: Value| {
        let mut request = consent_request(owner, &[PRODUCT], 2);
        request["providers"] = json!([REGISTRY]);
        request
    };
    let refused = |answer: &Answer| -> Vec<String> {
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            answer.text()
        );
        let body = answer.json();
        assert_eq!(body["code"], "exchange.consent_invalid", "{body}");
        body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["pointer"].as_str().unwrap().to_owned())
            .collect()
    };
    // Refused, naming the fault: a resident owner; a business not on the Companies Register
    // (a partnership); a representative who is only a user of the company.
    for (owner, pointer) in [
        (json!({ "hkid": CHAN }), "/owner"),
        (
            json!({ "company": Y_BRN, "representative_hkid": CHAN }),
            "/owner/company",
        ),
        (
            json!({ "company": "99999999", "representative_hkid": CHAN }),
            "/owner/company",
        ),
        (
            json!({ "company": X_BRN, "representative_hkid": WONG }),
            "/owner/representative",
        ),
    ] {
        let body = asking(owner.clone()).to_string();
        let (answer, _) = call(
            &app,
            &bank,
            "POST",
            "/api/v1/exchange/consents",
            body.as_bytes(),
        )
        .await;
        assert_eq!(refused(&answer), [pointer], "{owner}");
    }

    // X's administrator approves; the registry's answer is X's particulars, sealed to the
    // bank's one-time key and signed by the registry.
    let consent = create(
        &app,
        &bank,
        &asking(json!({ "company": X_BRN, "representative_hkid": CHAN })),
    )
    .await;
    assert_eq!(consent["owner"]["company"], X_BRN);
    approve(&app, &consent, &chan).await;
    let id = consent["id"].as_str().unwrap().to_owned();
    let (body, keys) = Consumer::data_request(
        REGISTRY,
        &[PRODUCT],
        &rfc(now() - 30 * DAY),
        &rfc(now() - 60),
    )
    .unwrap();
    let path = format!("/api/v1/exchange/consents/{id}/fetch");
    let (answer, signed) = call(&app, &bank, "POST", &path, &body).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let signature = answer.headers[jws::HEADER_NAME]
        .to_str()
        .unwrap()
        .to_owned();
    let registry_key = |kid: &str| {
        let participant = futures_block(app.state.exchange.directory().get(REGISTRY))?;
        participant
            .verification_key(kid, now())
            .and_then(|jwk| jwk.to_key().ok())
    };
    let data = tokio::task::block_in_place(|| {
        Consumer::open_answer(
            &keys,
            &id,
            &answer.body,
            &signature,
            &signed.jti,
            registry_key,
        )
    })
    .unwrap();
    let doc = &data["products"][PRODUCT];
    assert_eq!(doc["brn"], X_BRN, "{doc}");
    assert_eq!(doc["owner"], X_BRN);
    assert_eq!(doc["name_en"], "Harbour Lights Trading Limited (SYNTHETIC)");
    assert_eq!(doc["name_zh"], "港灣燈火貿易有限公司");
    assert_eq!(doc["company_type"], "private_limited_by_shares");
    assert_eq!(doc["status"], "live");
    assert_eq!(doc["incorporation_date"], "2015-03-02");
    assert_eq!(doc["directors"][1]["name_en"], "HO, Wing Yee");
    assert!(
        doc.get("share_capital").is_none(),
        "nothing the register does not hold: {doc}"
    );
    let schema: Value =
        serde_json::from_str(bauhinia_exchange::products::ProductId::CompanyParticulars.schema())
            .unwrap();
    assert!(
        jsonschema::validator_for(&schema).unwrap().is_valid(doc),
        "{doc}"
    );
    // Data-blind: the gateway relayed ciphertext; the database holds none of the particulars.
    assert!(!contains(&answer.body, b"Wing Yee"));
    assert!(!contains(
        &database_bytes(&app),
        "HO, Wing Yee\",\"appointed".as_bytes()
    ));

    // A representative who stops being an administrator before approving approves nothing.
    let x = Brn::parse(X_BRN).unwrap();
    let corpid = &app.state.corpid;
    let as_chan = Caller::Resident(chan.clone());
    corpid
        .change_role(&x, &wong, Role::Administrator, &as_chan, now())
        .await
        .unwrap();
    let pending = create(
        &app,
        &bank,
        &asking(json!({ "company": X_BRN, "representative_hkid": WONG })),
    )
    .await;
    corpid
        .change_role(&x, &wong, Role::User, &as_chan, now())
        .await
        .unwrap();
    let pending_id = ConsentId::parse(pending["id"].as_str().unwrap()).unwrap();
    let outcome = app
        .state
        .exchange
        .consents()
        .act(
            &pending_id,
            &ResidentId::parse(&wong).unwrap(),
            OwnerAction::Approve,
            now(),
        )
        .await;
    assert!(
        matches!(
            outcome,
            Err(bauhinia_exchange::consent::ConsentError::NotOwner)
        ),
        "{outcome:?}"
    );
    assert_eq!(
        app.state
            .exchange
            .consents()
            .get(&pending_id)
            .await
            .unwrap()
            .status,
        bauhinia_exchange::consent::domain::Status::Pending
    );
    let audited = failures(&app, &format!("consent:{pending_id}")).await;
    assert!(
        audited
            .iter()
            .any(|(_, detail)| detail.contains("not_administrator")),
        "{audited:?}"
    );
}
