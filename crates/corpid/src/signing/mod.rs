//! CorpID company signatures: a company key and certificate (the company "chop") from the
//! installation's own CA (identity's `signing::ca`), signing requests that services address to
//! a business, approval by its signatories in the app, and public verification.
//!
//! - `format` — the signature: JWS JSON general serialization, ES256, `x5c` per signature
//!   (`docs/signing.md`); strict parsing of outside input.
//! - `store` — keys, requests and approvals on SQLite and PostgreSQL.
//! - `service` — [`CompanySigning`]: keys (made on first need, re-keyed, revoked with the
//!   business's suspension or dissolution), requests, approvals, the signature.
//! - `verify` — verification for anyone, remembering the chains that verified
//!   (decoded, with their keys and validity), never a signature's outcome; signed certificate
//!   status answers (OCSP-like).
//! - `http` — services' requests (authenticated as at the token endpoint) and the public routes.
//!
//! Identity knows nothing of businesses: the rules of who may sign for a business are here
//! (`domain::signing`); identity lends its CA, residents' keys and the shared format checks.
//! Company private keys exist in clear only in memory, for the moment they sign; at rest they
//! are PKCS#8 DER sealed by the vault to `corpid.key/<id>`. No HKID enters a certificate, a
//! signature, a log or an audit detail.

pub mod format;
pub mod http;
pub mod service;
pub mod store;
pub mod verify;

pub use service::{CompanyCertificate, CompanyRequest, CompanySigning, RequestDraft, HISTORY_MAX};
pub use verify::{CompanyVerification, EntryReport, Issue};
