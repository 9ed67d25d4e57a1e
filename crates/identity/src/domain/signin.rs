//! The rules of signing in to 智方便: what an enrolment code and a passkey name are, how long
//! ceremonies, codes and sessions live, and when repeated failures lock a resident out. Pure: the
//! caller passes the time in.

use std::fmt;

use time::{Duration, OffsetDateTime};

/// An enrolment code is this many decimal digits (10⁸ possibilities; with at most
/// [`LOCKOUT_FAILURES_MAX`] guesses per code, a guess succeeds with probability 5 × 10⁻⁸).
pub const ENROLMENT_CODE_DIGITS: usize = 8;
/// How long an enrolment code may be used after it is issued.
pub const ENROLMENT_CODE_LIFETIME_S: i64 = 30 * 60;
/// How long a browser has between the start and the finish of a WebAuthn ceremony.
pub const CEREMONY_LIFETIME_S: i64 = 5 * 60;
/// How long a signed-in session lasts (absolute, not sliding).
pub const SESSION_LIFETIME_S: i64 = 12 * 60 * 60;
/// Failures in a row, in one scope, that lock the scope.
pub const LOCKOUT_FAILURES_MAX: u32 = 5;
/// How long a lock lasts.
pub const LOCKOUT_LOCK_S: i64 = 15 * 60;
pub const PASSKEY_NAME_LEN_MAX: usize = 64;
/// Passkeys one resident may hold.
pub const PASSKEYS_PER_RESIDENT_MAX: usize = 20;

/// One-time enrolment code: exactly [`ENROLMENT_CODE_DIGITS`] ASCII digits. `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct EnrolmentCode(String);

impl fmt::Debug for EnrolmentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EnrolmentCode(********)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignInInputError {
    #[error("an enrolment code is 8 digits")]
    EnrolmentCode,
    #[error("a passkey name is 1 to 64 characters, without control characters")]
    PasskeyName,
}

