//! The one integration-test binary of the exchange crate.

mod consents;
