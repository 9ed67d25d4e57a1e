//! The OpenID Provider's flow through its service API, on SQLite and PostgreSQL: PAR, the
//! interaction, approval, code exchange with `private_key_jwt` and DPoP, userinfo, refresh
//! rotation and reuse detection, code reuse, revocation, introspection, consent revocation and
//! key rotation. (The HTTP suite with a real relying party is in tests/browser.)

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue};
use bauhinia_core::crypto::{MasterKey, Vault};
use bauhinia_identity::jose::{self, Alg, Header, Jwk, JwkSet};
use bauhinia_identity::keys::now;
use bauhinia_identity::oidc::clients::{Profile, Registration, Text3};
use bauhinia_identity::oidc::fields::{Field, Scope};
use bauhinia_identity::oidc::provider::{AuthContext, ResourceError, ACR_PASSKEY};
use bauhinia_identity::oidc::{OAuthError, Provider};
use bauhinia_identity::IdentityService;
use bauhinia_store::testing::TestDb;
use bauhinia_store::Database;
use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};

pub(crate) const ISSUER: &str = "https://id.example.test";
pub(crate) const REDIRECT: &str = "https://service.example.test/callback";
pub(crate) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub(crate) const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub(crate) fn p256() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
}

pub(crate) fn text(s: &str) -> Text3 {
    Text3 {
        zh_hant: s.into(),
        zh_hans: s.into(),
        en: s.into(),
    }
}

pub(crate) fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in pairs {
        map.entry((*k).to_owned())
            .or_default()
            .push((*v).to_owned());
    }
    map
}

pub(crate) struct Rp {
    pub(crate) client_id: String,
    key: PKey<Private>,
}

impl Rp {
    fn assertion(&self, aud: &str) -> String {
        let at = now();
        let claims = serde_json::json!({
            "iss": self.client_id, "sub": self.client_id, "aud": aud,
            "iat": at, "exp": at + 60, "jti": uuid::Uuid::new_v4().to_string(),
        });
        jose::sign(
            Header {
                kid: Some("rp-1".into()),
                ..Header::default()
            },
            &claims,
            Alg::ES256,
            &self.key,
        )
        .unwrap()
    }

    pub(crate) fn auth(
        &self,
        pairs: &[(&str, &str)],
        endpoint: &str,
    ) -> BTreeMap<String, Vec<String>> {
        let assertion = self.assertion(ISSUER);
        let _ = endpoint;
        let mut all = vec![
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion.as_str()),
        ];
        all.extend_from_slice(pairs);
        params(&all)
    }
}

pub(crate) fn dpop(key: &PKey<Private>, method: &str, url: &str, token: Option<&str>) -> String {
    let jwk = Jwk::from_key(key, None, None).unwrap();
    let mut claims = serde_json::json!({ "htm": method, "htu": url, "iat": now(), "jti": uuid::Uuid::new_v4().to_string() });
    if let Some(token) = token {
        claims["ath"] = jose::sha256_b64(token.as_bytes()).into();
    }
    jose::sign(
        Header {
            typ: Some("dpop+jwt".into()),
            jwk: Some(jwk),
            ..Header::default()
        },
        &claims,
        Alg::ES256,
        key,
    )
    .unwrap()
}

async fn setup(db: &Database) -> (Provider, Rp, String) {
    setup_with(db, vec![Scope::Openid, Scope::Email]).await
}

/// A provider with one resident and one FAPI 2.0 service registered for `scopes`.
pub(crate) async fn setup_with(db: &Database, scopes: Vec<Scope>) -> (Provider, Rp, String) {
    let vault = Arc::new(Vault::new(&MasterKey::generate()));
    let identity = Arc::new(IdentityService::new(db, vault.clone()));
    let today = time::Date::from_calendar_date(2026, time::Month::November, 23).unwrap();
    let resident = identity
        .register(&bauhinia_identity::demo::residents()[0], "test", today)
        .await
        .unwrap();
    let provider = Provider::new(db, vault, identity, ISSUER).await.unwrap();
    let rp = register_rp(&provider, scopes).await;
    (provider, rp, resident.id)
}

