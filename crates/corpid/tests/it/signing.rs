//! Company signatures on both dialects: the three types, one and two signatories, the
//! negative suite (each refusal a precise `corpid.*` problem and an audit event, nothing
//! signed), revocation with suspension and re-keying, verification of genuine, altered and
//! forged signatures, signed status answers, and an independent check with Python's
//! `cryptography` (`tests/python/verify_company_signature.py`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use bauhinia_core::crypto::{MasterKey, Vault};
use bauhinia_core::Problem;
use bauhinia_corpid::domain::signing::SigningKind;
use bauhinia_corpid::domain::{
    Brn, BusinessDraft, DelegationTerms, Role, SignatoriesRequired, StatusChange,
};
use bauhinia_corpid::signing::format::{self, Payload, SignerKind, Unsigned};
use bauhinia_corpid::signing::{CompanySigning, Issue};
use bauhinia_corpid::{Caller, CorpIdError, CorpIdService};
use bauhinia_identity::domain::signing::{to_hex, DocumentHash, RequestStatus};
use bauhinia_identity::{IdentityService, SigningService};
use bauhinia_store::testing::TestDb;
use bauhinia_store::Database;
use openssl::pkey::PKey;
use openssl::x509::X509;

const CLIENT: &str = "lands-registry";

fn brn(text: &str) -> Brn {
    Brn::parse(text).unwrap()
}

fn now() -> i64 {
    bauhinia_core::background::now_ms() / 1_000
}

fn draft(brn: &str, name: &str) -> BusinessDraft {
    BusinessDraft {
        brn: brn.into(),
        form: "private_limited_by_shares".into(),
        name_en: name.into(),
        name_zh: Some("海港貿易有限公司".into()),
        address: vec!["1 Queen's Road Central".into()],
        registered_on: "2020-01-02".into(),
        directors: vec![],
    }
}

pub struct Fixture {
    pub db: Database,
    pub vault: Arc<Vault>,
    pub corpid: CorpIdService,
    pub signing: Arc<SigningService>,
    pub company: CompanySigning,
    /// 0 administrator of A, 1 signatory of A, 2 user of A, 3 administrator of the agent B,
    /// 4 administrator of C.
    pub residents: Vec<String>,
    pub delegation: String,
}

pub const A: &str = "12345678";
pub const B: &str = "23456789";
pub const C: &str = "34567890";

pub async fn fixture(db: &Database) -> Fixture {
    let vault = Arc::new(Vault::new(&MasterKey::generate()));
    let identity = IdentityService::new(db, Arc::clone(&vault));
    let today = time::OffsetDateTime::now_utc().date();
    let mut residents = Vec::new();
    for resident in bauhinia_identity::demo::residents() {
        residents.push(
            identity
                .register(&resident, "system:test", today)
                .await
                .unwrap()
                .id,
        );
    }
    let corpid = CorpIdService::new(db);
    let operator = Caller::Operator("admin".into());
    let t = now();
    for (number, name, admin) in [
        (A, "Harbour Trading Limited", 0),
        (B, "Kowloon Secretarial Services Limited", 3),
        (C, "Other Business Limited", 4),
    ] {
        corpid
            .register(&draft(number, name), &residents[admin], &operator, t)
            .await
            .unwrap();
    }
    corpid
        .grant(
            &brn(A),
            &residents[1],
            Role::AuthorisedSignatory,
            &operator,
            t,
        )
        .await
        .unwrap();
    corpid
        .grant(&brn(A), &residents[2], Role::User, &operator, t)
        .await
        .unwrap();
    let terms = DelegationTerms::new(Some(Role::AuthorisedSignatory), t, t + 3_600, t).unwrap();
    let delegation = corpid
        .create_delegation(&brn(A), &brn(B), &terms, &operator, t)
        .await
        .unwrap();
    let signing = Arc::new(SigningService::new(db, Arc::clone(&vault)));
    signing.ensure_ca().await.unwrap();
    let company = CompanySigning::new(db, corpid.clone(), Arc::clone(&signing), Arc::clone(&vault));
    Fixture {
        db: db.clone(),
        vault,
        corpid,
        signing,
        company,
        residents,
        delegation,
    }
}

pub fn sha256(document: &[u8]) -> [u8; 32] {
    openssl::sha::sha256(document)
}

async fn count(db: &Database, sql: &str) -> i64 {
    match db {
        Database::Sqlite(db) => sqlx::query_scalar(sql).fetch_one(&db.reader).await.unwrap(),
        Database::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
    }
}

