//! 数码企业身份 CorpID: business identity on top of 智方便 residents. Businesses (companies
//! under Cap. 622 and businesses registered under Cap. 310) with their BRN, names, form,
//! status, registered address and directors; the residents who represent them as
//! administrator, authorised signatory or user; time-bound delegations to an agent business
//! acting for its clients; the signing policy; licences and permits.
//!
//! Layers: `domain` (rules, no I/O) ← `store` (SQLite / PostgreSQL) ← `service`
//! ([`CorpIdService`], which is also the OpenID Provider's [`CorporateDirectory`]) ← `http`
//! (the operator's and the business administrator's APIs, JSON shapes in `wire`). `demo`
//! holds the synthetic businesses of a demo installation. `signing` is company signatures (the
//! company "chop", corporate and integrated signing, verification).
//!
//! [`CorporateDirectory`]: bauhinia_identity::corporate::CorporateDirectory

pub mod demo;
pub mod domain;
pub mod error;
pub mod http;
pub mod service;
pub mod signing;
pub mod store;
pub mod wire;

pub use error::CorpIdError;
pub use service::{Business, CorpIdService};
pub use store::Caller;
