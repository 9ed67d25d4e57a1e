//! The participant banks Bauhinia hosts: banks and stored-value facilities whose customers'
//! accounts are kept here and which pay through the FPS switch as the participants they are.
//! Developers get a working other side to pay to and from; residents get accounts (the
//! identity module's residents are the customers) to use from the portal.
//!
//! - `domain` — account numbers, ledger account ids, payment steps and states (pure);
//! - `store` — the tables, on SQLite and PostgreSQL;
//! - `service` — [`Banks`]: accounts, deposits, payments through the switch, recovery;
//! - `demo` — which demo residents bank where;
//! - `http` — the operator's API (`/api/v1/banks`).

pub mod demo;
pub mod domain;
pub mod http;
pub mod service;
pub mod store;

pub use domain::{AccountKind, AccountNumber, Payee, PaymentState};
pub use service::{
    AccountView, BankError, Banks, Collection, MandateOrder, MandateView, PayeePreview,
    PaymentOrder, PaymentView, RequestOrder, RequestView,
};
