//! Consents: the owner's agreement that a consumer may fetch named data products from named
//! providers, for a purpose, a date range, a frequency and a validity period. `domain` holds
//! the rules (terms, the lifecycle table, the authorisation of a fetch), `request` reads a
//! consumer's request into terms, `artefact` is the signed claims of an approved consent,
//! `receipt` the owner's consent receipt, `store` the tables on both dialects (`embedded` its hot transactions on the embedded
//! database's group-commit thread), `service` the operations, `owner` what the owner's pages
//! read (a consent shown only to its approver).
//!
//! Nothing here moves data: the gateway asks [`service::Consents::check_and_record_use`]
//! before each fetch and relays only what that allows.

pub mod artefact;
pub mod domain;
mod embedded;
pub mod owner;
pub mod receipt;
pub mod request;
pub mod service;
pub mod store;
#[cfg(test)]
mod tests;

pub use domain::{
    authorise, transition, Action, Consent, ConsentId, ConsentTerms, Denial, FetchRequest, Owner,
    ParticipantId, ProductId, ResidentId, Status,
};
pub use service::{ConsentError, ConsentWithUses, Consents, ConsentsConfig};
