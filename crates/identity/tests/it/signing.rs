//! Digital signing on both backends (SQLite always; PostgreSQL when `DATABASE_URL` is set, which
//! the test command always does): the CA, enrolment, requests and their one-way statuses,
//! anonymous signing, verification and every way a signature can be wrong, audit, and keys at
//! rest.

use std::sync::Arc;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use bauhinia_core::crypto::{MasterKey, Vault};
use bauhinia_identity::clock::Clock;
use bauhinia_identity::domain::signing::{DocumentHash, RequestStatus};
use bauhinia_identity::domain::Hkid;
use bauhinia_identity::signing::format::{self, Payload};
use bauhinia_identity::signing::{
    ca, KeyStatus, SigningError, SigningService, SigningTarget, VerificationIssue,
};
use bauhinia_identity::{IdentityService, Resident};
use bauhinia_store::testing::TestDb;
use bauhinia_store::Database;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use time::OffsetDateTime;

pub const CLIENT: &str = "gov.hk/lands-e-conveyancing";
const OTHER_CLIENT: &str = "gov.hk/ird-etax";

fn today() -> time::Date {
    OffsetDateTime::now_utc().date()
}

/// The demo residents registered, the CA made.
pub struct Fixture {
    pub db: Database,
    pub vault: Arc<Vault>,
    pub signing: SigningService,
    pub residents: Vec<Resident>,
    pub hkids: Vec<Hkid>,
}

pub async fn fixture(db: &Database) -> Fixture {
    let vault = Arc::new(Vault::new(&MasterKey::generate()));
    let identity = IdentityService::new(db, Arc::clone(&vault));
    let mut residents = Vec::new();
    let mut hkids = Vec::new();
    for draft in bauhinia_identity::demo::residents() {
        residents.push(
            identity
                .register(&draft, "system:test", today())
                .await
                .expect("register"),
        );
        hkids.push(Hkid::parse(&draft.hkid).expect("valid"));
    }
    let signing = SigningService::new(db, Arc::clone(&vault));
    signing.ensure_ca().await.expect("CA");
    Fixture {
        db: db.clone(),
        vault,
        signing,
        residents,
        hkids,
    }
}

pub fn sha256(document: &[u8]) -> [u8; 32] {
    openssl::sha::sha256(document)
}

/// Enrols `resident`, asks for a signature on `document` and approves it: the JWS.
pub async fn signed(f: &Fixture, resident: &str, document: &[u8]) -> (String, String) {
    if f.signing
        .certificate_for(resident)
        .await
        .expect("read")
        .is_none()
    {
        f.signing
            .enrol(resident, "system:test")
            .await
            .expect("enrol");
    }
    let request = f
        .signing
        .create_request(
            CLIENT,
            SigningTarget::Resident(resident.to_owned()),
            "Assignment of Flat A, 8/F.pdf",
            &sha256(document),
        )
        .await
        .expect("request");
    let approved = f
        .signing
        .approve(&request.id, resident)
        .await
        .expect("approve");
    (approved.signature.expect("signature"), request.id)
}

pub fn parts(jws: &str) -> (serde_json::Value, serde_json::Value, String) {
    let mut parts = jws.split('.');
    let mut json = || {
        serde_json::from_slice::<serde_json::Value>(
            &URL_SAFE_NO_PAD
                .decode(parts.next().expect("part"))
                .expect("b64"),
        )
        .expect("json")
    };
    let header = json();
    let payload = json();
    (header, payload, parts.next().expect("signature").to_owned())
}

pub fn encode(json: &serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(json.to_string())
}

/// The same signature over a payload whose document hash differs in its first byte.
pub fn with_one_hash_byte_changed(jws: &str) -> String {
    let (_, mut payload, signature) = parts(jws);
    let hash = payload["document_hash"].as_str().expect("hash").to_owned();
    let first = u8::from_str_radix(&hash[..2], 16).expect("hex") ^ 0x01;
    payload["document_hash"] = format!("{first:02x}{}", &hash[2..]).into();
    let header = jws.split('.').next().expect("header");
    format!("{header}.{}.{signature}", encode(&payload))
}

fn x5c(header: &serde_json::Value) -> Vec<X509> {
    header["x5c"]
        .as_array()
        .expect("x5c")
        .iter()
        .map(|c| {
            X509::from_der(&STANDARD.decode(c.as_str().expect("str")).expect("b64")).expect("der")
        })
        .collect()
}

/// Signs `payload` with `key` and `chain` in `x5c`: a signature Bauhinia did not make.
fn forge(payload: &serde_json::Value, chain: &[&X509], key: &PKey<Private>) -> String {
    let payload: Payload = serde_json::from_value(payload.clone()).expect("payload");
    format::sign(
        &chain.iter().map(|c| c.as_ref()).collect::<Vec<_>>(),
        &payload,
        key,
    )
    .expect("sign")
}

