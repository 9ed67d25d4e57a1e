//! A background loop that a service starts and the binary stops (webhook delivery). Each round
//! does a bounded share of work and says whether more is waiting: the loop goes straight on
//! while it is, and otherwise sleeps for the poll interval. A stop is seen between rounds, never
//! in the middle of one, so the work in flight finishes and records before the task ends.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

/// The running loop. Dropping it stops the loop after the round in flight.
#[derive(Debug)]
pub struct Background {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Background {
    /// Runs `round` on the current runtime until stopped; `round` answers whether more work is
    /// waiting (a failed round should log and answer `false`, so it is retried after a poll).
    pub fn spawn<F, Fut>(poll: Duration, mut round: F) -> Background
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = bool> + Send + 'static,
    {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            while !*stopped.borrow() {
                if round().await {
                    continue;
                }
                tokio::select! {
                    // A dropped handle stops the loop too.
                    changed = stopped.changed() => if changed.is_err() { break },
                    () = tokio::time::sleep(poll) => {}
                }
            }
        });
        Background { stop, task }
    }

    /// Stops taking new rounds, lets the one in flight finish, and returns.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::warn!(error = %e, "a background task ended abnormally");
        }
    }
}

/// How a webhook delivery worker runs (FPS's and the exchange's): pages of at most
/// `4 × concurrency` due deliveries, each attempt signed afresh and bounded by `timeout`.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub schedule: crate::retry::Schedule,
    /// How often it looks for work when the last round left none waiting.
    pub poll: Duration,
    /// How long one attempt may take, connection included.
    pub timeout: Duration,
    /// How long a claimed delivery is left alone before another worker may take it: longer
    /// than a page of attempts can take.
    pub lease: Duration,
    /// The most attempts in flight at once.
    pub concurrency: usize,
}

impl WorkerConfig {
    /// Production's: a poll a second, 10-second attempts, a 60-second lease, 16 at once.
    pub const fn with_schedule(schedule: crate::retry::Schedule) -> WorkerConfig {
        WorkerConfig {
            schedule,
            poll: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
            lease: Duration::from_secs(60),
            concurrency: 16,
        }
    }

    /// The most deliveries one page claims.
    pub fn page_max(&self) -> i64 {
        i64::try_from(self.concurrency.max(1).saturating_mul(4)).unwrap_or(64)
    }
}

/// The wall clock in Unix milliseconds: the unit retry times are kept in.
pub fn now_ms() -> i64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    i64::try_from(nanos).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn rounds_run_until_stopped_and_go_straight_on_while_work_waits() {
        let rounds = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&rounds);
        // A poll far longer than the test: only "more is waiting" can make a second round.
        let background = Background::spawn(Duration::from_secs(3600), move || {
            let counted = Arc::clone(&counted);
            async move { counted.fetch_add(1, Ordering::SeqCst) < 4 }
        });
        for _ in 0..200 {
            if rounds.load(Ordering::SeqCst) >= 5 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        background.stop().await;
        assert_eq!(rounds.load(Ordering::SeqCst), 5);
        assert!(now_ms() > 1_700_000_000_000);
    }
}