/// The audit events of `action` with `outcome` about one request.
async fn audited(db: &Database, request: &str, action: &str, outcome: &str) -> i64 {
    count(
        db,
        &format!(
            "SELECT COUNT(*) FROM audit_events WHERE subject = 'corpid_signing_request:{request}' \
             AND action = '{action}' AND outcome = '{outcome}'"
        ),
    )
    .await
}

impl Fixture {
    pub async fn request(&self, business: &str, kind: SigningKind, document: &[u8]) -> String {
        self.company
            .create_request(
                CLIENT,
                business,
                kind.as_str(),
                "Board resolution 董事會決議.pdf",
                &sha256(document),
                now(),
            )
            .await
            .unwrap()
            .id
    }

    /// Asserts that `resident`'s approval is refused with `code`, audited, and signs nothing.
    async fn refused(&self, what: &str, request: &str, resident: usize, at: i64, code: &str) {
        let before = audited(
            &self.db,
            request,
            "corpid.signing.request.approve",
            "failure",
        )
        .await;
        let error = self
            .company
            .approve(request, &self.residents[resident], at)
            .await
            .expect_err(code);
        assert_eq!(Problem::from(error).document().code, code);
        assert_eq!(
            audited(
                &self.db,
                request,
                "corpid.signing.request.approve",
                "failure"
            )
            .await,
            before + 1,
            "{code} audited"
        );
        let view = self.company.get(request, CLIENT, at).await.unwrap();
        assert_eq!(view.signature, None, "{code}: nothing signed");
        println!("{what} -> {code} (audited, nothing signed)");
    }
}

fn issue_codes(issues: &[Issue]) -> Vec<&'static str> {
    issues.iter().map(Issue::code).collect()
}

/// A company signature made by the test itself with the business's current key (opened with
/// the vault, as only Bauhinia could), for `payload`: a forgery Bauhinia never produced.
async fn forge(f: &Fixture, business: &str, payload: &Payload) -> String {
    let business = f.corpid.business(&brn(business)).await.unwrap();
    let (id, sealed, der): (String, Vec<u8>, Vec<u8>) = match &f.db {
        Database::Sqlite(db) => sqlx::query_as("SELECT id, private_key_sealed, certificate_der FROM corpid_signing_keys WHERE business_id = $1 ORDER BY created_at_s DESC LIMIT 1")
            .bind(&business.id).fetch_one(&db.reader).await.unwrap(),
        Database::Postgres(pool) => sqlx::query_as("SELECT id, private_key_sealed, certificate_der FROM corpid_signing_keys WHERE business_id = $1 ORDER BY created_at_s DESC LIMIT 1")
            .bind(&business.id).fetch_one(pool).await.unwrap(),
    };
    let key =
        PKey::private_key_from_pkcs8(&f.vault.open(&format!("corpid.key/{id}"), &sealed).unwrap())
            .unwrap();
    let leaf = X509::from_der(&der).unwrap();
    let issuing = f.signing.ca_certificates().await.unwrap().issuing;
    let unsigned = Unsigned::new(payload).unwrap();
    let (protected, input) = unsigned
        .signing_input(SignerKind::Company, &[&leaf, &issuing])
        .unwrap();
    let signature = bauhinia_identity::jose::sign_raw(
        bauhinia_identity::jose::Alg::ES256,
        &key,
        input.as_bytes(),
    )
    .unwrap();
    unsigned.serialize(&[(protected, signature)]).unwrap()
}

/// The operator suspends the business (which revokes its company certificate).
async fn suspend(f: &Fixture, business: &str, at: i64) {
    f.corpid
        .change_status(
            &brn(business),
            StatusChange::Suspend,
            Some("test"),
            &Caller::Operator("admin".into()),
            at,
        )
        .await
        .unwrap();
}

/// The signature with one hexadecimal digit of the signed document hash changed.
pub fn with_one_hash_byte_changed(signature: &str) -> String {
    let mut general: serde_json::Value = serde_json::from_str(signature).unwrap();
    let payload = URL_SAFE_NO_PAD
        .decode(general["payload"].as_str().unwrap())
        .unwrap();
    let mut payload: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    let hash = payload["document_hash"].as_str().unwrap().to_owned();
    let flipped = if hash.starts_with('0') { "1" } else { "0" };
    payload["document_hash"] = format!("{flipped}{}", &hash[1..]).into();
    general["payload"] = URL_SAFE_NO_PAD.encode(payload.to_string()).into();
    general.to_string()
}

