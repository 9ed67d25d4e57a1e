//! Per-address rate limiting for everything a stranger can call. A token bucket per client IP
//! (`rate_limit_per_second` sustained, twice that as a burst); over it, a 429 problem with
//! `Retry-After`. Health, readiness, metrics and static assets are never limited, so probes and
//! page loads do not eat a visitor's budget.
//!
//! FPS participants are not strangers: a request carrying a valid participant API token (its
//! gateway may send tens of thousands a second from one address) is not counted against its
//! address; its settlement funds and the operator's token issue are what bound it.
//!
//! Signed requests to the data exchange's participant API are limited by the exchange: per
//! participant after the signature verified, per consent, and per address for failures.
//!
//! Memory is bounded: buckets that have refilled are dropped every minute.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bauhinia_core::{ErrorCode, Problem};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// How often buckets that are full again are forgotten.
pub const CLEANUP_INTERVAL_S: u64 = 60;

/// Paths that are never limited.
const UNLIMITED_PREFIXES: &[&str] = &["/healthz", "/readyz", "/metrics", "/static/"];

#[derive(Debug, Clone)]
pub struct RateLimit {
    limiter: Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>,
    participants: Option<Arc<bauhinia_fps::switch::Switch>>,
}

impl RateLimit {
    /// `per_second` = 0 turns limiting off.
    pub fn new(per_second: u32) -> RateLimit {
        let limiter = NonZeroU32::new(per_second).map(|rate| {
            let burst = NonZeroU32::new(per_second.saturating_mul(2)).unwrap_or(rate);
            Arc::new(RateLimiter::keyed(
                Quota::per_second(rate).allow_burst(burst),
            ))
        });
        RateLimit {
            limiter,
            participants: None,
        }
    }

    /// Requests with a valid FPS participant token are not limited by address.
    pub fn exempt_participants(mut self, switch: Arc<bauhinia_fps::switch::Switch>) -> RateLimit {
        self.participants = Some(switch);
        self
    }

    /// The participant a request's valid token belongs to.
    fn participant(&self, request: &Request) -> Option<bauhinia_fps::switch::ParticipantCode> {
        let switch = self.participants.as_ref()?;
        switch.authenticate(bauhinia_core::admin::bearer_token(request.headers())?)
    }

    /// `Err(wait)` when `ip` is over its budget.
    fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter
            .check_key(&ip)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Forgets buckets that are full again (their clients have been quiet).
    pub fn cleanup(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// A participant's request to the exchange's signed API: it names a participant and carries
/// a detached signature.
fn is_signed_exchange_request(request: &Request) -> bool {
    let headers = request.headers();
    request
        .uri()
        .path()
        .starts_with("/api/v1/exchange/consents")
        && headers.contains_key(bauhinia_exchange::gateway::auth::PARTICIPANT_HEADER)
        && headers.contains_key(bauhinia_exchange::crypto::jws::HEADER_NAME)
}

pub async fn limit(State(rate_limit): State<RateLimit>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if UNLIMITED_PREFIXES.iter().any(|p| path.starts_with(p)) {
        return next.run(request).await;
    }
    if is_signed_exchange_request(&request) {
        // Limited by the exchange itself: per participant once its signature verified, per
        // consent, and per address for failures (`bauhinia_exchange::gateway::limits`).
        return next.run(request).await;
    }
    if let Some(code) = rate_limit.participant(&request) {
        // Authenticated once: the FPS handlers take the caller from here.
        let mut request = request;
        request
            .extensions_mut()
            .insert(bauhinia_fps::http::FpsCaller(
                bauhinia_fps::switch::Caller::Participant(code),
            ));
        return next.run(request).await;
    }
    // In-process callers (tests) have no peer address; they share one bucket.
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED), |ConnectInfo(addr)| {
            addr.ip()
        });
    match rate_limit.check(ip) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let mut response = Problem::new(ErrorCode::RateLimited)
                .detail(format!("retry after {seconds} s"))
                .into_response();
            if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
    }
}
