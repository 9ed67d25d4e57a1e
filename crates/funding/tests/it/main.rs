//! The one integration-test binary of the funding crate (each extra binary costs link time).

mod catalogue;
mod examples;
mod properties;
mod store_conformance;