async fn query_one<T>(db: &Database, sql: &str) -> T
where
    T: Send + Unpin,
    for<'r> T:
        sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    match db {
        Database::Sqlite(db) => sqlx::query_as(sql).fetch_one(&db.reader).await.expect(sql),
        Database::Postgres(pool) => sqlx::query_as(sql).fetch_one(pool).await.expect(sql),
    }
}

async fn query_all<T>(db: &Database, sql: &str) -> Vec<T>
where
    T: Send + Unpin,
    for<'r> T:
        sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    match db {
        Database::Sqlite(db) => sqlx::query_as(sql).fetch_all(&db.reader).await.expect(sql),
        Database::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await.expect(sql),
    }
}

async fn count(db: &Database, table: &str) -> i64 {
    query_one::<(i64,)>(db, &format!("SELECT COUNT(*) FROM {table}"))
        .await
        .0
}

async fn audit_actions(db: &Database, subject: &str) -> Vec<(String, String, String)> {
    db.audit_for_subject(subject, 100)
        .await
        .expect("audit")
        .into_iter()
        .map(|e| (e.action, e.outcome, e.actor))
        .collect()
}

/// The private key of a stored resident key, opened with the vault (as only Bauhinia can).
async fn stored_private_key(f: &Fixture, key_id: &str) -> PKey<Private> {
    let (sealed,): (Vec<u8>,) = query_one(
        &f.db,
        &format!("SELECT private_key_sealed FROM signing_keys WHERE id = '{key_id}'"),
    )
    .await;
    let der = f
        .vault
        .open(&format!("signing.key/{key_id}"), &sealed)
        .expect("opens with the right key and context");
    PKey::private_key_from_pkcs8(&der).expect("pkcs8")
}

fn issue_codes(errors: &[VerificationIssue]) -> Vec<&'static str> {
    errors.iter().map(VerificationIssue::code).collect()
}

async fn the_ca_is_made_once_and_reloaded(f: &Fixture) {
    assert_eq!(count(&f.db, "signing_authorities").await, 2);
    let chain = f.signing.ca_chain_pem().await.expect("chain");
    assert_eq!(chain.matches("-----BEGIN CERTIFICATE-----").count(), 2);
    // A second start (a new service on the same database) loads the same CA.
    let again = SigningService::new(&f.db, Arc::clone(&f.vault));
    again.ensure_ca().await.expect("reload");
    again.ensure_ca().await.expect("idempotent");
    assert_eq!(again.ca_chain_pem().await.expect("chain"), chain);
    assert_eq!(count(&f.db, "signing_authorities").await, 2);
    let root = X509::from_pem(f.signing.root_pem().await.expect("root").as_bytes()).expect("pem");
    assert_eq!(
        ca::name_text(root.subject_name()),
        "CN=Bauhinia iAM Smart Root CA,O=Bauhinia,C=HK"
    );
    let created: Vec<(String,)> = query_all(
        &f.db,
        "SELECT subject FROM audit_events WHERE action = 'signing.ca.create'",
    )
    .await;
    assert_eq!(created.len(), 1, "one CA creation, audited once");
}

async fn enrolment_issues_a_certificate_without_the_hkid(f: &Fixture) {
    let chan = &f.residents[0];
    assert!(f
        .signing
        .certificate_for(&chan.id)
        .await
        .expect("read")
        .is_none());
    let certificate = f
        .signing
        .enrol(&chan.id, "system:test")
        .await
        .expect("enrol");
    assert_eq!(certificate.status, KeyStatus::Active);
    assert_eq!(certificate.signer_id, f.signing.signer_id(&chan.id));
    assert_ne!(certificate.signer_id, chan.id);
    assert_eq!(
        certificate.subject,
        format!(
            "serialNumber={},CN=CHAN\\, Tai Man,C=HK",
            certificate.signer_id
        )
    );
    let lifetime = certificate.not_after - certificate.not_before;
    assert_eq!(lifetime.whole_days(), 731);
    assert_eq!(
        f.signing.certificate_for(&chan.id).await.expect("read"),
        Some(certificate.clone())
    );
    let der = X509::from_pem(certificate.certificate_pem.as_bytes())
        .expect("pem")
        .to_der()
        .expect("der");
    let hkid = f.hkids[0].expose();
    for needle in [hkid.clone(), hkid.replace(['(', ')'], "")] {
        assert!(
            !der.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "HKID in the certificate"
        );
    }
    assert_eq!(
        audit_actions(&f.db, &format!("resident:{}", chan.id))
            .await
            .last(),
        Some(&(
            "signing.key.enrol".to_owned(),
            "success".to_owned(),
            "system:test".to_owned()
        ))
    );
    assert!(matches!(
        f.signing.enrol("no-such-resident", "system:test").await,
        Err(SigningError::ResidentNotFound(_))
    ));
}

