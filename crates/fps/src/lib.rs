//! 转数快 FPS: the real-time payment switch.
//!
//! - `ledger` — the double-entry ledger engine the switch settles on: one writer per ledger that
//!   batches transfers and group-commits them.
//! - `qr` — the Hong Kong common QR code (EMVCo merchant-presented mode, FPS template in field 26).
//! - `iso20022` — the participant interface's ISO 20022 XML messages.
//! - `proxy` — the addressing service: mobile numbers, email addresses, FPS IDs and HKIDs that
//!   find a payee's participant and masked name.
//! - `webhooks` — signed webhooks (Standard Webhooks) with retries, and camt.054 notifications.
//! - `flows` — requests to pay, eDDA mandates and direct debits, returns and refunds.

pub mod audit;
pub mod demo;
pub mod events;
pub mod flows;
pub mod http;
pub mod iso20022;
pub mod iso_http;
pub mod ledger;
pub mod proxy;
pub mod qr;
pub mod statement;
pub mod switch;
pub mod webhooks;
pub mod wire;
