//! `bauhinia exchange bench-fixture`: the consumers and consents the exchange's benchmarks
//! use, made by the real code — data consumers registered in the directory with fresh P-256
//! keys, consent requests checked as a consumer's would be, each approved by its owner (the
//! artefact signed, the audit and the chain written). Consents are made by several tasks at
//! once, and the rate is printed: it is the consent create-and-approve benchmark. The file
//! (JSON) has the consumers' private keys: they are throwaway benchmark participants.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use bauhinia_exchange::consent::domain::{
    rfc3339, ConsentId, OwnerAction, ParticipantId, ResidentId,
};
use bauhinia_exchange::directory::ParticipantDraft;
use bauhinia_identity::jose::{Alg, Jwk, JwkSet};
use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::PKey;
use serde_json::json;

use crate::app::AppState;

/// The demo banks whose sandbox providers the consents name, in turn.
const PROVIDERS: [&str; 4] = ["bank-004", "bank-024", "bank-003", "bank-012"];
/// Tasks making consents at once.
pub const TASKS: usize = 64;

/// What the fixture made, and how fast.
#[derive(Debug, Clone, Copy)]
pub struct Made {
    pub consents: usize,
    pub seconds: f64,
}

fn request(owner: &str, provider: &str, now: i64) -> serde_json::Value {
    const DAY: i64 = 86_400;
    json!({
        "purpose": {"code": "101", "text": "Benchmark: account data for an account opening."},
        "products": ["iads.balance", "iads.transactions"],
        "owner": {"resident": owner},
        "providers": [provider],
        "data_range": {"from": rfc3339(now - 365 * DAY), "to": rfc3339(now + DAY)},
        "frequency": {"unit": "HOUR", "value": 1000},
        "validity": {"from": rfc3339(now - 60), "until": rfc3339(now + 2 * DAY)},
        "mode": "VIEW",
        "fetch_type": "PERIODIC",
    })
}

/// Registers `consumers` consumers and makes `consents` ACTIVE consents spread over them;
/// writes the fixture to `out`.
pub async fn write(
    state: &AppState,
    consumers: usize,
    consents: usize,
    out: &Path,
) -> anyhow::Result<Made> {
    // The sandbox providers the consents name (already there on a demo installation; a
    // throwaway PostgreSQL database gets them here).
    state
        .exchange
        .load_sandbox()
        .await
        .map_err(|e| anyhow::anyhow!("the sandbox providers: {e}"))?;
    let run = uuid::Uuid::new_v4().simple().to_string();
    let run = run.get(..8).unwrap_or("bench");
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    let mut made_consumers = Vec::new();
    for n in 0..consumers.max(1) {
        let id = format!("bench-{run}-{n}");
        let kid = format!("{id}-k1");
        let key = PKey::from_ec_key(EcKey::generate(&group)?)?;
        let jwk = Jwk::from_key(&key, Some(kid.clone()), Some(Alg::ES256))?;
        let draft = json!({
            "id": id,
            "name": {"en": format!("Benchmark bank {n}"), "zh_hant": "基準測試銀行", "zh_hans": "基准测试银行"},
            "roles": "consumer",
            "licence": "bank",
            "jwks": JwkSet { keys: vec![jwk] },
        });
        let new = ParticipantDraft::from_json(draft.to_string().as_bytes())
            .map_err(|e| anyhow::anyhow!("the benchmark consumer: {e}"))?;
        state
            .exchange
            .directory()
            .register(&new, "system:bench")
            .await
            .map_err(|e| anyhow::anyhow!("registering {id}: {e}"))?;
        let pem = String::from_utf8(key.private_key_to_pem_pkcs8()?)?;
        made_consumers.push(json!({ "id": id, "kid": kid, "key_pem": pem }));
    }
    let ids: Arc<Vec<String>> = Arc::new(
        made_consumers
            .iter()
            .filter_map(|c| c["id"].as_str().map(str::to_owned))
            .collect(),
    );
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..TASKS {
        let state = state.clone();
        let ids = Arc::clone(&ids);
        tasks.spawn(async move {
            let mut made = Vec::new();
            let mut n = task;
            while n < consents {
                let consumer = ids.get(n % ids.len()).cloned().unwrap_or_default();
                let provider = PROVIDERS
                    .get(n % PROVIDERS.len())
                    .copied()
                    .unwrap_or("bank-004");
                let owner = format!("bench-resident-{n}");
                let now = bauhinia_exchange::crypto::jws::now_s();
                let consumer_id = ParticipantId::parse(&consumer)
                    .ok_or_else(|| anyhow::anyhow!("consumer id {consumer}"))?;
                let consents = state.exchange.consents();
                let consent = consents
                    .request(&consumer_id, &request(&owner, provider, now), now)
                    .await
                    .map_err(|e| anyhow::anyhow!("consent request: {e}"))?;
                let owner = ResidentId::parse(&owner).context("owner id")?;
                consents
                    .act(&consent.id, &owner, OwnerAction::Approve, now)
                    .await
                    .map_err(|e| anyhow::anyhow!("approval: {e}"))?;
                made.push((consent.id, consumer, provider));
                n += TASKS;
            }
            anyhow::Ok(made)
        });
    }
    let mut made: Vec<(ConsentId, String, &str)> = Vec::with_capacity(consents);
    while let Some(done) = tasks.join_next().await {
        made.extend(done??);
    }
    let seconds = started.elapsed().as_secs_f64();
    let list: Vec<_> = made
        .iter()
        .map(|(id, consumer, provider)| {
            json!({ "id": id, "consumer": consumer, "provider": provider })
        })
        .collect();
    std::fs::write(
        out,
        serde_json::to_vec(&json!({ "consumers": made_consumers, "consents": list }))?,
    )
    .with_context(|| format!("writing {}", out.display()))?;
    Ok(Made {
        consents: made.len(),
        seconds,
    })
}
