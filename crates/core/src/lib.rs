//! Shared vocabulary of every Bauhinia crate: the three portal languages, money in integer
//! minor units, the HKID number (identity and FPS addressing both parse it), the table of
//! stable error codes, and the RFC 9457 problem+json response.
//!
//! This crate owns no I/O and no business rule of any service. It must stay small: a type
//! belongs here only when two or more services need the same meaning for it.

pub mod admin;
pub mod background;
pub mod crypto;
pub mod endpoint;
pub mod error_code;
pub mod extract;
pub mod hkid;
pub mod lang;
pub mod money;
pub mod problem;
pub mod retry;

pub use error_code::ErrorCode;
pub use hkid::{Hkid, HkidError};
pub use lang::{Lang, Localized};
pub use money::{Currency, Money, MoneyParseError};
pub use problem::{FieldError, Problem, ProblemDocument};
