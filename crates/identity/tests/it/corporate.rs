//! Corporate login (the `corpid` scope) through the provider's service API, on SQLite and
//! PostgreSQL: the choice of business, the claims in the ID token, userinfo and introspection,
//! a forged choice refused, and a representation that ends stopping the code exchange, refresh,
//! userinfo and the next login.
//!
//! The real business directory lives in a crate identity cannot depend on, so the directory
//! here is the smallest implementation of the seam: a list behind a mutex that the test edits
//! to grant, revoke or expire a representation.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use bauhinia_identity::corporate::{
    CorporateDirectory, DirectoryFuture, Particulars, Representation, SharedLicence,
};
use bauhinia_identity::keys::now;
use bauhinia_identity::oidc::clients::{Profile, Registration};
use bauhinia_identity::oidc::corporate::ENDED;
use bauhinia_identity::oidc::fields::Scope;
use bauhinia_identity::oidc::provider::{
    AuthContext, Interaction, InteractionError, InteractionStatus, NextStep, ResourceError,
    TokenResponse, ACR_PASSKEY,
};
use bauhinia_identity::oidc::request::RequestError;
use bauhinia_identity::oidc::{OAuthError, Provider};
use bauhinia_store::testing::TestDb;
use bauhinia_store::Database;
use openssl::pkey::{PKey, Private};

use crate::oidc::{
    dpop, exchange, p256, params, register_rp, setup_with, text, userinfo, Rp, CHALLENGE, ISSUER,
    REDIRECT,
};

/// Representations by resident; `valid_until` in the past is a delegation that has ended.
#[derive(Debug, Default)]
struct Directory {
    rows: Mutex<Vec<(String, Representation)>>,
}

impl Directory {
    fn add(&self, resident: &str, representation: Representation) {
        self.rows
            .lock()
            .unwrap()
            .push((resident.to_owned(), representation));
    }

    fn remove(&self, business_id: &str) {
        self.rows
            .lock()
            .unwrap()
            .retain(|(_, r)| r.business_id != business_id);
    }

    fn end_at(&self, business_id: &str, at: i64) {
        for (_, r) in self.rows.lock().unwrap().iter_mut() {
            if r.business_id == business_id {
                r.valid_until = Some(at);
            }
        }
    }

    fn find(&self, resident: &str, business: Option<&str>, at: i64) -> Vec<Representation> {
        let mut found: Vec<Representation> = self
            .rows
            .lock()
            .unwrap()
            .iter()
            .filter(|(who, r)| {
                who == resident
                    && business.is_none_or(|b| b == r.business_id)
                    && r.valid_until.is_none_or(|until| until > at)
            })
            .map(|(_, r)| r.clone())
            .collect();
        found.sort_by(|a, b| a.brn.cmp(&b.brn));
        found
    }
}

impl CorporateDirectory for Directory {
    fn representations<'a>(
        &'a self,
        resident_id: &'a str,
        at: i64,
    ) -> DirectoryFuture<'a, Vec<Representation>> {
        let found = self.find(resident_id, None, at);
        Box::pin(async move { Ok(found) })
    }

    fn representation<'a>(
        &'a self,
        resident_id: &'a str,
        business_id: &'a str,
        at: i64,
    ) -> DirectoryFuture<'a, Option<Representation>> {
        let found = self.find(resident_id, Some(business_id), at).pop();
        Box::pin(async move { Ok(found) })
    }

    /// The business's own data is released through the real directory, and tested there
    /// (`crates/bauhinia/tests/api/corpform.rs`); these tests ask for corporate login only.
    fn particulars<'a>(&'a self, _brn: &'a str) -> DirectoryFuture<'a, Option<Particulars>> {
        Box::pin(async move { Ok(None) })
    }

    fn shared_licences<'a>(&'a self, _brn: &'a str) -> DirectoryFuture<'a, Vec<SharedLicence>> {
        Box::pin(async move { Ok(Vec::new()) })
    }
}

fn harbour() -> Representation {
    Representation {
        business_id: "biz-harbour".into(),
        brn: "12345678".into(),
        name_en: "Harbour Trading Limited".into(),
        name_zh: "海港貿易有限公司".into(),
        role: "administrator".into(),
        via_agent_brn: None,
        valid_until: None,
    }
}

