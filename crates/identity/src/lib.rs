//! 智方便 iAM Smart: residents' digital identity.
//!
//! Built so far: residents — registration with every field validated, the HKID check character
//! checked, and the HKID stored only as a keyed lookup hash and a sealed value bound to the
//! resident; registrations audited in the same transaction. Coming (issue 3): passkeys, the app
//! and cross-device login, the OpenID Provider (FAPI 2.0), form filling and signing.
//!
//! Layers: `domain` (rules, no I/O) ← `store` (SQLite / PostgreSQL) ← `service`.

pub mod demo;
pub mod domain;
pub mod jose;
pub mod keys;
pub mod oidc;
pub mod service;
pub mod store;

pub use service::{IdentityError, IdentityService, Resident};
