//! Corporate login's seam: what the OpenID Provider asks of the business directory (数码企业身份
//! CorpID, `crates/corpid`) when a service asks for the `corpid` scope. Identity does not know
//! businesses; the binary gives the provider an implementation of [`CorporateDirectory`].
//!
//! The provider asks at login (which businesses may this resident act for now? one is chosen,
//! or the only one is taken) and again whenever it issues or serves a token for that choice
//! (is the representation still in force?), so a representative whose role is revoked, or
//! whose delegation has expired, can no longer log in, refresh or read userinfo for that
//! business.
//!
//! Corporate form filling asks the directory for more than the representation: the business's
//! particulars ([`Particulars`], by BRN) and the licences and permits it marked for sharing
//! ([`SharedLicence`]). The provider asks for them only after the representation was found in
//! force at that same moment, so a revoked representative releases nothing. The data exchange's
//! Companies Registry provider reads the same particulars through this seam.

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

/// A business's particulars as the register holds them: what corporate form filling and the
/// Companies Registry's data product release. Never a person's identity number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Particulars {
    /// The directory's opaque id of the business.
    pub business_id: String,
    /// Business Registration number: 8 digits.
    pub brn: String,
    pub name_en: String,
    pub name_zh: Option<String>,
    /// The legal form: `private_limited_by_shares`, `public_limited_by_shares`,
    /// `limited_by_guarantee`, `registered_non_hong_kong`, `sole_proprietorship`,
    /// `partnership`.
    pub form: String,
    /// `active`, `suspended` or `dissolved`.
    pub status: String,
    /// The registered address, one line each.
    pub address: Vec<String>,
    /// The date of incorporation (a company) or commencement (a registered business),
    /// `YYYY-MM-DD`.
    pub registered_on: String,
    /// The directors by name, as filed; never their identity numbers or resident ids.
    pub directors: Vec<DirectorName>,
}

/// A director as the register names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectorName {
    pub name_en: String,
    pub name_zh: Option<String>,
    /// `YYYY-MM-DD`.
    pub appointed_on: String,
}

/// A licence or permit the business marked for sharing with the services it logs in to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedLicence {
    #[serde(rename = "type")]
    pub licence_type: String,
    pub number: String,
    pub issuer: String,
    /// `YYYY-MM-DD`.
    pub valid_from: String,
    /// `YYYY-MM-DD`; absent for a licence without an end date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    /// `valid`, `suspended`, `revoked` or `expired`.
    pub status: String,
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

    /// The particulars of the business registered under `brn` (any status), if there is one.
    fn particulars<'a>(&'a self, brn: &'a str) -> DirectoryFuture<'a, Option<Particulars>>;

    /// The licences and permits of the business under `brn` that it marked shared, in the
    /// order of their validity; none for an unknown BRN.
    fn shared_licences<'a>(&'a self, brn: &'a str) -> DirectoryFuture<'a, Vec<SharedLicence>>;
}
