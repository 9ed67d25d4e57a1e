//! The rules of 智方便 identity: what a valid HKID, a valid resident and a valid signing request
//! are. Pure: no I/O, no SQL, no HTTP.

pub mod hkid;
pub mod resident;
pub mod signing;

pub use hkid::{Hkid, HkidError};
pub use resident::{
    Address, EmailAddress, Gender, MobileNumber, NewResident, ResidentDraft, ResidentError,
};
