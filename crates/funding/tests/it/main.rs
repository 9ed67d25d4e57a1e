//! The one integration-test binary of the funding crate (each extra binary costs link time).

// Test and benchmark code fails by panicking; the production lints do not apply here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod catalogue;
mod examples;
mod properties;
mod store_conformance;
