//! Who may act for a business, and who may change that. A resident holds at most one role per
//! business; only an administrator of the business (or the operator) changes representatives,
//! delegations, licences or the signing policy; a business always keeps one administrator. An
//! agent business acts for a client through a time-bound delegation, never as administrator:
//! the agent's administrators and authorised signatories act with the delegated role while it
//! is in force.

use super::FieldFault;

/// A representative's role, spelt as tokens carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Reads; uses services for the business.
    User,
    /// Signs for the business (how many must sign is the business's signing policy).
    AuthorisedSignatory,
    /// Everything, including managing representatives, delegations and licences.
    Administrator,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Administrator, Role::AuthorisedSignatory, Role::User];

    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::AuthorisedSignatory => "authorised_signatory",
            Role::User => "user",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// Whether a delegation may carry this role: administration is never delegated.
    pub const fn delegable(self) -> bool {
        !matches!(self, Role::Administrator)
    }

    /// Whether a representative in this role acts for the agent's clients.
    pub const fn acts_for_clients(self) -> bool {
        matches!(self, Role::Administrator | Role::AuthorisedSignatory)
    }
}

/// Why a change to who represents a business is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AccessRefusal {
    #[error("only an administrator of the business may do this")]
    NotAdministrator,
    #[error("the resident already holds a role for this business; change it instead")]
    RoleExists,
    #[error("the resident does not represent this business")]
    NotRepresentative,
    #[error("the last administrator of a business cannot be revoked or given another role")]
    LastAdministrator,
    #[error("the business is not active")]
    NotActive,
}

impl AccessRefusal {
    /// The reason as the audit log records it.
    pub const fn reason(self) -> &'static str {
        match self {
            AccessRefusal::NotAdministrator => "not_administrator",
            AccessRefusal::RoleExists => "role_exists",
            AccessRefusal::NotRepresentative => "not_representative",
            AccessRefusal::LastAdministrator => "last_administrator",
            AccessRefusal::NotActive => "not_active",
        }
    }
}

/// Whether the caller may change the business: the operator always, a resident only as one of
/// its administrators, and only while it is active (a suspended or dissolved business is the
/// operator's alone).
pub fn check_change(
    operator: bool,
    caller_role: Option<Role>,
    active: bool,
) -> Result<(), AccessRefusal> {
    if operator {
        return Ok(());
    }
    if !active {
        return Err(AccessRefusal::NotActive);
    }
    match caller_role {
        Some(Role::Administrator) => Ok(()),
        _ => Err(AccessRefusal::NotAdministrator),
    }
}

/// A new role for a resident who holds none.
pub fn check_grant(current: Option<Role>) -> Result<(), AccessRefusal> {
    match current {
        Some(_) => Err(AccessRefusal::RoleExists),
        None => Ok(()),
    }
}

/// Moving a representative from `current` to `new`; `administrators` counts the business's
/// administrators now, the representative included.
pub fn check_role_change(
    current: Option<Role>,
    new: Role,
    administrators: usize,
) -> Result<(), AccessRefusal> {
    match current {
        None => Err(AccessRefusal::NotRepresentative),
        Some(Role::Administrator) if new != Role::Administrator && administrators <= 1 => {
            Err(AccessRefusal::LastAdministrator)
        }
        Some(_) => Ok(()),
    }
}

/// Revoking `current`; `administrators` as for [`check_role_change`].
pub fn check_revoke(current: Option<Role>, administrators: usize) -> Result<(), AccessRefusal> {
    match current {
        None => Err(AccessRefusal::NotRepresentative),
        Some(Role::Administrator) if administrators <= 1 => Err(AccessRefusal::LastAdministrator),
        Some(_) => Ok(()),
    }
}

/// The longest a delegation may run: three years (of 366 days, so any three calendar years
/// fit).
pub const DELEGATION_LIFETIME_MAX_S: i64 = 3 * 366 * 86_400;

/// A delegation's terms, checked: a delegable role and a bounded validity that has not ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DelegationTerms {
    pub role: Role,
    /// Unix seconds; the delegation is in force from here…
    pub valid_from: i64,
    /// …until just before here.
    pub valid_until: i64,
}

impl DelegationTerms {
    /// Terms made at `now`. Every fault is named by its field.
    pub fn new(
        role: Option<Role>,
        valid_from: i64,
        valid_until: i64,
        now: i64,
    ) -> Result<DelegationTerms, Vec<FieldFault>> {
        let mut faults = Vec::new();
        match role {
            Some(r) if r.delegable() => {}
            _ => faults.push(FieldFault::new(
                "/role",
                "authorised_signatory or user (administration is never delegated)",
            )),
        }
        if valid_until <= valid_from {
            faults.push(FieldFault::new("/valid_until", "must be after valid_from"));
        } else if valid_until.saturating_sub(valid_from) > DELEGATION_LIFETIME_MAX_S {
            faults.push(FieldFault::new(
                "/valid_until",
                "a delegation lasts at most three years",
            ));
        } else if valid_until <= now {
            faults.push(FieldFault::new("/valid_until", "must be in the future"));
        }
        match role {
            Some(role) if faults.is_empty() => Ok(DelegationTerms {
                role,
                valid_from,
                valid_until,
            }),
            _ => Err(faults),
        }
    }

    /// Whether the delegation is in force at `at` (it has not been revoked).
    pub const fn in_force(&self, at: i64) -> bool {
        self.valid_from <= at && at < self.valid_until
    }
}