async fn request_approve_verify(f: &Fixture) {
    let chan = &f.residents[0].id;
    let document = b"Assignment of Flat A, 8/F, 1 Queen's Road Central";
    let request = f
        .signing
        .create_request(
            CLIENT,
            SigningTarget::Resident(chan.clone()),
            "  Assignment of Flat A, 8/F.pdf ",
            &sha256(document),
        )
        .await
        .expect("request");
    assert_eq!(request.status, RequestStatus::Pending);
    assert_eq!(request.document_name, "Assignment of Flat A, 8/F.pdf");
    assert_eq!(
        (request.expires_at - request.created_at).whole_seconds(),
        300
    );
    let pending = f.signing.pending_for(chan).await.expect("pending");
    assert!(pending.iter().any(|r| r.id == request.id));

    let approved = f.signing.approve(&request.id, chan).await.expect("approve");
    assert_eq!(approved.status, RequestStatus::Approved);
    let jws = approved.signature.clone().expect("signature");
    assert!(!f
        .signing
        .pending_for(chan)
        .await
        .expect("pending")
        .iter()
        .any(|r| r.id == request.id));

    // The service sees the signature; another service does not see the request at all.
    let seen = f.signing.get(&request.id, CLIENT).await.expect("get");
    assert_eq!(seen.signature.as_deref(), Some(jws.as_str()));
    assert!(matches!(
        f.signing.get(&request.id, OTHER_CLIENT).await,
        Err(SigningError::RequestNotFound(_))
    ));

    // The format: ES256, x5c of two, the payload as documented.
    let (header, payload, signature) = parts(&jws);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["typ"], "bauhinia-signature+jws");
    assert_eq!(x5c(&header).len(), 2);
    assert_eq!(URL_SAFE_NO_PAD.decode(signature).expect("b64").len(), 64);
    assert_eq!(payload["hash_alg"], "sha256");
    assert_eq!(
        payload["document_hash"],
        DocumentHash::from_bytes(&sha256(document))
            .expect("32")
            .to_hex()
    );
    assert_eq!(payload["request_id"], request.id.as_str());
    assert_eq!(payload["signer"], f.signing.signer_id(chan).as_str());
    assert!(payload.get("hkid_hash").is_none());

    let report = f.signing.verify(&jws).await.expect("verifies");
    assert!(report.valid, "{:?}", report.errors);
    assert!(report.signature_valid && report.chain_valid && report.cert_valid_at_signing_time);
    assert_eq!(report.signer_name.as_deref(), Some("CHAN, Tai Man"));
    assert_eq!(
        report.certificate_serial,
        f.signing
            .certificate_for(chan)
            .await
            .expect("r")
            .expect("some")
            .serial
    );
    let hash = DocumentHash::from_bytes(&sha256(document)).expect("32");
    assert!(
        f.signing
            .verify_document(&jws, Some(&hash))
            .await
            .expect("v")
            .valid
    );
    let other = DocumentHash::from_bytes(&sha256(b"another document")).expect("32");
    let report = f
        .signing
        .verify_document(&jws, Some(&other))
        .await
        .expect("v");
    assert_eq!(issue_codes(&report.errors), ["document_hash_mismatch"]);

    // One byte of the hash changed, the signature kept: refused.
    let report = f
        .signing
        .verify(&with_one_hash_byte_changed(&jws))
        .await
        .expect("well-formed");
    assert!(!report.valid && !report.signature_valid);
    assert!(issue_codes(&report.errors).contains(&"signature_mismatch"));

    // Audited: created by the service, approved by the resident.
    let actions = audit_actions(&f.db, &format!("signing_request:{}", request.id)).await;
    assert_eq!(
        actions,
        [
            (
                "signing.request.create".to_owned(),
                "success".to_owned(),
                format!("service:{CLIENT}")
            ),
            (
                "signing.request.approve".to_owned(),
                "success".to_owned(),
                format!("resident:{chan}")
            ),
        ]
    );

    // Decided once: no second approval, no rejection afterwards.
    assert!(matches!(
        f.signing.approve(&request.id, chan).await,
        Err(SigningError::NotPending(RequestStatus::Approved))
    ));
    assert!(matches!(
        f.signing.reject(&request.id, chan).await,
        Err(SigningError::NotPending(RequestStatus::Approved))
    ));
    assert_eq!(
        f.signing
            .get(&request.id, CLIENT)
            .await
            .expect("get")
            .signature,
        Some(jws)
    );
}

