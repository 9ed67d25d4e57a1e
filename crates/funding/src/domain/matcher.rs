//! The matcher: a profile against every scheme → the eligible schemes, ranked, each with its
//! maximum grant, and the ineligible ones with every rule that excluded them.
//!
//! The maximum grant is the smallest of the bounds the fact sheet states: the government's
//! share of the project cost under the matching ratio (rounded down to the cent), the cap per
//! project, the cap per applicant — and the project cost itself, since no grant exceeds the
//! project. With no ratio and no cap stated, it is "not stated", never a guess.

use std::cmp::Reverse;

use bauhinia_core::{Localized, Money};

use super::profile::{Location, Profile};
use super::reason::Reason;
use super::scheme::{LocationRule, Matching, Scheme, SizeRule, Stated, Status, UniversityRule};

#[derive(Debug, Clone, PartialEq)]
pub struct Eligible<'a> {
    pub scheme: &'a Scheme,
    /// `None` when the fact sheet states nothing to compute it from, or the scheme pays none.
    pub max_grant: Option<Money>,
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ineligible<'a> {
    pub scheme: &'a Scheme,
    /// Only the rules not met.
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct MatchOutcome<'a> {
    /// Best first: open before not-yet-open, then larger grants, then closer purpose fit.
    pub eligible: Vec<Eligible<'a>>,
    /// Nearest misses first (fewest rules failed).
    pub ineligible: Vec<Ineligible<'a>>,
}

/// Matches `profile` against every scheme. Pure and allocation-light: a few dozen schemes take
/// microseconds.
pub fn match_profile<'a>(
    schemes: impl IntoIterator<Item = &'a Scheme>,
    profile: &Profile,
) -> MatchOutcome<'a> {
    let schemes: Vec<&'a Scheme> = schemes.into_iter().collect();
    let mut outcome = MatchOutcome::default();
    for scheme in schemes.iter().copied() {
        let mut met = Vec::new();
        let mut failed = Vec::new();
        check_rules(scheme, &schemes, profile, &mut met, &mut failed);
        if failed.is_empty() {
            let max_grant = max_grant(scheme, profile, &mut met);
            status_caveat(scheme, &mut met);
            outcome.eligible.push(Eligible {
                scheme,
                max_grant,
                reasons: met,
            });
        } else {
            outcome.ineligible.push(Ineligible {
                scheme,
                reasons: failed,
            });
        }
    }
    outcome.eligible.sort_by_key(|e| {
        let fit = profile
            .purposes
            .iter()
            .filter(|p| e.scheme.purposes.contains(p))
            .count();
        (
            status_rank(e.scheme.status),
            Reverse(e.max_grant.map(|m| m.minor)),
            Reverse(fit),
            e.scheme.id.clone(),
        )
    });
    outcome
        .ineligible
        .sort_by_key(|i| (i.reasons.len(), i.scheme.id.clone()));
    outcome
}

fn status_rank(status: Status) -> u8 {
    match status {
        Status::Open | Status::Ongoing => 0,
        Status::NotStated => 1,
        Status::Planned => 2,
        Status::Closed => 3,
    }
}

