//! 智方便 digital signing: the installation's own certificate authority, residents' signing keys
//! and certificates, document-hash signing requests from services approved by the resident in
//! the app, and verification anyone can ask for.
//!
//! - `ca` — X.509 on OpenSSL: the root and issuing CA, signing certificates, chain checks.
//! - `format` — the signature format: compact JWS, ES256 (`r ‖ s`, signed and checked by
//!   [`crate::jose`]), `x5c` (see `docs/signing.md`); strict parsing of outside input.
//! - `store` — CA, keys and requests on SQLite and PostgreSQL; conditional status updates.
//! - `service` — [`SigningService`]: the CA, enrol, request, approve, reject, cancel; every
//!   change audited in its own transaction.
//! - `verify` — verification for anyone: signature, chain, validity at signing time,
//!   revocation, the request on record.
//! - `http` — the public routes: verification and the CA chain.
//!
//! Private keys exist in clear only in memory, for the moment they sign; at rest they are
//! PKCS#8 DER sealed by the [`Vault`](bauhinia_core::crypto::Vault) to `signing.ca/<id>` or
//! `signing.key/<id>`. An HKID never enters a certificate, a signature, a log or an audit detail:
//! certificates name an opaque signer id, and anonymous requests carry only keyed hashes.

pub mod ca;
pub mod format;
pub mod http;
pub mod requests_http;
pub mod service;
pub mod store;
pub mod verify;

pub use service::{
    CaCertificates, IssuedCertificate, KeyStatus, ResidentSignature, SigningCertificate,
    SigningError, SigningRequest, SigningService, SigningTarget,
};
pub use verify::{VerificationIssue, VerificationReport};