async fn only_the_named_resident_decides(f: &Fixture) {
    let (chan, lee) = (&f.residents[0].id, &f.residents[1].id);
    f.signing.enrol(lee, "system:test").await.expect("enrol");
    let request = f
        .signing
        .create_request(
            CLIENT,
            SigningTarget::Resident(chan.clone()),
            "Deed.pdf",
            &[7; 32],
        )
        .await
        .expect("request");
    for attempt in [
        f.signing.approve(&request.id, lee).await,
        f.signing.reject(&request.id, lee).await,
    ] {
        assert!(matches!(attempt, Err(SigningError::RequestNotFound(_))));
    }
    let seen = f.signing.get(&request.id, CLIENT).await.expect("get");
    assert_eq!(
        (seen.status, seen.signature),
        (RequestStatus::Pending, None)
    );
    let actions = audit_actions(&f.db, &format!("signing_request:{}", request.id)).await;
    assert_eq!(
        actions
            .iter()
            .filter(
                |(_, outcome, actor)| outcome == "failure" && *actor == format!("resident:{lee}")
            )
            .count(),
        2,
        "{actions:?}"
    );
    // Rejected by the right resident: final.
    let rejected = f.signing.reject(&request.id, chan).await.expect("reject");
    assert_eq!(rejected.status, RequestStatus::Rejected);
    assert!(matches!(
        f.signing.approve(&request.id, chan).await,
        Err(SigningError::NotPending(RequestStatus::Rejected))
    ));
    // Unknown requests and residents.
    assert!(matches!(
        f.signing.approve("no-such-request", chan).await,
        Err(SigningError::RequestNotFound(_))
    ));
    assert!(matches!(
        f.signing.approve(&request.id, "no-such-resident").await,
        Err(SigningError::ResidentNotFound(_))
    ));
}

async fn anonymous_signing_is_bound_to_the_hkid(f: &Fixture) {
    let (chan, lee) = (&f.residents[0].id, &f.residents[1].id);
    let lee_hkid = &f.hkids[1];
    let target = SigningTarget::anonymous(&f.vault, lee_hkid);
    let request = f
        .signing
        .create_request(CLIENT, target.clone(), "Consent form.pdf", &[9; 32])
        .await
        .expect("request");
    assert!(request.anonymous && request.resident_id.is_none());
    assert!(f
        .signing
        .pending_for(lee)
        .await
        .expect("pending")
        .iter()
        .any(|r| r.id == request.id));
    assert!(!f
        .signing
        .pending_for(chan)
        .await
        .expect("pending")
        .iter()
        .any(|r| r.id == request.id));
    // Someone else cannot approve it; the holder of that HKID can.
    assert!(matches!(
        f.signing.approve(&request.id, chan).await,
        Err(SigningError::RequestNotFound(_))
    ));
    let approved = f.signing.approve(&request.id, lee).await.expect("approve");
    let jws = approved.signature.expect("signature");
    let report = f.signing.verify(&jws).await.expect("verify");
    assert!(report.valid, "{:?}", report.errors);
    let hkid_hash = report.payload.hkid_hash.clone().expect("hkid_hash");
    assert_eq!(URL_SAFE_NO_PAD.decode(&hkid_hash).expect("b64").len(), 32);
    // Not an unkeyed hash of the HKID (which anyone could reverse from the small HKID space).
    for form in [lee_hkid.expose(), lee_hkid.expose().replace(['(', ')'], "")] {
        assert_ne!(URL_SAFE_NO_PAD.encode(sha256(form.as_bytes())), hkid_hash);
    }
    // Stable for one service, unrelated across services.
    let sign_for = |client: &'static str| {
        let target = target.clone();
        async move {
            let request = f
                .signing
                .create_request(client, target, "Consent form.pdf", &[9; 32])
                .await
                .expect("request");
            let jws = f
                .signing
                .approve(&request.id, lee)
                .await
                .expect("approve")
                .signature
                .expect("signature");
            parts(&jws).1["hkid_hash"].as_str().expect("str").to_owned()
        }
    };
    assert_eq!(sign_for(CLIENT).await, hkid_hash);
    assert_ne!(sign_for(OTHER_CLIENT).await, hkid_hash);
    // No HKID in any audit detail of these requests.
    let details: Vec<(String,)> = query_all(
        &f.db,
        match f.db {
            Database::Sqlite(_) => "SELECT detail FROM audit_events",
            Database::Postgres(_) => "SELECT detail::text FROM audit_events",
        },
    )
    .await;
    for (detail,) in details {
        assert!(!detail.contains(&lee_hkid.expose()), "{detail}");
    }
}