impl EnrolmentCode {
    /// Accepts the digits with spaces or hyphens between groups (`1234 5678`, `1234-5678`).
    pub fn parse(text: &str) -> Result<EnrolmentCode, SignInInputError> {
        let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if digits.len() == ENROLMENT_CODE_DIGITS && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(EnrolmentCode(digits))
        } else {
            Err(SignInInputError::EnrolmentCode)
        }
    }

    /// A code from 64 random bits. The modulo bias is below 10⁻¹¹: immaterial next to the
    /// guess limit.
    pub fn from_random(random: u64) -> EnrolmentCode {
        EnrolmentCode(format!("{:08}", random % 100_000_000))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// What a resident calls one of their passkeys ("iPhone", "Office key"): trimmed, 1 to 64
/// characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyName(String);

impl PasskeyName {
    pub fn parse(text: &str) -> Result<PasskeyName, SignInInputError> {
        let name = text.trim();
        let length = name.chars().count();
        if (1..=PASSKEY_NAME_LEN_MAX).contains(&length) && !name.chars().any(char::is_control) {
            Ok(PasskeyName(name.to_owned()))
        } else {
            Err(SignInInputError::PasskeyName)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a lockout is about. Separate scopes keep a stranger who knows someone's HKID (and so
/// can try enrolment codes) from locking that resident out of signing in with their passkey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockScope {
    Enrolment,
    Login,
}

impl LockScope {
    pub const fn as_str(self) -> &'static str {
        match self {
            LockScope::Enrolment => "enrolment",
            LockScope::Login => "login",
        }
    }
}

/// Failures in a row in one scope, and the lock they may have caused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LockoutState {
    pub failures: u32,
    pub locked_until: Option<OffsetDateTime>,
}

impl LockoutState {
    /// The end of the lock, if it is still in force at `now`.
    pub fn locked_at(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        self.locked_until.filter(|until| *until > now)
    }

    /// The state after one more failure at `now`: the [`LOCKOUT_FAILURES_MAX`]th failure in a
    /// row locks the scope for [`LOCKOUT_LOCK_S`] and starts the count again.
    pub fn after_failure(&self, now: OffsetDateTime) -> LockoutState {
        let failures = self.failures.saturating_add(1);
        if failures >= LOCKOUT_FAILURES_MAX {
            LockoutState {
                failures: 0,
                locked_until: Some(now + Duration::seconds(LOCKOUT_LOCK_S)),
            }
        } else {
            LockoutState {
                failures,
                locked_until: self.locked_until,
            }
        }
    }

    /// Whether going from `self` to `next` started a lock.
    pub fn locks(&self, next: &LockoutState) -> bool {
        next.locked_until.is_some() && next.locked_until != self.locked_until
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn enrolment_codes() {
        for (text, ok) in [
            ("12345678", Some("12345678")),
            ("1234 5678", Some("12345678")),
            ("1234-5678", Some("12345678")),
            (" 00000000 ", Some("00000000")),
            ("1234567", None),
            ("123456789", None),
            ("1234567a", None),
            ("１２３４５６７８", None),
            ("", None),
        ] {
            assert_eq!(
                EnrolmentCode::parse(text).ok().as_ref().map(|c| c.expose()),
                ok,
                "{text:?}"
            );
        }
        assert_eq!(EnrolmentCode::from_random(7).expose(), "00000007");
        assert_eq!(EnrolmentCode::from_random(u64::MAX).expose().len(), 8);
        assert_eq!(
            format!("{:?}", EnrolmentCode::from_random(12_345_678)),
            "EnrolmentCode(********)"
        );
    }

    #[test]
    fn passkey_names() {
        assert_eq!(
            PasskeyName::parse("  My phone ").map(|n| n.as_str().to_owned()),
            Ok("My phone".to_owned())
        );
        assert!(PasskeyName::parse("陳大文的手機").is_ok());
        assert!(PasskeyName::parse(&"鍵".repeat(64)).is_ok());
        for bad in ["", "   ", "a\nb", "\u{7}", &"x".repeat(65)] {
            assert_eq!(
                PasskeyName::parse(bad),
                Err(SignInInputError::PasskeyName),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_fifth_failure_locks_for_fifteen_minutes() {
        let t0 = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        let mut state = LockoutState::default();
        for n in 1..LOCKOUT_FAILURES_MAX {
            let next = state.after_failure(t0);
            assert!(!state.locks(&next));
            state = next;
            assert_eq!((state.failures, state.locked_at(t0)), (n, None));
        }
        let next = state.after_failure(t0);
        assert!(state.locks(&next));
        let until = t0 + Duration::minutes(15);
        assert_eq!(next.locked_at(t0), Some(until));
        assert_eq!(
            next.locked_at(until - Duration::milliseconds(1)),
            Some(until)
        );
        assert_eq!(next.locked_at(until), None, "the lock ends on time");
        assert_eq!(next.failures, 0, "the count starts again after a lock");
    }

    proptest! {
        #[test]
        fn code_parser_never_panics_and_yields_eight_digits(text in "\\PC{0,24}") {
            if let Ok(code) = EnrolmentCode::parse(&text) {
                prop_assert!(code.expose().len() == 8 && code.expose().bytes().all(|b| b.is_ascii_digit()));
            }
        }

        #[test]
        fn name_parser_never_panics_and_keeps_limits(text in "\\PC{0,80}|[\\x00-\\x7f]{0,80}") {
            if let Ok(name) = PasskeyName::parse(&text) {
                let n = name.as_str().chars().count();
                prop_assert!((1..=PASSKEY_NAME_LEN_MAX).contains(&n));
                prop_assert!(!name.as_str().chars().any(char::is_control));
            }
        }

        #[test]
        fn random_codes_always_parse(random in any::<u64>()) {
            let code = EnrolmentCode::from_random(random);
            prop_assert_eq!(EnrolmentCode::parse(code.expose()), Ok(code.clone()));
        }
    }
}
