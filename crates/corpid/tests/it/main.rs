//! The one integration-test binary of the CorpID crate: the directory's store and service on
//! both backends (SQLite always, PostgreSQL when `DATABASE_URL` is set).

// Test code fails by panicking; the production lints do not apply here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod conformance;
mod signing;
