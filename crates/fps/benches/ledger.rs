//! Issue 4 (a): the ledger engine in process, durable (SQLite with `synchronous=FULL`, or
//! PostgreSQL when `DATABASE_URL` is set): transfers per second in batches.
//!
//! `cargo bench -p bauhinia-fps --bench ledger -- [transfers] [batch] [clients]`
//! (defaults 2,000,000, 8,189 and 4): `clients` tasks each submit batches of `batch` transfers
//! among 30 participant accounts with a Zipf-like skew, time-ordered ids, until `transfers`
//! are answered. Prints one `RESULT` JSON line.

use std::time::Instant;

use bauhinia_core::Currency;
use bauhinia_fps::ledger::{Account, Journal, Kind, Ledger, Outcome, Transfer};
use bauhinia_store::testing::TestDb;

const PARTICIPANTS: u128 = 30;

fn arg(n: usize, default: usize) -> usize {
    std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

/// A small deterministic generator (xorshift), so runs are comparable.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// A participant, skewed: participant k is chosen with weight 1/(k+1).
    fn participant(&mut self, weights: &[u64], total: u64) -> u128 {
        let mut x = self.next() % total;
        for (k, w) in weights.iter().enumerate() {
            if x < *w {
                return k as u128;
            }
            x -= w;
        }
        0
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let total = arg(0, 2_000_000);
    let batch = arg(1, 8_189).clamp(1, 8_189);
    let clients = arg(2, 4).max(1);
    let test_db = match TestDb::postgres().await? {
        Some(db) => db,
        None => TestDb::sqlite().await?,
    };
    let backend = format!("{:?}", test_db.db.backend());
    let ledger = Ledger::start(Journal::open(&test_db.db, 1)?, "bench").await?;
    let rtgs = 1u128 << 64;
    let mut accounts = vec![Account::new(rtgs, Currency::Hkd, 2, None)];
    accounts.extend((0..PARTICIPANTS).map(|p| Account::new(p + 1, Currency::Hkd, 1, Some(0))));
    ledger.create_accounts(accounts).await?;
    let funding: Vec<Transfer> = (0..PARTICIPANTS)
        .map(|p| transfer(u128::MAX - p, rtgs, p + 1, 1_000_000_000_000_000))
        .collect();
    ledger.submit(funding, "bench".into()).await?;

    let weights: Vec<u64> = (0..PARTICIPANTS as u64)
        .map(|k| 1_000_000 / (k + 1))
        .collect();
    let weight_total: u64 = weights.iter().sum();
    let per_client = total.div_ceil(clients);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let ledger = ledger.clone();
        let weights = weights.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (c as u64 + 1));
            let mut done = 0usize;
            let mut refused = 0usize;
            let mut seq: u128 = 0;
            while done < per_client {
                let n = batch.min(per_client - done);
                let transfers: Vec<Transfer> = (0..n)
                    .map(|_| {
                        seq += 1;
                        let d = rng.participant(&weights, weight_total);
                        let mut cr = rng.participant(&weights, weight_total);
                        if cr == d {
                            cr = (d + 1) % PARTICIPANTS;
                        }
                        // Time-ordered ids: client in the high bits after a time prefix.
                        let id = (1u128 << 120) | ((c as u128) << 64) | seq;
                        transfer(id, d + 1, cr + 1, 1 + (rng.next() % 100_000) as i64)
                    })
                    .collect();
                let outcomes = ledger.submit(transfers, "bench".into()).await?;
                refused += outcomes
                    .iter()
                    .filter(|o| !matches!(o, Outcome::Created { .. }))
                    .count();
                done += n;
            }
            Ok::<_, bauhinia_fps::ledger::LedgerError>((done, refused))
        }));
    }
    let mut done = 0;
    let mut refused = 0;
    for t in tasks {
        let (d, r) = t.await??;
        done += d;
        refused += r;
    }
    let secs = start.elapsed().as_secs_f64();
    let stats = ledger.stats();
    println!(
        "ledger in process ({backend}): {done} transfers in {secs:.2} s = {:.0}/s; {refused} refused; {} batches (mean {:.0} transfers per commit)",
        done as f64 / secs,
        stats.batches,
        stats.transfers as f64 / stats.batches.max(1) as f64
    );
    println!(
        "RESULT {{\"bench\":\"ledger_in_process\",\"backend\":\"{backend}\",\"transfers\":{done},\"seconds\":{secs:.3},\"per_s\":{:.0},\"batch\":{batch},\"clients\":{clients}}}",
        done as f64 / secs
    );
    drop(ledger);
    test_db.cleanup().await?;
    Ok(())
}

fn transfer(id: u128, debit: u128, credit: u128, amount: i64) -> Transfer {
    Transfer {
        id,
        debit_account: debit,
        credit_account: credit,
        amount,
        currency: Currency::Hkd,
        kind: Kind::Single,
        linked: false,
        code: 1,
        user_data: 0,
        reference: String::new(),
    }
}
