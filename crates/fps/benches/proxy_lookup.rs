//! Addressing at the fact sheet's scale: 19.25 million proxy registrations (60% mobile numbers,
//! 25% email addresses, 15% FPS IDs issued by the system, across 30 participants) loaded into
//! the embedded SQLite store through the service's bulk import (keyed hashes, sealed account
//! references, masked names, one transaction and one audit event per million rows), then 20,000
//! lookups of random registered proxies through `ProxyService::lookup`. Prints the load time and
//! rate, the database's size on disk, and p50/p99/max lookup latency.
//!
//!   cargo bench -p bauhinia-fps --bench proxy_lookup
//!   BAUHINIA_BENCH_PROXIES=1000000 cargo bench -p bauhinia-fps --bench proxy_lookup
//!
//! The database is made under Cargo's target directory and deleted at the end.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bauhinia_core::crypto::{MasterKey, Vault};
use bauhinia_fps::proxy::store::IMPORT_ROWS_MAX;
use bauhinia_fps::proxy::{
    AccountReference, Consent, ConsentChannel, ImportRow, LookupMode, LookupPurpose, ProxyKey,
    ProxyKind, ProxyService,
};
use bauhinia_fps::switch::{Participant, ParticipantCode, ParticipantKind, Switch};
use bauhinia_store::{Database, DatabaseUrl};

const FACT_SHEET: usize = 19_250_000;
const LOOKUPS: usize = 20_000;
const PARTICIPANTS: u16 = 30;
const CONSENTED_AT_S: i64 = 1_760_000_000;

fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

fn participant(i: usize) -> ParticipantCode {
    let n = 100 + (i as u64).wrapping_mul(0x9E37_79B9) % u64::from(PARTICIPANTS);
    ParticipantCode::parse(&format!("{n:03}")).unwrap()
}

fn name(i: usize) -> String {
    const SURNAMES: [&str; 10] = [
        "CHAN", "WONG", "LEE", "CHEUNG", "LAU", "NG", "LEUNG", "HO", "LAM", "TSANG",
    ];
    const GIVEN: [&str; 10] = [
        "Ka", "Wai", "Man", "Siu", "Chi", "Ho", "Yan", "Kit", "Ming", "Ling",
    ];
    const CHINESE: [&str; 5] = ["陳大文", "黃小明", "李嘉欣", "張志強", "劉美玲"];
    if i.is_multiple_of(4) {
        CHINESE[i / 4 % 5].to_owned()
    } else {
        format!(
            "{} {} {}",
            SURNAMES[i % 10],
            GIVEN[(i / 10) % 10],
            GIVEN[(i / 100) % 10]
        )
    }
}

/// Row `i`: 12 in 20 a mobile number, 5 in 20 an email address, 3 in 20 an FPS ID.
fn kind(i: usize) -> ProxyKind {
    match i % 20 {
        0..12 => ProxyKind::Mobile,
        12..17 => ProxyKind::Email,
        _ => ProxyKind::FpsId,
    }
}

/// The proxy of row `i`, unique: mobile numbers count up from 50000000 (19.25 M rows need
/// 11.55 M of them, all beginning 5 or 6); emails are numbered.
fn key_text(i: usize) -> Option<String> {
    match kind(i) {
        ProxyKind::Mobile => Some(format!("+852 {}", 50_000_000 + i / 20 * 12 + i % 20)),
        ProxyKind::Email => Some(format!("payee{i}@mail{}.example.hk", i % 97)),
        _ => None,
    }
}

fn row(i: usize, now_s: i64) -> ImportRow {
    let kind = kind(i);
    let code = participant(i);
    ImportRow {
        participant: code,
        kind,
        key: key_text(i).map(|t| ProxyKey::parse(kind, &t).unwrap()),
        account: AccountReference::parse(&format!("{code}-{i:012}")).unwrap(),
        display_name: name(i),
        consent: Consent::new(
            CONSENTED_AT_S + (i % 86_400) as i64,
            "v3",
            ConsentChannel::ALL[i % 4],
            now_s,
        )
        .unwrap(),
    }
}

fn disk_bytes(path: &std::path::Path) -> u64 {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            std::fs::metadata(std::path::PathBuf::from(p)).ok()
        })
        .map(|m| m.len())
        .sum()
}

