//! The one integration-test binary of the open data crate (each extra binary costs link time).

// Test code fails by panicking; the production lints do not apply here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod demo;
mod domain;
mod http;
mod properties;
mod store;
mod write_properties;
mod writes;
