//! The rules of company signatures, pure: the three signing types and what each needs, how
//! many approvals a request waits for, how long it waits, and who may approve. No key, no
//! database, no clock (times are passed in).

use super::access::{Role, SignatoriesRequired};

/// How long a company signing request waits for its approvals. Longer than a resident's five
/// minutes: two people may have to approve, each from their own app.
pub const REQUEST_LIFETIME_S: i64 = 24 * 60 * 60;

/// What a signature is made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningKind {
    /// The approving representative's own key, with the business and role recorded.
    Personal,
    /// The company's key (the "chop"), after the business's signatories approve.
    Corporate,
    /// Both: each approving signatory's personal signature and the company's.
    Integrated,
}

impl SigningKind {
    pub const ALL: [SigningKind; 3] = [
        SigningKind::Personal,
        SigningKind::Corporate,
        SigningKind::Integrated,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            SigningKind::Personal => "personal",
            SigningKind::Corporate => "corporate",
            SigningKind::Integrated => "integrated",
        }
    }

    pub fn parse(text: &str) -> Option<SigningKind> {
        SigningKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Whether each approver's own key signs.
    pub const fn personal_signatures(self) -> bool {
        matches!(self, SigningKind::Personal | SigningKind::Integrated)
    }

    /// Whether the company's key signs.
    pub const fn company_signature(self) -> bool {
        matches!(self, SigningKind::Corporate | SigningKind::Integrated)
    }

    /// Approvals a request of this kind waits for under the business's policy: a personal
    /// signature is one person's; the company signs only as its policy says.
    pub fn approvals_required(self, policy: SignatoriesRequired) -> u8 {
        match self {
            SigningKind::Personal => 1,
            SigningKind::Corporate | SigningKind::Integrated => policy.get(),
        }
    }
}

/// Why an approval is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalRefusal {
    #[error("only administrators and authorised signatories approve signatures")]
    RoleInsufficient,
    #[error("the resident does not represent the business")]
    NotRepresentative,
    #[error("the resident acted for the business only through a delegation that has ended")]
    DelegationEnded,
    #[error("the resident has already approved this request")]
    AlreadyApproved,
    #[error("the business is suspended or dissolved")]
    BusinessInactive,
}

impl ApprovalRefusal {
    /// The audit detail's `reason`.
    pub const fn reason(self) -> &'static str {
        match self {
            ApprovalRefusal::RoleInsufficient => "role_insufficient",
            ApprovalRefusal::NotRepresentative => "not_representative",
            ApprovalRefusal::DelegationEnded => "delegation_ended",
            ApprovalRefusal::AlreadyApproved => "already_approved",
            ApprovalRefusal::BusinessInactive => "business_inactive",
        }
    }
}

/// Whether a representative in `role` may approve a signature for the business.
pub fn check_approver(role: Role) -> Result<(), ApprovalRefusal> {
    match role {
        Role::Administrator | Role::AuthorisedSignatory => Ok(()),
        Role::User => Err(ApprovalRefusal::RoleInsufficient),
    }
}

/// Whether a delegation (from `valid_from_s` until before `valid_until_s`, revoked at
/// `revoked_at_s` if ever) was in force at `at_s`.
pub fn delegation_in_force(
    valid_from_s: i64,
    valid_until_s: i64,
    revoked_at_s: Option<i64>,
    at_s: i64,
) -> bool {
    valid_from_s <= at_s && at_s < valid_until_s && revoked_at_s.is_none_or(|r| at_s < r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_what_they_need() {
        let two = SignatoriesRequired::new(2).expect("2");
        let one = SignatoriesRequired::ONE;
        let cases = [
            (SigningKind::Personal, true, false, 1, 1),
            (SigningKind::Corporate, false, true, 1, 2),
            (SigningKind::Integrated, true, true, 1, 2),
        ];
        for (kind, personal, company, with_one, with_two) in cases {
            assert_eq!(SigningKind::parse(kind.as_str()), Some(kind));
            assert_eq!(kind.personal_signatures(), personal, "{kind:?}");
            assert_eq!(kind.company_signature(), company, "{kind:?}");
            assert_eq!(kind.approvals_required(one), with_one, "{kind:?}");
            assert_eq!(kind.approvals_required(two), with_two, "{kind:?}");
        }
        assert_eq!(SigningKind::parse("company"), None);
        assert_eq!(SigningKind::parse("Corporate"), None);
    }

    #[test]
    fn only_administrators_and_signatories_approve() {
        assert_eq!(check_approver(Role::Administrator), Ok(()));
        assert_eq!(check_approver(Role::AuthorisedSignatory), Ok(()));
        assert_eq!(
            check_approver(Role::User),
            Err(ApprovalRefusal::RoleInsufficient)
        );
    }

    #[test]
    fn a_delegation_is_in_force_from_its_start_until_before_its_end_or_revocation() {
        let check = |revoked: Option<i64>, at: i64, expected: bool| {
            assert_eq!(
                delegation_in_force(100, 200, revoked, at),
                expected,
                "{revoked:?} {at}"
            );
        };
        check(None, 99, false);
        check(None, 100, true);
        check(None, 199, true);
        check(None, 200, false);
        check(Some(150), 149, true);
        check(Some(150), 150, false);
    }
}
