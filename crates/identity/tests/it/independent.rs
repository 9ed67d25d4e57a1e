//! Bauhinia's signatures checked by tools that share no code with it: the `openssl` command line
//! and Python's `cryptography` package (`tests/python/verify_signature.py`). Each must accept a
//! genuine signature and refuse it once one byte of the signed document hash has changed.
//!
//! `openssl` is taken from `PATH`; Python from `BAUHINIA_TEST_PYTHON` (the test command points it
//! at its venv, which pins `cryptography`). A missing tool makes a test say "not run"; the test
//! command sets `BAUHINIA_TEST_REQUIRE_TOOLS=1`, which turns that into a failure, and checks that
//! both lines below say "passed".

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use bauhinia_identity::domain::signing::to_hex;
use bauhinia_store::testing::TestDb;

use crate::signing::{fixture, parts, sha256, signed, with_one_hash_byte_changed, Fixture};

const DOCUMENT: &str = "租約 Tenancy agreement: Flat A, 8/F, 1 Queen's Road Central, Hong Kong.\n";

fn tools_required() -> bool {
    std::env::var("BAUHINIA_TEST_REQUIRE_TOOLS").is_ok_and(|v| v == "1")
}

/// A fresh directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("bauhinia-{name}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).expect("write");
        path
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(program: &Path, args: &[&str], dir: &Path) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{} {args:?}: {e}", program.display()))
}

