//! The Hong Kong Identity Card number. The type lives in `bauhinia_core::hkid` (the FPS
//! addressing service parses HKIDs too, and there must be one implementation of the check
//! character); it is re-exported here so the identity crate's paths stay as they were.

pub use bauhinia_core::hkid::{check_character, Hkid, HkidError};
