//! Retrying something that failed: a schedule of delays between attempts, each moved by a
//! random jitter so that many failures at once are not retried at once. Pure but for the
//! random draw; both FPS's and the data exchange's webhooks keep to one.

use std::time::Duration;

/// When to try again after a failed attempt: the listed delays in turn, then every `repeat`
/// until the attempts together have spanned `total`; then the delivery has failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub delays: &'static [Duration],
    pub repeat: Duration,
    pub total: Duration,
    /// Each delay is moved by up to this fraction either way (per mille), so that receivers
    /// that failed together are not retried together.
    pub jitter_per_mille: u32,
}

impl Schedule {
    /// The delay before the next attempt after `failed` attempts (1 = the first one failed),
    /// before jitter; `None` when there is no next attempt.
    pub fn delay_after(&self, failed: u32) -> Option<Duration> {
        let index = usize::try_from(failed.checked_sub(1)?).ok()?;
        let nominal = |i: usize| self.delays.get(i).copied().unwrap_or(self.repeat);
        let elapsed: Duration = (0..index).map(nominal).sum();
        let next = nominal(index);
        (!next.is_zero() && elapsed + next <= self.total).then_some(next)
    }

    /// `delay` moved by a random amount within the jitter.
    pub fn jittered(&self, delay: Duration) -> Duration {
        let mut byte = [0u8; 2];
        crate::crypto::random_bytes(&mut byte);
        // A uniform draw in [-jitter, +jitter] per mille.
        let span = i64::from(self.jitter_per_mille);
        let draw = i64::from(u16::from_be_bytes(byte)) % (2 * span + 1) - span;
        let ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
        let moved = ms.saturating_add(ms.saturating_mul(draw) / 1000).max(0);
        Duration::from_millis(u64::try_from(moved).unwrap_or(0))
    }
}

impl Schedule {
    /// How many attempts a delivery gets in all: the first and every retry.
    pub fn attempts_max(&self) -> u32 {
        let retries = (1..=u32::MAX)
            .take_while(|failed| self.delay_after(*failed).is_some())
            .count();
        u32::try_from(retries).unwrap_or(u32::MAX).saturating_add(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_count_the_first_and_every_retry() {
        const S: Schedule = Schedule {
            delays: &[Duration::from_secs(1), Duration::from_secs(2)],
            repeat: Duration::from_secs(4),
            total: Duration::from_secs(11),
            jitter_per_mille: 0,
        };
        // 1 + 2 + 4 = 7 ≤ 11, + 4 = 11 ≤ 11, + 4 > 11: four retries.
        assert_eq!(S.attempts_max(), 5);
        assert_eq!(S.jittered(Duration::from_secs(3)), Duration::from_secs(3));
    }
}
