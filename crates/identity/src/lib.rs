//! 智方便 iAM Smart: residents' digital identity.
//!
//! Built so far: residents — registration with every field validated, the HKID check character
//! checked, and the HKID stored only as a keyed lookup hash and a sealed value bound to the
//! resident; registrations audited in the same transaction. Digital signing (`signing`): the
//! installation's certificate authority, residents' signing keys, document-hash signatures as
//! JWS with `x5c`, and public verification. Coming (issue 3): passkeys, the app and cross-device
//! login, the OpenID Provider (FAPI 2.0) and form filling.
//!
//! Layers: `domain` (rules, no I/O) ← `store` (SQLite / PostgreSQL) ← `service`; `signing` has
//! the same layers inside (its rules in `domain::signing`).

pub mod demo;
pub mod domain;
pub mod service;
pub mod signing;
pub mod store;

pub use service::{IdentityError, IdentityService, Resident};
pub use signing::SigningService;
