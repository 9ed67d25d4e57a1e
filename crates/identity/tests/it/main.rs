//! The one integration-test binary of the identity crate: the identity and signing services on
//! both backends, and signatures checked by independent tools.

// Test code fails by panicking; the production lints do not apply here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod conformance;
mod corporate;
mod independent;
mod oidc;
mod signin;
mod signing;
