//! Issue 4 (b)–(e): load on a running Bauhinia over loopback, and the textbook PostgreSQL
//! ledger peer. Driven by `scripts/bench-fps`; each mode prints one `RESULT` JSON line.
//!
//! - `setup URL ADMIN_TOKEN N`: registers participants up to N (codes 500…), funds every
//!   participant, issues one token each; prints `TOKEN code token` lines.
//! - `batch URL TOKENS_FILE TRANSFERS BATCH CLIENTS`: batched requests; each client is one
//!   participant's gateway (its own token), paying the others with a Zipf-like skew.
//! - `textbook PG_URL TRANSFERS CONNECTIONS`: the same workload on a textbook PostgreSQL
//!   ledger: one SQL transaction per transfer, `SELECT … FOR UPDATE` on both participant rows.
//!
//! Every loop is bounded by its transfer count and a 600 s deadline; loopback only.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

type Error = Box<dyn std::error::Error + Send + Sync>;

const DEADLINE: Duration = Duration::from_secs(600);

/// xorshift: deterministic and cheap.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Zipf-like weights over `n` participants: the k-th largest has weight 1/(k+1), so the top
/// five carry about half the traffic, as a few large banks do in Hong Kong.
struct Skew {
    cumulative: Vec<u64>,
}
impl Skew {
    fn new(n: usize) -> Skew {
        let mut total = 0;
        let cumulative = (0..n)
            .map(|k| {
                total += 1_000_000 / (k as u64 + 1);
                total
            })
            .collect();
        Skew { cumulative }
    }
    fn pick(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(1);
        let x = rng.next() % total;
        self.cumulative.partition_point(|&c| c <= x)
    }
}

/// A time-ordered UUID (v7 layout): 48 bits of milliseconds, then a per-client counter.
fn uuid_v7(client: u64, counter: u64) -> String {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let hi = (ms << 16) | 0x7000 | (client & 0x0FFF);
    let lo = 0x8000_0000_0000_0000u64 | (counter & 0x3FFF_FFFF_FFFF_FFFF);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xFFFF,
        hi & 0xFFFF,
        lo >> 48,
        lo & 0xFFFF_FFFF_FFFF
    )
}

fn args() -> Vec<String> {
    std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect()
}

fn arg(args: &[String], n: usize) -> Result<&str, Error> {
    args.get(n)
        .map(String::as_str)
        .ok_or_else(|| format!("missing argument {n}").into())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Error> {
    let args = args();
    match arg(&args, 0)? {
        "setup" => setup(arg(&args, 1)?, arg(&args, 2)?, arg(&args, 3)?.parse()?).await,
        "batch" => {
            batch(
                arg(&args, 1)?,
                arg(&args, 2)?,
                arg(&args, 3)?.parse()?,
                arg(&args, 4)?.parse()?,
                arg(&args, 5)?.parse()?,
            )
            .await
        }
        "textbook" => {
            textbook(
                arg(&args, 1)?,
                arg(&args, 2)?.parse()?,
                arg(&args, 3)?.parse()?,
            )
            .await
        }
        other => Err(format!("unknown mode {other}").into()),
    }
}

async fn setup(url: &str, admin: &str, n: usize) -> Result<(), Error> {
    let client = reqwest::Client::new();
    let auth = format!("Bearer {admin}");
    let list: Vec<serde_json::Value> = client
        .get(format!("{url}/api/v1/fps/participants"))
        .send()
        .await?
        .json()
        .await?;
    let mut codes: Vec<String> = list
        .iter()
        .filter_map(|p| p.get("code").and_then(|c| c.as_str()).map(str::to_owned))
        .collect();
    let mut next = 500;
    while codes.len() < n {
        let code = format!("{next:03}");
        next += 1;
        let body = serde_json::json!({
            "code": code, "name_en": format!("Load Bank {code}"),
            "name_zh_hant": format!("負載銀行 {code}"), "name_zh_hans": format!("负载银行 {code}"),
            "kind": "bank",
        });
        let status = client
            .post(format!("{url}/api/v1/fps/participants"))
            .header("authorization", &auth)
            .json(&body)
            .send()
            .await?
            .status();
        if !status.is_success() {
            return Err(format!("registering {code}: {status}").into());
        }
        codes.push(code);
    }
    for code in &codes {
        let body = serde_json::json!({
            "id": uuid_v7(4095, code.parse::<u64>()?), "participant": code, "currency": "HKD",
            "amount": "1000000000000.00", "direction": "fund",
        });
        let status = client
            .post(format!("{url}/api/v1/fps/settlement"))
            .header("authorization", &auth)
            .json(&body)
            .send()
            .await?
            .status();
        if !status.is_success() {
            return Err(format!("funding {code}: {status}").into());
        }
        let token: serde_json::Value = client
            .post(format!("{url}/api/v1/fps/participants/{code}/tokens"))
            .header("authorization", &auth)
            .json(&serde_json::json!({ "label": "load test" }))
            .send()
            .await?
            .json()
            .await?;
        let token = token
            .get("token")
            .and_then(|t| t.as_str())
            .ok_or("no token")?;
        println!("TOKEN {code} {token}");
    }
    Ok(())
}

fn read_tokens(path: &str) -> Result<Vec<(String, String)>, Error> {
    let text = std::fs::read_to_string(path)?;
    let tokens: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            (parts.next() == Some("TOKEN"))
                .then(|| Some((parts.next()?.to_owned(), parts.next()?.to_owned())))
                .flatten()
        })
        .collect();
    if tokens.len() < 2 {
        return Err("fewer than two participant tokens".into());
    }
    Ok(tokens)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or(0.0)
}

