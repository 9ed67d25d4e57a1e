//! Issue 5: consented fetches end to end over HTTP on loopback — the consumer's signature
//! checked, the consent checked and the use counted (with the replay record, the audit and the
//! chain, in one transaction), the sandbox provider's data made, sealed to the consumer's
//! one-time key and signed, the answer relayed. Driven by `scripts/bench-exchange`.
//!
//! `fetch URL FIXTURE REQUESTS CONNECTIONS PRODUCTS…`: signs REQUESTS data requests ahead (each
//! with fresh one-time keys and its own `jti`; the consumer's work, not the gateway's), round
//! robin over the fixture's consents, then sends them from CONNECTIONS concurrent clients.
//! Prints the rate and the latency percentiles, then opens a sample of the answers with the
//! consumer's keys and checks the providers' signatures, so the figure is of real answers.
//! Bounded by REQUESTS and a 240 s deadline (the signatures' `iat` must stay fresh); loopback.
#![allow(clippy::indexing_slicing)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bauhinia_exchange::client::{Consumer, Signed};
use bauhinia_exchange::crypto::blind::EphemeralKeys;
use bauhinia_exchange::crypto::jws;
use bauhinia_identity::jose::Jwk;
use openssl::pkey::PKey;
use serde_json::Value;

type Error = Box<dyn std::error::Error + Send + Sync>;

const DEADLINE: Duration = Duration::from_secs(240);
/// Answers opened and checked after the run.
const SAMPLE: usize = 64;