async fn requests_are_validated_and_bad_ones_write_nothing(f: &Fixture) {
    let chan = &f.residents[0].id;
    let (requests, events) = (
        count(&f.db, "signing_requests").await,
        count(&f.db, "audit_events").await,
    );
    match f
        .signing
        .create_request(
            "has space",
            SigningTarget::Resident(chan.clone()),
            "bad\u{7}name",
            &[0; 31],
        )
        .await
    {
        Err(SigningError::Invalid(errors)) => {
            let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
            assert_eq!(pointers, ["/client_id", "/document_name", "/document_hash"]);
        }
        other => panic!("expected invalid, got {other:?}"),
    }
    for (name, hash) in [
        (String::new(), vec![1u8; 32]),
        ("x".repeat(257), vec![1; 32]),
        ("ok.pdf".to_owned(), vec![1; 33]),
    ] {
        assert!(matches!(
            f.signing
                .create_request(CLIENT, SigningTarget::Resident(chan.clone()), &name, &hash)
                .await,
            Err(SigningError::Invalid(_))
        ));
    }
    assert!(matches!(
        f.signing
            .create_request(
                CLIENT,
                SigningTarget::Resident("no-such-resident".into()),
                "ok.pdf",
                &[1; 32]
            )
            .await,
        Err(SigningError::ResidentNotFound(_))
    ));
    assert_eq!(count(&f.db, "signing_requests").await, requests);
    assert_eq!(count(&f.db, "audit_events").await, events);
}

async fn expiry_cancellation_and_enrolment_are_required(f: &Fixture) {
    let (chan, wong) = (&f.residents[0].id, &f.residents[2].id);
    // Five minutes later the request has expired: no approval, and the expiry is recorded.
    let request = f
        .signing
        .create_request(
            CLIENT,
            SigningTarget::Resident(chan.clone()),
            "Late.pdf",
            &[3; 32],
        )
        .await
        .expect("request");
    let later = f.signing.clone().with_clock(Clock::manual(
        OffsetDateTime::now_utc() + time::Duration::seconds(301),
    ));
    assert_eq!(
        later.get(&request.id, CLIENT).await.expect("get").status,
        RequestStatus::Expired
    );
    assert!(matches!(
        later.approve(&request.id, chan).await,
        Err(SigningError::Expired)
    ));
    assert!(matches!(
        f.signing.approve(&request.id, chan).await,
        Err(SigningError::Expired)
    ));
    let actions = audit_actions(&f.db, &format!("signing_request:{}", request.id)).await;
    assert_eq!(
        actions.last().map(|a| a.0.as_str()),
        Some("signing.request.expire")
    );

    // Nor can it be cancelled once expired.
    let request = f
        .signing
        .create_request(
            CLIENT,
            SigningTarget::Resident(chan.clone()),
            "Old.pdf",
            &[3; 32],
        )
        .await
        .expect("request");
    assert!(matches!(
        later.cancel(&request.id, CLIENT).await,
        Err(SigningError::Expired)
    ));

    // The service may cancel while pending, and only its own request.
    let request = f
        .signing
        .create_request(
            CLIENT,
            SigningTarget::Resident(chan.clone()),
            "Draft.pdf",
            &[4; 32],
        )
        .await
        .expect("request");
    assert!(matches!(
        f.signing.cancel(&request.id, OTHER_CLIENT).await,
        Err(SigningError::RequestNotFound(_))
    ));
    let cancelled = f.signing.cancel(&request.id, CLIENT).await.expect("cancel");
    assert_eq!(cancelled.status, RequestStatus::Cancelled);
    assert!(matches!(
        f.signing.approve(&request.id, chan).await,
        Err(SigningError::NotPending(RequestStatus::Cancelled))
    ));
    assert!(matches!(
        f.signing.cancel(&request.id, CLIENT).await,
        Err(SigningError::NotPending(RequestStatus::Cancelled))
    ));

    // A resident without a signing key cannot approve (and the request stays pending).
    let request = f
        .signing
        .create_request(
            CLIENT,
            SigningTarget::Resident(wong.clone()),
            "Form.pdf",
            &[5; 32],
        )
        .await
        .expect("request");
    assert!(matches!(
        f.signing.approve(&request.id, wong).await,
        Err(SigningError::NotEnrolled)
    ));
    assert_eq!(
        f.signing
            .get(&request.id, CLIENT)
            .await
            .expect("get")
            .status,
        RequestStatus::Pending
    );
}

async fn concurrent_approvals_sign_once(f: &Fixture) {
    let chan = &f.residents[0].id;
    let request = f
        .signing
        .create_request(
            CLIENT,
            SigningTarget::Resident(chan.clone()),
            "Race.pdf",
            &[6; 32],
        )
        .await
        .expect("request");
    let (a, b, c) = tokio::join!(
        f.signing.approve(&request.id, chan),
        f.signing.approve(&request.id, chan),
        f.signing.reject(&request.id, chan),
    );
    let decided = [a.is_ok(), b.is_ok(), c.is_ok()];
    assert_eq!(decided.iter().filter(|ok| **ok).count(), 1, "{decided:?}");
    let actions = audit_actions(&f.db, &format!("signing_request:{}", request.id)).await;
    assert_eq!(actions.len(), 2, "created and decided once: {actions:?}");
}

