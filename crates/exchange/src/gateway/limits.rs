//! The gateway's rate limits, on top of each consent's own frequency limit (which is a term of
//! the consent, checked and counted in the database):
//! - per participant: signed requests a participant may make a second (a token bucket, twice
//!   that as a burst), counted after its signature verified, so nobody can spend another's
//!   budget;
//! - per consent: data requests a second under one consent;
//! - per address, for failures: requests that fail authentication are what a stranger can
//!   send, so an address that keeps failing is refused for a while before any work (or any
//!   audit record) is spent on it.
//!
//! Over a limit: `429 exchange.rate_limited` with `Retry-After`, the limit named in `detail`.
//! Memory is bounded: [`Limits::cleanup`] drops buckets that have refilled.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Signed requests a participant may make a second, by default.
pub const PARTICIPANT_PER_SECOND: u32 = 2_000;
/// Data requests a second under one consent, by default.
pub const CONSENT_PER_SECOND: u32 = 20;
/// Failed authentications an address may cause a second (twice that as a burst).
pub const FAILURES_PER_SECOND: u32 = 5;

/// Which limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    Participant,
    Consent,
    Address,
}

impl Limited {
    pub const fn as_str(self) -> &'static str {
        match self {
            Limited::Participant => "participant",
            Limited::Consent => "consent",
            Limited::Address => "address",
        }
    }
}

/// How fast, per second (0: no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitsConfig {
    pub participant_per_second: u32,
    pub consent_per_second: u32,
    pub failures_per_second: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            participant_per_second: PARTICIPANT_PER_SECOND,
            consent_per_second: CONSENT_PER_SECOND,
            failures_per_second: FAILURES_PER_SECOND,
        }
    }
}

fn limiter<K: std::hash::Hash + Eq + Clone>(per_second: u32) -> Option<DefaultKeyedRateLimiter<K>> {
    let rate = NonZeroU32::new(per_second)?;
    let burst = NonZeroU32::new(per_second.saturating_mul(2)).unwrap_or(rate);
    Some(RateLimiter::keyed(
        Quota::per_second(rate).allow_burst(burst),
    ))
}

/// The limiters. Shared by every request of the process.
#[derive(Debug)]
pub struct Limits {
    config: LimitsConfig,
    participants: Option<DefaultKeyedRateLimiter<String>>,
    consents: Option<DefaultKeyedRateLimiter<String>>,
    failures: Option<DefaultKeyedRateLimiter<IpAddr>>,
    /// Addresses that used up their failure budget, until when.
    blocked: Mutex<HashMap<IpAddr, Instant>>,
}

fn check<K: std::hash::Hash + Eq + Clone>(
    limiter: Option<&DefaultKeyedRateLimiter<K>>,
    key: &K,
) -> Result<(), Duration> {
    let Some(limiter) = limiter else {
        return Ok(());
    };
    limiter
        .check_key(key)
        .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
}

impl Limits {
    pub fn new(config: LimitsConfig) -> Limits {
        Limits {
            config,
            participants: limiter(config.participant_per_second),
            consents: limiter(config.consent_per_second),
            failures: limiter(config.failures_per_second),
            blocked: Mutex::new(HashMap::new()),
        }
    }

    pub fn config(&self) -> LimitsConfig {
        self.config
    }

    /// Counts a request of an authenticated participant.
    pub fn participant(&self, participant: &str) -> Result<(), (Limited, Duration)> {
        check(self.participants.as_ref(), &participant.to_owned())
            .map_err(|wait| (Limited::Participant, wait))
    }

    /// Counts a data request under a consent.
    pub fn consent(&self, consent: &str) -> Result<(), (Limited, Duration)> {
        check(self.consents.as_ref(), &consent.to_owned()).map_err(|wait| (Limited::Consent, wait))
    }

    /// Whether `ip` is refused for failing too often (how long still).
    pub fn blocked(&self, ip: IpAddr) -> Result<(), (Limited, Duration)> {
        let now = Instant::now();
        let Ok(mut blocked) = self.blocked.lock() else {
            return Ok(());
        };
        match blocked.get(&ip).copied() {
            Some(until) if until > now => Err((Limited::Address, until - now)),
            Some(_) => {
                blocked.remove(&ip);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Counts a failed authentication from `ip`; over the budget, `ip` is blocked until the
    /// budget has refilled.
    pub fn failed(&self, ip: IpAddr) {
        if let Err(wait) = check(self.failures.as_ref(), &ip) {
            let until = Instant::now() + wait.max(Duration::from_secs(1));
            if let Ok(mut blocked) = self.blocked.lock() {
                blocked.insert(ip, until);
            }
        }
    }

    /// Forgets buckets that are full again, and blocks that have ended.
    pub fn cleanup(&self) {
        for limiter in [&self.participants, &self.consents].into_iter().flatten() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        if let Some(failures) = &self.failures {
            failures.retain_recent();
            failures.shrink_to_fit();
        }
        let now = Instant::now();
        if let Ok(mut blocked) = self.blocked.lock() {
            blocked.retain(|_, until| *until > now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_limit_refuses_past_its_burst_and_names_itself() {
        let limits = Limits::new(LimitsConfig {
            participant_per_second: 3,
            consent_per_second: 2,
            failures_per_second: 1,
        });
        for _ in 0..6 {
            assert!(limits.participant("bank-004").is_ok());
        }
        let (which, wait) = limits.participant("bank-004").unwrap_err();
        assert_eq!(which, Limited::Participant);
        assert!(wait > Duration::ZERO);
        assert!(
            limits.participant("bank-024").is_ok(),
            "another participant's own budget"
        );
        for _ in 0..4 {
            assert!(limits.consent("c-1").is_ok());
        }
        assert_eq!(limits.consent("c-1").unwrap_err().0, Limited::Consent);
        let ip: IpAddr = [127, 0, 0, 2].into();
        assert!(limits.blocked(ip).is_ok());
        limits.failed(ip);
        limits.failed(ip);
        assert!(limits.blocked(ip).is_ok(), "within the burst");
        limits.failed(ip);
        assert_eq!(limits.blocked(ip).unwrap_err().0, Limited::Address);
        limits.cleanup();
    }

    #[test]
    fn zero_turns_a_limit_off() {
        let limits = Limits::new(LimitsConfig {
            participant_per_second: 0,
            consent_per_second: 0,
            failures_per_second: 0,
        });
        for _ in 0..10_000 {
            assert!(limits.participant("p").is_ok());
            assert!(limits.consent("c").is_ok());
        }
    }
}
