//! Secrets at rest. One master key (32 random bytes, from configuration) derives, with
//! HKDF-SHA256, a key for keyed lookup hashes (HMAC-SHA256) and a key for sealing values
//! (XChaCha20-Poly1305, random 192-bit nonces). Every hash and every sealed value is bound to a
//! context string (for example `identity.hkid`), so a value sealed for one purpose cannot be
//! opened, or matched, as another.
//!
//! Sealed format, version 1: `0x01 ‖ nonce (24 bytes) ‖ ciphertext ‖ tag (16 bytes)`; the context
//! is the associated data. Nothing here ever logs or formats key material: `Debug` is redacted
//! and keys are zeroed when dropped.

use std::fmt;
use std::path::Path;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

pub const MASTER_KEY_BYTES: usize = 32;
const SEALED_VERSION: u8 = 1;
const NONCE_BYTES: usize = 24;
const TAG_BYTES: usize = 16;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("the master key must be {MASTER_KEY_BYTES} bytes, base64-encoded")]
    BadMasterKey,
    #[error("the master key file {0} could not be read or created: {1}")]
    KeyFile(String, String),
    #[error("the sealed value is malformed or was sealed with another key or context")]
    Unseal,
    #[error("the value could not be sealed")]
    Seal,
}

/// The root secret. Redacted in `Debug`; zeroed on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MasterKey([u8; MASTER_KEY_BYTES]);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

impl MasterKey {
    /// A fresh random key.
    pub fn generate() -> MasterKey {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        let mut bytes = [0u8; MASTER_KEY_BYTES];
        bytes.copy_from_slice(key.as_slice());
        MasterKey(bytes)
    }

    pub fn from_base64(text: &str) -> Result<MasterKey, CryptoError> {
        let mut decoded = BASE64
            .decode(text.trim())
            .map_err(|_| CryptoError::BadMasterKey)?;
        let result = <[u8; MASTER_KEY_BYTES]>::try_from(decoded.as_slice())
            .map(MasterKey)
            .map_err(|_| CryptoError::BadMasterKey);
        decoded.zeroize();
        result
    }

    pub fn to_base64(&self) -> String {
        BASE64.encode(self.0)
    }

    /// Reads the key file, or creates it (mode 0600) with a fresh key when it does not exist.
    /// Returns the key and whether it was created.
    pub fn load_or_create(path: &Path) -> Result<(MasterKey, bool), CryptoError> {
        let fail =
            |e: std::io::Error| CryptoError::KeyFile(path.display().to_string(), e.to_string());
        match std::fs::read_to_string(path) {
            Ok(text) => Ok((MasterKey::from_base64(&text)?, false)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = MasterKey::generate();
                write_private(path, format!("{}\n", key.to_base64()).as_bytes()).map_err(fail)?;
                Ok((key, true))
            }
            Err(e) => Err(fail(e)),
        }
    }
}

/// Creates `path` readable by its owner only, failing if it already exists.
pub(crate) fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Keys derived from the master key, ready for use.
#[derive(Clone)]
pub struct Vault {
    /// HMAC-SHA256 already keyed; cloned for each hash.
    lookup: Hmac<Sha256>,
    seal: XChaCha20Poly1305,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Vault(***)")
    }
}

impl Vault {
    pub fn new(master: &MasterKey) -> Vault {
        let hkdf = hkdf::Hkdf::<Sha256>::new(Some(b"bauhinia"), &master.0);
        // A 64-byte HMAC key is exactly SHA-256's block size, so keying is infallible; both
        // outputs are far below HKDF-SHA256's 8,160-byte limit, so expand cannot fail either.
        let mut lookup = [0u8; 64];
        let mut seal = [0u8; 32];
        let _ = hkdf.expand(b"bauhinia/lookup/v1", &mut lookup);
        let _ = hkdf.expand(b"bauhinia/seal/v1", &mut seal);
        let mac = <Hmac<Sha256> as KeyInit>::new(
            chacha20poly1305::aead::generic_array::GenericArray::from_slice(&lookup),
        );
        let cipher = XChaCha20Poly1305::new((&seal).into());
        lookup.zeroize();
        seal.zeroize();
        Vault {
            lookup: mac,
            seal: cipher,
        }
    }

