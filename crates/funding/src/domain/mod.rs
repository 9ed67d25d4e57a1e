//! The rules of Funding Easy: what a scheme is, what an applicant profile is, and which schemes
//! a profile is eligible for with how much money. Pure: no I/O, no SQL, no HTTP, no serde
//! formats beyond the vocabulary enums' names.

/// A closed vocabulary serialised as snake_case strings: the enum, `ALL`, `as_str`, `parse`.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $( $variant:ident = $text:tt ),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        pub enum $name { $( #[serde(rename = $text)] $variant, )* }

        impl $name {
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )* ];

            pub const fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $text, )* }
            }

            pub fn parse(text: &str) -> Option<$name> {
                match text { $( $text => Some($name::$variant), )* _ => None }
            }
        }
    };
}

pub mod labels;
pub mod matcher;
pub mod profile;
pub mod reason;
pub mod scheme;

pub use matcher::{match_profile, Eligible, Ineligible, MatchOutcome};
pub use profile::{Location, Profile, ProfileDraft, ProfileError, University};
pub use reason::Reason;
pub use scheme::*;