/// Acted for through an agent's delegation, and without a Chinese name.
fn bakery() -> Representation {
    Representation {
        business_id: "biz-bakery".into(),
        brn: "23456789".into(),
        name_en: "Kowloon Bakery Company".into(),
        name_zh: String::new(),
        role: "authorised_signatory".into(),
        via_agent_brn: Some("87654321".into()),
        // 2100-01-01: fixed, so the representation compares equal however long the test runs.
        valid_until: Some(4_102_444_800),
    }
}

fn fresh() -> AuthContext {
    AuthContext {
        auth_time: now(),
        acr: ACR_PASSKEY.into(),
        amr: vec!["pop".into()],
        session_id: None,
    }
}

/// PAR for `scope`, then `/authorize`: the interaction waiting for the resident.
async fn start(
    provider: &Provider,
    rp: &Rp,
    scope: &str,
    dpop_key: &PKey<Private>,
) -> Result<Interaction, OAuthError> {
    let url = format!("{ISSUER}/oauth2/par");
    let proof = dpop(dpop_key, "POST", &url, None);
    let form = rp.auth(
        &[
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("scope", scope),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("nonce", "n-corp"),
        ],
        &url,
    );
    let (request_uri, _) = provider.push(&HeaderMap::new(), &form, &[&proof]).await?;
    let started = provider
        .authorize(&params(&[
            ("client_id", &rp.client_id),
            ("request_uri", &request_uri),
        ]))
        .await
        .map_err(RequestError::into_oauth)?;
    Ok(provider
        .interaction(&started.interaction_id, Some(&started.browser_secret))
        .await
        .unwrap())
}

/// Completes an approved interaction; the query of the redirect back to the service.
async fn finish(provider: &Provider, interaction: &Interaction) -> BTreeMap<String, String> {
    let interaction = provider.interaction(&interaction.id, None).await.unwrap();
    let location = provider.complete(&interaction).await.unwrap();
    url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

async fn refresh(
    provider: &Provider,
    rp: &Rp,
    refresh_token: &str,
    dpop_key: &PKey<Private>,
) -> Result<TokenResponse, OAuthError> {
    let url = format!("{ISSUER}/oauth2/token");
    let form = rp.auth(
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
        &url,
    );
    let proof = dpop(dpop_key, "POST", &url, None);
    provider.token(&HeaderMap::new(), &form, &[&proof]).await
}

async fn introspect(provider: &Provider, rp: &Rp, token: &str) -> serde_json::Value {
    let form = rp.auth(&[("token", token)], &format!("{ISSUER}/oauth2/introspect"));
    provider.introspect(&HeaderMap::new(), &form).await.unwrap()
}

/// How many audit events of `action` the log holds.
async fn audited(db: &Database, action: &str) -> i64 {
    let count = async {
        Ok::<i64, bauhinia_store::StoreError>(bauhinia_store::read!(db, conn => {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_events WHERE action = $1")
                .bind(action)
                .fetch_one(conn)
                .await?
        }))
    };
    count.await.unwrap()
}

/// Before the binary gives the provider a directory, `corpid` is neither offered nor accepted.
async fn without_a_directory(provider: &Provider, rp: &Rp, dpop_key: &PKey<Private>) {
    let discovery = provider.discovery();
    assert!(!discovery["scopes_supported"]
        .as_array()
        .unwrap()
        .contains(&"corpid".into()));
    let refused = start(provider, rp, "openid corpid", dpop_key)
        .await
        .unwrap_err();
    assert_eq!(refused.error, "invalid_scope");
    assert_eq!(
        refused.error_description,
        "corporate login is not available"
    );

    // A basic service's front-channel request is refused too, back at its redirect URI.
    let basic = Registration {
        name: text("Basic service"),
        profile: Profile::Basic,
        redirect_uris: vec![REDIRECT.into()],
        post_logout_redirect_uris: vec![],
        jwks: None,
        jwks_uri: None,
        scopes: vec![Scope::Openid, Scope::Corpid],
        fields: vec![],
        purpose: text("Testing"),
        id_token_signed_response_alg: None,
    };
    let (client, _) = provider.clients.register(basic, "admin").await.unwrap();
    let direct = provider
        .authorize(&params(&[
            ("client_id", &client.client_id),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("scope", "openid corpid"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("state", "s-basic"),
        ]))
        .await
        .unwrap_err();
    match direct {
        RequestError::Redirect { error, state, .. } => {
            assert_eq!(error.error, "invalid_scope");
            assert_eq!(state.as_deref(), Some("s-basic"));
        }
        other => panic!("expected a redirected invalid_scope, got {other:?}"),
    }
}

/// One provider with its directory, the corporate service, the resident and the DPoP key.
struct Fixture<'a> {
    db: &'a Database,
    provider: Provider,
    rp: Rp,
    resident: String,
    directory: Arc<Directory>,
    key: PKey<Private>,
}

impl Fixture<'_> {
    async fn start(&self) -> Interaction {
        start(&self.provider, &self.rp, "openid corpid", &self.key)
            .await
            .unwrap()
    }

    async fn step(&self, interaction: &Interaction) -> NextStep {
        self.provider
            .next_step(interaction, Some((&self.resident, fresh())))
            .await
            .unwrap()
    }

    async fn approve(
        &self,
        interaction: &Interaction,
        business: Option<&str>,
    ) -> Result<(), InteractionError> {
        self.provider
            .approve_as(
                interaction,
                &self.resident,
                Default::default(),
                business,
                fresh(),
            )
            .await
    }

    /// A corporate login approved for `business`; the code.
    async fn code_as(&self, business: &str) -> String {
        let interaction = self.start().await;
        self.approve(&interaction, Some(business)).await.unwrap();
        finish(&self.provider, &interaction).await["code"].clone()
    }

    async fn exchange(&self, code: &str) -> Result<TokenResponse, OAuthError> {
        exchange(&self.provider, &self.rp, code, &self.key).await
    }

    /// The tokens of a code and the claims of their ID token.
    async fn tokens(
        &self,
        code: &str,
    ) -> (TokenResponse, serde_json::Map<String, serde_json::Value>) {
        let tokens = self.exchange(code).await.unwrap();
        let claims = self
            .provider
            .keys
            .verify_own(tokens.id_token.as_deref().unwrap())
            .unwrap();
        (tokens, claims)
    }

    async fn userinfo(&self, access_token: &str) -> Result<serde_json::Value, ResourceError> {
        userinfo(&self.provider, access_token, &self.key).await
    }

    async fn refresh(&self, refresh_token: &str) -> Result<TokenResponse, OAuthError> {
        refresh(&self.provider, &self.rp, refresh_token, &self.key).await
    }

    async fn introspect(&self, token: &str) -> serde_json::Value {
        introspect(&self.provider, &self.rp, token).await
    }

    async fn audited(&self, action: &str) -> i64 {
        audited(self.db, action).await
    }
}