fn check_rules(
    scheme: &Scheme,
    all: &[&Scheme],
    profile: &Profile,
    met: &mut Vec<Reason>,
    failed: &mut Vec<Reason>,
) {
    if scheme.status == Status::Closed {
        failed.push(Reason::Closed {
            closes: scheme.closes.as_option().copied(),
        });
    }
    if scheme
        .applicant_types
        .iter()
        .any(|t| profile.applicant_type.satisfies(*t))
    {
        met.push(Reason::ApplicantTypeAccepted(profile.applicant_type));
    } else {
        failed.push(Reason::ApplicantTypeNotAccepted {
            given: profile.applicant_type,
            accepted: scheme.applicant_types.clone(),
        });
    }
    match &scheme.sectors {
        None => met.push(Reason::AnySector),
        Some(sectors) => {
            let common: Vec<_> = profile
                .sectors
                .iter()
                .copied()
                .filter(|s| sectors.contains(s))
                .collect();
            if common.is_empty() {
                failed.push(Reason::SectorNotCovered(sectors.clone()));
            } else {
                met.push(Reason::SectorCovered(common));
            }
        }
    }
    if scheme.size == SizeRule::Sme {
        let limit = profile.sme_employee_limit();
        match (profile.is_sme(), profile.employees) {
            (Some(true), Some(employees)) => met.push(Reason::SmeConfirmed { employees, limit }),
            (Some(false), Some(employees)) => failed.push(Reason::NotSme { employees, limit }),
            _ => failed.push(Reason::EmployeesNeeded { limit }),
        }
    }
    if scheme.location == Stated::Stated(LocationRule::HongKong) {
        if profile.operates_in(Location::HongKong) {
            met.push(Reason::OperatesInHongKong);
        } else {
            failed.push(Reason::NotInHongKong);
        }
    }
    if scheme.needs_production_line_in_hk {
        if profile.operates_production_line_in_hk {
            met.push(Reason::ProductionLineInHongKong);
        } else {
            failed.push(Reason::NoProductionLineInHongKong);
        }
    }
    if scheme.university == UniversityRule::UgcFunded {
        if profile.university.is_ugc_funded() {
            met.push(Reason::UgcUniversity(profile.university));
        } else {
            failed.push(Reason::NotUgcUniversity);
        }
    }
    let purposes: Vec<_> = profile
        .purposes
        .iter()
        .copied()
        .filter(|p| scheme.purposes.contains(p))
        .collect();
    if purposes.is_empty() {
        failed.push(Reason::PurposeMismatch(scheme.purposes.clone()));
    } else {
        met.push(Reason::PurposeMatches(purposes));
    }
    if let Some(required) = &scheme.requires_scheme {
        // The catalogue guarantees the required scheme exists; fall back to the id if a caller
        // matched against a partial list.
        let name = all.iter().find(|s| &s.id == required).map_or_else(
            || Localized {
                zh_hant: required.to_string(),
                zh_hans: required.to_string(),
                en: required.to_string(),
            },
            |s| s.name.clone(),
        );
        if profile.current_grants.contains_key(required) {
            met.push(Reason::RequiredSchemeHeld(required.clone(), name));
        } else {
            failed.push(Reason::RequiredSchemeMissing(required.clone(), name));
        }
    }
    if let Stated::Stated(minimum) = scheme.min_project_cost {
        match profile.project_cost {
            Some(cost) if cost.minor >= minimum.minor => {
                met.push(Reason::ProjectCostMeetsMinimum { cost, minimum })
            }
            Some(cost) => failed.push(Reason::ProjectCostBelowMinimum { cost, minimum }),
            None => failed.push(Reason::ProjectCostNeeded { minimum }),
        }
    }
    if let Stated::Stated(max) = scheme.max_concurrent_projects {
        let current = profile.current_grants.get(&scheme.id).copied().unwrap_or(0);
        if current >= max {
            failed.push(Reason::ConcurrentLimitReached { current, max });
        } else if current > 0 {
            met.push(Reason::ProjectsBelowLimit { current, max });
        }
    }
}

/// The maximum grant and the reasons that explain its arithmetic.
fn max_grant(scheme: &Scheme, profile: &Profile, reasons: &mut Vec<Reason>) -> Option<Money> {
    if !scheme.kind.pays_grant() {
        reasons.push(Reason::NotAGrant(scheme.kind));
        return None;
    }
    let cost = profile.project_cost;
    let per_project = scheme.cap_per_project.as_option().copied();
    let per_applicant = scheme.cap_per_applicant.as_option().copied();
    let any_cap = per_project.is_some() || per_applicant.is_some();

    let mut bound: Option<Money> = None;
    match (scheme.matching, cost) {
        (Matching::Ratio(ratio), Some(cost)) => {
            let (numerator, denominator) = ratio.government_share();
            let share = cost.share_floor(numerator, denominator)?;
            reasons.push(Reason::GrantByRatio { cost, ratio, share });
            bound = Some(share);
        }
        (Matching::Ratio(_), None) if !any_cap => {
            reasons.push(Reason::GrantNeedsProjectCost);
            return None;
        }
        (Matching::NotStated, _) if any_cap => reasons.push(Reason::GrantRatioNotStated),
        _ => {}
    }
    if !any_cap && bound.is_none() {
        reasons.push(Reason::GrantNotStated);
        return None;
    }
    for (cap, per_project) in [(per_project, true), (per_applicant, false)] {
        let Some(cap) = cap else { continue };
        if bound.is_none_or(|b| cap.minor < b.minor) {
            bound = Some(cap);
            reasons.push(Reason::GrantCapped { cap, per_project });
        }
    }
    // No grant pays more than the project costs.
    if let (Some(b), Some(cost)) = (bound, cost) {
        bound = Some(b.min(cost));
    }
    debug_assert!(
        bound.is_some_and(|b| b.minor >= 0),
        "a grant is never negative"
    );
    bound
}

fn status_caveat(scheme: &Scheme, reasons: &mut Vec<Reason>) {
    match scheme.status {
        Status::Planned => reasons.push(Reason::Planned {
            opens: scheme.opens.as_option().copied(),
        }),
        Status::NotStated => reasons.push(Reason::StatusNotStated),
        Status::Open | Status::Ongoing | Status::Closed => {}
    }
}
