//! The data-blind envelope and its detached signature checked by an independent implementation:
//! `tests/interop/exchange_interop.py`, written from `docs/exchange-encryption.md` with nothing
//! but Python's `cryptography` package. Bauhinia seals and signs, Python verifies and opens; and
//! the other way round.
//!
//! Python is `BAUHINIA_TEST_PYTHON` (the test command points it at its venv, which pins
//! `cryptography`). Without it a test says "not run"; with `BAUHINIA_TEST_REQUIRE_TOOLS=1` (set
//! by the test command, which also checks that the lines below say "passed") that is a failure.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use bauhinia_exchange::crypto::blind::{self, canonical_aad, Envelope, EphemeralKeys};
use bauhinia_exchange::crypto::jws::{self, Binding};
use bauhinia_identity::jose::{b64, Alg, Jwk};
use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use serde_json::{json, Value};

use crate::Error;

pub(crate) const LINE: &str = "independent interop: python exchange";

fn tools_required() -> bool {
    std::env::var("BAUHINIA_TEST_REQUIRE_TOOLS").is_ok_and(|v| v == "1")
}

/// The venv's Python, or `None` (and a "not run" line) when it is absent and not required.
pub(crate) fn python(test: &str) -> Result<Option<PathBuf>, Error> {
    match std::env::var_os("BAUHINIA_TEST_PYTHON").map(PathBuf::from) {
        Some(python) => Ok(Some(python)),
        None if tools_required() => Err(format!(
            "{LINE}: BAUHINIA_TEST_PYTHON is not set (BAUHINIA_TEST_REQUIRE_TOOLS=1)"
        )
        .into()),
        None => {
            println!("{LINE} ({test}): not run (BAUHINIA_TEST_PYTHON unset; scripts/test sets it)");
            Ok(None)
        }
    }
}

