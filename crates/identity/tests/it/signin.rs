//! Sign-in on SQLite always and on PostgreSQL when `DATABASE_URL` is set (the test command
//! always sets it): enrolment codes (single use, expiry, lockout), WebAuthn ceremonies (single
//! use, expiry), passkey sign-in with a software authenticator (counter, replay, lockout),
//! several passkeys and the last-passkey rule, sessions (expiry, sign-out), and the audit trail.
//! Time is a manual clock, so expiry is shown happening rather than waited for.

use std::sync::Arc;

use bauhinia_core::crypto::{MasterKey, Vault};
use bauhinia_identity::clock::Clock;
use bauhinia_identity::domain::{EnrolmentCode, Hkid, PasskeyName};
use bauhinia_identity::passkeys::{Ceremony, SignedIn};
use bauhinia_identity::testing::SoftAuthenticator;
use bauhinia_identity::{
    IdentityError, IdentityService, PasskeyService, Resident, SessionService, ACR_PASSKEY,
};
use bauhinia_store::testing::TestDb;
use bauhinia_store::Database;
use time::Duration;
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential, Url};

const ORIGIN: &str = "http://localhost:8080";

struct World {
    db: Database,
    clock: Clock,
    identity: Arc<IdentityService>,
    passkeys: PasskeyService,
    sessions: SessionService,
}

async fn world(db: &Database) -> World {
    let vault = Arc::new(Vault::new(&MasterKey::generate()));
    let identity = Arc::new(IdentityService::new(db, Arc::clone(&vault)));
    let today = time::macros::date!(2026 - 11 - 23);
    for draft in bauhinia_identity::demo::residents() {
        identity
            .register(&draft, "system:test", today)
            .await
            .expect("register");
    }
    let clock = Clock::manual(time::macros::datetime!(2026-11-23 02:00 UTC));
    let url = Url::parse(ORIGIN).expect("url");
    let sessions = SessionService::new(db)
        .with_clock(clock.clone())
        .with_public_url(&url);
    let passkeys = PasskeyService::new(db, Arc::clone(&identity), vault, sessions.clone(), &url)
        .expect("passkeys");
    World {
        db: db.clone(),
        clock,
        identity,
        passkeys,
        sessions,
    }
}

fn hkid(n: usize) -> Hkid {
    Hkid::parse(&bauhinia_identity::demo::residents()[n].hkid).expect("demo HKID")
}

fn registration(value: serde_json::Value) -> RegisterPublicKeyCredential {
    serde_json::from_value(value).expect("a registration webauthn-rs reads")
}

fn assertion(value: serde_json::Value) -> PublicKeyCredential {
    serde_json::from_value(value).expect("an assertion webauthn-rs reads")
}

fn name(text: &str) -> PasskeyName {
    PasskeyName::parse(text).expect("name")
}

impl World {
    async fn resident(&self, n: usize) -> Resident {
        self.identity
            .find_by_hkid(&hkid(n))
            .await
            .expect("find")
            .expect("registered")
    }

    async fn code_for(&self, resident: &Resident) -> EnrolmentCode {
        self.passkeys
            .issue_enrolment_code(&resident.id, "admin:test")
            .await
            .expect("code")
            .code
    }

    /// Enrols resident `n` with a new authenticator.
    async fn enrol(&self, n: usize) -> (SoftAuthenticator, SignedIn) {
        let resident = self.resident(n).await;
        let code = self.code_for(&resident).await;
        let ceremony = self
            .passkeys
            .start_enrolment(&hkid(n), &code)
            .await
            .expect("start");
        let mut device = SoftAuthenticator::new(ORIGIN);
        let answer = device.create(&ceremony.public_key).expect("create");
        let signed_in = self
            .passkeys
            .finish_enrolment(&ceremony.id, &registration(answer), &name("My phone"))
            .await
            .expect("finish");
        (device, signed_in)
    }

    async fn login(&self, device: &mut SoftAuthenticator) -> Result<SignedIn, IdentityError> {
        let ceremony = self.passkeys.start_login().await.expect("start login");
        let answer = device.get(&ceremony.public_key).expect("get");
        self.passkeys
            .finish_login(&ceremony.id, &assertion(answer))
            .await
    }