async fn suite(db: &Database) {
    let (provider, rp, resident) = setup_with(db, vec![Scope::Openid, Scope::Corpid]).await;
    let key = p256();
    without_a_directory(&provider, &rp, &key).await;

    let directory = Arc::new(Directory::default());
    provider.set_corporate_directory(directory.clone()).unwrap();
    assert!(
        provider
            .set_corporate_directory(Arc::new(Directory::default()))
            .is_err(),
        "the directory is set once"
    );
    let discovery = provider.discovery();
    assert!(discovery["scopes_supported"]
        .as_array()
        .unwrap()
        .contains(&"corpid".into()));
    for claim in [
        "corp_brn",
        "corp_name_en",
        "corp_name_zh",
        "corp_role",
        "corp_agent_brn",
    ] {
        assert!(
            discovery["claims_supported"]
                .as_array()
                .unwrap()
                .contains(&claim.into()),
            "{claim}"
        );
    }

    // A service not registered for corpid cannot ask for it...
    let personal_rp = register_rp(&provider, vec![Scope::Openid]).await;
    let refused = start(&provider, &personal_rp, "openid corpid", &key)
        .await
        .unwrap_err();
    assert_eq!(refused.error, "invalid_scope");
    // ... and naming a business on a personal login is refused.
    let personal = start(&provider, &personal_rp, "openid", &key)
        .await
        .unwrap();
    assert_eq!(
        provider
            .approve_as(
                &personal,
                &resident,
                Default::default(),
                Some("biz-harbour"),
                fresh()
            )
            .await,
        Err(InteractionError::BusinessNotRequested)
    );

    let f = Fixture {
        db,
        provider,
        rp,
        resident,
        directory,
        key,
    };
    no_business(&f).await;
    one_business(&f).await;
    several_businesses(&f).await;
    revocation(&f).await;
}