/// Registers another FAPI 2.0 service, allowed `scopes`.
pub(crate) async fn register_rp(provider: &Provider, scopes: Vec<Scope>) -> Rp {
    let key = p256();
    let jwk = Jwk::from_key(&key, Some("rp-1".into()), Some(Alg::ES256)).unwrap();
    let registration = Registration {
        name: text("Test service"),
        profile: Profile::Fapi2,
        redirect_uris: vec![REDIRECT.into()],
        post_logout_redirect_uris: vec![],
        jwks: Some(JwkSet { keys: vec![jwk] }),
        jwks_uri: None,
        scopes,
        fields: vec![Field::Email, Field::EnglishName, Field::Hkid],
        purpose: text("Testing"),
        id_token_signed_response_alg: None,
    };
    let (client, secret) = provider
        .clients
        .register(registration, "admin")
        .await
        .unwrap();
    assert!(secret.is_none(), "FAPI clients get no secret");
    Rp {
        client_id: client.client_id,
        key,
    }
}

/// PAR → authorize → approve → complete; returns the code.
async fn code_for(
    provider: &Provider,
    rp: &Rp,
    resident: &str,
    dpop_key: &PKey<Private>,
    fields: &[Field],
) -> String {
    let url = format!("{ISSUER}/oauth2/par");
    let proof = dpop(dpop_key, "POST", &url, None);
    let (request_uri, expires_in) = provider
        .push(
            &HeaderMap::new(),
            &rp.auth(
                &[
                    ("response_type", "code"),
                    ("client_id", &rp.client_id),
                    ("redirect_uri", REDIRECT),
                    ("scope", "openid email"),
                    ("code_challenge", CHALLENGE),
                    ("code_challenge_method", "S256"),
                    ("state", "st"),
                    ("nonce", "n-1"),
                    ("claims", r#"{"userinfo":{"hkid":{"essential":true}},"id_token":{"english_name":null}}"#),
                ],
                &url,
            ),
            &[&proof],
        )
        .await
        .unwrap();
    assert!(expires_in > 5 && expires_in <= 600);
    let started = provider
        .authorize(&params(&[
            ("client_id", &rp.client_id),
            ("request_uri", &request_uri),
        ]))
        .await
        .unwrap();
    // The request URI is single use.
    assert!(provider
        .authorize(&params(&[
            ("client_id", &rp.client_id),
            ("request_uri", &request_uri)
        ]))
        .await
        .is_err());
    let interaction = provider
        .interaction(&started.interaction_id, Some(&started.browser_secret))
        .await
        .unwrap();
    assert!(provider
        .interaction(&started.interaction_id, Some("another browser"))
        .await
        .is_err());
    let auth = AuthContext {
        auth_time: now(),
        acr: ACR_PASSKEY.into(),
        amr: vec!["pop".into()],
        session_id: Some("s-1".into()),
    };
    provider
        .approve(
            &interaction,
            resident,
            fields.iter().copied().collect(),
            auth,
        )
        .await
        .unwrap();
    let interaction = provider
        .interaction(&started.interaction_id, Some(&started.browser_secret))
        .await
        .unwrap();
    let location = provider.complete(&interaction).await.unwrap();
    let url = url::Url::parse(&location).unwrap();
    let query: BTreeMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(query.get("iss").map(String::as_str), Some(ISSUER));
    assert_eq!(query.get("state").map(String::as_str), Some("st"));
    query["code"].clone()
}

pub(crate) async fn exchange(
    provider: &Provider,
    rp: &Rp,
    code: &str,
    dpop_key: &PKey<Private>,
) -> Result<bauhinia_identity::oidc::provider::TokenResponse, OAuthError> {
    let url = format!("{ISSUER}/oauth2/token");
    let proof = dpop(dpop_key, "POST", &url, None);
    provider
        .token(
            &HeaderMap::new(),
            &rp.auth(
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("redirect_uri", REDIRECT),
                    ("code_verifier", VERIFIER),
                ],
                &url,
            ),
            &[&proof],
        )
        .await
}

