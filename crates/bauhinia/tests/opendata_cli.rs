//! `bauhinia opendata token` beside a running server, as a publisher's first steps go: the
//! command works on the database alone, so it does not contend for the search index the
//! server holds, and the token it prints publishes until it is revoked.

// Test code fails by panicking; the production lints do not apply here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_bauhinia");

fn cli(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("opendata")
        .arg("token")
        .args(args)
        .env("BAUHINIA_DATA_DIR", dir)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run bauhinia")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The server, stopped and its directory removed however the test ends.
struct Server {
    child: std::process::Child,
    dir: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn a_token_issued_beside_a_running_server_publishes_until_revoked() {
    let dir = std::env::temp_dir().join(format!("bauhinia-od-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let child = Command::new(BIN)
        .arg("serve")
        .env("BAUHINIA_DATA_DIR", &dir)
        .env("BAUHINIA_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let mut server = Server {
        child,
        dir: dir.clone(),
    };
    let stdout = server.child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("Bauhinia is ready at ").map(|u| {
                u.trim()
                    .trim_end_matches('/')
                    .replace("localhost", "127.0.0.1")
            })
        })
        .expect("the server said where it is");

    let created = cli(
        &dir,
        &[
            "create",
            "--user",
            "cli-publisher",
            "--organization",
            "hk-dpo",
        ],
    );
    assert!(created.status.success(), "{}", text(&created.stderr));
    let secret = text(&created.stdout).trim().to_owned();
    assert!(secret.len() >= 32, "one line, the secret: {secret:?}");
    assert!(text(&created.stderr).contains("shown only now"));

    let listed = cli(&dir, &["list"]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let listed = text(&listed.stdout);
    let row = listed
        .lines()
        .find(|l| l.contains("cli-publisher"))
        .unwrap_or_else(|| panic!("listed: {listed}"));
    assert!(row.contains("\tactive\t"), "{row}");
    assert!(!listed.contains(&secret), "the secret is never listed");
    let id = row.split('\t').next().expect("id").to_owned();

    let http = reqwest::Client::new();
    let create = |name: &'static str, token: Option<String>| {
        let mut request = http
            .post(format!("{url}/api/3/action/package_create"))
            .header("Content-Type", "application/json")
            .body(serde_json::json!({
                "name": name,
                "title": "Bus stops",
                "notes": "Every stop.",
                "owner_org": "hk-dpo",
                "resources": [{"name": "Stops", "format": "csv", "url": "https://example.org/stops.csv"}],
            }).to_string());
        if let Some(token) = token {
            request = request.header("Authorization", token);
        }
        request.send()
    };
    let published = create("cli-bus-stops", Some(secret.clone()))
        .await
        .expect("post");
    assert_eq!(published.status(), 200);
    let published: serde_json::Value =
        serde_json::from_str(&published.text().await.expect("body")).expect("json");
    assert_eq!(published["success"], true, "{published}");

    let revoked = cli(&dir, &["revoke", "--id", &id]);
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    let refused = create("cli-bus-stops-2", Some(secret)).await.expect("post");
    assert_eq!(refused.status(), 403);
    let refused: serde_json::Value =
        serde_json::from_str(&refused.text().await.expect("body")).expect("json");
    assert_eq!(refused["error"]["__type"], "Authorization Error");

    drop(server);
}
