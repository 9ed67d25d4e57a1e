//! FPS payment flows on top of the switch: requests to pay ("request money"), eDDA mandates and
//! the direct debits collected under them, and returns and refunds of settled transfers.
//!
//! - `domain` — the rules, pure: statuses and their one-way moves, who may make each, mandate
//!   limits in Hong Kong calendar periods, which transfers may be returned.
//! - `store` — the flows' tables on SQLite and PostgreSQL: every change one transaction with its
//!   outbox events and audit event; limits and returned amounts reserved by conditional updates.
//! - `service` — `FlowService`: checks, reserves, settles through `Switch`, records the outcome.
//! - `wire` — the JSON shapes; `http` — `/api/v1/fps/requests…`, `/mandates…`,
//!   `/transfers/{id}/return|refund|returns`; `iso` — the same in ISO 20022: pacs.004 returns
//!   and pacs.003 direct debits, answered by a pacs.002.
//!
//! Money moves only through the switch's ledger, whose transfer ids make every settlement
//! idempotent; this module never holds an account reference in clear outside a request and
//! the view of the participant that owns it.

pub mod domain;
pub mod http;
pub mod iso;
pub mod service;
pub mod store;
pub mod wire;

pub use service::{FlowError, FlowService};
