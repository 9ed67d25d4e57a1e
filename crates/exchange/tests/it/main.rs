//! The exchange crate's integration tests: one binary.

mod directory;
mod sandbox;