struct Prepared {
    path: String,
    consent: String,
    provider: String,
    body: Vec<u8>,
    signed: Signed,
    keys: Option<EphemeralKeys>,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn fetch(args: &[String]) -> Result<(), Error> {
    let [url, fixture, requests, connections, products @ ..] = args else {
        return Err("usage: fetch URL FIXTURE REQUESTS CONNECTIONS PRODUCTS…".into());
    };
    let url = url.trim_end_matches('/').to_owned();
    if !(url.starts_with("http://127.0.0.1:")
        || url.starts_with("http://[::1]:")
        || url.starts_with("http://localhost:"))
    {
        return Err("loopback only".into());
    }
    let requests: usize = requests.parse()?;
    let connections: usize = connections.parse()?;
    let products: Vec<&str> = products.iter().map(String::as_str).collect();
    let fixture: Value = serde_json::from_slice(&std::fs::read(fixture)?)?;
    let mut consumers = std::collections::HashMap::new();
    for c in fixture["consumers"].as_array().ok_or("no consumers")? {
        let key = PKey::private_key_from_pem(c["key_pem"].as_str().ok_or("key")?.as_bytes())?;
        let id = c["id"].as_str().ok_or("id")?;
        consumers.insert(
            id.to_owned(),
            Consumer::new(id, c["kid"].as_str().ok_or("kid")?, key),
        );
    }
    let consents = fixture["consents"].as_array().ok_or("no consents")?;
    let today = time::OffsetDateTime::now_utc();
    let from = (today - time::Duration::days(30))
        .format(&time::format_description::well_known::Rfc3339)?;
    let to = today.format(&time::format_description::well_known::Rfc3339)?;

    let t0 = Instant::now();
    let mut prepared = Vec::with_capacity(requests);
    for n in 0..requests {
        let c = &consents[n % consents.len()];
        let consent = c["id"].as_str().ok_or("consent id")?.to_owned();
        let provider = c["provider"].as_str().ok_or("provider")?.to_owned();
        let consumer = &consumers[c["consumer"].as_str().ok_or("consumer")?];
        let (body, keys) = Consumer::data_request(&provider, &products, &from, &to)?;
        let path = format!("/api/v1/exchange/consents/{consent}/fetch");
        let signed = consumer.sign("POST", &path, &body)?;
        prepared.push(Prepared {
            path,
            consent,
            provider,
            body,
            signed,
            keys: (n < SAMPLE).then_some(keys),
        });
    }
    eprintln!(
        "signed {requests} requests ahead in {:.1} s",
        t0.elapsed().as_secs_f64()
    );

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .timeout(Duration::from_secs(30))
        .build()?;
    let prepared = Arc::new(prepared);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let (client, prepared, next, url) = (
            client.clone(),
            Arc::clone(&prepared),
            Arc::clone(&next),
            url.clone(),
        );
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let mut refused = Vec::new();
            let mut sample = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let Some(p) = prepared.get(n) else { break };
                if started.elapsed() > DEADLINE {
                    break;
                }
                let t = Instant::now();
                let mut request = client.post(format!("{url}{}", p.path)).body(p.body.clone());
                request = request.header("content-type", "application/json");
                for (name, value) in p.signed.headers() {
                    request = request.header(name, value);
                }
                let answer = request.send().await?;
                let status = answer.status();
                let signature = answer
                    .headers()
                    .get(jws::HEADER_NAME)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let body = answer.bytes().await?;
                latencies.push(t.elapsed());
                if status != 200 {
                    refused.push(format!("{status}: {}", String::from_utf8_lossy(&body)));
                } else if p.keys.is_some() {
                    sample.push((n, body.to_vec(), signature.unwrap_or_default()));
                }
            }
            Ok::<_, Error>((latencies, refused, sample))
        });
    }
    let mut latencies = Vec::with_capacity(requests);
    let mut refused = Vec::new();
    let mut sample = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (l, r, s) = done??;
        latencies.extend(l);
        refused.extend(r);
        sample.extend(s);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let rate = latencies.len() as f64 / elapsed;
    println!(
        "consented fetches over HTTP ({}): {} in {elapsed:.2} s = {rate:.0}/s; p50 {:.2} ms, p99 {:.2} ms; {} connections; {} refused",
        products.join(" + "),
        latencies.len(),
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        connections,
        refused.len()
    );
    if let Some(first) = refused.first() {
        return Err(format!(
            "{} requests were refused; the first: {first}",
            refused.len()
        )
        .into());
    }

    // The sample: each answer's provider signature checks and its envelope opens.
    let mut provider_keys: std::collections::HashMap<String, Vec<Jwk>> = Default::default();
    for (n, body, signature) in &sample {
        let p = &prepared[*n];
        if !provider_keys.contains_key(&p.provider) {
            let doc: Value = serde_json::from_slice(
                &client
                    .get(format!("{url}/api/v1/exchange/participants/{}", p.provider))
                    .send()
                    .await?
                    .bytes()
                    .await?,
            )?;
            let keys: Vec<Jwk> = serde_json::from_value(doc["jwks"]["keys"].clone())?;
            provider_keys.insert(p.provider.clone(), keys);
        }
        let keys = &provider_keys[&p.provider];
        let data = Consumer::open_answer(
            p.keys.as_ref().ok_or("sample keys")?,
            &p.consent,
            body,
            signature,
            &p.signed.jti,
            |kid| {
                keys.iter()
                    .find(|k| k.kid.as_deref() == Some(kid))
                    .and_then(|k| k.to_key().ok())
            },
        )?;
        for product in &products {
            if data["products"][*product].is_null() {
                return Err(format!("answer {n} has no {product}").into());
            }
        }
    }
    println!(
        "checked {} answers: provider signatures verify and envelopes open with the consumer's one-time keys",
        sample.len()
    );
    println!(
        "RESULT {{\"rate\":{rate:.0},\"p50_ms\":{:.3},\"p99_ms\":{:.3},\"requests\":{}}}",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.len()
    );
    Ok(())
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match args.first().map(String::as_str) {
        Some("fetch") => runtime.block_on(fetch(&args[1..])),
        // `cargo bench` without arguments (as `cargo bench --workspace` runs it): nothing to do.
        None => Ok(()),
        Some(other) => Err(format!("unknown mode {other:?} (fetch)").into()),
    }
}
