//! Company signature verification throughput: 64 corporate signatures of distinct documents
//! made through the real request and approval path on an embedded SQLite database, then
//! verified in turn, N times (20,000 by
//! default) by two tasks on a two-thread runtime, each verification the whole public check —
//! parse, ES256, the chain (from the cache after the first), validity, revocation and the
//! request on record, both read from the database. Reports verifications a second.
//!
//!   cargo bench -p bauhinia-corpid --bench signature_verify
//!   BAUHINIA_BENCH_VERIFICATIONS=2000 cargo bench -p bauhinia-corpid --bench signature_verify
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::Arc;
use std::time::Instant;

use bauhinia_core::crypto::{MasterKey, Vault};
use bauhinia_corpid::domain::{BusinessDraft, Role};
use bauhinia_corpid::signing::CompanySigning;
use bauhinia_corpid::{Caller, CorpIdService};
use bauhinia_identity::domain::signing::DocumentHash;
use bauhinia_identity::{IdentityService, SigningService};
use bauhinia_store::testing::TestDb;

const THREADS: usize = 2;
/// Distinct signed documents verified in turn.
const DOCUMENTS: usize = 64;

fn main() {
    let verifications: usize = std::env::var("BAUHINIA_BENCH_VERIFICATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(THREADS)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(verifications));
}

async fn run(verifications: usize) {
    let test = TestDb::sqlite().await.unwrap();
    let db = &test.db;
    let vault = Arc::new(Vault::new(&MasterKey::generate()));
    let identity = IdentityService::new(db, Arc::clone(&vault));
    let today = time::OffsetDateTime::now_utc().date();
    let mut residents = Vec::new();
    for resident in bauhinia_identity::demo::residents() {
        residents.push(
            identity
                .register(&resident, "bench", today)
                .await
                .unwrap()
                .id,
        );
    }
    let now = bauhinia_core::background::now_ms() / 1_000;
    let corpid = CorpIdService::new(db);
    let operator = Caller::Operator("bench".into());
    let draft = BusinessDraft {
        brn: "12345678".into(),
        form: "private_limited_by_shares".into(),
        name_en: "Harbour Trading Limited".into(),
        name_zh: None,
        address: vec!["1 Queen's Road Central".into()],
        registered_on: "2020-01-02".into(),
        directors: vec![],
    };
    corpid
        .register(&draft, &residents[0], &operator, now)
        .await
        .unwrap();
    let brn = bauhinia_corpid::domain::Brn::parse("12345678").unwrap();
    corpid
        .grant(
            &brn,
            &residents[1],
            Role::AuthorisedSignatory,
            &operator,
            now,
        )
        .await
        .unwrap();
    let signing = Arc::new(SigningService::new(db, Arc::clone(&vault)));
    signing.ensure_ca().await.unwrap();
    let company = Arc::new(CompanySigning::new(db, corpid, signing, vault));
    // Distinct documents, each signed through its own request: every verification checks a
    // signature it has not just checked (what verification remembers is chains and what is on
    // record, never a signature's outcome).
    let mut signed = Vec::with_capacity(DOCUMENTS);
    for n in 0..DOCUMENTS {
        let hash = openssl::sha::sha256(format!("benchmark document {n}").as_bytes());
        let request = company
            .create_request(
                "bench",
                "12345678",
                "corporate",
                &format!("Benchmark {n}.pdf"),
                &hash,
                now,
            )
            .await
            .unwrap();
        let signature = company
            .approve(&request.id, &residents[1], now)
            .await
            .unwrap()
            .signature
            .unwrap();
        let expected = DocumentHash::from_bytes(&hash).unwrap();
        assert!(
            company
                .verify(&signature, Some(&expected), now)
                .await
                .unwrap()
                .valid
        );
        signed.push((signature, expected));
    }
    let signed = Arc::new(signed);

    let started = Instant::now();
    let mut tasks = Vec::new();
    for thread in 0..THREADS {
        let (company, signed) = (Arc::clone(&company), Arc::clone(&signed));
        tasks.push(tokio::spawn(async move {
            for i in 0..verifications / THREADS {
                let (signature, expected) = &signed[(i * THREADS + thread) % DOCUMENTS];
                let report = company
                    .verify(signature, Some(expected), now)
                    .await
                    .unwrap();
                assert!(report.valid);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = started.elapsed();
    let done = verifications / THREADS * THREADS;
    println!(
        "company signature verification: {done} in {:.3} s on {THREADS} threads = {:.0} verifications/s",
        elapsed.as_secs_f64(),
        done as f64 / elapsed.as_secs_f64()
    );
    test.cleanup().await.unwrap();
}
