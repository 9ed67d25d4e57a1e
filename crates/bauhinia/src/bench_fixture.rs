//! `bauhinia identity bench-fixture`: authorization codes for the token-endpoint benchmark,
//! made by the real provider code — a FAPI 2.0 service registered with a fresh P-256 key,
//! then for each code a pushed request, the interaction, the resident's approval and its
//! completion — written as JSON lines that the load driver (tests/bench/oidc) reads. The
//! service's private key is in the file: it is a throwaway benchmark service.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

use anyhow::{bail, Context};
use axum::http::HeaderMap;
use bauhinia_identity::jose::{self, b64, Alg, Header, Jwk, JwkSet};
use bauhinia_identity::keys::now;
use bauhinia_identity::oidc::clients::{Profile, Registration, Text3};
use bauhinia_identity::oidc::fields::{Field, Scope};
use bauhinia_identity::oidc::provider::{AuthContext, ACR_PASSKEY, PAR_PATH, TOKEN_PATH};
use bauhinia_identity::oidc::CLIENT_ASSERTION_TYPE;
use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::PKey;

use crate::app::AppState;

const REDIRECT_URI: &str = "http://127.0.0.1:9/bench/callback";

fn text(s: &str) -> Text3 {
    Text3 {
        zh_hant: s.into(),
        zh_hans: s.into(),
        en: s.into(),
    }
}

fn one(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<String>> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), vec![(*v).to_owned()]))
        .collect()
}

/// A PKCE verifier and its S256 challenge.
fn pkce() -> anyhow::Result<(String, String)> {
    let verifier = bauhinia_identity::oidc::random_token()?;
    let challenge = jose::sha256_b64(verifier.as_bytes());
    Ok((verifier, challenge))
}

/// Writes `count` codes for a demo resident to `out`.
pub async fn write(state: &AppState, count: usize, out: &Path) -> anyhow::Result<()> {
    let provider = &state.provider;
    let today = time::OffsetDateTime::now_utc().date();
    let draft = bauhinia_identity::demo::residents()
        .into_iter()
        .next()
        .context("no demo resident")?;
    let hkid =
        bauhinia_identity::domain::Hkid::parse(&draft.hkid).map_err(|e| anyhow::anyhow!("{e}"))?;
    let resident = match state.identity.find_by_hkid(&hkid).await? {
        Some(r) => r,
        None => {
            state
                .identity
                .register(&draft, "system:bench", today)
                .await?
        }
    };
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    let ec = EcKey::generate(&group)?;
    let key = PKey::from_ec_key(ec.clone())?;
    let kid = "bench-1".to_owned();
    let public = Jwk::from_key(&key, Some(kid.clone()), Some(Alg::ES256))?;
    let mut private = serde_json::to_value(&public)?;
    if let Some(object) = private.as_object_mut() {
        object.insert("d".into(), b64(&ec.private_key().to_vec_padded(32)?).into());
    }
    let registration = Registration {
        name: text("Token endpoint benchmark"),
        profile: Profile::Fapi2,
        redirect_uris: vec![REDIRECT_URI.into()],
        post_logout_redirect_uris: vec![],
        jwks: Some(JwkSet { keys: vec![public] }),
        jwks_uri: None,
        scopes: vec![Scope::Openid, Scope::Email],
        fields: vec![Field::Email],
        purpose: text("Benchmark"),
        id_token_signed_response_alg: None,
    };
    let (client, _) = provider
        .clients
        .register(registration, "system:bench")
        .await?;
    let mut file = std::io::BufWriter::new(
        std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?,
    );
    for _ in 0..count {
        let (verifier, challenge) = pkce()?;
        let at = now();
        let assertion = jose::sign(
            Header {
                kid: Some(kid.clone()),
                ..Header::default()
            },
            &serde_json::json!({
                "iss": client.client_id, "sub": client.client_id, "aud": provider.issuer,
                "iat": at, "exp": at + 60, "jti": uuid::Uuid::new_v4().to_string(),
            }),
            Alg::ES256,
            &key,
        )?;
        let params = one(&[
            ("client_assertion_type", CLIENT_ASSERTION_TYPE),
            ("client_assertion", &assertion),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "openid email"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("nonce", &uuid::Uuid::new_v4().to_string()),
        ]);
        let (request_uri, _) = provider
            .push(&HeaderMap::new(), &params, &[])
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let started = provider
            .authorize(&one(&[
                ("client_id", &client.client_id),
                ("request_uri", &request_uri),
            ]))
            .await
            .map_err(|e| anyhow::anyhow!("{:?}", e.into_oauth()))?;
        let interaction = provider
            .interaction(&started.interaction_id, Some(&started.browser_secret))
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let auth = AuthContext {
            auth_time: now(),
            acr: ACR_PASSKEY.into(),
            amr: vec!["pop".into(), "mfa".into()],
            session_id: None,
        };
        provider
            .approve(
                &interaction,
                &resident.id,
                [Field::Email].into_iter().collect(),
                auth,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let interaction = provider
            .interaction(&started.interaction_id, Some(&started.browser_secret))
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let location = provider
            .complete(&interaction)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let url = url::Url::parse(&location)?;
        let Some((_, code)) = url.query_pairs().find(|(k, _)| k == "code") else {
            bail!("no code in {location}");
        };
        let line = serde_json::json!({
            "issuer": provider.issuer,
            "token_endpoint": provider.url(TOKEN_PATH),
            "userinfo_endpoint": provider.url(bauhinia_identity::oidc::provider::USERINFO_PATH),
            "introspection_endpoint": provider.url(bauhinia_identity::oidc::provider::INTROSPECT_PATH),
            "par_endpoint": provider.url(PAR_PATH),
            "client_id": client.client_id,
            "client_private_jwk": private,
            "redirect_uri": REDIRECT_URI,
            "code": code,
            "code_verifier": verifier,
        });
        writeln!(file, "{line}")?;
    }
    file.flush()?;
    Ok(())
}
