//! 资助易 Funding Easy: the catalogue of Hong Kong's innovation and technology funding schemes
//! (from the February 2026 fact sheet), and the matcher that tells an applicant which schemes
//! fit, why, and for how much.
//!
//! Layers, in this direction only: `domain` (rules, no I/O) ← `catalogue` (the published record
//! format and its validation) ← `store` (SQLite / PostgreSQL) ← `service` ← `http` / `wire`.

pub mod catalogue;
pub mod domain;
pub mod export;
pub mod http;
pub mod service;
pub mod store;
pub mod wire;

pub use catalogue::{Catalogue, CatalogueError, SchemeRecord};
pub use service::{FundingError, FundingService};