async fn forged_and_tampered_signatures_fail(f: &Fixture) {
    let (chan, lee) = (&f.residents[0].id, &f.residents[1].id);
    let (jws, _) = signed(f, chan, b"the original").await;
    let (lee_jws, _) = signed(f, lee, b"lee's document").await;
    let (header, payload, signature) = parts(&jws);
    let chain = x5c(&header);
    let p = jws.split('.').nth(1).expect("payload").to_owned();
    let check = |jws: String, expected: &'static [&'static str]| async move {
        let report = f.signing.verify(&jws).await.expect("well-formed");
        assert!(!report.valid, "{expected:?} must not verify");
        let codes = issue_codes(&report.errors);
        for code in expected {
            assert!(codes.contains(code), "{code} not in {codes:?}");
        }
        report
    };

    // The same header and payload re-serialised with their members in another order: the signed
    // bytes are what counts, so this no longer verifies.
    let reordered = format!("{}.{}.{signature}", encode(&header), encode(&payload));
    assert_ne!(reordered, jws);
    check(reordered, &["signature_mismatch"]).await;

    // x5c tampered: another resident's certificate as signer.
    let mut swapped = header.clone();
    swapped["x5c"][0] = parts(&lee_jws).0["x5c"][0].clone();
    let report = check(
        format!("{}.{p}.{signature}", encode(&swapped)),
        &["signature_mismatch"],
    )
    .await;
    assert!(report.chain_valid, "Lee's certificate itself is genuine");

    // x5c without the issuing CA (signed with the real key): no chain.
    let report = check(
        forge(&payload, &[&chain[0]], &stored_key_of(f, chan).await),
        &["chain_untrusted"],
    )
    .await;
    assert!(report.signature_valid && !report.chain_valid);

    // One byte of the signer's certificate changed (its signature value): the chain breaks.
    let mut der = chain[0].to_der().expect("der");
    let last = der.len() - 1;
    der[last] ^= 0x01;
    let mut bent = header.clone();
    bent["x5c"][0] = STANDARD.encode(&der).into();
    let report = check(
        format!("{}.{p}.{signature}", encode(&bent)),
        &["chain_untrusted"],
    )
    .await;
    assert!(!report.chain_valid);

    // A look-alike CA with the same names, and a key of its own: signature fine, chain not.
    let now = OffsetDateTime::now_utc().unix_timestamp() - 10;
    let (root, root_key) = ca::new_root(now).expect("root");
    let (issuing, issuing_key) = ca::new_issuing(&root, &root_key, now).expect("issuing");
    let key = ca::new_key().expect("key");
    let public = PKey::public_key_from_der(&key.public_key_to_der().expect("der")).expect("pub");
    let subject = ca::SignerSubject {
        english_name: "CHAN, Tai Man".into(),
        signer_id: f.signing.signer_id(chan),
    };
    let fake = ca::issue_signing_certificate(&issuing, &issuing_key, &subject, &public, now)
        .expect("leaf");
    let report = check(
        forge(&payload, &[&fake, &issuing], &key),
        &["chain_untrusted", "certificate_unknown", "not_on_record"],
    )
    .await;
    assert!(report.signature_valid && !report.chain_valid);

    // The real certificate, another key: the signature does not match.
    check(
        forge(&payload, &[&chain[0], &chain[1]], &key),
        &["signature_mismatch"],
    )
    .await;

    // The real key, but a payload Bauhinia never signed: not on record.
    let mut other = payload.clone();
    other["document_name"] = "Something else.pdf".into();
    let report = check(
        forge(
            &other,
            &[&chain[0], &chain[1]],
            &stored_key_of(f, chan).await,
        ),
        &["not_on_record"],
    )
    .await;
    assert!(report.signature_valid && report.chain_valid);

    // The real key, a payload naming another signer.
    let mut other = payload.clone();
    other["signer"] = "0".repeat(32).into();
    let report = check(
        forge(
            &other,
            &[&chain[0], &chain[1]],
            &stored_key_of(f, chan).await,
        ),
        &["signer_mismatch", "not_on_record"],
    )
    .await;
    assert!(report.signature_valid && report.chain_valid);

    // Signed after the certificate expired.
    let mut late = payload.clone();
    late["signed_at"] = (ca::unix_time(chain[0].not_after()).expect("t") + 10).into();
    check(
        forge(
            &late,
            &[&chain[0], &chain[1]],
            &stored_key_of(f, chan).await,
        ),
        &["certificate_not_valid_at_signing_time", "signed_in_future"],
    )
    .await;

    // A verifier whose clock is an hour behind sees a signature from the future.
    let behind = f.signing.clone().with_clock(Clock::manual(
        OffsetDateTime::now_utc() - time::Duration::hours(1),
    ));
    let report = behind.verify(&jws).await.expect("v");
    assert_eq!(issue_codes(&report.errors), ["signed_in_future"]);
}

