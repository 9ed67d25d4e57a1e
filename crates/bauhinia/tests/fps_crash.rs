//! Crash test of the FPS ledger (issue 4): under load, the server is killed with SIGKILL and
//! started again on the same data directory. Every transfer that was acknowledged must be
//! there; clients then retry every transfer they sent (acknowledged or not) with the same ids
//! and bodies, which must create no duplicates; and `bauhinia fps audit` must pass.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Error = Box<dyn std::error::Error + Send + Sync>;

const ADMIN: &str = "crash-test-admin-token-0123456789";
const CLIENTS: usize = 8;

struct Server {
    child: Child,
    url: String,
    /// Kept open: the server's standard output stays a live pipe.
    _stdout: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

fn start(data: &std::path::Path) -> Result<Server, Error> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bauhinia"))
        .arg("serve")
        .env("BAUHINIA_DATA_DIR", data)
        .env("BAUHINIA_LISTEN", "127.0.0.1:0")
        .env("BAUHINIA_ADMIN_TOKEN", ADMIN)
        .env("BAUHINIA_RATE_LIMIT_PER_SECOND", "0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let Some(line) = lines.next() else { break };
        let line = line?;
        if let Some(rest) = line.strip_prefix("Bauhinia is ready at ") {
            let url = rest
                .trim()
                .trim_end_matches('/')
                .replace("localhost", "127.0.0.1");
            return Ok(Server {
                child,
                url,
                _stdout: lines,
            });
        }
    }
    let _ = child.kill();
    Err("the server did not say it was ready".into())
}

fn body(id: &str, debtor: &str, creditor: &str, cents: u64) -> String {
    format!(
        "{{\"id\":\"{id}\",\"debtor\":\"{debtor}\",\"creditor\":\"{creditor}\",\"currency\":\"HKD\",\"amount\":\"{}.{:02}\",\"reference\":\"crash test\"}}",
        cents / 100,
        cents % 100
    )
}

/// The transfers each client sends: fixed ids and bodies, so a retry is the same request.
fn plan(client: usize, n: usize) -> Vec<(String, String)> {
    let banks = ["003", "004", "009", "012", "015", "016", "024", "387"];
    (0..n)
        .map(|k| {
            let id = format!("0190aaaa-0000-7000-8000-{:04x}{:08x}", client, k);
            let d = banks.get(client % banks.len()).copied().unwrap_or("004");
            let c = banks
                .get((client + 1 + k % 7) % banks.len())
                .copied()
                .unwrap_or("012");
            let c = if c == d { "948" } else { c };
            (id.clone(), body(&id, d, c, 100 + (k as u64 % 977)))
        })
        .collect()
}

async fn send(client: &reqwest::Client, url: &str, body: &str) -> Result<u16, reqwest::Error> {
    Ok(client
        .post(format!("{url}/api/v1/fps/transfers"))
        .header("authorization", format!("Bearer {ADMIN}"))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .timeout(Duration::from_secs(10))
        .send()
        .await?
        .status()
        .as_u16())
}

fn audit(data: &std::path::Path) -> Result<(bool, String), Error> {
    let out = Command::new(env!("CARGO_BIN_EXE_bauhinia"))
        .args(["fps", "audit"])
        .env("BAUHINIA_DATA_DIR", data)
        .env("BAUHINIA_ADMIN_TOKEN", ADMIN)
        .output()?;
    Ok((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ))
}

fn accepted_count(report: &str) -> Option<u64> {
    let line = report.lines().next()?;
    let before = line.split(" accepted transfers").next()?;
    before.rsplit(' ').next()?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_transfers_survive_sigkill_and_retries_do_not_duplicate() -> Result<(), Error>
{
    let data = std::env::temp_dir().join(format!("bauhinia-fps-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data)?;
    let mut server = start(&data)?;
    let (ok, report) = audit(&data)?;
    assert!(ok, "{report}");
    let funding = accepted_count(&report).ok_or("no count")?;

    let http = reqwest::Client::new();
    let acknowledged: Arc<Mutex<HashSet<String>>> = Arc::default();
    let plans: Vec<Vec<(String, String)>> = (0..CLIENTS).map(|c| plan(c, 2_500)).collect();
    let mut tasks = Vec::new();
    for p in plans.clone() {
        let (http, url, acknowledged) =
            (http.clone(), server.url.clone(), Arc::clone(&acknowledged));
        tasks.push(tokio::spawn(async move {
            for (id, body) in p {
                match send(&http, &url, &body).await {
                    Ok(201) | Ok(200) => {
                        if let Ok(mut a) = acknowledged.lock() {
                            a.insert(id);
                        }
                    }
                    // The server is gone: this client stops, as a gateway would, to retry later.
                    _ => break,
                }
            }
        }));
    }
    // Let the load run, then kill the server in the middle of it.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    server.child.kill()?; // SIGKILL
    server.child.wait()?;
    for t in tasks {
        t.await?;
    }
    let acked: HashSet<String> = acknowledged.lock().map_err(|_| "poisoned")?.clone();
    let all_sent = plans.iter().map(Vec::len).sum::<usize>();
    assert!(
        !acked.is_empty(),
        "no transfer was acknowledged before the kill"
    );
    assert!(
        acked.len() < all_sent,
        "the kill came after all {all_sent} transfers: make the load longer"
    );

    // Restart: every acknowledged transfer is there.
    let server = start(&data)?;
    for id in &acked {
        let status = http
            .get(format!("{}/api/v1/fps/transfers/{id}", server.url))
            .header("authorization", format!("Bearer {ADMIN}"))
            .send()
            .await?
            .status();
        assert_eq!(
            status.as_u16(),
            200,
            "acknowledged transfer {id} is missing after the crash"
        );
    }
    // Every client retries everything it meant to send, with the same ids and bodies.
    let mut replayed = 0u64;
    let mut created = 0u64;
    for p in &plans {
        for (id, body) in p {
            match send(&http, &server.url, body).await? {
                200 => replayed += 1,
                201 => {
                    assert!(!acked.contains(id), "acknowledged {id} was created twice");
                    created += 1;
                }
                other => return Err(format!("retry of {id} answered {other}").into()),
            }
        }
    }
    assert!(replayed >= acked.len() as u64);
    let mut server = server;
    server.child.kill()?;
    server.child.wait()?;

    let (ok, report) = audit(&data)?;
    assert!(ok, "the audit failed after the crash:\n{report}");
    let accepted = accepted_count(&report).ok_or("no count")?;
    assert_eq!(
        accepted,
        funding + all_sent as u64,
        "each of the {all_sent} transfers must exist exactly once (replayed {replayed}, created {created})"
    );
    println!(
        "crash test: {} acknowledged before SIGKILL, all present after restart; retries: {replayed} replayed, {created} created; audit: {}",
        acked.len(),
        report.lines().next().unwrap_or_default()
    );
    let _ = std::fs::remove_dir_all(&data);
    Ok(())
}