/// A resident who represents no business: the request ends with access_denied, audited.
async fn no_business(f: &Fixture<'_>) {
    let interaction = f.start().await;
    let step = f.step(&interaction).await;
    assert!(
        matches!(&step, NextStep::Redirect(l) if l.contains("error=access_denied") && l.contains("not+a+representative")),
        "{step:?}"
    );
    let ended = f.provider.interaction(&interaction.id, None).await.unwrap();
    assert_eq!(ended.status, InteractionStatus::Rejected);
    let back = finish(&f.provider, &ended).await;
    assert_eq!(back["error"], "access_denied");
    assert_eq!(
        back["error_description"],
        "not a representative of any business"
    );
    assert_eq!(f.audited("identity.corporate.not_representative").await, 1);
}

/// One business: shown, used without a choice, and its claims in every answer.
async fn one_business(f: &Fixture<'_>) {
    f.directory.add(&f.resident, harbour());
    let interaction = f.start().await;
    assert_eq!(
        f.step(&interaction).await,
        NextStep::Consent {
            businesses: vec![harbour()]
        }
    );
    f.approve(&interaction, None).await.unwrap();
    let code = finish(&f.provider, &interaction).await["code"].clone();
    let (tokens, claims) = f.tokens(&code).await;
    assert_eq!(claims["corp_brn"], "12345678");
    assert_eq!(claims["corp_name_en"], "Harbour Trading Limited");
    assert_eq!(claims["corp_name_zh"], "海港貿易有限公司");
    assert_eq!(claims["corp_role"], "administrator");
    assert!(claims.get("corp_agent_brn").is_none(), "{claims:?}");
    assert_eq!(
        claims["sub"],
        f.provider
            .pairwise_sub(&f.rp.client_id, &f.resident)
            .as_str()
    );
    let info = f.userinfo(&tokens.access_token).await.unwrap();
    assert_eq!(info["sub"], claims["sub"]);
    assert_eq!(info["corp_brn"], "12345678");
    assert_eq!(info["corp_role"], "administrator");
    let answer = f.introspect(&tokens.access_token).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["corp_brn"], "12345678");

    // The consent receipt and the audit log keep the BRN and the role, never the HKID.
    let receipt = f
        .provider
        .consents(&f.resident)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.corp_business_id.as_deref() == Some("biz-harbour"))
        .unwrap();
    assert_eq!(receipt.corp_brn.as_deref(), Some("12345678"));
    assert_eq!(receipt.corp_role.as_deref(), Some("administrator"));
    let events =
        f.db.audit_for_subject(&format!("service:{}", f.rp.client_id), 1000)
            .await
            .unwrap();
    let approval = events
        .iter()
        .rev()
        .find(|e| e.action == "identity.consent.approve")
        .unwrap();
    assert!(
        approval.detail.contains("12345678") && approval.detail.contains("administrator"),
        "{}",
        approval.detail
    );
    assert!(events.iter().all(|e| !e.detail.contains("A123456")));

    // The same business again is covered by that consent: no screen.
    let again = f.start().await;
    assert_eq!(f.step(&again).await, NextStep::Continue);
    let code = finish(&f.provider, &again).await["code"].clone();
    assert_eq!(f.tokens(&code).await.1["corp_brn"], "12345678");
}

/// Two businesses: a choice is required, a forged one refused, the chosen one's claims come
/// back.
async fn several_businesses(f: &Fixture<'_>) {
    f.directory.add(&f.resident, bakery());
    let interaction = f.start().await;
    assert_eq!(
        f.step(&interaction).await,
        NextStep::Consent {
            businesses: vec![harbour(), bakery()]
        },
        "a consent for one of them does not skip the choice"
    );
    // Cross-device: the app opens the same request by its link and is offered the same choice.
    let from_app = f
        .provider
        .interaction_for_app(&interaction.id, &f.provider.app_code(&interaction))
        .await
        .unwrap();
    assert_eq!(
        f.provider
            .businesses_for(&from_app, &f.resident)
            .await
            .unwrap(),
        vec![harbour(), bakery()]
    );
    let refused_before = f.audited("identity.corporate.choice_refused").await;
    assert_eq!(
        f.approve(&interaction, None).await,
        Err(InteractionError::BusinessRequired)
    );
    for forged in ["biz-elsewhere".to_owned(), "x".repeat(10_000)] {
        assert_eq!(
            f.approve(&interaction, Some(&forged)).await,
            Err(InteractionError::BusinessNotOffered)
        );
    }
    assert_eq!(
        f.provider
            .interaction(&interaction.id, None)
            .await
            .unwrap()
            .status,
        InteractionStatus::Pending,
        "nothing was approved"
    );
    assert_eq!(
        f.audited("identity.corporate.choice_refused").await,
        refused_before + 2
    );
    f.approve(&interaction, Some("biz-bakery")).await.unwrap();
    let code = finish(&f.provider, &interaction).await["code"].clone();
    let (tokens, claims) = f.tokens(&code).await;
    assert_eq!(claims["corp_brn"], "23456789");
    assert_eq!(claims["corp_name_en"], "Kowloon Bakery Company");
    assert!(claims.get("corp_name_zh").is_none(), "{claims:?}");
    assert_eq!(claims["corp_role"], "authorised_signatory");
    assert_eq!(claims["corp_agent_brn"], "87654321");
    let info = f.userinfo(&tokens.access_token).await.unwrap();
    assert_eq!(info["corp_brn"], "23456789");
    assert_eq!(info["corp_agent_brn"], "87654321");
}