    async fn actions(&self, resident: &Resident) -> Vec<(String, String)> {
        self.db
            .audit_for_subject(&format!("resident:{}", resident.id), 1000)
            .await
            .expect("audit")
            .into_iter()
            .map(|e| (e.action, e.outcome))
            .collect()
    }

    async fn details(&self, resident: &Resident) -> String {
        self.db
            .audit_for_subject(&format!("resident:{}", resident.id), 1000)
            .await
            .expect("audit")
            .into_iter()
            .map(|e| e.detail)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn count(actions: &[(String, String)], action: &str, outcome: &str) -> usize {
    actions
        .iter()
        .filter(|(a, o)| a == action && o == outcome)
        .count()
}

async fn enrolment_codes(w: &World) {
    let resident = w.resident(1).await;
    // A new code replaces the one before; a code lasts 30 minutes; it opens only its resident.
    let replaced = w.code_for(&resident).await;
    let _newer = w.code_for(&resident).await;
    assert!(matches!(
        w.passkeys.start_enrolment(&hkid(1), &replaced).await,
        Err(IdentityError::EnrolmentInvalid)
    ));
    let code_now = w.code_for(&resident).await;
    w.clock.advance(Duration::minutes(31));
    assert!(matches!(
        w.passkeys.start_enrolment(&hkid(1), &code_now).await,
        Err(IdentityError::EnrolmentInvalid)
    ));
    // Another resident's code does not open this one.
    let other = w.resident(2).await;
    let others_code = w.code_for(&other).await;
    assert!(matches!(
        w.passkeys.start_enrolment(&hkid(1), &others_code).await,
        Err(IdentityError::EnrolmentInvalid)
    ));
    // An unknown HKID gets the same answer as a wrong code.
    let stranger = Hkid::from_parts("Z", [9, 8, 7, 6, 5, 4]).expect("hkid");
    assert!(matches!(
        w.passkeys.start_enrolment(&stranger, &others_code).await,
        Err(IdentityError::EnrolmentInvalid)
    ));
    // The code was never written anywhere: not in the audit log.
    let details = w.details(&resident).await;
    assert!(!details.contains(replaced.expose()) && !details.contains(code_now.expose()));
}

async fn enrolment_lockout(w: &World) {
    let resident = w.resident(3).await;
    let code = w.code_for(&resident).await;
    let wrong = EnrolmentCode::parse(if code.expose() == "00000000" {
        "11111111"
    } else {
        "00000000"
    })
    .expect("code");
    for attempt in 1..=4 {
        assert!(
            matches!(
                w.passkeys.start_enrolment(&hkid(3), &wrong).await,
                Err(IdentityError::EnrolmentInvalid)
            ),
            "attempt {attempt}"
        );
    }
    // The fifth wrong code locks enrolment for 15 minutes, even for the right code...
    assert!(matches!(
        w.passkeys.start_enrolment(&hkid(3), &wrong).await,
        Err(IdentityError::Locked(_))
    ));
    assert!(matches!(
        w.passkeys.start_enrolment(&hkid(3), &code).await,
        Err(IdentityError::Locked(_))
    ));
    // ...and voids the code, so guesses at one code stay bounded.
    w.clock.advance(Duration::minutes(15));
    assert!(matches!(
        w.passkeys.start_enrolment(&hkid(3), &code).await,
        Err(IdentityError::EnrolmentInvalid)
    ));
    let fresh = w.code_for(&resident).await;
    assert!(w.passkeys.start_enrolment(&hkid(3), &fresh).await.is_ok());
    let actions = w.actions(&resident).await;
    assert_eq!(count(&actions, "identity.lockout.start", "success"), 1);
    assert_eq!(count(&actions, "identity.enrolment.start", "failure"), 7);
}

async fn enrolment_and_ceremonies(w: &World) -> (SoftAuthenticator, SignedIn) {
    let resident = w.resident(0).await;
    let code = w.code_for(&resident).await;
    let ceremony: Ceremony = w
        .passkeys
        .start_enrolment(&hkid(0), &code)
        .await
        .expect("start");
    // The options ask for a discoverable, user-verified passkey.
    let selection = &ceremony.public_key["authenticatorSelection"];
    assert_eq!(selection["residentKey"], "required");
    assert_eq!(selection["userVerification"], "required");
    assert_eq!(ceremony.public_key["rp"]["id"], "localhost");

    // An answer made for another origin is refused, and burns the ceremony.
    let mut phishing = SoftAuthenticator::new("http://localhost:9999");
    let answer = registration(phishing.create(&ceremony.public_key).expect("create"));
    assert!(matches!(
        w.passkeys
            .finish_enrolment(&ceremony.id, &answer, &name("x"))
            .await,
        Err(IdentityError::PasskeyInvalid(_))
    ));
    let mut device = SoftAuthenticator::new(ORIGIN);
    let answer = registration(device.create(&ceremony.public_key).expect("create"));
    assert!(matches!(
        w.passkeys
            .finish_enrolment(&ceremony.id, &answer, &name("x"))
            .await,
        Err(IdentityError::CeremonyExpired)
    ));

    // A fresh ceremony for the same live code succeeds, once.
    let ceremony = w
        .passkeys
        .start_enrolment(&hkid(0), &code)
        .await
        .expect("start");
    let mut device = SoftAuthenticator::new(ORIGIN);
    let answer = registration(device.create(&ceremony.public_key).expect("create"));
    let signed_in = w
        .passkeys
        .finish_enrolment(&ceremony.id, &answer, &name("My phone"))
        .await
        .expect("enrolled");
    assert_eq!(signed_in.resident.id, resident.id);
    assert_eq!(signed_in.session.acr, ACR_PASSKEY);
    assert_eq!(signed_in.passkey.name, "My phone");
    assert!(matches!(
        w.passkeys
            .finish_enrolment(&ceremony.id, &answer, &name("again"))
            .await,
        Err(IdentityError::CeremonyExpired)
    ));
    // The code is spent.
    assert!(matches!(
        w.passkeys.start_enrolment(&hkid(0), &code).await,
        Err(IdentityError::EnrolmentInvalid)
    ));
    // A user-verification-less authenticator cannot enrol.
    let code = w.code_for(&resident).await;
    let ceremony = w
        .passkeys
        .start_enrolment(&hkid(0), &code)
        .await
        .expect("start");
    let mut careless = SoftAuthenticator::new(ORIGIN);
    careless.user_verified = false;
    let answer = registration(careless.create(&ceremony.public_key).expect("create"));
    assert!(matches!(
        w.passkeys
            .finish_enrolment(&ceremony.id, &answer, &name("x"))
            .await,
        Err(IdentityError::PasskeyInvalid(_))
    ));
    // A ceremony left for more than five minutes expires.
    let ceremony = w
        .passkeys
        .start_enrolment(&hkid(0), &code)
        .await
        .expect("start");
    let answer = registration(
        SoftAuthenticator::new(ORIGIN)
            .create(&ceremony.public_key)
            .expect("create"),
    );
    w.clock.advance(Duration::minutes(5));
    assert!(matches!(
        w.passkeys
            .finish_enrolment(&ceremony.id, &answer, &name("late"))
            .await,
        Err(IdentityError::CeremonyExpired)
    ));
    assert_eq!(
        w.passkeys.passkeys(&resident.id).await.expect("list").len(),
        1
    );
    (device, signed_in)
}

async fn sign_in(w: &World, device: &mut SoftAuthenticator, resident: &Resident) {
    let signed_in = w.login(device).await.expect("signed in");
    assert_eq!(signed_in.resident.id, resident.id);
    assert_eq!(signed_in.session.amr, ["pop", "mfa"]);
    let found = w
        .sessions
        .find(&signed_in.token)
        .await
        .expect("find")
        .expect("live");
    assert_eq!(found, signed_in.session);
    let listed = w.passkeys.passkeys(&resident.id).await.expect("list");
    assert_eq!(listed[0].last_used_at, Some(w.clock.now()));

    // A replayed answer: its ceremony is gone, and against a new one the challenge differs.
    let ceremony = w.passkeys.start_login().await.expect("start");
    let answer = assertion(device.get(&ceremony.public_key).expect("get"));
    w.passkeys
        .finish_login(&ceremony.id, &answer)
        .await
        .expect("first use");
    assert!(matches!(
        w.passkeys.finish_login(&ceremony.id, &answer).await,
        Err(IdentityError::CeremonyExpired)
    ));
    let other = w.passkeys.start_login().await.expect("start");
    assert!(matches!(
        w.passkeys.finish_login(&other.id, &answer).await,
        Err(IdentityError::PasskeyInvalid(_))
    ));
    // A cloned authenticator (its counter behind the stored one) is refused.
    let ceremony = w.passkeys.start_login().await.expect("start");
    device.counting = false;
    let stale = assertion(device.get(&ceremony.public_key).expect("get"));
    device.counting = true;
    assert!(matches!(
        w.passkeys.finish_login(&ceremony.id, &stale).await,
        Err(IdentityError::PasskeyInvalid(_))
    ));
    // An unregistered passkey is refused, against no one.
    let mut unknown = SoftAuthenticator::new(ORIGIN);
    let ceremony = w
        .passkeys
        .start_enrolment(&hkid(4), &w.code_for(&w.resident(4).await).await)
        .await
        .expect("start");
    unknown.create(&ceremony.public_key).expect("create");
    assert!(matches!(
        w.login(&mut unknown).await,
        Err(IdentityError::PasskeyInvalid(_))
    ));
    // A ceremony expires after five minutes.
    let ceremony = w.passkeys.start_login().await.expect("start");
    let answer = assertion(device.get(&ceremony.public_key).expect("get"));
    w.clock.advance(Duration::minutes(6));
    assert!(matches!(
        w.passkeys.finish_login(&ceremony.id, &answer).await,
        Err(IdentityError::CeremonyExpired)
    ));
}

async fn login_lockout(w: &World, device: &mut SoftAuthenticator) {
    // Two failures counted already (the replay and the clone); three more lock sign-in.
    device.origin = "http://localhost:9999".into();
    for _ in 0..2 {
        assert!(matches!(
            w.login(device).await,
            Err(IdentityError::PasskeyInvalid(_))
        ));
    }
    assert!(matches!(
        w.login(device).await,
        Err(IdentityError::Locked(_))
    ));
    device.origin = ORIGIN.into();
    assert!(matches!(
        w.login(device).await,
        Err(IdentityError::Locked(_))
    ));
    w.clock.advance(Duration::minutes(15));
    w.login(device).await.expect("unlocked after 15 minutes");
}

async fn several_passkeys(w: &World, signed_in: &SignedIn) {
    let session = &signed_in.session;
    let resident_id = &session.resident_id;
    let ceremony = w.passkeys.start_adding(session).await.expect("start");
    // The options exclude the passkey already held.
    assert_eq!(
        ceremony.public_key["excludeCredentials"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    // Another session cannot finish this session's ceremony.
    let (_, other) = w
        .sessions
        .create(resident_id, ACR_PASSKEY, &["pop"])
        .await
        .expect("session");
    let mut laptop = SoftAuthenticator::new(ORIGIN);
    let answer = registration(laptop.create(&ceremony.public_key).expect("create"));
    assert!(matches!(
        w.passkeys
            .finish_adding(&other, &ceremony.id, &answer, &name("Laptop"))
            .await,
        Err(IdentityError::CeremonyExpired)
    ));
    let ceremony = w.passkeys.start_adding(session).await.expect("start");
    let mut laptop = SoftAuthenticator::new(ORIGIN);
    let answer = registration(laptop.create(&ceremony.public_key).expect("create"));
    let added = w
        .passkeys
        .finish_adding(session, &ceremony.id, &answer, &name("Laptop"))
        .await
        .expect("added");
    let listed = w.passkeys.passkeys(resident_id).await.expect("list");
    assert_eq!(
        listed.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        ["My phone", "Laptop"]
    );
    // Either passkey signs in.
    let via_laptop = w.login(&mut laptop).await.expect("laptop signs in");
    assert_eq!(&via_laptop.resident.id, resident_id);

    // Remove the first; the last one stays.
    assert!(matches!(
        w.passkeys.remove(session, "no-such-passkey").await,
        Err(IdentityError::PasskeyNotFound(_))
    ));
    w.passkeys
        .remove(session, &signed_in.passkey.id)
        .await
        .expect("removed");
    assert!(matches!(
        w.passkeys.remove(session, &added.id).await,
        Err(IdentityError::LastPasskey)
    ));
    assert_eq!(
        w.passkeys.passkeys(resident_id).await.expect("list").len(),
        1
    );
    // Another resident's passkey is not this resident's to remove.
    let (_, stranger) = w.enrol(2).await;
    assert!(matches!(
        w.passkeys.remove(&stranger.session, &added.id).await,
        Err(IdentityError::PasskeyNotFound(_))
    ));
}

async fn sessions(w: &World, signed_in: &SignedIn) {
    let token = &signed_in.token;
    assert_eq!(token.len(), 43);
    assert!(w.sessions.find(token).await.expect("find").is_some());
    assert!(w
        .sessions
        .find("not a token")
        .await
        .expect("find")
        .is_none());
    assert!(w
        .sessions
        .find(&"A".repeat(43))
        .await
        .expect("find")
        .is_none());
    // Sign-out ends it at once; ending again changes nothing.
    w.sessions.end(token).await.expect("end");
    assert!(w.sessions.find(token).await.expect("find").is_none());
    w.sessions.end(token).await.expect("end again");
    // A session lives 12 hours.
    let (token, session) = w
        .sessions
        .create(&signed_in.resident.id, ACR_PASSKEY, &["pop", "mfa"])
        .await
        .expect("create");
    assert_eq!(session.expires_at - session.auth_time, Duration::hours(12));
    w.clock
        .advance(Duration::hours(12) - Duration::milliseconds(1));
    assert!(w.sessions.find(&token).await.expect("find").is_some());
    w.clock.advance(Duration::milliseconds(1));
    assert!(w.sessions.find(&token).await.expect("find").is_none());
    assert!(matches!(
        w.sessions
            .create("no-such-resident", ACR_PASSKEY, &[])
            .await,
        Err(IdentityError::NotFound(_))
    ));
}

async fn audit_trail(w: &World, resident: &Resident) {
    let actions = w.actions(resident).await;
    for (action, outcome, at_least) in [
        ("identity.enrolment_code.issue", "success", 2),
        ("identity.enrolment.start", "failure", 1),
        ("identity.enrolment.finish", "failure", 2),
        ("identity.enrolment.complete", "success", 1),
        ("identity.passkey.login", "success", 3),
        ("identity.passkey.login", "failure", 4),
        ("identity.lockout.start", "success", 1),
        ("identity.passkey.add", "success", 1),
        ("identity.passkey.remove", "success", 1),
        ("identity.session.create", "success", 2),
        ("identity.session.end", "success", 1),
    ] {
        assert!(
            count(&actions, action, outcome) >= at_least,
            "{action} {outcome}: {actions:?}"
        );
    }
    // Refusals that change nothing write nothing: the last-passkey refusal left no event.
    assert_eq!(count(&actions, "identity.passkey.remove", "failure"), 0);
    let details = w.details(resident).await;
    let hkid = hkid(0).expose();
    assert!(
        !details.contains(&hkid),
        "no HKID in clear in the audit log"
    );
}

async fn suite(db: &Database) {
    let w = world(db).await;
    enrolment_codes(&w).await;
    enrolment_lockout(&w).await;
    let resident = w.resident(0).await;
    let (mut device, enrolled) = enrolment_and_ceremonies(&w).await;
    sign_in(&w, &mut device, &resident).await;
    login_lockout(&w, &mut device).await;
    let signed_in = w.login(&mut device).await.expect("sign in");
    several_passkeys(&w, &signed_in).await;
    sessions(&w, &enrolled).await;
    audit_trail(&w, &resident).await;
}

#[tokio::test]
async fn signin_sqlite() {
    let test = TestDb::sqlite().await.expect("sqlite");
    suite(&test.db).await;
    test.cleanup().await.expect("cleanup");
}

#[tokio::test]
async fn signin_postgres() {
    let Some(test) = TestDb::postgres().await.expect("postgres test database") else {
        eprintln!("store conformance: postgres (sign-in) not run (DATABASE_URL unset; scripts/test always sets it)");
        return;
    };
    suite(&test.db).await;
    test.cleanup().await.expect("cleanup");
    println!("store conformance: postgres (sign-in) passed");
}
