//! The rules of the exchange's webhooks, pure: the event types, what a notification says and to
//! whom, a participant's endpoint address, the JSON body, and the retry schedule. No I/O.
//!
//! A notification never carries personal data or a data payload: its type, the consent's id and
//! status, the time and its own id. A receiver that wants more asks the gateway, signed, as for
//! anything else.

use std::time::Duration;

pub use bauhinia_core::endpoint::EndpointUrl;
use bauhinia_core::retry::Schedule;
use bauhinia_core::FieldError;
use serde::Serialize;

use crate::consent::domain::{rfc3339, Action, Consent, ConsentId, ParticipantId, Status};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// A consumer asked for a consent; the owner has not decided yet.
    ConsentRequested,
    ConsentApproved,
    ConsentRejected,
    ConsentPaused,
    ConsentResumed,
    ConsentRevoked,
    ConsentExpired,
    /// To the consumer: a provider answered a fetch under the consent.
    DataReady,
    /// To the provider: its answer to a fetch under the consent was relayed.
    DataServed,
}

impl EventType {
    pub const ALL: [EventType; 9] = [
        EventType::ConsentRequested,
        EventType::ConsentApproved,
        EventType::ConsentRejected,
        EventType::ConsentPaused,
        EventType::ConsentResumed,
        EventType::ConsentRevoked,
        EventType::ConsentExpired,
        EventType::DataReady,
        EventType::DataServed,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            EventType::ConsentRequested => "consent.requested",
            EventType::ConsentApproved => "consent.approved",
            EventType::ConsentRejected => "consent.rejected",
            EventType::ConsentPaused => "consent.paused",
            EventType::ConsentResumed => "consent.resumed",
            EventType::ConsentRevoked => "consent.revoked",
            EventType::ConsentExpired => "consent.expired",
            EventType::DataReady => "data.ready",
            EventType::DataServed => "data.served",
        }
    }

    pub fn parse(text: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// The event a lifecycle action makes.
    pub const fn of_action(action: Action) -> EventType {
        match action {
            Action::Approve => EventType::ConsentApproved,
            Action::Reject => EventType::ConsentRejected,
            Action::Pause => EventType::ConsentPaused,
            Action::Resume => EventType::ConsentResumed,
            Action::Revoke => EventType::ConsentRevoked,
            Action::Expire => EventType::ConsentExpired,
        }
    }
}

/// Who hears of a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// The consent's consumer and every provider it names (read in the transaction).
    Parties,
    /// One participant.
    Participant(ParticipantId),
}

/// Something to tell participants, written in the transaction of the change it tells of. Each
/// participant of the audience that has an endpoint gets its own delivery, with its own event
/// id; one without an endpoint gets nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub kind: EventType,
    pub consent: ConsentId,
    /// The consent's status after the change.
    pub status: Status,
    pub at_s: i64,
    pub to: Audience,
}

impl Notification {
    /// `consent.requested`, to the consumer and the providers.
    pub fn requested(consent: &Consent) -> Notification {
        Notification {
            kind: EventType::ConsentRequested,
            consent: consent.id.clone(),
            status: consent.status,
            at_s: consent.created_at_s,
            to: Audience::Parties,
        }
    }

    /// The lifecycle event of `action`, which moved the consent to `to`, to the consumer and
    /// the providers.
    pub fn changed(consent: &ConsentId, action: Action, to: Status, at_s: i64) -> Notification {
        Notification {
            kind: EventType::of_action(action),
            consent: consent.clone(),
            status: to,
            at_s,
            to: Audience::Parties,
        }
    }

    /// A fetch served under `consent` at `at_s`: `data.ready` to the consumer and `data.served`
    /// to the provider that answered. A fetch is served only under an active consent.
    pub fn data_fetched(
        consent: &ConsentId,
        consumer: &ParticipantId,
        provider: &ParticipantId,
        at_s: i64,
    ) -> Vec<Notification> {
        let to = |kind, who: &ParticipantId| Notification {
            kind,
            consent: consent.clone(),
            status: Status::Active,
            at_s,
            to: Audience::Participant(who.clone()),
        };
        vec![
            to(EventType::DataReady, consumer),
            to(EventType::DataServed, provider),
        ]
    }
}

