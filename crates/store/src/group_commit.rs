//! Group commit for the embedded database: many small write transactions, committed together.
//!
//! SQLite has one writer at a time, and a durable commit costs an fsync. Through sqlx every
//! statement is also a round trip to the connection's own thread; under load each of those
//! waits for a core, so a transaction of seven statements holds the write lock for most of a
//! millisecond. [`GroupCommit`] instead owns a second write connection on a thread of its own.
//! Callers hand it a closure (a *job*: synchronous SQL through `rusqlite`); the thread takes
//! every job waiting, runs each inside its own savepoint of one transaction, commits once and
//! then answers them all. A job that fails rolls back to its savepoint and leaves the others
//! alone; a commit that fails fails every job of the batch, and nothing of it is written.
//!
//! The two write connections never write at once: for each batch the thread takes the
//! process's write lock (see `SqliteDb`) and holds it until the commit, so it queues in arrival
//! order with every other writer of the process (`write_tx!`, audit appends). Taking and
//! giving back a free lock is an atomic operation: the thread never waits on the async runtime.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::{mpsc, oneshot, Semaphore};

use crate::StoreError;

/// The most jobs one transaction takes; more wait for the next one.
const BATCH_MAX: usize = 256;
/// Jobs waiting for the thread before callers wait to hand theirs over.
const QUEUE_MAX: usize = 4096;
/// Prepared statements kept per connection (the hot paths use about a dozen).
const STATEMENT_CACHE: usize = 64;

/// A handle on the group-commit thread. Cheap to clone; the thread ends when the last handle
/// is dropped.
#[derive(Debug, Clone)]
pub struct GroupCommit {
    jobs: mpsc::Sender<Box<dyn Job>>,
    counters: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    batches: AtomicU64,
    jobs: AtomicU64,
}

/// What the thread has done since it started: transactions tried and jobs run in them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitStats {
    pub batches: u64,
    pub jobs: u64,
}

/// One caller's work and where its answer goes.
trait Job: Send {
    /// Runs the work on the open transaction; `false` when it failed.
    fn work(&mut self, conn: &Connection) -> bool;
    /// Answers the caller once the batch is committed (`None`) or failed (`Some(why)`).
    fn answer(self: Box<Self>, failed: Option<&str>);
}

struct Pending<T, F> {
    work: Option<F>,
    outcome: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Job for Pending<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
{
    fn work(&mut self, conn: &Connection) -> bool {
        let Some(work) = self.work.take() else {
            return false;
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| work(conn))).unwrap_or_else(|_| {
            Err(StoreError::Commit(
                "a group-commit job panicked; its changes were rolled back".into(),
            ))
        });
        let ok = outcome.is_ok();
        self.outcome = Some(outcome);
        ok
    }

    fn answer(self: Box<Self>, failed: Option<&str>) {
        let outcome = match (failed, self.outcome) {
            (None, Some(outcome)) => outcome,
            (Some(why), Some(Err(own))) => Err(StoreError::Commit(format!("{own}; {why}"))),
            (Some(why), _) => Err(StoreError::Commit(why.to_owned())),
            (None, None) => Err(StoreError::Commit("the job did not run".into())),
        };
        // The caller may have gone (its request was cancelled): nothing to tell.
        let _ = self.reply.send(outcome);
    }
}