async fn stored_key_of(f: &Fixture, resident: &str) -> PKey<Private> {
    let key = f
        .signing
        .certificate_for(resident)
        .await
        .expect("read")
        .expect("enrolled");
    stored_private_key(f, &key.key_id).await
}

async fn re_enrolment_revokes_the_previous_key(f: &Fixture) {
    let chan = &f.residents[0].id;
    let (before, _) = signed(f, chan, b"signed before re-enrolment").await;
    let old = f
        .signing
        .certificate_for(chan)
        .await
        .expect("r")
        .expect("some");
    let old_key = stored_private_key(f, &old.key_id).await;
    let new = f
        .signing
        .enrol(chan, "resident:test")
        .await
        .expect("re-enrol");
    assert_ne!(new.serial, old.serial);
    assert_eq!(
        new.signer_id, old.signer_id,
        "the signer id survives re-enrolment"
    );
    let active: Vec<(String,)> = query_all(
        &f.db,
        &format!("SELECT id FROM signing_keys WHERE resident_id = '{chan}' AND status = 'active'"),
    )
    .await;
    assert_eq!(active, [(new.key_id.clone(),)]);
    let events =
        f.db.audit_for_subject(&format!("resident:{chan}"), 100)
            .await
            .expect("audit");
    let last = events.last().expect("event");
    assert!(last.detail.contains(&old.key_id), "{}", last.detail);

    // A signature made while the old key was active stays valid (the key was superseded, not
    // compromised, and the signature predates the revocation).
    let report = f.signing.verify(&before).await.expect("v");
    assert!(report.valid, "{:?}", report.errors);
    // One made with the old key after its revocation is refused.
    let (header, mut payload, _) = parts(&before);
    let chain = x5c(&header);
    payload["signed_at"] = (OffsetDateTime::now_utc().unix_timestamp() + 1).into();
    let forged = forge(&payload, &[&chain[0], &chain[1]], &old_key);
    let report = f.signing.verify(&forged).await.expect("v");
    assert!(report.signature_valid && report.chain_valid && !report.valid);
    assert!(issue_codes(&report.errors).contains(&"certificate_revoked"));
    // New approvals use the new key.
    let (after, _) = signed(f, chan, b"signed after re-enrolment").await;
    let report = f.signing.verify(&after).await.expect("v");
    assert!(report.valid);
    assert_eq!(report.certificate_serial, new.serial);
}

/// Every stored byte of the signing tables and the audit log.
async fn stored_bytes(db: &Database) -> Vec<u8> {
    let mut out = Vec::new();
    let authorities: Vec<(String, String, Vec<u8>, Vec<u8>)> = query_all(
        db,
        "SELECT id, role, certificate_der, private_key_sealed FROM signing_authorities",
    )
    .await;
    for (a, b, c, d) in authorities {
        out.extend([a.into_bytes(), b.into_bytes(), c, d].concat());
    }
    let keys: Vec<(String, String, Vec<u8>, Vec<u8>)> = query_all(
        db,
        "SELECT id, serial, certificate_der, private_key_sealed FROM signing_keys",
    )
    .await;
    for (a, b, c, d) in keys {
        out.extend([a.into_bytes(), b.into_bytes(), c, d].concat());
    }
    let requests: Vec<(String, Vec<u8>, Option<String>)> = query_all(
        db,
        "SELECT document_name, document_hash, signature FROM signing_requests",
    )
    .await;
    for (a, b, c) in requests {
        out.extend([a.into_bytes(), b, c.unwrap_or_default().into_bytes()].concat());
    }
    let audit: Vec<(String,)> = query_all(
        db,
        match db {
            Database::Sqlite(_) => "SELECT detail FROM audit_events",
            Database::Postgres(_) => "SELECT detail::text FROM audit_events",
        },
    )
    .await;
    for (detail,) in audit {
        out.extend(detail.into_bytes());
    }
    out
}