/// A representation that ends stops the code exchange, refresh, userinfo, introspection and
/// the next login for that business.
async fn revocation(f: &Fixture<'_>) {
    let ended_before = f.audited("identity.corporate.representation_ended").await;
    // Revoked between approval and code exchange: no token, and the grant is over even if
    // the role comes back.
    let code = f.code_as("biz-harbour").await;
    f.directory.remove("biz-harbour");
    let refused = f.exchange(&code).await.unwrap_err();
    assert_eq!(refused.error, "invalid_grant");
    assert_eq!(refused.error_description, ENDED);
    f.directory.add(&f.resident, harbour());
    assert_eq!(f.exchange(&code).await.unwrap_err().error, "invalid_grant");

    // Revoked after tokens were issued: userinfo, refresh and introspection all refuse.
    let mut issued = Vec::new();
    for _ in 0..3 {
        let code = f.code_as("biz-harbour").await;
        issued.push(f.exchange(&code).await.unwrap());
    }
    f.directory.remove("biz-harbour");
    let [for_userinfo, for_refresh, for_introspection] = &issued[..] else {
        unreachable!()
    };
    assert!(matches!(
        f.userinfo(&for_userinfo.access_token).await,
        Err(ResourceError::Invalid(why)) if why == ENDED
    ));
    let refused = f.refresh(&for_refresh.refresh_token).await.unwrap_err();
    assert_eq!(refused.error, "invalid_grant");
    assert_eq!(refused.error_description, ENDED);
    assert_eq!(
        f.introspect(&for_introspection.access_token).await["active"],
        false
    );
    // Each grant was revoked with its tokens: the refresh token of the first is dead too.
    f.directory.add(&f.resident, harbour());
    assert_eq!(
        f.refresh(&for_userinfo.refresh_token)
            .await
            .unwrap_err()
            .error,
        "invalid_grant"
    );
    assert_eq!(
        f.audited("identity.corporate.representation_ended").await,
        ended_before + 4
    );

    // A later login no longer offers a business whose role is revoked, nor one whose
    // delegation has ended. With the harbour gone only the bakery remains, and the consent
    // given for it earlier covers the request.
    f.directory.remove("biz-harbour");
    let interaction = f.start().await;
    assert_eq!(f.step(&interaction).await, NextStep::Continue);
    let code = finish(&f.provider, &interaction).await["code"].clone();
    assert_eq!(f.tokens(&code).await.1["corp_brn"], "23456789");
    let interaction = f.start().await;
    assert_eq!(
        f.approve(&interaction, Some("biz-harbour")).await,
        Err(InteractionError::BusinessNotOffered)
    );
    f.directory.end_at("biz-bakery", now() - 1);
    let interaction = f.start().await;
    assert!(matches!(
        f.step(&interaction).await,
        NextStep::Redirect(l) if l.contains("error=access_denied")
    ));
}

#[tokio::test]
async fn corporate_login_sqlite() {
    let test = TestDb::sqlite().await.expect("sqlite");
    suite(&test.db).await;
    test.cleanup().await.expect("cleanup");
}

#[tokio::test]
async fn corporate_login_postgres() {
    let Some(test) = TestDb::postgres().await.expect("postgres test database") else {
        eprintln!("store conformance: postgres (corporate login) not run (DATABASE_URL unset; scripts/test always sets it)");
        return;
    };
    suite(&test.db).await;
    test.cleanup().await.expect("cleanup");
    println!("store conformance: postgres (corporate login) passed");
}
