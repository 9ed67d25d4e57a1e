//! The time sign-in state is judged by, and the one text form it is stored in.
//!
//! [`Clock::system`] is the wall clock. [`Clock::manual`] is a clock that only moves when told
//! to, so expiry and lockouts can be shown happening without waiting for them.
//!
//! Stored times are UTC, to the millisecond, as `YYYY-MM-DDTHH:MM:SS.mmmZ`: fixed width, so two
//! of them compare as text exactly as the instants do (SQLite), and PostgreSQL casts the same
//! text to `timestamptz` and prints it back with `to_char`.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

const STORED: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

#[derive(Debug, Clone)]
pub struct Clock(Source);

#[derive(Debug, Clone)]
enum Source {
    System,
    /// Milliseconds since the Unix epoch, shared by every clone.
    Manual(Arc<AtomicI64>),
}

impl Clock {
    pub fn system() -> Clock {
        Clock(Source::System)
    }

    /// A clock standing at `start` until [`Clock::advance`] moves it.
    pub fn manual(start: OffsetDateTime) -> Clock {
        Clock(Source::Manual(Arc::new(AtomicI64::new(millis(start)))))
    }

    /// Now, to the millisecond (the precision times are stored with).
    pub fn now(&self) -> OffsetDateTime {
        let ms = match &self.0 {
            Source::System => millis(OffsetDateTime::now_utc()),
            Source::Manual(ms) => ms.load(Ordering::SeqCst),
        };
        from_millis(ms)
    }

    /// Moves a manual clock forward; the wall clock cannot be moved, and ignores this.
    pub fn advance(&self, by: time::Duration) {
        if let Source::Manual(ms) = &self.0 {
            let by = i64::try_from(by.whole_milliseconds()).unwrap_or(i64::MAX);
            ms.fetch_add(by, Ordering::SeqCst);
        }
    }
}

fn millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}

fn from_millis(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The stored text of `t` (converted to UTC).
pub fn to_text(t: OffsetDateTime) -> String {
    t.to_offset(UtcOffset::UTC)
        .format(STORED)
        .unwrap_or_default()
}

/// Reads a stored time back.
pub fn from_text(text: &str) -> Result<OffsetDateTime, time::error::Parse> {
    time::PrimitiveDateTime::parse(text, STORED).map(|t| t.assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start = OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
        let clock = Clock::manual(start);
        let shared = clock.clone();
        assert_eq!(clock.now(), start);
        shared.advance(time::Duration::minutes(5));
        assert_eq!(clock.now(), start + time::Duration::minutes(5));
        let system = Clock::system();
        let before = system.now();
        system.advance(time::Duration::days(1));
        assert!(system.now() - before < time::Duration::hours(1));
    }

    #[test]
    fn stored_text_is_fixed_width_utc() {
        let t = time::macros::datetime!(2026-11-23 18:05:09.123456 +08:00);
        assert_eq!(to_text(t), "2026-11-23T10:05:09.123Z");
        assert_eq!(
            from_text("2026-11-23T10:05:09.123Z")
                .map(to_text)
                .as_deref(),
            Ok("2026-11-23T10:05:09.123Z")
        );
        assert!(from_text("2026-11-23 10:05:09").is_err());
    }

    proptest! {
        /// Text order is time order, so SQLite can compare stored times as text.
        #[test]
        fn text_order_is_time_order(a in 0i64..4_102_444_800_000, b in 0i64..4_102_444_800_000) {
            let (ta, tb) = (from_millis(a), from_millis(b));
            prop_assert_eq!(to_text(ta).cmp(&to_text(tb)), ta.cmp(&tb));
            prop_assert_eq!(from_text(&to_text(ta)).ok(), Some(ta));
        }

        #[test]
        fn any_text_parses_or_fails_without_panicking(text in "\\PC{0,40}") {
            let _ = from_text(&text);
        }
    }
}
