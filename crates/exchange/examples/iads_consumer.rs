//! A small data consumer (a bank's side of IADS) for the developer sandbox walk-through in
//! `docs/exchange-gateway.md`. It uses the crate's `client` module and nothing of the server.
//!
//! ```text
//! cargo run -p bauhinia-exchange --example iads_consumer -- keygen ID          # key + registration
//! cargo run -p bauhinia-exchange --example iads_consumer -- sign METHOD PATH [BODY_FILE]
//! cargo run -p bauhinia-exchange --example iads_consumer -- consent HKID [PROVIDER]
//! cargo run -p bauhinia-exchange --example iads_consumer -- fetch CONSENT [PROVIDER]
//! ```
//!
//! `keygen` writes `ID.key.pem` (keep it) and prints the registration JSON for the operator's
//! `POST /api/v1/admin/exchange/participants`. The others read `BAUHINIA_URL` (default
//! `http://localhost:8080`), `EXCHANGE_PARTICIPANT` (the registered id) and
//! `EXCHANGE_KEY` (the PEM file; its key id is `ID-k1`).
#![allow(clippy::print_stdout, clippy::indexing_slicing)]

use std::time::Duration;

use bauhinia_exchange::client::Consumer;
use bauhinia_exchange::crypto::jws;
use bauhinia_identity::jose::{Alg, Jwk, JwkSet};
use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::PKey;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

type Error = Box<dyn std::error::Error + Send + Sync>;

fn env(name: &str, default: Option<&str>) -> Result<String, Error> {
    std::env::var(name)
        .ok()
        .or(default.map(str::to_owned))
        .ok_or_else(|| format!("set {name}").into())
}

fn consumer() -> Result<Consumer, Error> {
    let id = env("EXCHANGE_PARTICIPANT", None)?;
    let pem = std::fs::read(env("EXCHANGE_KEY", None)?)?;
    Ok(Consumer::new(
        &id,
        &format!("{id}-k1"),
        PKey::private_key_from_pem(&pem)?,
    ))
}

fn keygen(id: &str) -> Result<(), Error> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    let key = PKey::from_ec_key(EcKey::generate(&group)?)?;
    let path = format!("{id}.key.pem");
    std::fs::write(&path, key.private_key_to_pem_pkcs8()?)?;
    let jwk = Jwk::from_key(&key, Some(format!("{id}-k1")), Some(Alg::ES256))?;
    let registration = json!({
        "id": id,
        "name": {"en": format!("{id} (sandbox)"), "zh_hant": "沙盒銀行", "zh_hans": "沙盒银行"},
        "roles": "consumer",
        "licence": "bank",
        "jwks": JwkSet { keys: vec![jwk] },
    });
    eprintln!("wrote the private key to {path}; the registration for the operator:");
    println!("{}", serde_json::to_string_pretty(&registration)?);
    Ok(())
}

fn sign(method: &str, path: &str, body_file: Option<&String>) -> Result<(), Error> {
    let body = match body_file {
        Some(file) => std::fs::read(file)?,
        None => Vec::new(),
    };
    let signed = consumer()?.sign(method, path, &body)?;
    for (name, value) in signed.headers() {
        println!("{name}: {value}");
    }
    Ok(())
}

fn client() -> Result<reqwest::Client, Error> {
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?)
}

async fn send(
    method: &str,
    path: &str,
    body: Vec<u8>,
) -> Result<(u16, reqwest::header::HeaderMap, Vec<u8>, String), Error> {
    let url = env("BAUHINIA_URL", Some("http://localhost:8080"))?;
    let signed = consumer()?.sign(method, path, &body)?;
    let mut request = client()?
        .request(
            method.parse()?,
            format!("{}{path}", url.trim_end_matches('/')),
        )
        .header("content-type", "application/json")
        .body(body);
    for (name, value) in signed.headers() {
        request = request.header(name, value);
    }
    let answer = request.send().await?;
    let status = answer.status().as_u16();
    let headers = answer.headers().clone();
    Ok((status, headers, answer.bytes().await?.to_vec(), signed.jti))
}

fn rfc(t: OffsetDateTime) -> Result<String, Error> {
    Ok(t.format(&Rfc3339)?)
}

async fn consent(hkid: &str, provider: &str) -> Result<(), Error> {
    let now = OffsetDateTime::now_utc();
    let request = json!({
        "purpose": {"code": "101", "text": "To open your account with us using your existing bank's records."},
        "products": ["iads.balance", "iads.transactions"],
        "owner": {"hkid": hkid},
        "providers": [provider],
        "data_range": {"from": rfc(now - time::Duration::days(180))?, "to": rfc(now + time::Duration::days(30))?},
        "frequency": {"unit": "DAY", "value": 4},
        "validity": {"from": rfc(now)?, "until": rfc(now + time::Duration::days(30))?},
        "mode": "VIEW",
        "fetch_type": "PERIODIC",
    });
    let (status, _, body, _) = send(
        "POST",
        "/api/v1/exchange/consents",
        request.to_string().into_bytes(),
    )
    .await?;
    let answer: Value = serde_json::from_slice(&body)?;
    println!("{status} {}", serde_json::to_string_pretty(&answer)?);
    if status == 201 {
        eprintln!("send the owner to {}", answer["approval_url"]);
    }
    Ok(())
}

async fn fetch(consent: &str, provider: &str) -> Result<(), Error> {
    let now = OffsetDateTime::now_utc();
    let (body, keys) = Consumer::data_request(
        provider,
        &["iads.balance", "iads.transactions"],
        &rfc(now - time::Duration::days(30))?,
        &rfc(now)?,
    )?;
    let path = format!("/api/v1/exchange/consents/{consent}/fetch");
    let (status, headers, answer, jti) = send("POST", &path, body).await?;
    if status != 200 {
        println!("{status} {}", String::from_utf8_lossy(&answer));
        return Ok(());
    }
    // The provider's published keys, from the directory.
    let url = env("BAUHINIA_URL", Some("http://localhost:8080"))?;
    let doc: Value = serde_json::from_slice(
        &client()?
            .get(format!(
                "{}/api/v1/exchange/participants/{provider}",
                url.trim_end_matches('/')
            ))
            .send()
            .await?
            .bytes()
            .await?,
    )?;
    let published: Vec<Jwk> = serde_json::from_value(doc["jwks"]["keys"].clone())?;
    let signature = headers
        .get(jws::HEADER_NAME)
        .and_then(|v| v.to_str().ok())
        .ok_or("the answer is not signed")?;
    let data = Consumer::open_answer(&keys, consent, &answer, signature, &jti, |kid| {
        published
            .iter()
            .find(|k| k.kid.as_deref() == Some(kid))
            .and_then(|k| k.to_key().ok())
    })?;
    eprintln!(
        "the provider's signature verifies; the envelope opened with this run's one-time key"
    );
    println!("{}", serde_json::to_string_pretty(&data)?);
    Ok(())
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["keygen", id] => keygen(id),
        ["sign", method, path, rest @ ..] => sign(method, path, rest.first().map(|_| &args[3])),
        ["consent", hkid, rest @ ..] => {
            runtime.block_on(consent(hkid, rest.first().copied().unwrap_or("bank-004")))
        }
        ["fetch", consent_id, rest @ ..] => {
            runtime.block_on(fetch(consent_id, rest.first().copied().unwrap_or("bank-004")))
        }
        _ => Err("usage: keygen ID | sign METHOD PATH [BODY_FILE] | consent HKID [PROVIDER] | fetch CONSENT [PROVIDER]".into()),
    }
}