/// Which of two ways of acting for one business a resident keeps (`true`: `a`), each given as
/// its role and, for a delegation, its end. A role of the business's own beats any
/// delegation; between delegations, the higher role, then the one that lasts longer.
pub fn preferred(a: (Role, Option<i64>), b: (Role, Option<i64>)) -> bool {
    match (a.1, b.1) {
        (None, Some(_)) => true,
        (Some(_), None) => false,
        (None, None) => a.0 >= b.0,
        (Some(end_a), Some(end_b)) => (a.0, end_a) >= (b.0, end_b),
    }
}

/// How many authorised signatories must approve a signature for the business: one or two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatoriesRequired(u8);

impl SignatoriesRequired {
    pub const ONE: SignatoriesRequired = SignatoriesRequired(1);

    pub fn new(count: i64) -> Option<SignatoriesRequired> {
        match count {
            1 => Some(SignatoriesRequired(1)),
            2 => Some(SignatoriesRequired(2)),
            _ => None,
        }
    }

    pub const fn get(self) -> u8 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn roles_are_spelt_as_tokens_carry_them() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("admin"), None);
        assert!(!Role::Administrator.delegable());
        assert!(Role::AuthorisedSignatory.delegable() && Role::User.delegable());
        assert!(!Role::User.acts_for_clients());
    }

    #[test]
    fn only_administrators_change_an_active_business() {
        assert_eq!(check_change(false, Some(Role::Administrator), true), Ok(()));
        for role in [None, Some(Role::User), Some(Role::AuthorisedSignatory)] {
            assert_eq!(
                check_change(false, role, true),
                Err(AccessRefusal::NotAdministrator)
            );
        }
        assert_eq!(
            check_change(false, Some(Role::Administrator), false),
            Err(AccessRefusal::NotActive)
        );
        assert_eq!(check_change(true, None, false), Ok(()));
    }

    #[test]
    fn the_last_administrator_stays() {
        use Role::*;
        assert_eq!(
            check_revoke(Some(Administrator), 1),
            Err(AccessRefusal::LastAdministrator)
        );
        assert_eq!(check_revoke(Some(Administrator), 2), Ok(()));
        assert_eq!(check_revoke(Some(User), 1), Ok(()));
        assert_eq!(check_revoke(None, 3), Err(AccessRefusal::NotRepresentative));
        assert_eq!(
            check_role_change(Some(Administrator), User, 1),
            Err(AccessRefusal::LastAdministrator)
        );
        assert_eq!(
            check_role_change(Some(Administrator), Administrator, 1),
            Ok(())
        );
        assert_eq!(check_role_change(Some(User), Administrator, 1), Ok(()));
        assert_eq!(check_grant(Some(User)), Err(AccessRefusal::RoleExists));
        assert_eq!(check_grant(None), Ok(()));
    }

    #[test]
    fn delegation_terms_are_bounded() {
        let now = 1_800_000_000;
        let ok = DelegationTerms::new(Some(Role::User), now, now + 86_400, now).expect("ok");
        assert!(ok.in_force(now) && !ok.in_force(now + 86_400) && !ok.in_force(now - 1));
        let fields = |r: Result<DelegationTerms, Vec<FieldFault>>| {
            r.expect_err("refused")
                .into_iter()
                .map(|f| f.field)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            fields(DelegationTerms::new(
                Some(Role::Administrator),
                now,
                now + 1,
                now
            )),
            ["/role"]
        );
        assert_eq!(
            fields(DelegationTerms::new(None, now, now, now)),
            ["/role", "/valid_until"]
        );
        assert_eq!(
            fields(DelegationTerms::new(
                Some(Role::User),
                now,
                now + DELEGATION_LIFETIME_MAX_S + 1,
                now
            )),
            ["/valid_until"]
        );
        assert_eq!(
            fields(DelegationTerms::new(Some(Role::User), now - 10, now, now)),
            ["/valid_until"]
        );
        assert!(DelegationTerms::new(Some(Role::User), i64::MIN, i64::MAX, now).is_err());
    }

    #[test]
    fn a_direct_role_beats_a_delegation() {
        use Role::*;
        assert!(preferred((User, None), (AuthorisedSignatory, Some(10))));
        assert!(!preferred((AuthorisedSignatory, Some(10)), (User, None)));
        assert!(preferred((AuthorisedSignatory, Some(5)), (User, Some(10))));
        assert!(preferred((User, Some(10)), (User, Some(5))));
        assert!(SignatoriesRequired::new(3).is_none() && SignatoriesRequired::new(0).is_none());
        assert_eq!(
            SignatoriesRequired::new(2).map(SignatoriesRequired::get),
            Some(2)
        );
    }

    proptest! {
        #[test]
        fn terms_never_panic_and_accepted_terms_hold_the_rules(
            from in any::<i64>(), until in any::<i64>(), now in any::<i64>(), r in 0usize..4,
        ) {
            let role = Role::ALL.get(r).copied();
            if let Ok(terms) = DelegationTerms::new(role, from, until, now) {
                prop_assert!(terms.role.delegable());
                prop_assert!(terms.valid_until > terms.valid_from);
                prop_assert!(terms.valid_until - terms.valid_from <= DELEGATION_LIFETIME_MAX_S);
                prop_assert!(terms.valid_until > now);
            }
        }
    }
}
