//! CorpID's rules, pure: no I/O, no SQL, no HTTP, no JSON. `brn` (the Business Registration
//! number), `business` (legal forms, status moves, names, addresses, directors), `access`
//! (roles, who may change what, the last-administrator rule, delegations and which
//! representation wins), `licence` (licences and permits a business keeps), `signing`
//! (company signatures: the three types, how many approvals, who may approve).

pub mod access;
pub mod brn;
pub mod business;
pub mod licence;
pub mod signing;

pub use access::{
    check_change, check_grant, check_revoke, check_role_change, preferred, AccessRefusal,
    DelegationTerms, Role, SignatoriesRequired, DELEGATION_LIFETIME_MAX_S,
};
pub use brn::{Brn, BrnError};
pub use business::{
    BusinessDraft, Director, DirectorDraft, Form, Kind, NewBusiness, Status, StatusChange,
};
pub use licence::{LicenceDraft, LicenceStatus, NewLicence};

/// One field at fault: a JSON Pointer into the request (`/directors/2/name_en`) and what is
/// wrong, in plain English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldFault {
    pub field: String,
    pub message: String,
}

impl FieldFault {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldFault {
        FieldFault {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// `YYYY-MM-DD`, a real calendar date.
pub fn parse_date(text: &str) -> Option<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text.trim(), format).ok()
}

/// The longest opaque id accepted from outside (resident, business, delegation, licence ids).
pub const OPAQUE_ID_LEN_MAX: usize = 64;

/// Whether `text` can be an opaque id of this system: ASCII letters, digits, `-` and `_`.
/// Checked before any lookup, so nothing else reaches a query or a log.
pub fn is_opaque_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= OPAQUE_ID_LEN_MAX
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
