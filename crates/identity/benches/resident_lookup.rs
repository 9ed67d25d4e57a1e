//! The login lookup at iAM Smart's scale: finding a resident by HKID (keyed hash → unique index →
//! row → unseal) with a small register, then again after loading 3.8 million residents (iAM
//! Smart's user count) through the bulk import. Prints p50/p99/max latency of 20,000 lookups of
//! random registered residents, each phase, on the embedded SQLite store.
//!
//!   cargo bench -p bauhinia-identity --bench resident_lookup
//!   BAUHINIA_BENCH_RESIDENTS=500000 cargo bench -p bauhinia-identity --bench resident_lookup
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use bauhinia_core::crypto::{MasterKey, Vault};
use bauhinia_identity::domain::{Hkid, ResidentDraft};
use bauhinia_identity::IdentityService;
use bauhinia_store::testing::TestDb;

const SMALL: usize = 1_000;
const LOOKUPS: usize = 20_000;
const BATCH: usize = 10_000;

fn hkid(i: usize) -> Hkid {
    let letters = b"ABCDEGHKMPRTVWYZ";
    let prefix = letters[(i / 1_000_000) % letters.len()] as char;
    let n = i % 1_000_000;
    let digits: [u8; 6] = std::array::from_fn(|k| ((n / 10usize.pow(5 - k as u32)) % 10) as u8);
    Hkid::from_parts(&prefix.to_string(), digits).unwrap()
}

fn name(i: usize) -> String {
    const SURNAMES: [&str; 10] = [
        "CHAN", "WONG", "LEE", "CHEUNG", "LAU", "NG", "LEUNG", "HO", "LAM", "TSANG",
    ];
    const GIVEN: [&str; 10] = [
        "Ka", "Wai", "Man", "Siu", "Chi", "Ho", "Yan", "Kit", "Ming", "Ling",
    ];
    format!(
        "{}, {} {}",
        SURNAMES[i % 10],
        GIVEN[(i / 10) % 10],
        GIVEN[(i / 100) % 10]
    )
}

fn draft(i: usize) -> ResidentDraft {
    ResidentDraft {
        english_name: name(i),
        chinese_name: None,
        hkid: hkid(i).expose(),
        date_of_birth: format!("19{:02}-{:02}-{:02}", 50 + i % 50, 1 + i % 12, 1 + i % 28),
        gender: if i.is_multiple_of(2) { "F" } else { "M" }.to_owned(),
        mobile: Some(format!("9{:07}", i % 10_000_000)),
        email: Some(format!("r{i}@example.hk")),
        residential_address: vec![
            format!("Flat {}, Block {}", i % 100, i % 7),
            "Kowloon".to_owned(),
        ],
        postal_address: None,
    }
}

/// A small deterministic generator, so both phases look up the same kind of random residents.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

async fn load(service: &IdentityService, from: usize, to: usize, today: time::Date) {
    let mut start = from;
    while start < to {
        let end = (start + BATCH).min(to);
        let drafts: Vec<ResidentDraft> = (start..end).map(draft).collect();
        service
            .import(&drafts, "system:bench", today)
            .await
            .unwrap();
        start = end;
    }
}

async fn measure(
    service: &IdentityService,
    registered: usize,
) -> (Duration, Duration, Duration, f64) {
    let mut seed = 0x9E37_79B9_7F4A_7C15;
    let mut times = Vec::with_capacity(LOOKUPS);
    let started = Instant::now();
    for _ in 0..LOOKUPS {
        let i = (next(&mut seed) % registered as u64) as usize;
        let hkid = hkid(i);
        let t = Instant::now();
        let found = service.find_by_hkid(&hkid).await.unwrap();
        times.push(t.elapsed());
        assert!(found.is_some(), "resident {i} is registered");
    }
    let per_second = LOOKUPS as f64 / started.elapsed().as_secs_f64();
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    (at(0.50), at(0.99), *times.last().unwrap(), per_second)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing and must stay quick.
    let benching = std::env::args().any(|a| a == "--bench");
    let total: usize = std::env::var("BAUHINIA_BENCH_RESIDENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if benching { 3_800_000 } else { 20_000 });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let test = TestDb::sqlite().await.unwrap();
        let service = IdentityService::new(&test.db, Arc::new(Vault::new(&MasterKey::generate())));
        let today = time::Date::from_calendar_date(2026, time::Month::November, 23).unwrap();
        load(&service, 0, SMALL, today).await;
        let before = measure(&service, SMALL).await;
        let t = Instant::now();
        load(&service, SMALL, total, today).await;
        let loaded_in = t.elapsed();
        let count = service.count().await.unwrap();
        assert_eq!(count as usize, total);
        let after = measure(&service, total).await;
        println!(
            "resident lookup by HKID (SQLite, {LOOKUPS} lookups of random registered residents)"
        );
        println!("  residents   p50        p99        max        lookups/s");
        for (n, (p50, p99, max, rate)) in [(SMALL, before), (total, after)] {
            println!("  {n:>9}   {p50:>8.1?}   {p99:>8.1?}   {max:>8.1?}   {rate:>9.0}");
        }
        println!(
            "  loaded {} residents in {:.1?} ({:.0}/s)",
            total - SMALL,
            loaded_in,
            (total - SMALL) as f64 / loaded_in.as_secs_f64()
        );
        test.cleanup().await.unwrap();
    });
}