/// The JSON body a participant receives. The same bytes on every attempt and replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Envelope<'a> {
    /// The event's id (a UUID): receivers de-duplicate on it.
    pub id: &'a str,
    #[serde(rename = "type")]
    pub kind: &'a str,
    /// The participant the event is for.
    pub participant: &'a str,
    pub consent: &'a str,
    /// The consent's status after the event.
    pub status: &'a str,
    /// When it happened, RFC 3339 in UTC.
    pub occurred_at: String,
}

impl Envelope<'_> {
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// The time as the envelope writes it.
pub fn occurred_at(at_s: i64) -> String {
    rfc3339(at_s)
}

/// A participant's endpoint as the operator gives it: https, or http only to a loopback host;
/// no credentials or fragment; at most 2048 bytes. A fault is named at `/url`.
pub fn endpoint(text: &str) -> Result<EndpointUrl, FieldError> {
    EndpointUrl::parse(text.trim()).map_err(|why| FieldError::new("/url", why))
}

/// 10 s, 1 min, 5 min, 30 min, 2 h, 6 h, then 12 h after the attempt before, each ±10 %: eight
/// attempts over about 21 hours; then the delivery is a dead letter until the operator replays
/// it.
pub const RETRY_SCHEDULE: Schedule = Schedule {
    delays: &[
        Duration::from_secs(10),
        Duration::from_secs(60),
        Duration::from_secs(300),
        Duration::from_secs(1800),
        Duration::from_secs(7200),
        Duration::from_secs(21_600),
        Duration::from_secs(43_200),
    ],
    repeat: Duration::ZERO,
    total: Duration::from_secs(86_400),
    jitter_per_mille: 100,
};

/// What comes after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Try again at this time (Unix milliseconds).
    RetryAt(i64),
    /// That was the last attempt: a dead letter.
    Dead,
}

/// After `attempts` attempts (the failed one included) at `now_ms`: when to try again, jittered.
pub fn after_failure(schedule: &Schedule, attempts: i64, now_ms: i64) -> AfterFailure {
    let failed = u32::try_from(attempts).unwrap_or(u32::MAX);
    match schedule.delay_after(failed) {
        Some(delay) => {
            let delay = schedule.jittered(delay);
            let delay_ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2);
            AfterFailure::RetryAt(now_ms.saturating_add(delay_ms))
        }
        None => AfterFailure::Dead,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_round_trip_and_cover_every_action() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
        }
        for action in Action::ALL {
            assert!(EventType::of_action(action)
                .as_str()
                .starts_with("consent."));
        }
    }

    #[test]
    fn the_schedule_gives_eight_attempts_within_a_day() {
        let s = RETRY_SCHEDULE;
        assert_eq!(s.attempts_max(), 8);
        let total: Duration = (1..8).filter_map(|n| s.delay_after(n)).sum();
        assert_eq!(total, Duration::from_secs(74_170));
        assert_eq!(after_failure(&s, 8, 0), AfterFailure::Dead);
        let AfterFailure::RetryAt(at) = after_failure(&s, 1, 1_000) else {
            panic!("a first failure is retried");
        };
        assert!((10_000..=12_000).contains(&at), "{at}");
    }

    #[test]
    fn endpoints_are_named_at_url() {
        let e = endpoint("http://example.hk/x").err();
        assert_eq!(e.map(|e| e.pointer), Some("/url".to_owned()));
        let url = endpoint(" https://h.example/p/q?token=abc ").expect("valid");
        assert_eq!(url.path(), "/p/q");
    }

    #[test]
    fn the_envelope_carries_no_more_than_it_says() {
        let body = Envelope {
            id: "e",
            kind: "consent.approved",
            participant: "bank-024",
            consent: "c",
            status: "ACTIVE",
            occurred_at: occurred_at(0),
        }
        .to_bytes();
        let value: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        let keys: Vec<&str> = value
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(
            keys,
            [
                "consent",
                "id",
                "occurred_at",
                "participant",
                "status",
                "type"
            ]
        );
        assert_eq!(value["occurred_at"], "1970-01-01T00:00:00Z");
    }
}
