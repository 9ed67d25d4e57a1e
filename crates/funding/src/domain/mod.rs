//! The rules of Funding Easy: what a scheme is, what an applicant profile is, and which schemes
//! a profile is eligible for with how much money. Pure: no I/O, no SQL, no HTTP, no serde
//! formats beyond the vocabulary enums' names.

pub mod labels;
pub mod matcher;
pub mod profile;
pub mod reason;
pub mod scheme;

pub use matcher::{match_profile, Eligible, Ineligible, MatchOutcome};
pub use profile::{CurrentGrant, Location, Profile, ProfileDraft, ProfileError, University};
pub use reason::Reason;
pub use scheme::*;
