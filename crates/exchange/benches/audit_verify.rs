//! Issue 5: "audit verification of 10 million records ≤ 30 s on this machine".
//!
//! `cargo bench -p bauhinia-exchange --bench audit_verify` (`BAUHINIA_BENCH_RECORDS` changes
//! the count, default 10,000,000): writes a chain of that many records into an embedded SQLite
//! database in one transaction — each record hashed with the real encoding, a checkpoint
//! signed every 10,000 records as the gateway does — then times `chain::verify` (the code
//! `bauhinia exchange audit verify` runs) three times and reports the median.

use std::time::Instant;

use bauhinia_exchange::chain::encoding::{checkpoint_input, record_hash, RecordFields, GENESIS};
use bauhinia_exchange::chain::{self, canonical_json, CHECKPOINT_EVERY_RECORDS};
use bauhinia_identity::jose::{self, Alg, Jwk};
use bauhinia_store::rusqlite::{self, params};
use bauhinia_store::testing::TestDb;
use bauhinia_store::Database;
use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};

type Error = Box<dyn std::error::Error + Send + Sync>;

const KID: &str = "bench-gateway-1";
const TARGET_S: f64 = 30.0;
const OWNERS: u64 = 100_000;

/// A deterministic pseudo-random word per record, so runs are comparable.
fn mix(seq: i64) -> u64 {
    let x = (seq as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (x ^ (x >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9) ^ (x >> 29)
}

const KINDS: [&str; 6] = [
    "data.fetched",
    "data.fetched",
    "data.fetched",
    "consent.approved",
    "consent.created",
    "data.denied",
];

fn generate(
    conn: &mut rusqlite::Connection,
    records: i64,
    key: &PKey<Private>,
) -> Result<(), Error> {
    let jwk = serde_json::to_string(&Jwk::from_key(key, Some(KID.into()), Some(Alg::ES256))?)?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    {
        let mut insert = tx.prepare(
            "INSERT INTO exchange_audit_records \
             (seq, at_s, kind, actor, owner, consent, detail, prev_hash, hash) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        let mut checkpoint = tx.prepare(
            "INSERT INTO exchange_audit_checkpoints (seq, hash, at_s, kid, signature) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        tx.execute(
            "INSERT INTO exchange_audit_keys (kid, public_jwk, added_at_s) VALUES (?1, ?2, 0)",
            params![KID, jwk],
        )?;
        let mut prev = GENESIS;
        let start_s = 1_767_225_600i64; // 2026-01-01
        for seq in 1..=records {
            let r = mix(seq);
            let kind = KINDS
                .get((r % KINDS.len() as u64) as usize)
                .copied()
                .unwrap_or("data.fetched");
            let actor = format!("participant:{:03}", 1 + (r >> 8) % 40);
            let owner = format!("own_{:016x}", (r >> 16) % OWNERS);
            let consent = format!("{:08x}-4a1c-4f00-8000-{:012x}", (r >> 20) as u32, seq);
            let detail = canonical_json(&serde_json::json!({
                "product": "iads.transactions",
                "provider": "participant:012",
                "from": "2026-01-01",
                "to": "2026-03-31",
                "ciphertext_bytes": 512 + (r >> 40) % 4096,
            }));
            let at_s = start_s + seq / 100;
            let fields = RecordFields {
                seq,
                prev_hash: &prev,
                at_s,
                kind: kind.as_bytes(),
                actor: actor.as_bytes(),
                owner: Some(owner.as_bytes()),
                consent: Some(consent.as_bytes()),
                detail: detail.as_bytes(),
            };
            let hash = record_hash(&fields);
            insert.execute(params![
                seq,
                at_s,
                kind,
                actor,
                owner,
                consent,
                detail,
                &prev[..],
                &hash[..]
            ])?;
            if seq % CHECKPOINT_EVERY_RECORDS == 0 {
                let signature =
                    jose::sign_raw(Alg::ES256, key, &checkpoint_input(seq, &hash, at_s, KID))?;
                checkpoint.execute(params![seq, &hash[..], at_s, KID, signature])?;
            }
            prev = hash;
        }
        tx.execute(
            "UPDATE exchange_audit_head SET seq = ?1, hash = ?2 WHERE one = 1",
            params![records, &prev[..]],
        )?;
    }
    tx.commit()?;
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Error> {
    let records: i64 = std::env::var("BAUHINIA_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let test_db = TestDb::sqlite().await?;
    let Database::Sqlite(sqlite) = &test_db.db else {
        return Err("the benchmark runs on embedded SQLite".into());
    };
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    let key = PKey::from_ec_key(EcKey::generate(&group)?)?;
    let public = PKey::public_key_from_pem(&key.public_key_to_pem()?)?;

    let started = Instant::now();
    let mut writer = sqlite.dedicated_writer()?;
    writer.locked(|conn| {
        generate(conn, records, &key)
            .map_err(|e| bauhinia_store::StoreError::Corrupt(e.to_string()))
    })?;
    drop(writer);
    println!(
        "generated {records} chained records ({} checkpoints) in {:.1} s",
        records / CHECKPOINT_EVERY_RECORDS,
        started.elapsed().as_secs_f64()
    );

    let mut seconds = Vec::new();
    for pass in 1..=3 {
        let started = Instant::now();
        let report = chain::verify(&test_db.db, |kid| (kid == KID).then(|| public.clone())).await?;
        let s = started.elapsed().as_secs_f64();
        if !report.intact() || report.records != records as u64 {
            return Err(format!("verification failed: {}", report.summary()).into());
        }
        println!(
            "pass {pass}: verified {} records, {} checkpoints in {s:.2} s ({:.0} records/s)",
            report.records,
            report.checkpoints,
            report.records as f64 / s
        );
        seconds.push(s);
    }
    seconds.sort_by(f64::total_cmp);
    let median = seconds.get(1).copied().unwrap_or(f64::NAN);
    println!(
        "RESULT {{\"records\": {records}, \"verify_median_s\": {median:.2}, \"records_per_s\": {:.0}, \"target_s\": {TARGET_S}, \"met\": {}}}",
        records as f64 / median,
        median <= TARGET_S
    );
    test_db.cleanup().await?;
    Ok(())
}
