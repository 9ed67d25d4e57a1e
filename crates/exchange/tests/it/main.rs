//! The exchange's integration tests: one binary (each extra binary costs link time).

mod chain;
