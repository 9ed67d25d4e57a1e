//! `bauhinia exchange audit verify` as an operator runs it: on an intact chain it says so and
//! exits 0; with the database tampered with it names the position and exits non-zero; with
//! `--jwks` it checks checkpoints against the published keys only.

use std::path::Path;
use std::process::Command;

use bauhinia_exchange::chain::{self, ChainEvent};
use bauhinia_identity::jose::{Alg, Jwk, JwkSet};
use bauhinia_store::{Database, DatabaseUrl};
use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::PKey;

fn verify(data: &Path, extra: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bauhinia"))
        .args(["exchange", "audit", "verify", "--data-dir"])
        .arg(data)
        .args(extra)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn p256() -> PKey<openssl::pkey::Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
}

fn jwks_file(dir: &Path, name: &str, key: &PKey<openssl::pkey::Private>) -> String {
    let jwk = Jwk::from_key(key, Some("gw-1".into()), Some(Alg::ES256)).unwrap();
    let path = dir.join(name);
    std::fs::write(
        &path,
        serde_json::to_string(&JwkSet { keys: vec![jwk] }).unwrap(),
    )
    .unwrap();
    path.display().to_string()
}

#[tokio::test]
async fn the_cli_reports_an_intact_chain_and_where_a_broken_one_breaks() {
    let data = std::env::temp_dir().join(format!("bauhinia-exchange-audit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).unwrap();
    let file = data.join("bauhinia.db");
    let db = Database::connect(&DatabaseUrl::sqlite_file(&file))
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let key = p256();
    let events: Vec<ChainEvent> = (0..12)
        .map(|i| ChainEvent {
            kind: "data.fetched".into(),
            actor: "participant:003".into(),
            owner: Some(format!("owner-{}", i % 2)),
            consent: Some("c-1".into()),
            detail: serde_json::json!({ "i": i }),
        })
        .collect();
    let append = async {
        bauhinia_store::write_tx!(&db, tx, _audit => {
            chain::append(&mut *tx, &events).await?
        });
        Ok::<(), chain::ChainError>(())
    };
    append.await.unwrap();
    chain::checkpoint(&db, "gw-1", &key).await.unwrap();
    db.close().await;

    let (ok, out) = verify(&data, &[]);
    assert!(ok, "{out}");
    assert!(
        out.contains("chain intact: 12 records (seq 1..=12), 1 checkpoints, signed through seq 12"),
        "{out}"
    );
    assert!(out.contains("read from the database itself"), "{out}");
    let published = jwks_file(&data, "published.json", &key);
    let (ok, out) = verify(&data, &["--jwks", &published]);
    assert!(ok && !out.contains("database itself"), "{out}");
    let stranger = jwks_file(&data, "stranger.json", &p256());
    let (ok, out) = verify(&data, &["--jwks", &stranger]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("seq 12: checkpoint signature does not verify"),
        "{out}"
    );

    let conn = bauhinia_store::rusqlite::Connection::open(&file).unwrap();
    conn.execute_batch(
        "DROP TRIGGER exchange_audit_records_no_delete;
         DROP TRIGGER exchange_audit_records_no_update;
         DELETE FROM exchange_audit_records WHERE seq = 5;
         UPDATE exchange_audit_records SET actor = 'participant:666' WHERE seq = 9;",
    )
    .unwrap();
    drop(conn);
    let (ok, out) = verify(&data, &["--jwks", &published]);
    assert!(!ok, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("exchange audit chain BROKEN: 2 problems in 11 records"),
        "{out}"
    );
    assert_eq!(
        lines[1].trim(),
        "seq 5: record(s) deleted: gap in the sequence"
    );
    assert_eq!(
        lines[2].trim(),
        "seq 9: record altered: its hash does not match its content"
    );
    let _ = std::fs::remove_dir_all(&data);
}
