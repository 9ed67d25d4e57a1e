//! The ledger engine: double entry in integer minor units, immutable transfers with
//! client-chosen ids (every create idempotent), two-phase transfers, linked chains, and one
//! writer per ledger that batches and group-commits on SQLite or PostgreSQL.
//!
//! - `model` — accounts, transfers, outcomes and the stable refusal codes.
//! - `state` — the pure state machine (what property tests drive).
//! - `journal` — the durable tables, one transaction per batch.
//! - `engine` — the writer thread and its handle, [`Ledger`].

pub mod engine;
pub mod journal;
pub mod model;
pub mod state;

pub use engine::{EngineStats, Ledger, LedgerError, BATCH_TRANSFERS_MAX};
pub use journal::Journal;
pub use model::{Account, Id, Kind, Outcome, Recorded, Refusal, Totals, Transfer};