pub(crate) fn run_python(python: &Path, input: &Value) -> Result<Value, Error> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/exchange_interop.py");
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{LINE}: cannot run {}: {e}", python.display()))?;
    child
        .stdin
        .take()
        .ok_or("stdin")?
        .write_all(input.to_string().as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        return Err(format!("python: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

fn random32() -> Result<[u8; 32], Error> {
    let mut bytes = [0u8; 32];
    openssl::rand::rand_bytes(&mut bytes)?;
    Ok(bytes)
}

fn es256() -> Result<PKey<Private>, Error> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    Ok(PKey::from_ec_key(EcKey::generate(&group)?)?)
}

/// Why Python refused each case (`accepted!` for one it took).
pub(crate) fn refusals(results: &[Value]) -> Vec<&str> {
    results
        .iter()
        .map(|r| r["error"].as_str().unwrap_or("accepted!"))
        .collect()
}

const PAYLOAD: &str = r#"{"account":{"status":"ACTIVE","balance":{"amount":"88213.40","currency":"HKD"}},"transactions":[{"date":"2026-11-02","amount":"-320.00","description":"八達通增值 Octopus top-up"}]}"#;

#[test]
fn python_opens_and_verifies_what_bauhinia_sealed_and_signed() -> Result<(), Error> {
    let Some(python) = python("Bauhinia seals")? else {
        return Ok(());
    };
    let (secret, nonce) = (random32()?, random32()?);
    let consumer = EphemeralKeys::from_bytes(secret, nonce);
    let aad = canonical_aad("consent-7f3a", "session-0042");
    let envelope = blind::seal_fresh(&consumer.material(), &aad, PAYLOAD.as_bytes())?;
    let body = envelope.to_json();
    let signer = es256()?;
    let jwk = Jwk::from_key(&signer, Some("bank-024-2026".into()), Some(Alg::ES256))?;
    let signature =
        jws::sign_detached("bank-024-2026", &signer, &Binding::response("req-1"), &body)?;
    let case = |envelope: &[u8], signature: &str, aad: &[u8], secret: &[u8; 32]| {
        json!({
            "consumer_secret": b64(secret), "consumer_nonce": b64(&nonce), "aad": b64(aad),
            "envelope": String::from_utf8_lossy(envelope), "signature": signature, "jwk": jwk,
            "request_jti": "req-1",
        })
    };

    let mut tampered = envelope.clone();
    if let Some(byte) = tampered.ciphertext.first_mut() {
        *byte ^= 1;
    }
    let tampered = tampered.to_json();
    let tampered_signature = jws::sign_detached(
        "bank-024-2026",
        &signer,
        &Binding::response("req-1"),
        &tampered,
    )?;
    let other_signer = jws::sign_detached(
        "bank-024-2026",
        &es256()?,
        &Binding::response("req-1"),
        &body,
    )?;
    let cases = vec![
        case(&body, &signature, &aad, &secret),
        // The signature covers the body: a changed body fails before decryption.
        case(&tampered, &signature, &aad, &secret),
        // Signed again over the changed body: the signature passes, the tag does not.
        case(&tampered, &tampered_signature, &aad, &secret),
        case(&body, &other_signer, &aad, &secret),
        case(
            &body,
            &signature,
            &canonical_aad("consent-7f3a", "session-0043"),
            &secret,
        ),
        case(&body, &signature, &aad, &random32()?),
        case(&body, &signature, &aad, &random32()?),
    ];
    let answer = run_python(&python, &json!({ "open": cases }))?;
    let results = answer["open"].as_array().ok_or("an array")?;
    let [good, rest @ ..] = results.as_slice() else {
        return Err("no results".into());
    };
    assert_eq!(good["ok"], true, "{good}");
    assert_eq!(good["plaintext"], b64(PAYLOAD.as_bytes()));
    assert_eq!(
        refusals(rest),
        [
            "the signature does not verify",
            "the envelope does not decrypt",
            "the signature does not verify",
            "the envelope does not decrypt",
            "the envelope does not decrypt",
            "the envelope does not decrypt",
        ]
    );
    println!("{LINE} (Bauhinia seals and signs, Python opens and verifies): passed");
    Ok(())
}

#[test]
fn bauhinia_opens_and_verifies_what_python_sealed_and_signed() -> Result<(), Error> {
    let Some(python) = python("Python seals")? else {
        return Ok(());
    };
    let consumer = EphemeralKeys::generate()?;
    let aad = canonical_aad("consent-7f3a", "session-0042");
    let answer = run_python(
        &python,
        &json!({"seal": {
            "consumer": consumer.material().to_json(),
            "aad": b64(&aad), "plaintext": b64(PAYLOAD.as_bytes()), "request_jti": "req-9",
        }}),
    )?;
    let body = answer["envelope"].as_str().ok_or("envelope")?.as_bytes();
    let jwk: Jwk = serde_json::from_value(answer["jwk"].clone())?;
    let key = jwk.to_key()?;
    let lookup = |kid: &str| (kid == "python-provider").then(|| key.clone());
    let value = answer["signature"].as_str().ok_or("signature")?;
    let verified = jws::verify_detached(
        value,
        body,
        &Binding::response("req-9"),
        lookup,
        jws::now_s(),
    )?;
    assert_eq!(verified.kid, "python-provider");
    let envelope = Envelope::from_json(body)?;
    assert_eq!(
        &*blind::open(&consumer, &envelope, &aad)?,
        PAYLOAD.as_bytes()
    );
    assert!(blind::open(&EphemeralKeys::generate()?, &envelope, &aad).is_err());
    assert!(jws::verify_detached(
        value,
        b"{}",
        &Binding::response("req-9"),
        lookup,
        jws::now_s()
    )
    .is_err());
    assert!(jws::verify_detached(
        value,
        body,
        &Binding::response("req-8"),
        lookup,
        jws::now_s()
    )
    .is_err());
    println!("{LINE} (Python seals and signs, Bauhinia opens and verifies): passed");
    Ok(())
}

#[test]
fn python_and_bauhinia_derive_the_same_ciphertext_from_the_same_keys() -> Result<(), Error> {
    let Some(python) = python("same keys")? else {
        return Ok(());
    };
    let consumer = EphemeralKeys::from_bytes(random32()?, random32()?);
    let (provider_secret, provider_nonce) = (random32()?, random32()?);
    let aad = canonical_aad("consent-1", "session-1");
    let ours = blind::seal(
        EphemeralKeys::from_bytes(provider_secret, provider_nonce),
        &consumer.material(),
        &aad,
        PAYLOAD.as_bytes(),
    )?;
    let answer = run_python(
        &python,
        &json!({"seal": {
            "consumer": consumer.material().to_json(), "aad": b64(&aad),
            "plaintext": b64(PAYLOAD.as_bytes()), "request_jti": "r",
            "provider_secret": b64(&provider_secret), "provider_nonce": b64(&provider_nonce),
        }}),
    )?;
    let theirs = Envelope::from_json(answer["envelope"].as_str().ok_or("envelope")?.as_bytes())?;
    assert_eq!(theirs, ours);
    assert_eq!(
        theirs.to_json(),
        ours.to_json(),
        "byte for byte, JSON included"
    );
    println!("{LINE} (the same keys give the same envelope): passed");
    Ok(())
}
