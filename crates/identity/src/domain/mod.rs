//! The rules of 智方便 identity: what a valid HKID and a valid resident are. Pure: no I/O, no
//! SQL, no HTTP.

pub mod hkid;
pub mod resident;

pub use hkid::{Hkid, HkidError};
pub use resident::{
    Address, EmailAddress, Gender, MobileNumber, NewResident, ResidentDraft, ResidentError,
};
