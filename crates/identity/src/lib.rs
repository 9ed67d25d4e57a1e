//! 智方便 iAM Smart: residents' digital identity.
//!
//! Residents — registration with every field validated, the HKID check character
//! checked, and the HKID stored only as a keyed lookup hash and a sealed value bound to the
//! resident; registrations audited in the same transaction. Passkeys (WebAuthn) as the
//! residents' credential: enrolment with an HKID and a one-time code, usernameless sign-in,
//! several passkeys per resident; signed-in sessions. Digital signing (`signing`): the
//! installation's certificate authority, residents' signing keys, document-hash signatures as
//! JWS with `x5c`, and public verification. The OpenID Provider (`oidc`, on `jose` and `keys`):
//! FAPI 2.0 and basic services, PAR, PKCE, `private_key_jwt`, DPoP, pairwise subjects, form
//! filling with consent receipts, and the interaction behind cross-device login from the app.
//!
//! Layers: `domain` (rules, no I/O) ← `store`, `signin_store` (SQLite / PostgreSQL) ←
//! `service`, `session`, `passkeys` ← `passkeys::http` (routes) and `passkeys::wire` (JSON);
//! `signing` has the same layers inside (its rules in `domain::signing`).

pub mod clock;
pub mod corporate;
pub mod demo;
pub mod domain;
pub mod jose;
pub mod keys;
pub mod oidc;
pub mod passkeys;
pub mod service;
pub mod session;
pub mod signin_store;
pub mod signing;
pub mod store;

#[cfg(feature = "testing")]
pub mod testing;

pub use passkeys::PasskeyService;
pub use service::{IdentityError, IdentityService, Resident};
pub use session::{Session, SessionService, ACR_PASSKEY, SESSION_COOKIE};
pub use signing::SigningService;