pub(crate) async fn userinfo(
    provider: &Provider,
    token: &str,
    dpop_key: &PKey<Private>,
) -> Result<serde_json::Value, ResourceError> {
    let proof = dpop(
        dpop_key,
        "GET",
        &format!("{ISSUER}/oauth2/userinfo"),
        Some(token),
    );
    provider
        .userinfo(Some(&format!("DPoP {token}")), &[&proof], "GET")
        .await
}

async fn suite(db: &Database) {
    let (provider, rp, resident) = setup(db).await;
    let dpop_key = p256();

    // The happy path: only the approved fields are released.
    let code = code_for(
        &provider,
        &rp,
        &resident,
        &dpop_key,
        &[Field::Email, Field::EnglishName],
    )
    .await;
    let tokens = exchange(&provider, &rp, &code, &dpop_key).await.unwrap();
    assert_eq!(tokens.token_type, "DPoP");
    let id_token = tokens.id_token.clone().unwrap();
    let claims = provider.keys.verify_own(&id_token).unwrap();
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["aud"], rp.client_id.as_str());
    assert_eq!(claims["nonce"], "n-1");
    assert_eq!(claims["acr"], ACR_PASSKEY);
    assert_eq!(claims["english_name"], "CHAN, Tai Man");
    assert!(claims.get("hkid").is_none());
    let info = userinfo(&provider, &tokens.access_token, &dpop_key)
        .await
        .unwrap();
    assert_eq!(info["email"], "taiman.chan@example.hk");
    assert!(
        info.get("hkid").is_none(),
        "hkid was asked for but not approved: {info}"
    );
    assert_eq!(info["sub"], claims["sub"]);

    // A bearer presentation of a DPoP-bound token, or a proof by another key, is refused.
    assert!(matches!(
        provider
            .userinfo(Some(&format!("Bearer {}", tokens.access_token)), &[], "GET")
            .await,
        Err(ResourceError::Invalid(_))
    ));
    let other = p256();
    assert!(matches!(
        userinfo(&provider, &tokens.access_token, &other).await,
        Err(ResourceError::Proof(_))
    ));

    // Refresh rotates; the old refresh token reused revokes the whole grant.
    let url = format!("{ISSUER}/oauth2/token");
    let refresh = |token: String| {
        let proof = dpop(&dpop_key, "POST", &url, None);
        let form = rp.auth(
            &[("grant_type", "refresh_token"), ("refresh_token", &token)],
            &url,
        );
        let provider = &provider;
        async move { provider.token(&HeaderMap::new(), &form, &[&proof]).await }
    };
    let rotated = refresh(tokens.refresh_token.clone()).await.unwrap();
    assert_ne!(rotated.refresh_token, tokens.refresh_token);
    assert!(userinfo(&provider, &rotated.access_token, &dpop_key)
        .await
        .is_ok());
    let reuse = refresh(tokens.refresh_token.clone()).await.unwrap_err();
    assert_eq!(reuse.error, "invalid_grant");
    assert!(
        userinfo(&provider, &rotated.access_token, &dpop_key)
            .await
            .is_err(),
        "the family is revoked"
    );
    assert_eq!(
        refresh(rotated.refresh_token.clone())
            .await
            .unwrap_err()
            .error,
        "invalid_grant"
    );

    // A code is single use; its second use revokes what the first issued.
    let code = code_for(
        &provider,
        &rp,
        &resident,
        &dpop_key,
        &[Field::Email, Field::Hkid],
    )
    .await;
    let tokens = exchange(&provider, &rp, &code, &dpop_key).await.unwrap();
    let info = userinfo(&provider, &tokens.access_token, &dpop_key)
        .await
        .unwrap();
    assert_eq!(info["hkid"], "A123456(3)");
    assert_eq!(
        exchange(&provider, &rp, &code, &dpop_key)
            .await
            .unwrap_err()
            .error,
        "invalid_grant"
    );
    assert!(userinfo(&provider, &tokens.access_token, &dpop_key)
        .await
        .is_err());

    // A code bound to one DPoP key cannot be redeemed with another; a wrong verifier fails.
    let code = code_for(&provider, &rp, &resident, &dpop_key, &[]).await;
    assert_eq!(
        exchange(&provider, &rp, &code, &other)
            .await
            .unwrap_err()
            .error,
        "invalid_dpop_proof"
    );
    let proof = dpop(&dpop_key, "POST", &url, None);
    let wrong = provider
        .token(
            &HeaderMap::new(),
            &rp.auth(
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT),
                    ("code_verifier", &"x".repeat(43)),
                ],
                &url,
            ),
            &[&proof],
        )
        .await
        .unwrap_err();
    assert_eq!(wrong.error, "invalid_grant");
    // A replayed client assertion is refused.
    let form = rp.auth(
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
        &url,
    );
    let first = provider
        .token(
            &HeaderMap::new(),
            &form,
            &[&dpop(&dpop_key, "POST", &url, None)],
        )
        .await;
    assert!(first.is_ok(), "{first:?}");
    let replay = provider
        .token(
            &HeaderMap::new(),
            &form,
            &[&dpop(&dpop_key, "POST", &url, None)],
        )
        .await
        .unwrap_err();
    assert_eq!(replay.error, "invalid_client");
    let tokens = first.unwrap();

    // Introspection: active for the owner; revocation of the refresh token ends the grant.
    let introspect = |token: String| {
        let form = rp.auth(&[("token", &token)], &format!("{ISSUER}/oauth2/introspect"));
        let provider = &provider;
        async move { provider.introspect(&HeaderMap::new(), &form).await.unwrap() }
    };
    let answer = introspect(tokens.access_token.clone()).await;
    assert_eq!(answer["active"], true);
    assert_eq!(
        answer["cnf"]["jkt"],
        Jwk::from_key(&dpop_key, None, None)
            .unwrap()
            .thumbprint()
            .unwrap()
    );
    let form = rp.auth(
        &[("token", &tokens.refresh_token)],
        &format!("{ISSUER}/oauth2/revoke"),
    );
    provider.revoke(&HeaderMap::new(), &form).await.unwrap();
    assert_eq!(
        introspect(tokens.access_token.clone()).await["active"],
        false
    );

    // Consent receipts are listed and revocable; revoking ends the grants made under them.
    let code = code_for(&provider, &rp, &resident, &dpop_key, &[Field::Email]).await;
    let tokens = exchange(&provider, &rp, &code, &dpop_key).await.unwrap();
    let consents = provider.consents(&resident).await.unwrap();
    let live: Vec<_> = consents.iter().filter(|c| c.revoked_at.is_none()).collect();
    assert!(!live.is_empty());
    for c in &live {
        assert!(provider.revoke_consent(&resident, &c.id).await.unwrap());
    }
    assert!(userinfo(&provider, &tokens.access_token, &dpop_key)
        .await
        .is_err());

    // Approving a field that was not asked for is refused.
    let url_par = format!("{ISSUER}/oauth2/par");
    let (request_uri, _) = provider
        .push(
            &HeaderMap::new(),
            &rp.auth(
                &[
                    ("response_type", "code"),
                    ("redirect_uri", REDIRECT),
                    ("scope", "openid"),
                    ("code_challenge", CHALLENGE),
                    ("code_challenge_method", "S256"),
                ],
                &url_par,
            ),
            &[],
        )
        .await
        .unwrap();
    let started = provider
        .authorize(&params(&[
            ("client_id", &rp.client_id),
            ("request_uri", &request_uri),
        ]))
        .await
        .unwrap();
    let interaction = provider
        .interaction(&started.interaction_id, Some(&started.browser_secret))
        .await
        .unwrap();
    let auth = AuthContext {
        auth_time: now(),
        acr: ACR_PASSKEY.into(),
        amr: vec![],
        session_id: None,
    };
    assert!(provider
        .approve(&interaction, &resident, BTreeSet::from([Field::Hkid]), auth)
        .await
        .is_err());

    // Step-up: prompt=login wants an authentication after the request began; max_age one
    // within that many seconds. An older session must sign in again first.
    for extra in [("prompt", "login"), ("max_age", "60")] {
        let (request_uri, _) = provider
            .push(
                &HeaderMap::new(),
                &rp.auth(
                    &[
                        ("response_type", "code"),
                        ("redirect_uri", REDIRECT),
                        ("scope", "openid"),
                        ("code_challenge", CHALLENGE),
                        ("code_challenge_method", "S256"),
                        extra,
                    ],
                    &url_par,
                ),
                &[],
            )
            .await
            .unwrap();
        let started = provider
            .authorize(&params(&[
                ("client_id", &rp.client_id),
                ("request_uri", &request_uri),
            ]))
            .await
            .unwrap();
        let interaction = provider
            .interaction(&started.interaction_id, Some(&started.browser_secret))
            .await
            .unwrap();
        let stale = AuthContext {
            auth_time: now() - 3600,
            acr: ACR_PASSKEY.into(),
            amr: vec![],
            session_id: None,
        };
        assert!(!provider.fresh_enough(&interaction, &stale), "{extra:?}");
        assert!(matches!(
            provider
                .approve(&interaction, &resident, BTreeSet::new(), stale)
                .await,
            Err(bauhinia_identity::oidc::provider::InteractionError::ReauthenticationRequired)
        ));
        let fresh = AuthContext {
            auth_time: now() + 1,
            acr: ACR_PASSKEY.into(),
            amr: vec![],
            session_id: None,
        };
        provider
            .approve(&interaction, &resident, BTreeSet::new(), fresh)
            .await
            .unwrap();
    }

    // What the waiting page does next: prompt=none never shows a page; an earlier consent that
    // covers the request continues silently, unless prompt=consent asks again.
    let next = |prompt: &'static str, signed_in: bool| {
        let provider = &provider;
        let rp = &rp;
        let resident = resident.clone();
        let url_par = url_par.clone();
        async move {
            let mut pairs = vec![
                ("response_type", "code"),
                ("redirect_uri", REDIRECT),
                ("scope", "openid email"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ];
            if !prompt.is_empty() {
                pairs.push(("prompt", prompt));
            }
            let (request_uri, _) = provider
                .push(&HeaderMap::new(), &rp.auth(&pairs, &url_par), &[])
                .await
                .unwrap();
            let started = provider
                .authorize(&params(&[
                    ("client_id", &rp.client_id),
                    ("request_uri", &request_uri),
                ]))
                .await
                .unwrap();
            let interaction = provider
                .interaction(&started.interaction_id, Some(&started.browser_secret))
                .await
                .unwrap();
            let auth = AuthContext {
                auth_time: now() + 1,
                acr: ACR_PASSKEY.into(),
                amr: vec![],
                session_id: None,
            };
            let signed_in = signed_in.then_some((resident.as_str(), auth));
            let step = provider.next_step(&interaction, signed_in).await.unwrap();
            (step, interaction)
        }
    };
    use bauhinia_identity::oidc::provider::NextStep;
    let (step, _) = next("none", false).await;
    assert!(
        matches!(&step, NextStep::Redirect(l) if l.contains("error=login_required")),
        "{step:?}"
    );
    let (step, _) = next("", false).await;
    assert_eq!(step, NextStep::Login);
    // The consents granted above were revoked: consent is needed again.
    let (step, _) = next("none", true).await;
    assert!(
        matches!(&step, NextStep::Redirect(l) if l.contains("error=consent_required")),
        "{step:?}"
    );
    let (step, interaction) = next("", true).await;
    assert_eq!(
        step,
        NextStep::Consent {
            businesses: Vec::new()
        }
    );
    let auth = AuthContext {
        auth_time: now() + 1,
        acr: ACR_PASSKEY.into(),
        amr: vec![],
        session_id: None,
    };
    provider
        .approve(&interaction, &resident, interaction.request.fields(), auth)
        .await
        .unwrap();
    let interaction = provider.interaction(&interaction.id, None).await.unwrap();
    provider.complete(&interaction).await.unwrap();
    assert_eq!(
        next("none", true).await.0,
        NextStep::Continue,
        "covered by the consent just given"
    );
    assert_eq!(next("", true).await.0, NextStep::Continue);
    assert!(matches!(
        next("consent", true).await.0,
        NextStep::Consent { .. }
    ));

    // A request nobody answers times out, and the service hears so.
    let (request_uri, _) = provider
        .push(
            &HeaderMap::new(),
            &rp.auth(
                &[
                    ("response_type", "code"),
                    ("redirect_uri", REDIRECT),
                    ("scope", "openid"),
                    ("code_challenge", CHALLENGE),
                    ("code_challenge_method", "S256"),
                    ("state", "late"),
                ],
                &url_par,
            ),
            &[],
        )
        .await
        .unwrap();
    let started = provider
        .authorize(&params(&[
            ("client_id", &rp.client_id),
            ("request_uri", &request_uri),
        ]))
        .await
        .unwrap();
    let expire = async {
        bauhinia_store::write_tx!(db, tx, _a => {
            sqlx::query("UPDATE identity_interactions SET expires_at = $1 WHERE id = $2").bind(now() - 1).bind(&started.interaction_id).execute(&mut *tx).await?;
        });
        Ok::<(), bauhinia_store::StoreError>(())
    };
    expire.await.unwrap();
    let interaction = provider
        .interaction(&started.interaction_id, Some(&started.browser_secret))
        .await
        .unwrap();
    assert_eq!(
        interaction.status,
        bauhinia_identity::oidc::provider::InteractionStatus::Expired
    );
    let auth = AuthContext {
        auth_time: now(),
        acr: ACR_PASSKEY.into(),
        amr: vec![],
        session_id: None,
    };
    assert!(
        provider
            .approve(&interaction, &resident, BTreeSet::new(), auth)
            .await
            .is_err(),
        "too late to approve"
    );
    let location = provider.complete(&interaction).await.unwrap();
    assert!(
        location.contains("error=access_denied")
            && location.contains("timed+out")
            && location.contains("state=late"),
        "{location}"
    );

    // Without PAR a FAPI client is refused; a field beyond registration is refused at PAR.
    let direct = provider
        .authorize(&params(&[
            ("client_id", &rp.client_id),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]))
        .await
        .unwrap_err()
        .into_oauth();
    assert_eq!(direct.error, "invalid_request");
    let escalate = provider
        .push(
            &HeaderMap::new(),
            &rp.auth(
                &[
                    ("response_type", "code"),
                    ("redirect_uri", REDIRECT),
                    ("scope", "openid"),
                    ("code_challenge", CHALLENGE),
                    ("code_challenge_method", "S256"),
                    ("claims", r#"{"userinfo":{"mobile":null}}"#),
                ],
                &url_par,
            ),
            &[],
        )
        .await
        .unwrap_err();
    assert_eq!(escalate.error, "invalid_request");
    let scope = provider
        .push(
            &HeaderMap::new(),
            &rp.auth(
                &[
                    ("response_type", "code"),
                    ("redirect_uri", REDIRECT),
                    ("scope", "openid phone"),
                    ("code_challenge", CHALLENGE),
                    ("code_challenge_method", "S256"),
                ],
                &url_par,
            ),
            &[],
        )
        .await
        .unwrap_err();
    assert_eq!(scope.error, "invalid_scope");

    // Client assertions are for the issuer alone (FAPI 2.0): not an endpoint, not an array.
    for aud in [
        serde_json::json!(format!("{ISSUER}/oauth2/par")),
        serde_json::json!([ISSUER, "https://other.example"]),
    ] {
        let at = now();
        let claims = serde_json::json!({
            "iss": rp.client_id, "sub": rp.client_id, "aud": aud,
            "iat": at, "exp": at + 60, "jti": uuid::Uuid::new_v4().to_string(),
        });
        let assertion = jose::sign(
            Header {
                kid: Some("rp-1".into()),
                ..Header::default()
            },
            &claims,
            Alg::ES256,
            &rp.key,
        )
        .unwrap();
        let form = params(&[
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", &assertion),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]);
        assert_eq!(
            provider
                .push(&HeaderMap::new(), &form, &[])
                .await
                .unwrap_err()
                .error,
            "invalid_client",
            "aud {aud}"
        );
    }

    // On the embedded database seen JWT ids are remembered in memory, from the start of the
    // process: a proof made before the start (here 100 s ago, within its 120 s) is refused.
    if matches!(db, Database::Sqlite(_)) {
        let jwk = Jwk::from_key(&dpop_key, None, None).unwrap();
        let claims = serde_json::json!({ "htm": "POST", "htu": format!("{ISSUER}/oauth2/token"), "iat": now() - 100, "jti": "old" });
        let old = jose::sign(
            Header {
                typ: Some("dpop+jwt".into()),
                jwk: Some(jwk),
                ..Header::default()
            },
            &claims,
            Alg::ES256,
            &dpop_key,
        )
        .unwrap();
        let code = code_for(&provider, &rp, &resident, &dpop_key, &[]).await;
        let form = rp.auth(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ],
            &url,
        );
        let refused = provider
            .token(&HeaderMap::new(), &form, &[&old])
            .await
            .unwrap_err();
        assert_eq!(refused.error, "invalid_dpop_proof");
        assert!(
            refused
                .error_description
                .contains("before the server started"),
            "{refused}"
        );
    }

    // Key rotation: the old key keeps verifying the tokens it signed, and stays in the JWKS.
    let before = provider.keys.jwks().keys.len();
    let new_kid = provider.keys.rotate(Alg::ES256, "admin").await.unwrap();
    assert_eq!(provider.keys.jwks().keys.len(), before + 1);
    assert!(
        provider.keys.verify_own(&id_token).is_ok(),
        "tokens of the retired key still verify"
    );
    let code = code_for(&provider, &rp, &resident, &dpop_key, &[]).await;
    let tokens = exchange(&provider, &rp, &code, &dpop_key).await.unwrap();
    let header = jose::decode(tokens.id_token.as_deref().unwrap())
        .unwrap()
        .header;
    assert_eq!(header.kid.as_deref(), Some(new_kid.as_str()));

    // Expired codes are refused.
    let code = code_for(&provider, &rp, &resident, &dpop_key, &[]).await;
    let hash = bauhinia_identity::oidc::token_hash(&code);
    let expire = async {
        bauhinia_store::write_tx!(db, tx, _a => {
            sqlx::query("UPDATE identity_codes SET expires_at = $1 WHERE code_hash = $2").bind(now() - 1).bind(&hash).execute(&mut *tx).await?;
        });
        Ok::<(), bauhinia_store::StoreError>(())
    };
    expire.await.unwrap();
    assert_eq!(
        exchange(&provider, &rp, &code, &dpop_key)
            .await
            .unwrap_err()
            .error,
        "invalid_grant"
    );

    // Nothing above wrote a token, a secret or an HKID in clear.
    let _ = HeaderValue::from_static("ok");
}

/// The service cache: requests that find a service missing from the cache wait for one read;
/// this process's changes are seen at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_cache_reads_once_and_sees_changes_at_once() {
    let test = TestDb::sqlite().await.expect("sqlite");
    let (provider, rp, _) = setup(&test.db).await;
    let clients = &provider.clients;
    assert!(clients.get(&rp.client_id).await.unwrap().unwrap().active);
    clients.disable(&rp.client_id, "admin").await.unwrap();
    let before = clients.database_reads();
    let all = futures_util::future::join_all((0..32).map(|_| clients.get(&rp.client_id))).await;
    for client in all {
        assert!(
            !client.unwrap().unwrap().active,
            "the change is seen at once"
        );
    }
    assert_eq!(
        clients.database_reads() - before,
        1,
        "one read for 32 requests"
    );
    test.cleanup().await.expect("cleanup");
}

#[tokio::test]
async fn oidc_sqlite() {
    let test = TestDb::sqlite().await.expect("sqlite");
    suite(&test.db).await;
    test.cleanup().await.expect("cleanup");
}

#[tokio::test]
async fn oidc_postgres() {
    let Some(test) = TestDb::postgres().await.expect("postgres test database") else {
        eprintln!("store conformance: postgres (oidc) not run (DATABASE_URL unset; scripts/test always sets it)");
        return;
    };
    suite(&test.db).await;
    test.cleanup().await.expect("cleanup");
    println!("store conformance: postgres (oidc) passed");
}