async fn suite(db: &Database) {
    let f = fixture(db).await;
    let t = now();
    let document = b"Resolution: the company leases Flat A, 8/F.";
    let hash = DocumentHash::from_bytes(&sha256(document)).unwrap();

    // Corporate, one signatory: the authorised signatory approves; the company key signs.
    let id = f.request(A, SigningKind::Corporate, document).await;
    let signed = f.company.approve(&id, &f.residents[1], t).await.unwrap();
    assert_eq!(signed.status, RequestStatus::Approved);
    let corporate = signed.signature.unwrap();
    let report = f.company.verify(&corporate, Some(&hash), t).await.unwrap();
    assert!(report.valid, "{:?}", report.errors);
    assert_eq!(report.kind, SigningKind::Corporate);
    assert_eq!(report.business.brn, A);
    assert_eq!(report.approvals.len(), 1);
    assert_eq!(report.approvals[0].role, "authorised_signatory");
    assert_eq!(
        report.approvals[0].signer,
        f.signing.signer_id(&f.residents[1])
    );
    assert_eq!(report.signatures.len(), 1);
    assert!(
        report.signatures[0]
            .subject
            .contains("serialNumber=12345678"),
        "{}",
        report.signatures[0].subject
    );
    assert!(report.signatures[0]
        .subject
        .contains("organizationIdentifier=NTRHK-12345678"));
    assert_eq!(report.signatures[0].revoked_at, None);
    // Verified a second time, from the chain cache: the same answer.
    assert_eq!(
        f.company.verify(&corporate, Some(&hash), t).await.unwrap(),
        report
    );
    // The altered hash: the signature no longer matches, and the hash given does not either.
    let altered = with_one_hash_byte_changed(&corporate);
    let report = f.company.verify(&altered, Some(&hash), t).await.unwrap();
    assert!(!report.valid);
    assert_eq!(
        issue_codes(&report.errors),
        [
            "signature_mismatch",
            "not_on_record",
            "document_hash_mismatch"
        ]
    );
    println!(
        "verify an altered hash -> invalid: {:?}",
        issue_codes(&report.errors)
    );
    let other = DocumentHash::from_bytes(&sha256(b"another")).unwrap();
    let report = f.company.verify(&corporate, Some(&other), t).await.unwrap();
    assert_eq!(issue_codes(&report.errors), ["document_hash_mismatch"]);
    // The same through the public endpoint.
    let (answer, body) = post_verify(&f, serde_json::json!({ "signature": altered })).await;
    assert_eq!(answer, 200);
    assert_eq!(body["valid"], false);
    assert_eq!(body["errors"][0]["code"], "signature_mismatch");
    let (answer, body) = post_verify(&f, serde_json::json!({ "signature": corporate })).await;
    assert_eq!(
        (answer, body["valid"].as_bool()),
        (200, Some(true)),
        "{body}"
    );
    assert_eq!(body["business"]["brn"], A);
    assert_eq!(body["approvals"][0]["role"], "authorised_signatory");
    let (answer, body) = post_verify(&f, serde_json::json!({ "signature": "a.b.c" })).await;
    assert_eq!(
        (answer, body["code"].as_str()),
        (422, Some("corpid.signature_malformed"))
    );
    // Not a company signature at all: a precise problem.
    let error = f
        .company
        .verify("{\"payload\":\"e30\"}", None, t)
        .await
        .unwrap_err();
    assert_eq!(
        Problem::from(error).document().code,
        "corpid.signature_malformed"
    );

    // Personal: the administrator's own key, the business and role recorded.
    let id = f.request(A, SigningKind::Personal, document).await;
    let personal = f
        .company
        .approve(&id, &f.residents[0], t)
        .await
        .unwrap()
        .signature
        .unwrap();
    let report = f.company.verify(&personal, Some(&hash), t).await.unwrap();
    assert!(report.valid, "{:?}", report.errors);
    assert_eq!(report.signatures.len(), 1);
    assert_eq!(report.signatures[0].signer, SignerKind::Person);
    assert_eq!(report.approvals[0].role, "administrator");

    // Two signatories required: integrated signing waits for the second.
    f.corpid
        .set_signing_policy(
            &brn(A),
            SignatoriesRequired::new(2).unwrap(),
            &Caller::Operator("admin".into()),
            t,
        )
        .await
        .unwrap();
    let id = f.request(A, SigningKind::Integrated, document).await;
    let first = f.company.approve(&id, &f.residents[0], t).await.unwrap();
    assert_eq!(first.status, RequestStatus::Pending);
    assert_eq!(first.signature, None);
    assert_eq!(first.approved_by, [f.residents[0].clone()]);
    let pending = f.company.pending_for(&f.residents[1], t).await.unwrap();
    assert!(pending
        .iter()
        .any(|r| r.id == id && r.approvals_required == 2 && r.approved_by.len() == 1));
    // The same signatory twice: refused.
    f.refused(
        "the same signatory twice",
        &id,
        0,
        t,
        "corpid.signing_already_approved",
    )
    .await;
    let integrated = f
        .company
        .approve(&id, &f.residents[1], t + 1)
        .await
        .unwrap()
        .signature
        .unwrap();
    let report = f
        .company
        .verify(&integrated, Some(&hash), t + 1)
        .await
        .unwrap();
    assert!(report.valid, "{:?}", report.errors);
    assert_eq!(
        report
            .signatures
            .iter()
            .map(|s| s.signer)
            .collect::<Vec<_>>(),
        [SignerKind::Person, SignerKind::Person, SignerKind::Company]
    );
    assert_eq!(report.approvals.len(), 2);
    assert_eq!(
        audited(db, &id, "corpid.signing.request.sign", "success").await,
        1
    );
    let parsed = format::parse(&integrated).unwrap();
    assert_eq!(parsed.entries.len(), 3);

    // The negative suite: each refused with its code and audited, nothing signed.
    let id = f.request(A, SigningKind::Corporate, document).await;
    f.refused(
        "a user without signing authority",
        &id,
        2,
        t,
        "corpid.signing_role_insufficient",
    )
    .await; // a user
    f.refused(
        "another business's administrator",
        &id,
        4,
        t,
        "corpid.signing_not_representative",
    )
    .await; // another business's
            // One of two required: no signature until the second.
    f.company.approve(&id, &f.residents[1], t).await.unwrap();
    assert_eq!(f.company.get(&id, CLIENT, t).await.unwrap().signature, None);
    println!("one of two required signatories -> pending, no signature");
    // The agent's administrator acts through the delegation while it is in force.
    let through_agent = f
        .company
        .approve(&id, &f.residents[3], t + 2)
        .await
        .unwrap();
    let delegated = through_agent.signature.unwrap();
    let report = f.company.verify(&delegated, None, t + 2).await.unwrap();
    assert!(report.valid, "{:?}", report.errors);
    assert_eq!(report.approvals[1].agent_brn.as_deref(), Some(B));
    assert_eq!(
        report.approvals[1].delegation_id.as_deref(),
        Some(f.delegation.as_str())
    );
    // After the delegation's end: refused as such.
    let id = f.request(A, SigningKind::Corporate, document).await;
    f.refused(
        "an agent after its delegation expired",
        &id,
        3,
        t + 3_600,
        "corpid.signing_delegation_ended",
    )
    .await;
    // After the approver's role is revoked.
    f.corpid
        .revoke(
            &brn(A),
            &f.residents[1],
            &Caller::Operator("admin".into()),
            t,
        )
        .await
        .unwrap();
    f.refused(
        "a signatory after their role was revoked",
        &id,
        1,
        t,
        "corpid.signing_not_representative",
    )
    .await;

    // A forged signature claiming an approval through the delegation after it ended: the
    // signature itself verifies (the forger holds the key), verification fails on the record
    // and on the delegation's history.
    let mut payload = format::parse(&delegated).unwrap().payload;
    payload.approvals[1].approved_at = t + 3_600;
    payload.signed_at = t + 3_600;
    let forged = forge(&f, A, &payload).await;
    let report = f.company.verify(&forged, None, t + 3_600).await.unwrap();
    assert!(!report.valid);
    assert!(report.signatures[0].signature_valid);
    assert_eq!(
        issue_codes(&report.errors),
        ["delegation_not_in_force", "not_on_record"]
    );
    println!(
        "verify an approval given after its delegation expired -> invalid: {:?}",
        issue_codes(&report.errors)
    );

    // Suspension revokes the company certificate: earlier signatures still verify (signed
    // before), the status answer says revoked, a signature dated after fails, and the
    // business signs nothing more.
    let status_before = f
        .company
        .certificate_status(&report.signatures[0].certificate_serial, t)
        .await
        .unwrap();
    assert!(status_json(&status_before)["status"] == "good");
    suspend(&f, A, t + 10).await;
    let report = f.company.verify(&delegated, None, t + 20).await.unwrap();
    assert!(report.valid, "{:?}", report.errors);
    assert_eq!(report.signatures[0].revoked_at, Some(t + 10));
    assert_eq!(
        report.signatures[0].revocation_reason.as_deref(),
        Some("suspended")
    );
    let status = status_json(
        &f.company
            .certificate_status(&report.signatures[0].certificate_serial, t + 20)
            .await
            .unwrap(),
    );
    assert_eq!(status["status"], "revoked");
    assert_eq!(status["revoked_at"], t + 10);
    let mut late = format::parse(&delegated).unwrap().payload;
    late.signed_at = t + 30;
    let late = forge(&f, A, &late).await;
    let report = f.company.verify(&late, None, t + 30).await.unwrap();
    assert_eq!(
        issue_codes(&report.errors),
        ["certificate_revoked", "not_on_record"]
    );
    println!(
        "verify a signature made after its certificate was revoked -> invalid: {:?}",
        issue_codes(&report.errors)
    );
    f.refused(
        "an administrator of a suspended business",
        &id,
        0,
        t + 40,
        "corpid.signing_business_inactive",
    )
    .await;
    let error = f
        .company
        .create_request(CLIENT, A, "corporate", "x.pdf", &sha256(b"x"), t + 40)
        .await
        .unwrap_err();
    assert_eq!(
        Problem::from(error).document().code,
        "corpid.signing_business_inactive"
    );

    // Re-keying revokes the previous certificate as superseded.
    let c_request = f.request(C, SigningKind::Corporate, document).await;
    let c_signature = f
        .company
        .approve(&c_request, &f.residents[4], t)
        .await
        .unwrap()
        .signature
        .unwrap();
    let old = f.company.certificate(&brn(C)).await.unwrap().unwrap();
    let new = f
        .company
        .rekey(&brn(C), &Caller::Resident(f.residents[4].clone()), t + 50)
        .await
        .unwrap();
    assert_ne!(old.serial, new.serial);
    let status = status_json(
        &f.company
            .certificate_status(&old.serial, t + 60)
            .await
            .unwrap(),
    );
    assert_eq!(
        (
            status["status"].as_str(),
            status["revocation_reason"].as_str()
        ),
        (Some("revoked"), Some("superseded"))
    );
    assert!(
        f.company
            .verify(&c_signature, None, t + 60)
            .await
            .unwrap()
            .valid
    );
    // Only an administrator re-keys.
    let error = f
        .company
        .rekey(&brn(A), &Caller::Resident(f.residents[2].clone()), t)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            CorpIdError::BusinessNotFound | CorpIdError::Access(_)
        ),
        "{error:?}"
    );

    // Invalid requests name every field, and write nothing.
    let before = count(db, "SELECT COUNT(*) FROM corpid_signing_requests").await;
    let error = f
        .company
        .create_request(CLIENT, "1234", "chop", " ", &[1, 2], t)
        .await
        .unwrap_err();
    let problem = Problem::from(error).document();
    assert_eq!(problem.code, "corpid.signing_request_invalid");
    let fields: Vec<String> = problem.errors.iter().map(|e| e.pointer.clone()).collect();
    assert_eq!(
        fields,
        ["/brn", "/type", "/document_name", "/document_hash"]
    );
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM corpid_signing_requests").await,
        before
    );
    // A service sees only its own requests.
    assert!(matches!(
        f.company.get(&c_request, "someone-else", t).await,
        Err(CorpIdError::SigningRequestNotFound)
    ));
}