async fn private_keys_are_sealed_at_rest(f: &Fixture) {
    let stored = stored_bytes(&f.db).await;
    let contains = |needle: &[u8]| stored.windows(needle.len()).any(|w| w == needle);
    assert!(!contains(b"PRIVATE KEY"), "a PEM private key in clear");
    let mut keys: Vec<(String, Vec<u8>)> =
        query_all::<(String, Vec<u8>)>(&f.db, "SELECT id, private_key_sealed FROM signing_keys")
            .await
            .into_iter()
            .map(|(id, sealed)| (format!("signing.key/{id}"), sealed))
            .collect();
    keys.extend(
        query_all::<(String, Vec<u8>)>(
            &f.db,
            "SELECT id, private_key_sealed FROM signing_authorities",
        )
        .await
        .into_iter()
        .map(|(id, sealed)| (format!("signing.ca/{id}"), sealed)),
    );
    assert!(keys.len() >= 4, "two CA keys and resident keys");
    let stranger = Vault::new(&MasterKey::generate());
    for (context, sealed) in &keys {
        let pkcs8 = f
            .vault
            .open(context, sealed)
            .expect("opens with this master key");
        let key = PKey::private_key_from_pkcs8(&pkcs8).expect("pkcs8");
        let scalar = key.ec_key().expect("ec").private_key().to_vec();
        assert!(!contains(&pkcs8), "{context}: PKCS#8 DER in clear");
        assert!(!contains(&scalar), "{context}: private scalar in clear");
        assert!(
            stranger.open(context, sealed).is_err(),
            "{context}: opens with another key"
        );
        assert!(
            f.vault.open("signing.key/someone-else", sealed).is_err(),
            "{context}: opens under another context"
        );
    }
    // A start with another master key refuses the CA instead of signing with garbage.
    let wrong = SigningService::new(&f.db, Arc::new(stranger));
    assert!(matches!(
        wrong.ensure_ca().await,
        Err(SigningError::Vault(_))
    ));
}

pub async fn suite(db: &Database) {
    let f = fixture(db).await;
    the_ca_is_made_once_and_reloaded(&f).await;
    enrolment_issues_a_certificate_without_the_hkid(&f).await;
    request_approve_verify(&f).await;
    only_the_named_resident_decides(&f).await;
    anonymous_signing_is_bound_to_the_hkid(&f).await;
    requests_are_validated_and_bad_ones_write_nothing(&f).await;
    expiry_cancellation_and_enrolment_are_required(&f).await;
    concurrent_approvals_sign_once(&f).await;
    forged_and_tampered_signatures_fail(&f).await;
    re_enrolment_revokes_the_previous_key(&f).await;
    private_keys_are_sealed_at_rest(&f).await;
}

#[tokio::test]
async fn signing_sqlite() {
    let test = TestDb::sqlite().await.expect("sqlite");
    suite(&test.db).await;
    test.cleanup().await.expect("cleanup");
}

#[tokio::test]
async fn signing_postgres() {
    let Some(test) = TestDb::postgres().await.expect("postgres test database") else {
        eprintln!("store conformance: postgres (signing) not run (DATABASE_URL unset; scripts/test always sets it)");
        return;
    };
    suite(&test.db).await;
    test.cleanup().await.expect("cleanup");
    println!("store conformance: postgres (signing) passed");
}

/// Whatever text arrives at verification, the answer is a report or a malformed-signature
/// error, never a panic; and no alteration of a genuine signature verifies.
#[test]
fn verify_never_panics_and_no_mutation_verifies() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (test, f, jws) = runtime.block_on(async {
        let test = TestDb::sqlite().await.expect("sqlite");
        let f = fixture(&test.db).await;
        let chan = f.residents[0].id.clone();
        let (jws, _) = signed(&f, &chan, b"a document").await;
        (test, f, jws)
    });
    assert!(runtime.block_on(f.signing.verify(&jws)).expect("v").valid);

    let mut runner = TestRunner::new(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&".{0,400}", |text| {
            match runtime.block_on(f.signing.verify(&text)) {
                Ok(report) => prop_assert!(!report.valid),
                Err(SigningError::Malformed(_)) => {}
                Err(other) => prop_assert!(false, "unexpected error {other:?}"),
            }
            Ok(())
        })
        .expect("arbitrary text");
    let length = jws.len();
    runner
        .run(&(0..length, 1u8..=255), |(at, xor)| {
            let mut bytes = jws.clone().into_bytes();
            bytes[at] ^= xor;
            let Ok(text) = String::from_utf8(bytes) else {
                return Ok(());
            };
            match runtime.block_on(f.signing.verify(&text)) {
                Ok(report) => prop_assert!(
                    !report.valid || text.trim() == jws,
                    "a mutation at {at} verified"
                ),
                Err(SigningError::Malformed(_)) => {}
                Err(other) => prop_assert!(false, "unexpected error {other:?}"),
            }
            Ok(())
        })
        .expect("mutated signatures");
    runtime.block_on(test.cleanup()).expect("cleanup");
}
