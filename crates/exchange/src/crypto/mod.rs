//! The exchange's cryptography and participant protocol: data-blind encryption between consumer
//! and provider ([`blind`]), detached JWS on every request and response between participants
//! and the gateway ([`jws`]), replay protection of those signatures in the database
//! ([`replay`]), and the gateway's own signing keys ([`keys`]). Nothing here logs or formats a
//! secret, and nothing here stores a payload.

pub mod blind;
pub mod jws;
pub mod keys;
pub mod replay;