async fn post_verify(f: &Fixture, body: serde_json::Value) -> (u16, serde_json::Value) {
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;
    let router = bauhinia_corpid::signing::http::public_router(Arc::new(f.company.clone()))
        .split_for_parts()
        .0;
    let request = axum::http::Request::post("/api/corpid/v1/signing/verify")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    let response = router.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

fn status_json(jws: &str) -> serde_json::Value {
    let parts: Vec<&str> = jws.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let issuing =
        X509::from_der(&STANDARD.decode(header["x5c"][0].as_str().unwrap()).unwrap()).unwrap();
    let key = issuing.public_key().unwrap();
    let signature: [u8; 64] = URL_SAFE_NO_PAD
        .decode(parts[2])
        .unwrap()
        .try_into()
        .unwrap();
    bauhinia_identity::jose::verify_raw(
        bauhinia_identity::jose::Alg::ES256,
        &key,
        format!("{}.{}", parts[0], parts[1]).as_bytes(),
        &signature,
    )
    .expect("the status answer is signed by the issuing CA");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap()
}

#[tokio::test]
async fn company_signing_on_sqlite() {
    let test = TestDb::sqlite().await.unwrap();
    suite(&test.db).await;
    test.cleanup().await.unwrap();
}

#[tokio::test]
async fn company_signing_on_postgres() {
    let Some(test) = TestDb::postgres().await.unwrap() else {
        eprintln!("DATABASE_URL not set: the PostgreSQL half is run by scripts/test");
        return;
    };
    suite(&test.db).await;
    test.cleanup().await.unwrap();
}

/// Verification remembers a certificate's revocation state for at most
/// `REVOCATION_FRESH` while this process revokes nothing (the suite shows its own revocations
/// seen at once): another server on the same database revoking it is seen within that time.
#[tokio::test]
async fn another_servers_revocation_is_seen_within_the_freshness_bound() {
    use bauhinia_corpid::signing::verify::REVOCATION_FRESH;
    let test = TestDb::sqlite().await.unwrap();
    let f = fixture(&test.db).await;
    let t = now();
    let id = f.request(C, SigningKind::Corporate, b"Minutes").await;
    let signature = f
        .company
        .approve(&id, &f.residents[4], t)
        .await
        .unwrap()
        .signature
        .unwrap();
    let remembered_at = std::time::Instant::now();
    let report = f.company.verify(&signature, None, t).await.unwrap();
    assert_eq!(report.signatures[0].revoked_at, None);
    // Another server: its own directory service on the same database.
    let other = CorpIdService::new(&test.db);
    other
        .change_status(
            &brn(C),
            StatusChange::Suspend,
            Some("test"),
            &Caller::Operator("admin".into()),
            t + 10,
        )
        .await
        .unwrap();
    let report = f.company.verify(&signature, None, t + 20).await.unwrap();
    if remembered_at.elapsed() < REVOCATION_FRESH / 2 {
        assert_eq!(report.signatures[0].revoked_at, None, "remembered");
    }
    tokio::time::sleep(REVOCATION_FRESH + std::time::Duration::from_millis(100)).await;
    let report = f.company.verify(&signature, None, t + 20).await.unwrap();
    assert_eq!(report.signatures[0].revoked_at, Some(t + 10));
    assert_eq!(
        report.signatures[0].revocation_reason.as_deref(),
        Some("suspended")
    );
    assert!(report.valid, "signed before the revocation");
    test.cleanup().await.unwrap();
}

fn tools_required() -> bool {
    std::env::var("BAUHINIA_TEST_REQUIRE_TOOLS").is_ok_and(|v| v == "1")
}

/// Python's `cryptography`, with no Bauhinia code, checks every ES256 signature against its
/// `x5c` certificate and each chain to the root, and refuses once one byte of the hash changes;
/// given Bauhinia's signed certificate status answers, it refuses a signature made after its
/// certificate was revoked.
#[tokio::test]
async fn python_cryptography_verifies_company_signatures() {
    let Some(python) = std::env::var_os("BAUHINIA_TEST_PYTHON").map(PathBuf::from) else {
        assert!(!tools_required(), "BAUHINIA_TEST_PYTHON is not set");
        eprintln!("independent verification: python not run (BAUHINIA_TEST_PYTHON unset; scripts/test always sets it)");
        return;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/python/verify_company_signature.py");
    let test = TestDb::sqlite().await.unwrap();
    let f = fixture(&test.db).await;
    let t = now();
    let document = b"Integrated signature: person and company.";
    let id = f.request(A, SigningKind::Integrated, document).await;
    let signature = f
        .company
        .approve(&id, &f.residents[1], t)
        .await
        .unwrap()
        .signature
        .unwrap();
    let dir = std::env::temp_dir().join(format!("bauhinia-corpsign-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let root = f
        .signing
        .ca_certificates()
        .await
        .unwrap()
        .root
        .to_pem()
        .unwrap();
    std::fs::write(dir.join("root.pem"), root).unwrap();
    std::fs::write(dir.join("genuine.json"), &signature).unwrap();
    std::fs::write(
        dir.join("altered.json"),
        with_one_hash_byte_changed(&signature),
    )
    .unwrap();
    let hash = to_hex(&sha256(document));
    let run = |file: &str, statuses: &[&str]| {
        let mut command = std::process::Command::new(&python);
        command.args([
            script.to_str().unwrap(),
            file,
            "root.pem",
            "--document-hash",
            &hash,
        ]);
        for status in statuses {
            command.args(["--status", status]);
        }
        command.current_dir(&dir).output().unwrap()
    };
    let text = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    let out = run("genuine.json", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("VALID: integrated"), "{}", text(&out));
    assert!(text(&out).contains("NTRHK-12345678"), "{}", text(&out));
    let out = run("altered.json", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("does not verify"), "{}", text(&out));

    // With Bauhinia's signed status answers (one per certificate: the approver's, the
    // company's), the tool checks revocation too.
    let serials: Vec<String> = f
        .company
        .verify(&signature, None, t)
        .await
        .unwrap()
        .signatures
        .into_iter()
        .map(|s| s.certificate_serial)
        .collect();
    let write_statuses = |at: i64, prefix: &'static str| {
        let (company, serials, dir) = (&f.company, &serials, &dir);
        async move {
            let mut files = Vec::new();
            for (i, serial) in serials.iter().enumerate() {
                let answer = company.certificate_status(serial, at).await.unwrap();
                let file = format!("{prefix}-{i}.jws");
                std::fs::write(dir.join(&file), answer).unwrap();
                files.push(file);
            }
            files
        }
    };
    let good = write_statuses(t, "good").await;
    let good: Vec<&str> = good.iter().map(String::as_str).collect();
    let out = run("genuine.json", &good);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // A status answer for some other certificate is no answer for these.
    let out = run("genuine.json", &good[..1]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("no status answer"), "{}", text(&out));

    // Suspension revokes the company certificate: the signature made before it still
    // verifies with the new answers; one made with the same key after it does not.
    suspend(&f, A, t + 10).await;
    let after = write_statuses(t + 40, "after").await;
    let after: Vec<&str> = after.iter().map(String::as_str).collect();
    let out = run("genuine.json", &after);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mut late = format::parse(&signature).unwrap().payload;
    late.kind = "corporate".into();
    late.signed_at = t + 30;
    std::fs::write(dir.join("late.json"), forge(&f, A, &late).await).unwrap();
    let out = run("late.json", &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "without revocation it would pass"
    );
    let out = run("late.json", &after[1..]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("is revoked since {}", t + 10)),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("(suspended)"), "{}", text(&out));
    let _ = std::fs::remove_dir_all(&dir);
    test.cleanup().await.unwrap();
    println!("independent verification: python cryptography (company signing) passed");
}

/// The audit events of `action` with `outcome` by `actor` about `subject`.
async fn audited_by(db: &Database, subject: &str, action: &str, outcome: &str, actor: &str) -> i64 {
    count(
        db,
        &format!(
            "SELECT COUNT(*) FROM audit_events WHERE subject = '{subject}' AND action = '{action}' \
             AND outcome = '{outcome}' AND actor = '{actor}'"
        ),
    )
    .await
}

const PORTAL: &str = "business-portal";

/// Resident `resident` of the fixture asks for a signature of A through the portal.
async fn ask(
    f: &Fixture,
    resident: usize,
    kind: &str,
    hash: &[u8],
    at: i64,
) -> Result<bauhinia_corpid::signing::CompanyRequest, CorpIdError> {
    let draft = bauhinia_corpid::signing::RequestDraft {
        brn: A,
        kind,
        document_name: "Tenancy agreement.pdf",
        document_hash: hash,
    };
    f.company
        .create_request_as(&f.residents[resident], PORTAL, draft, at)
        .await
}

/// A representative asks for a signature through the business portal (`create_request_as`):
/// only those who could approve it may, each refusal precise and audited with nothing written;
/// the business's history lists its requests newest first, bounded, to its representatives only.
async fn representatives_suite(db: &Database) {
    use bauhinia_corpid::signing::HISTORY_MAX;
    let f = fixture(db).await;
    let t = now();
    let document = b"Tenancy agreement, Flat B, 3/F.";
    let hash = sha256(document);
    let a = f.corpid.business(&brn(A)).await.unwrap();
    let requests = || count(db, "SELECT COUNT(*) FROM corpid_signing_requests");

    // The authorised signatory asks; the request is theirs in the audit log.
    let asked = ask(&f, 1, "corporate", &hash, t).await.unwrap();
    assert_eq!(asked.client_id, PORTAL);
    assert_eq!(asked.approvals_required, 1);
    let subject = format!("corpid_signing_request:{}", asked.id);
    let by_signatory = format!("resident:{}", f.residents[1]);
    assert_eq!(
        audited_by(
            db,
            &subject,
            "corpid.signing.request.create",
            "success",
            &by_signatory
        )
        .await,
        1
    );

    // A user, a stranger, and an agent whose delegation was revoked may not ask: audited.
    let business = format!("business:{}", a.id);
    let before = requests().await;
    for (resident, code) in [
        (2, "corpid.signing_role_insufficient"),
        (4, "corpid.signing_not_representative"),
    ] {
        let error = ask(&f, resident, "corporate", &hash, t)
            .await
            .expect_err(code);
        assert_eq!(Problem::from(error).document().code, code);
        let actor = format!("resident:{}", f.residents[resident]);
        assert_eq!(
            audited_by(
                db,
                &business,
                "corpid.signing.request.create",
                "failure",
                &actor
            )
            .await,
            1,
            "{code} audited"
        );
    }
    // Every field at fault is named at once; nothing is written.
    let Err(CorpIdError::SigningInvalid(faults)) = ask(&f, 1, "company", b"short", t).await else {
        panic!("an invalid draft is refused");
    };
    let fields: Vec<&str> = faults.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["/type", "/document_hash"]);
    assert_eq!(requests().await, before);

    // The agent's signatory asks while the delegation is in force, not after its revocation.
    let through_agent = ask(&f, 3, "integrated", &hash, t).await.unwrap();
    f.corpid
        .revoke_delegation(&brn(A), &f.delegation, &Caller::Operator("admin".into()), t)
        .await
        .unwrap();
    let error = ask(&f, 3, "corporate", &hash, t)
        .await
        .expect_err("revoked");
    assert_eq!(
        Problem::from(error).document().code,
        "corpid.signing_delegation_ended"
    );

    // Approved in the app: the signature verifies and the history shows who decided when.
    let signed = f
        .company
        .approve(&asked.id, &f.residents[1], t + 5)
        .await
        .unwrap();
    assert_eq!(signed.status, RequestStatus::Approved);
    assert_eq!(signed.decided_at_s, Some(t + 5));
    assert_eq!(signed.decided_by.as_deref(), Some(f.residents[1].as_str()));
    let signature = signed.signature.clone().unwrap();
    let report = f
        .company
        .verify(
            &signature,
            Some(&DocumentHash::from_bytes(&hash).unwrap()),
            t + 6,
        )
        .await
        .unwrap();
    assert!(report.valid, "{:?}", report.errors);
    let history = f
        .company
        .history(&f.residents[2], &brn(A), t + 6)
        .await
        .unwrap();
    let ids: Vec<&str> = history.iter().map(|r| r.id.as_str()).collect();
    assert!(ids.contains(&asked.id.as_str()) && ids.contains(&through_agent.id.as_str()));
    let shown = history.iter().find(|r| r.id == asked.id).unwrap();
    assert_eq!(shown.approved_by, [f.residents[1].clone()]);
    assert_eq!(shown.signature.as_deref(), Some(signature.as_str()));
    let fetched = f
        .company
        .request_of(&f.residents[0], &brn(A), &asked.id, t + 6)
        .await
        .unwrap();
    assert_eq!(fetched.signature, Some(signature));

    // Another business's representative sees neither; another business's request is not A's.
    assert!(matches!(
        f.company.history(&f.residents[4], &brn(A), t).await,
        Err(CorpIdError::BusinessNotFound)
    ));
    assert!(matches!(
        f.company
            .request_of(&f.residents[4], &brn(A), &asked.id, t)
            .await,
        Err(CorpIdError::BusinessNotFound)
    ));
    let c_request = f.request(C, SigningKind::Corporate, document).await;
    assert!(matches!(
        f.company
            .request_of(&f.residents[0], &brn(A), &c_request, t)
            .await,
        Err(CorpIdError::SigningRequestNotFound)
    ));

    // Bounded, newest first.
    for i in 0..HISTORY_MAX {
        f.company
            .create_request(CLIENT, A, "personal", "Invoice.pdf", &hash, t + 10 + i)
            .await
            .unwrap();
    }
    let history = f
        .company
        .history(&f.residents[0], &brn(A), t + 100)
        .await
        .unwrap();
    assert_eq!(i64::try_from(history.len()).unwrap(), HISTORY_MAX);
    assert_eq!(history[0].created_at_s, t + 9 + HISTORY_MAX);
    assert!(history
        .windows(2)
        .all(|w| w[0].created_at_s >= w[1].created_at_s));
}

#[tokio::test]
async fn representatives_ask_for_signatures_on_sqlite() {
    let test = TestDb::sqlite().await.unwrap();
    representatives_suite(&test.db).await;
    test.cleanup().await.unwrap();
}

#[tokio::test]
async fn representatives_ask_for_signatures_on_postgres() {
    let Some(test) = TestDb::postgres().await.unwrap() else {
        eprintln!("DATABASE_URL not set: the PostgreSQL half is run by scripts/test");
        return;
    };
    representatives_suite(&test.db).await;
    test.cleanup().await.unwrap();
}