async fn start(path: &std::path::Path) -> (Database, ProxyService) {
    let db = Database::connect(&DatabaseUrl::sqlite_file(path))
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let switch: Arc<Switch> = Switch::start(db.clone()).await.unwrap();
    for n in 0..PARTICIPANTS {
        let code = ParticipantCode::parse(&format!("{:03}", 100 + n)).unwrap();
        let name = format!("Participant {code}");
        switch
            .register(
                Participant {
                    code,
                    name_en: name.clone(),
                    name_zh_hant: name.clone(),
                    name_zh_hans: name,
                    kind: ParticipantKind::Bank,
                    active: true,
                },
                "system:bench",
            )
            .await
            .unwrap();
    }
    let vault = Arc::new(Vault::new(&MasterKey::generate()));
    let proxies = ProxyService::new(&db, vault, switch);
    (db, proxies)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing and must stay quick.
    let benching = std::env::args().any(|a| a == "--bench");
    let total: usize = std::env::var("BAUHINIA_BENCH_PROXIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if benching { FACT_SHEET } else { 20_000 });
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("proxy-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("proxies.db");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (db, proxies) = start(&path).await;
        let now_s = CONSENTED_AT_S + 100_000;

        // The rows to look up later, drawn before loading; their keys are kept when loaded
        // (FPS IDs are known only once issued).
        let mut seed = 0x9E37_79B9_7F4A_7C15;
        let mut wanted: HashMap<usize, Option<ProxyKey>> = HashMap::new();
        while wanted.len() < LOOKUPS.min(total) {
            wanted.insert((next(&mut seed) % total as u64) as usize, None);
        }

        // Two imports in flight: one prepares its rows (hashing, sealing, masking) while the
        // other holds the write lock and inserts; the store takes them one at a time.
        let proxies = Arc::new(proxies);
        let started = Instant::now();
        let mut in_flight: std::collections::VecDeque<
            tokio::task::JoinHandle<(usize, usize, Vec<ProxyKey>)>,
        > = std::collections::VecDeque::new();
        let mut collect = |(from, to, keys): (usize, usize, Vec<ProxyKey>)| {
            for (i, key) in (from..to).zip(keys) {
                if let Some(slot) = wanted.get_mut(&i) {
                    *slot = Some(key);
                }
            }
            if benching {
                eprintln!(
                    "  loaded rows {from:>10}..{to:<10} ({:.1?} since the start)",
                    started.elapsed()
                );
            }
        };
        let mut from = 0;
        while from < total {
            let to = (from + IMPORT_ROWS_MAX).min(total);
            let service = Arc::clone(&proxies);
            in_flight.push_back(tokio::spawn(async move {
                let rows: Vec<ImportRow> = (from..to).map(|i| row(i, now_s)).collect();
                let keys = service.import(rows, "system:bench").await.unwrap();
                (from, to, keys)
            }));
            if in_flight.len() >= 2 {
                collect(in_flight.pop_front().unwrap().await.unwrap());
            }
            from = to;
        }
        while let Some(task) = in_flight.pop_front() {
            collect(task.await.unwrap());
        }
        let loaded_in = started.elapsed();
        assert_eq!(proxies.store().count().await.unwrap() as usize, total);
        let size = disk_bytes(&path);

        let targets: Vec<(usize, ProxyKey)> = wanted
            .into_iter()
            .map(|(i, k)| (i, k.expect("every wanted row was loaded")))
            .collect();
        let caller = ParticipantCode::parse("100").unwrap();
        let mut times = Vec::with_capacity(targets.len());
        let mut mix: HashMap<&str, usize> = HashMap::new();
        let t0 = Instant::now();
        for (i, key) in &targets {
            let t = Instant::now();
            let found = proxies
                .lookup(caller, key, LookupPurpose::P2p, LookupMode::Single)
                .await
                .unwrap();
            times.push(t.elapsed());
            let found = found.unwrap_or_else(|| panic!("row {i} is registered"));
            assert_eq!(found.participant, participant(*i));
            *mix.entry(key.kind().as_str()).or_default() += 1;
        }
        let rate = times.len() as f64 / t0.elapsed().as_secs_f64();
        times.sort();
        let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];

        println!("FPS addressing: {total} proxy registrations on SQLite (60% mobile, 25% email, 15% FPS ID; {PARTICIPANTS} participants)");
        println!(
            "  load: {:.1?} through ProxyService::import ({:.0} rows/s; {} transactions of up to {IMPORT_ROWS_MAX} rows, two imports in flight)",
            loaded_in,
            total as f64 / loaded_in.as_secs_f64(),
            total.div_ceil(IMPORT_ROWS_MAX)
        );
        println!(
            "  database on disk: {:.2} GB ({size} bytes, with its WAL)",
            size as f64 / 1e9
        );
        let mut mix: Vec<_> = mix.into_iter().collect();
        mix.sort();
        println!(
            "  {} lookups of random registered proxies ({mix:?}) through ProxyService::lookup:",
            times.len()
        );
        println!(
            "  p50 {:.1?}   p99 {:.1?}   max {:.1?}   {rate:.0} lookups/s (one at a time)",
            at(0.50),
            at(0.99),
            times.last().unwrap()
        );
        let p99 = at(0.99);
        println!(
            "  acceptance (p99 <= 1 ms): {}",
            if p99 <= Duration::from_millis(1) { "met" } else { "NOT met" }
        );
        db.close().await;
    });
    drop(runtime);
    std::fs::remove_dir_all(&dir).unwrap();
}