fn text(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A genuine signature of [`DOCUMENT`], the same with one hash byte changed, and the root PEM.
async fn material(f: &Fixture) -> (String, String, String) {
    let chan = f.residents[0].id.clone();
    let (jws, _) = signed(f, &chan, DOCUMENT.as_bytes()).await;
    let tampered = with_one_hash_byte_changed(&jws);
    let root = f.signing.root_pem().await.expect("root");
    (jws, tampered, root)
}

#[tokio::test]
async fn openssl_command_line_verifies_bauhinia_signatures() {
    let openssl = PathBuf::from("openssl");
    if !Command::new(&openssl)
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        assert!(!tools_required(), "the openssl command is not installed");
        eprintln!("independent verification: openssl not run (no openssl command)");
        return;
    }
    let test = TestDb::sqlite().await.expect("sqlite");
    let f = fixture(&test.db).await;
    let (jws, tampered, root) = material(&f).await;
    let dir = Scratch::new("openssl");
    let sh = |args: &[&str]| run(&openssl, args, &dir.0);

    // The certificates, from x5c (standard base64 DER) to PEM by openssl itself.
    let (header, payload, signature) = parts(&jws);
    for (i, name) in ["leaf", "issuing"].iter().enumerate() {
        let der = STANDARD
            .decode(header["x5c"][i].as_str().expect("x5c"))
            .expect("b64");
        dir.write(&format!("{name}.der"), der);
        let out = sh(&[
            "x509",
            "-inform",
            "DER",
            "-in",
            &format!("{name}.der"),
            "-out",
            &format!("{name}.pem"),
        ]);
        assert!(out.status.success(), "{}", text(&out));
    }
    dir.write("root.pem", &root);

    // The chain, at the time of signing, with X.509 strictness.
    let signed_at = payload["signed_at"]
        .as_i64()
        .expect("signed_at")
        .to_string();
    let out = sh(&[
        "verify",
        "-x509_strict",
        "-attime",
        &signed_at,
        "-CAfile",
        "root.pem",
        "-untrusted",
        "issuing.pem",
        "leaf.pem",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("leaf.pem: OK"),
        "{}",
        text(&out)
    );
    // Against a root that is not Bauhinia's, the same chain fails.
    let out = sh(&["verify", "-CAfile", "issuing.pem", "leaf.pem"]);
    assert!(!out.status.success(), "{}", text(&out));

    // The profile: what the signer's certificate may do, and that the issuing CA ends the path.
    let out = sh(&["x509", "-in", "leaf.pem", "-noout", "-text"]);
    let leaf_text = String::from_utf8_lossy(&out.stdout).into_owned();
    for needle in [
        "X509v3 Key Usage: critical",
        "Digital Signature, Non Repudiation",
        "CA:FALSE",
        "ecdsa-with-SHA256",
        "NIST CURVE: P-256",
    ] {
        assert!(leaf_text.contains(needle), "{needle} missing:\n{leaf_text}");
    }
    let out = sh(&["x509", "-in", "issuing.pem", "-noout", "-text"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("CA:TRUE, pathlen:0"),
        "{}",
        text(&out)
    );

    // The signature: raw r ‖ s re-encoded as a DER ECDSA-Sig-Value by openssl asn1parse.
    let raw = URL_SAFE_NO_PAD.decode(&signature).expect("b64");
    assert_eq!(raw.len(), 64);
    let (r, s) = raw.split_at(32);
    dir.write(
        "sig.cnf",
        format!(
            "asn1=SEQUENCE:sig\n[sig]\nr=INTEGER:0x{}\ns=INTEGER:0x{}\n",
            to_hex(r),
            to_hex(s)
        ),
    );
    let out = sh(&[
        "asn1parse",
        "-genconf",
        "sig.cnf",
        "-out",
        "sig.der",
        "-noout",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let out = sh(&[
        "x509", "-in", "leaf.pem", "-noout", "-pubkey", "-out", "pub.pem",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let signing_input = |jws: &str| jws.rsplit_once('.').expect("dot").0.to_owned();
    dir.write("input.txt", signing_input(&jws));
    dir.write("tampered.txt", signing_input(&tampered));
    let verify = |input: &str| {
        sh(&[
            "dgst",
            "-sha256",
            "-verify",
            "pub.pem",
            "-signature",
            "sig.der",
            input,
        ])
    };
    let out = verify("input.txt");
    assert!(out.status.success(), "genuine: {}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Verified OK"),
        "{}",
        text(&out)
    );
    let out = verify("tampered.txt");
    assert!(!out.status.success(), "tampered must fail: {}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Verification failure"),
        "{}",
        text(&out)
    );

    // And the signed hash is the document's SHA-256, as openssl computes it.
    dir.write("document.txt", DOCUMENT);
    let out = sh(&["dgst", "-sha256", "-r", "document.txt"]);
    let digest = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_owned();
    assert_eq!(payload["document_hash"], digest.as_str());
    assert_eq!(digest, to_hex(&sha256(DOCUMENT.as_bytes())));

    test.cleanup().await.expect("cleanup");
    println!("independent verification: openssl (signing) passed");
}

#[tokio::test]
async fn python_cryptography_verifies_bauhinia_signatures() {
    let Some(python) = std::env::var_os("BAUHINIA_TEST_PYTHON").map(PathBuf::from) else {
        assert!(!tools_required(), "BAUHINIA_TEST_PYTHON is not set");
        eprintln!("independent verification: python not run (BAUHINIA_TEST_PYTHON unset; scripts/test always sets it)");
        return;
    };
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/python/verify_signature.py");
    let test = TestDb::sqlite().await.expect("sqlite");
    let f = fixture(&test.db).await;
    let (jws, tampered, root) = material(&f).await;
    let dir = Scratch::new("python");
    dir.write("root.pem", &root);
    dir.write("genuine.jws", &jws);
    dir.write("tampered.jws", &tampered);
    let script = script.to_str().expect("utf-8 path");
    let hash = to_hex(&sha256(DOCUMENT.as_bytes()));
    let check = |jws: &str, extra: &[&str]| {
        let mut args = vec![script, jws, "root.pem"];
        args.extend_from_slice(extra);
        run(&python, &args, &dir.0)
    };

    let out = check("genuine.jws", &["--document-hash", &hash]);
    assert_eq!(out.status.code(), Some(0), "genuine: {}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("VALID: "),
        "{}",
        text(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("CN=CHAN\\, Tai Man"),
        "{}",
        text(&out)
    );

    let out = check("tampered.jws", &[]);
    assert_eq!(out.status.code(), Some(1), "tampered: {}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("the signature does not verify"),
        "{}",
        text(&out)
    );
    let out = check(
        "genuine.jws",
        &["--document-hash", &to_hex(&sha256(b"other"))],
    );
    assert_eq!(out.status.code(), Some(1), "other document: {}", text(&out));

    // Against a root that is not Bauhinia's, the chain fails.
    let other = bauhinia_identity::signing::ca::new_root(0).expect("root").0;
    dir.write("other-root.pem", other.to_pem().expect("pem"));
    let out = run(&python, &[script, "genuine.jws", "other-root.pem"], &dir.0);
    assert_eq!(out.status.code(), Some(1), "other root: {}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("chain"),
        "{}",
        text(&out)
    );
    assert!(dir.path("root.pem").exists());

    test.cleanup().await.expect("cleanup");
    println!("independent verification: python cryptography (signing) passed");
}
