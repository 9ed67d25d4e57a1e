//! The rules of 智方便 identity: what a valid HKID and a valid resident are, the rules of signing
//! in (enrolment codes, passkey names, lifetimes, lockouts), and what a valid document-signing
//! request is. Pure: no I/O, no SQL, no HTTP.

pub mod hkid;
pub mod resident;
pub mod signin;
pub mod signing;

pub use hkid::{Hkid, HkidError};
pub use resident::{
    Address, EmailAddress, Gender, MobileNumber, NewResident, ResidentDraft, ResidentError,
};
pub use signin::{EnrolmentCode, LockScope, LockoutState, PasskeyName, SignInInputError};
