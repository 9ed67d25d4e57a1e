//! CorpID at Hong Kong's scale: loads N businesses (1.8 million by default, the number CorpID
//! is for) with one administrator each, spread over a pool of residents, into an embedded
//! SQLite file through the bulk import (10,000 a transaction), and reports the load time,
//! rows a second and the database's size on disk; then 20,000 login lookups
//! (`representations(resident, now)`) of random residents one after another, with p50, p99
//! and max.
//!
//!   cargo bench -p bauhinia-corpid --bench business_load
//!   BAUHINIA_BENCH_BUSINESSES=50000 cargo bench -p bauhinia-corpid --bench business_load
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use bauhinia_core::crypto::{MasterKey, Vault};
use bauhinia_corpid::domain::{BusinessDraft, DirectorDraft, Role};
use bauhinia_corpid::{Caller, CorpIdService};
use bauhinia_identity::corporate::CorporateDirectory;
use bauhinia_identity::domain::{Hkid, ResidentDraft};
use bauhinia_identity::IdentityService;
use bauhinia_store::testing::TestDb;
use bauhinia_store::Database;

const LOOKUPS: usize = 20_000;
const BATCH: usize = 10_000;
/// Businesses per resident of the pool, on average.
const BUSINESSES_PER_RESIDENT: usize = 4;
const NOW: i64 = 1_795_000_000;

fn hkid(i: usize) -> Hkid {
    let letters = b"ABCDEGHKMPRTVWYZ";
    let prefix = letters[(i / 1_000_000) % letters.len()] as char;
    let n = i % 1_000_000;
    let digits: [u8; 6] = std::array::from_fn(|k| ((n / 10usize.pow(5 - k as u32)) % 10) as u8);
    Hkid::from_parts(&prefix.to_string(), digits).unwrap()
}

fn resident(i: usize) -> ResidentDraft {
    ResidentDraft {
        english_name: "CHAN, Siu Ming".into(),
        chinese_name: None,
        hkid: hkid(i).expose(),
        date_of_birth: "1980-01-01".into(),
        gender: "M".into(),
        mobile: None,
        email: None,
        residential_address: vec!["Flat 1, Block 1".into(), "Kowloon".into()],
        postal_address: None,
    }
}

const FORMS: [&str; 6] = [
    "private_limited_by_shares",
    "public_limited_by_shares",
    "limited_by_guarantee",
    "registered_non_hong_kong",
    "sole_proprietorship",
    "partnership",
];

fn business(i: usize) -> BusinessDraft {
    BusinessDraft {
        brn: format!("{:08}", 10_000_000 + i),
        form: FORMS[i % FORMS.len()].to_owned(),
        name_en: format!("Synthetic Trading {i} Limited"),
        name_zh: Some("合成貿易有限公司".into()),
        address: vec![
            format!("Unit {}, {}/F", i % 40, i % 60),
            "Kwun Tong, Kowloon".into(),
        ],
        registered_on: "2010-06-01".into(),
        directors: vec![DirectorDraft {
            name_en: "WONG, Ka Ming".into(),
            name_zh: None,
            appointed_on: "2010-06-01".into(),
            resident_id: None,
        }],
    }
}

fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

fn database_bytes(db: &Database, dir: &std::path::Path) -> u64 {
    let Database::Sqlite(_) = db else { return 0 };
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing and must stay quick.
    let benching = std::env::args().any(|a| a == "--bench");
    let total: usize = std::env::var("BAUHINIA_BENCH_BUSINESSES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if benching { 1_800_000 } else { 2_000 });
    let pool = (total / BUSINESSES_PER_RESIDENT).max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let test = TestDb::sqlite().await.unwrap();
        let dir = test.files.parent().unwrap().to_owned();
        let vault = Arc::new(Vault::new(&MasterKey::generate()));
        let identity = IdentityService::new(&test.db, vault);
        let today = time::Date::from_calendar_date(2026, time::Month::November, 24).unwrap();
        let started = Instant::now();
        let mut residents = Vec::with_capacity(pool);
        for start in (0..pool).step_by(BATCH) {
            let drafts: Vec<ResidentDraft> = (start..(start + BATCH).min(pool)).map(resident).collect();
            identity.import(&drafts, "system:bench", today).await.unwrap();
        }
        for i in 0..pool {
            residents.push(identity.find_by_hkid(&hkid(i)).await.unwrap().unwrap().id);
        }
        println!("{pool} residents in the pool, loaded in {:.1} s", started.elapsed().as_secs_f64());

        let service = CorpIdService::new(&test.db);
        let operator = Caller::Operator("system:bench".into());
        let started = Instant::now();
        for start in (0..total).step_by(BATCH) {
            let items: Vec<_> = (start..(start + BATCH).min(total))
                .map(|i| (business(i), vec![(residents[i % pool].clone(), Role::Administrator)]))
                .collect();
            service.import(&items, &operator, NOW).await.unwrap();
        }
        let load = started.elapsed();
        let bytes = database_bytes(&test.db, &dir);
        println!(
            "{total} businesses (+{total} representatives) in {:.1} s: {:.0} businesses/s; database {:.1} MiB on disk",
            load.as_secs_f64(),
            total as f64 / load.as_secs_f64(),
            bytes as f64 / 1_048_576.0
        );

        let mut seed = 0x9E37_79B9_7F4A_7C15;
        let mut times: Vec<Duration> = Vec::with_capacity(LOOKUPS);
        let started = Instant::now();
        for _ in 0..LOOKUPS {
            let resident = &residents[(next(&mut seed) % pool as u64) as usize];
            let t = Instant::now();
            let found = service.representations(resident, NOW).await.unwrap();
            times.push(t.elapsed());
            assert!(!found.is_empty(), "every resident of the pool represents a business");
        }
        let per_second = LOOKUPS as f64 / started.elapsed().as_secs_f64();
        times.sort();
        let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
        println!(
            "{LOOKUPS} login lookups: p50 {:?}, p99 {:?}, max {:?} ({per_second:.0}/s, one after another)",
            at(0.50),
            at(0.99),
            times.last().unwrap()
        );
        test.cleanup().await.unwrap();
    });
}