impl GroupCommit {
    /// Opens the second write connection on `path` and starts its thread. `write_lock` (one
    /// permit) is held for each batch. Must be called inside the runtime.
    pub fn start(
        path: &Path,
        busy_timeout: Duration,
        write_lock: Arc<Semaphore>,
    ) -> Result<GroupCommit, StoreError> {
        let conn = open(path, busy_timeout)?;
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|e| StoreError::Commit(format!("group commit needs a runtime: {e}")))?;
        let (jobs, queue) = mpsc::channel(QUEUE_MAX);
        let counters = Arc::new(Counters::default());
        let thread_counters = Arc::clone(&counters);
        std::thread::Builder::new()
            .name("store-commit".into())
            .spawn(move || run(conn, queue, &write_lock, &runtime, &thread_counters))
            .map_err(|e| {
                StoreError::Commit(format!("cannot start the group-commit thread: {e}"))
            })?;
        Ok(GroupCommit { jobs, counters })
    }

    pub fn stats(&self) -> CommitStats {
        CommitStats {
            batches: self.counters.batches.load(Ordering::Relaxed),
            jobs: self.counters.jobs.load(Ordering::Relaxed),
        }
    }

    /// Runs `work` inside the next group transaction and returns its value once that
    /// transaction is durably committed. An error from `work` rolls back its own changes only.
    /// `work` must not commit, roll back or release savepoints it did not make. Never await
    /// this while holding the write lock (inside `begin_write`/`write`): the batch needs it.
    pub async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Pending {
            work: Some(work),
            outcome: None,
            reply,
        });
        self.jobs
            .send(job)
            .await
            .map_err(|_| StoreError::Commit("the group-commit thread has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Commit("the group-commit thread dropped the job".into()))?
    }
}

pub(crate) fn open(path: &Path, busy_timeout: Duration) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // The same durability as the sqlx connections: WAL, and a commit survives power loss.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Each job runs in its own savepoint, whose undo pages go to a sub-journal; by default it
    // spills to a temporary file past 64 KiB, and each page is then a `pwrite`. In memory, it
    // holds at most a batch's pages and costs no system call.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "wal_autocheckpoint", crate::WAL_AUTOCHECKPOINT_PAGES)?;
    conn.busy_timeout(busy_timeout)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

fn run(
    conn: Connection,
    mut queue: mpsc::Receiver<Box<dyn Job>>,
    write_lock: &Semaphore,
    runtime: &tokio::runtime::Handle,
    counters: &Counters,
) {
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(BATCH_MAX);
    while let Some(first) = queue.blocking_recv() {
        batch.push(first);
        while batch.len() < BATCH_MAX {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // Free, the lock is taken at once; held, the holder's release wakes this thread.
        let lock = match write_lock.try_acquire() {
            Ok(permit) => Ok(permit),
            Err(_) => runtime.block_on(write_lock.acquire()),
        };
        let failed = match lock {
            Ok(_held) => commit(&conn, &mut batch).err(),
            Err(e) => Some(format!("cannot take the write lock: {e}")),
        };
        counters.batches.fetch_add(1, Ordering::Relaxed);
        counters
            .jobs
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        if let Some(why) = &failed {
            tracing::error!(jobs = batch.len(), error = %why, "group commit failed");
        }
        for job in batch.drain(..) {
            job.answer(failed.as_deref());
        }
    }
}

/// Runs every job in its own savepoint of one transaction and commits. `Err`: nothing of the
/// batch is written.
fn commit(conn: &Connection, batch: &mut [Box<dyn Job>]) -> Result<(), String> {
    let fail = |e: rusqlite::Error| {
        // Ends the transaction if one is open; an error here means none was.
        let _ = conn.execute_batch("ROLLBACK");
        format!("the batch was not committed: {e}")
    };
    conn.execute_batch("BEGIN IMMEDIATE")
        .map_err(|e| format!("the batch could not begin: {e}"))?;
    // Prepared once and kept: three statements per job are worth not parsing each time.
    let run = |sql: &str| {
        conn.prepare_cached(sql)
            .and_then(|mut s| s.execute([]))
            .map(drop)
    };
    for job in batch.iter_mut() {
        run("SAVEPOINT job").map_err(fail)?;
        if !job.work(conn) {
            run("ROLLBACK TO job").map_err(fail)?;
        }
        run("RELEASE job").map_err(fail)?;
    }
    conn.execute_batch("COMMIT").map_err(fail)
}