    /// A keyed, deterministic hash of `value` for equality lookups (HMAC-SHA256). Without the
    /// master key it reveals nothing, and it cannot be brute-forced from the small HKID space.
    pub fn lookup_hash(&self, context: &str, value: &[u8]) -> [u8; 32] {
        let mut mac = self.lookup.clone();
        mac.update(context.as_bytes());
        mac.update(&[0]);
        mac.update(value);
        mac.finalize().into_bytes().into()
    }

    /// Encrypts `plaintext` for `context`.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = self
            .seal
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Seal)?;
        let mut out = Vec::with_capacity(1 + NONCE_BYTES + ciphertext.len());
        out.push(SEALED_VERSION);
        out.extend_from_slice(nonce.as_slice());
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    /// Decrypts a value sealed for `context` by this key.
    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let (version, rest) = sealed.split_first().ok_or(CryptoError::Unseal)?;
        if *version != SEALED_VERSION || rest.len() < NONCE_BYTES + TAG_BYTES {
            return Err(CryptoError::Unseal);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_BYTES);
        self.seal
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Unseal)
    }
}

/// Fills `bytes` from the operating system's random source (bearer tokens, ids).
pub fn random_bytes(bytes: &mut [u8]) {
    use chacha20poly1305::aead::rand_core::RngCore as _;
    OsRng.fill_bytes(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn seal_round_trips_and_binds_context() {
        let vault = Vault::new(&MasterKey::generate());
        let sealed = vault.seal("identity.hkid", b"A1234563").expect("seals");
        assert_eq!(
            vault.open("identity.hkid", &sealed).as_deref(),
            Ok(&b"A1234563"[..])
        );
        assert_eq!(
            vault.open("identity.other", &sealed),
            Err(CryptoError::Unseal)
        );
        let other = Vault::new(&MasterKey::generate());
        assert_eq!(
            other.open("identity.hkid", &sealed),
            Err(CryptoError::Unseal)
        );
        let mut tampered = sealed.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert_eq!(
            vault.open("identity.hkid", &tampered),
            Err(CryptoError::Unseal)
        );
        assert_ne!(
            vault.seal("c", b"x"),
            vault.seal("c", b"x"),
            "nonces are random"
        );
    }

    #[test]
    fn lookup_hashes_are_keyed_and_contextual() {
        let key = MasterKey::generate();
        let vault = Vault::new(&key);
        let again = Vault::new(&MasterKey::from_base64(&key.to_base64()).expect("round trip"));
        assert_eq!(vault.lookup_hash("a", b"v"), again.lookup_hash("a", b"v"));
        assert_ne!(vault.lookup_hash("a", b"v"), vault.lookup_hash("b", b"v"));
        assert_ne!(
            vault.lookup_hash("a", b"v"),
            Vault::new(&MasterKey::generate()).lookup_hash("a", b"v")
        );
    }

    #[test]
    fn key_file_is_private_and_stable() {
        let dir = std::env::temp_dir().join(format!("bauhinia-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("master.key");
        let (first, created) = MasterKey::load_or_create(&path).expect("create");
        assert!(created);
        let (second, created) = MasterKey::load_or_create(&path).expect("load");
        assert!(!created);
        assert_eq!(first.to_base64(), second.to_base64());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert_eq!(format!("{first:?}"), "MasterKey(***)");
        std::fs::remove_dir_all(&dir).expect("cleanup");
        assert_eq!(
            MasterKey::from_base64("c2hvcnQ=").map(|_| ()),
            Err(CryptoError::BadMasterKey)
        );
    }

    proptest! {
        #[test]
        fn open_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            let vault = Vault::new(&MasterKey::generate());
            prop_assert!(vault.open("x", &bytes).is_err());
        }
    }
}
