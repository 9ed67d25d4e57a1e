//! The one integration-test binary of the exchange crate.

mod crypto_store;
mod interop;

pub type Error = Box<dyn std::error::Error + Send + Sync>;
