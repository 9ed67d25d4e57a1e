//! Corporate login's seam: what the OpenID Provider asks of the business directory (数码企业身份
//! CorpID, `crates/corpid`) when a service asks for the `corpid` scope. Identity does not know
//! businesses; the binary gives the provider an implementation of [`CorporateDirectory`].
//!
//! The provider asks at login (which businesses may this resident act for now? one is chosen,
//! or the only one is taken) and again whenever it issues or serves a token for that choice
//! (is the representation still in force?), so a representative whose role is revoked, or
//! whose delegation has expired, can no longer log in, refresh or read userinfo for that
//! business.

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

/// One business a resident may act for, as the directory answers at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Representation {
    /// The directory's stable, opaque id of the business (not the BRN).
    pub business_id: String,
    /// Business Registration number: 8 digits.
    pub brn: String,
    pub name_en: String,
    pub name_zh: String,
    /// `administrator`, `authorised_signatory` or `user`.
    pub role: String,
    /// When acting through a time-bound delegation: the agent business's BRN.
    pub via_agent_brn: Option<String>,
    /// Unix seconds after which the representation ends (a delegation's end), if any.
    pub valid_until: Option<i64>,
}

/// Why the directory could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("corporate directory unavailable: {0}")]
pub struct DirectoryError(pub String);

pub type DirectoryFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, DirectoryError>> + Send + 'a>>;

/// The businesses residents represent. Implemented by `bauhinia-corpid`.
pub trait CorporateDirectory: Send + Sync + std::fmt::Debug {
    /// Every business the resident may act for at `at` (Unix seconds): active businesses
    /// only, roles not revoked, delegations within their validity. Sorted by BRN.
    fn representations<'a>(
        &'a self,
        resident_id: &'a str,
        at: i64,
    ) -> DirectoryFuture<'a, Vec<Representation>>;

    /// The one representation of `business_id` by the resident at `at`, if still in force.
    fn representation<'a>(
        &'a self,
        resident_id: &'a str,
        business_id: &'a str,
        at: i64,
    ) -> DirectoryFuture<'a, Option<Representation>>;
}