async fn batch(
    url: &str,
    tokens_file: &str,
    total: usize,
    batch: usize,
    clients: usize,
) -> Result<(), Error> {
    let tokens = Arc::new(read_tokens(tokens_file)?);
    let skew = Arc::new(Skew::new(tokens.len()));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let done = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let per_client = total.div_ceil(clients);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (tokens, skew, client, done, refused) = (
            Arc::clone(&tokens),
            Arc::clone(&skew),
            client.clone(),
            Arc::clone(&done),
            Arc::clone(&refused),
        );
        let url = format!("{url}/api/v1/fps/transfers/batch");
        tasks.push(tokio::spawn(async move {
            // Each client is one participant's gateway: it pays from its own account.
            let me = c % tokens.len();
            let (my_code, my_token) = tokens.get(me).cloned().ok_or("no token")?;
            let auth = format!("Bearer {my_token}");
            let mut rng = Rng(0x2545_F491_4F6C_DD1D ^ (c as u64 + 1));
            let mut sent = 0usize;
            let mut counter = 0u64;
            let mut latencies = Vec::new();
            while sent < per_client && start.elapsed() < DEADLINE {
                let n = batch.min(per_client - sent);
                let mut body = String::with_capacity(n * 160 + 20);
                body.push_str("{\"transfers\":[");
                for k in 0..n {
                    counter += 1;
                    let mut to = skew.pick(&mut rng);
                    if to == me {
                        to = (to + 1) % tokens.len();
                    }
                    let creditor = tokens.get(to).map_or("000", |t| t.0.as_str());
                    if k > 0 {
                        body.push(',');
                    }
                    body.push_str(&format!(
                        "{{\"id\":\"{}\",\"debtor\":\"{my_code}\",\"creditor\":\"{creditor}\",\"currency\":\"HKD\",\"amount\":\"{}.{:02}\"}}",
                        uuid_v7(c as u64, counter),
                        1 + rng.next() % 5_000,
                        rng.next() % 100
                    ));
                }
                body.push_str("]}");
                let t0 = Instant::now();
                let response = client
                    .post(&url)
                    .header("authorization", &auth)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await?;
                let status = response.status();
                let text = response.text().await?;
                latencies.push(t0.elapsed().as_secs_f64() * 1000.0);
                if !status.is_success() {
                    return Err::<_, Error>(format!("batch answered {status}: {text}").into());
                }
                let accepted = text.matches("\"accepted\"").count();
                refused.fetch_add((n - accepted) as u64, Ordering::Relaxed);
                done.fetch_add(n as u64, Ordering::Relaxed);
                sent += n;
            }
            Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    let secs = start.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let done = done.load(Ordering::Relaxed);
    let refused = refused.load(Ordering::Relaxed);
    let rate = done as f64 / secs;
    println!(
        "batched over HTTP: {done} transfers from {clients} participant gateways ({} participants), batches of {batch}, in {secs:.2} s = {rate:.0}/s; request p50 {:.1} ms, p99 {:.1} ms; {refused} refused",
        tokens.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );
    println!(
        "RESULT {{\"bench\":\"http_batch\",\"transfers\":{done},\"seconds\":{secs:.3},\"per_s\":{rate:.0},\"batch\":{batch},\"clients\":{clients},\"participants\":{},\"p50_ms\":{:.2},\"p99_ms\":{:.2},\"refused\":{refused}}}",
        tokens.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );
    Ok(())
}

/// The textbook ledger: a `participants` table of balances and a `transfers` table; each
/// transfer is one transaction that locks both rows (in id order, so no deadlocks), checks the
/// payer's balance, updates both and inserts the transfer. `synchronous_commit` stays on.
async fn textbook(pg_url: &str, total: usize, connections: u32) -> Result<(), Error> {
    use sqlx::postgres::PgPoolOptions;
    let n = 30usize;
    let pool = PgPoolOptions::new()
        .max_connections(connections)
        .connect(pg_url)
        .await?;
    sqlx::raw_sql(
        "DROP TABLE IF EXISTS textbook_transfers; DROP TABLE IF EXISTS textbook_participants;
         CREATE TABLE textbook_participants (id INT PRIMARY KEY, balance BIGINT NOT NULL CHECK (balance >= 0));
         CREATE TABLE textbook_transfers (id UUID PRIMARY KEY, debtor INT NOT NULL REFERENCES textbook_participants, creditor INT NOT NULL REFERENCES textbook_participants, amount BIGINT NOT NULL, at TIMESTAMPTZ NOT NULL DEFAULT now());",
    )
    .execute(&pool)
    .await?;
    for id in 0..n {
        sqlx::query("INSERT INTO textbook_participants (id, balance) VALUES ($1, 100000000000000)")
            .bind(id as i32)
            .execute(&pool)
            .await?;
    }
    let skew = Arc::new(Skew::new(n));
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let per_task = total.div_ceil(connections as usize);
    let mut tasks = Vec::new();
    for c in 0..connections as usize {
        let (pool, skew, done) = (pool.clone(), Arc::clone(&skew), Arc::clone(&done));
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (c as u64 + 1));
            let mut latencies = Vec::with_capacity(per_task);
            for k in 0..per_task {
                if start.elapsed() > DEADLINE {
                    break;
                }
                let debtor = skew.pick(&mut rng) as i32;
                let mut creditor = skew.pick(&mut rng) as i32;
                if creditor == debtor {
                    creditor = (creditor + 1) % n as i32;
                }
                let amount = 1 + (rng.next() % 500_000) as i64;
                let id = uuid_v7(c as u64, k as u64);
                let t0 = Instant::now();
                let mut tx = pool.begin().await?;
                let rows: Vec<(i32, i64)> = sqlx::query_as(
                    "SELECT id, balance FROM textbook_participants WHERE id IN ($1, $2) ORDER BY id FOR UPDATE",
                )
                .bind(debtor)
                .bind(creditor)
                .fetch_all(&mut *tx)
                .await?;
                let balance = rows.iter().find(|r| r.0 == debtor).map_or(0, |r| r.1);
                if balance >= amount {
                    sqlx::query("UPDATE textbook_participants SET balance = balance - $2 WHERE id = $1")
                        .bind(debtor)
                        .bind(amount)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("UPDATE textbook_participants SET balance = balance + $2 WHERE id = $1")
                        .bind(creditor)
                        .bind(amount)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("INSERT INTO textbook_transfers (id, debtor, creditor, amount) VALUES ($1::uuid, $2, $3, $4)")
                        .bind(&id)
                        .bind(debtor)
                        .bind(creditor)
                        .bind(amount)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                latencies.push(t0.elapsed().as_secs_f64() * 1000.0);
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<_, Error>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    let secs = start.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let done = done.load(Ordering::Relaxed);
    let rate = done as f64 / secs;
    println!(
        "textbook PostgreSQL ledger: {done} transfers over {connections} connections in {secs:.2} s = {rate:.0}/s (p50 {:.1} ms, p99 {:.1} ms); 2.29 million would take {:.0} s",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        2_290_000.0 / rate
    );
    println!(
        "RESULT {{\"bench\":\"textbook_pg\",\"transfers\":{done},\"seconds\":{secs:.3},\"per_s\":{rate:.0},\"connections\":{connections},\"p50_ms\":{:.2},\"p99_ms\":{:.2}}}",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );
    sqlx::raw_sql("DROP TABLE textbook_transfers; DROP TABLE textbook_participants;")
        .execute(&pool)
        .await?;
    Ok(())
}
