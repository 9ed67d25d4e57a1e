//! The exchange crate's integration tests: one binary.

mod chain;
mod consents;
mod crypto_store;
mod directory;
mod interop;
mod sandbox;
mod service;

pub type Error = Box<dyn std::error::Error + Send + Sync>;
