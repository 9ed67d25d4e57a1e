//! The FPS addressing service: a payee is found by a proxy — a Hong Kong mobile number, an
//! email address, an FPS ID (issued by the system) or an HKID (only for institutions paying
//! individuals, such as payroll) — instead of a participant and account number.
//!
//! - `domain` — the rules, pure: parsing and normalising each kind of proxy, issuing FPS IDs,
//!   masking names, consent, which lookups are allowed, which registration is the default.
//! - `store` — `fps_proxies` on SQLite and PostgreSQL: keyed hashes and sealed values only,
//!   every change audited in its transaction, and a bulk import.
//! - `service` — `ProxyService`: register, change, remove, look up (one or up to 1,000).
//! - `http` — `/api/v1/fps/proxies…`.
//!
//! A proxy is personal data: it is never stored, logged or audited in clear (the store holds a
//! keyed hash; audit details and `Debug` show a mask), and it never travels in a URL path
//! (paths are logged): keys go in request bodies or the query string.

pub mod domain;
pub mod http;
pub mod service;
pub mod store;

pub use domain::{
    AccountReference, Consent, ConsentChannel, EmailAddress, FpsId, LookupMode, LookupPurpose,
    MobileNumber, ProxyKey, ProxyKind, ProxyStatus,
};
pub use service::{
    Found, ImportRow, ProxyChange, ProxyError, ProxyService, Registered, Registration,
};
