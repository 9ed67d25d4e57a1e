//! One writer per ledger: a thread that owns the ledger's state and journal, takes every
//! request waiting (up to [`BATCH_TRANSFERS_MAX`] transfers), answers them in memory, makes the
//! whole batch durable in one transaction (one fsync), and only then replies. Hot accounts cost
//! nothing extra: there are no row locks, only one thread that applies transfers in order.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, oneshot};

use super::journal::Journal;
use super::model::{Account, Outcome, Transfer};
use super::state::{BatchOutput, LedgerState};

/// The most transfers one batch (one commit) takes.
pub const BATCH_TRANSFERS_MAX: usize = 32_768;
const QUEUE_MAX: usize = 4_096;

#[derive(Debug, Clone, thiserror::Error)]
pub enum LedgerError {
    /// The batch could not be made durable; nothing of it happened.
    #[error("the ledger could not commit the batch: {0}")]
    Journal(String),
    /// Conservation would have been broken; nothing of the batch happened.
    #[error("the ledger refused a batch that broke conservation: {0}")]
    Conservation(String),
    #[error("the ledger's writer has stopped")]
    Stopped,
    #[error("an account with id {0:#x} already exists")]
    AccountExists(u128),
}

/// Counters the writer keeps, for `/metrics` and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngineStats {
    pub batches: u64,
    pub transfers: u64,
}

type Reply = oneshot::Sender<Result<Vec<Outcome>, LedgerError>>;

enum Command {
    Transfers {
        transfers: Vec<Transfer>,
        actor: String,
        reply: Reply,
    },
    CreateAccounts {
        accounts: Vec<Account>,
        reply: oneshot::Sender<Result<(), LedgerError>>,
    },
    Accounts {
        reply: oneshot::Sender<Vec<Account>>,
    },
}

impl Command {
    fn weight(&self) -> usize {
        match self {
            Command::Transfers { transfers, .. } => transfers.len().max(1),
            Command::CreateAccounts { .. } | Command::Accounts { .. } => 1,
        }
    }
}

/// A handle to a ledger's writer. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Ledger {
    commands: mpsc::Sender<Command>,
    counters: Arc<Counters>,
}

/// What the writer has committed, readable without a round trip to it.
#[derive(Debug, Default)]
struct Counters {
    batches: AtomicU64,
    transfers: AtomicU64,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Command")
    }
}

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl Ledger {
    /// Starts the writer thread, which loads the journal (checking conservation) before it
    /// takes requests. Must be called inside the runtime.
    pub async fn start(mut journal: Journal, name: &str) -> Result<Ledger, LedgerError> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|e| LedgerError::Journal(format!("the ledger needs a runtime: {e}")))?;
        let (commands, queue) = mpsc::channel(QUEUE_MAX);
        let (ready, started) = oneshot::channel();
        let counters = Arc::new(Counters::default());
        let writer_counters = Arc::clone(&counters);
        std::thread::Builder::new()
            .name(format!("ledger-{name}"))
            .spawn(move || {
                // Loading may block on the runtime (PostgreSQL): do it here, not in the caller.
                match load_state(&mut journal) {
                    Ok(state) => {
                        let _ = ready.send(Ok(()));
                        run(state, journal, queue, &runtime, &writer_counters);
                    }
                    Err(e) => {
                        let _ = ready.send(Err(e));
                    }
                }
            })
            .map_err(|e| LedgerError::Journal(format!("cannot start the ledger's writer: {e}")))?;
        started.await.map_err(|_| LedgerError::Stopped)??;
        Ok(Ledger { commands, counters })
    }

    /// Submits one request: its transfers are answered in order, linked chains as one.
    pub async fn submit(
        &self,
        transfers: Vec<Transfer>,
        actor: String,
    ) -> Result<Vec<Outcome>, LedgerError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Transfers {
                transfers,
                actor,
                reply,
            })
            .await
            .map_err(|_| LedgerError::Stopped)?;
        answer.await.map_err(|_| LedgerError::Stopped)?
    }

    /// Creates accounts (all or none).
    pub async fn create_accounts(&self, accounts: Vec<Account>) -> Result<(), LedgerError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::CreateAccounts { accounts, reply })
            .await
            .map_err(|_| LedgerError::Stopped)?;
        answer.await.map_err(|_| LedgerError::Stopped)?
    }

    /// What the writer has committed since it started.
    pub fn stats(&self) -> EngineStats {
        EngineStats {
            batches: self.counters.batches.load(Ordering::Relaxed),
            transfers: self.counters.transfers.load(Ordering::Relaxed),
        }
    }

    /// The writer's accounts with their totals as of the last committed batch.
    pub async fn accounts(&self) -> Result<Vec<Account>, LedgerError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Accounts { reply })
            .await
            .map_err(|_| LedgerError::Stopped)?;
        answer.await.map_err(|_| LedgerError::Stopped)
    }
}

fn load_state(journal: &mut Journal) -> Result<LedgerState, LedgerError> {
    let state = journal
        .load()
        .map_err(|e| LedgerError::Journal(e.to_string()))?
        .into_state();
    if let Some((currency, posted, pending)) = state
        .sums()
        .into_iter()
        .find(|(_, posted, pending)| *posted != 0 || *pending != 0)
    {
        return Err(LedgerError::Conservation(format!(
            "the journal's accounts sum to {posted} posted and {pending} pending in {currency:?}"
        )));
    }
    Ok(state)
}

fn run(
    mut state: LedgerState,
    mut journal: Journal,
    mut queue: mpsc::Receiver<Command>,
    runtime: &tokio::runtime::Handle,
    counters: &Counters,
) {
    let mut batch: Vec<Command> = Vec::new();
    loop {
        // Wait for work, or for the next pending transfer to time out.
        let first = match state.next_expiry_ns() {
            Some(at) => {
                let wait = Duration::from_nanos(u64::try_from(at - now_ns()).unwrap_or(0));
                // The timer must be made inside the runtime's context.
                match runtime.block_on(async { tokio::time::timeout(wait, queue.recv()).await }) {
                    Ok(Some(command)) => Some(command),
                    Ok(None) => return,
                    Err(_) => None,
                }
            }
            None => match queue.blocking_recv() {
                Some(command) => Some(command),
                None => return,
            },
        };
        let mut weight = 0;
        if let Some(command) = first {
            weight += command.weight();
            batch.push(command);
        }
        while weight < BATCH_TRANSFERS_MAX {
            match queue.try_recv() {
                Ok(command) => {
                    weight += command.weight();
                    batch.push(command);
                }
                Err(_) => break,
            }
        }
        run_batch(&mut state, &mut journal, &mut batch, counters);
    }
}

fn run_batch(
    state: &mut LedgerState,
    journal: &mut Journal,
    batch: &mut Vec<Command>,
    counters: &Counters,
) {
    let now = now_ns();
    let mut out = BatchOutput::default();
    let mut answers: Vec<(Reply, Vec<Outcome>)> = Vec::new();
    let mut snapshots = Vec::new();
    let mut failure: Option<LedgerError> = None;
    state.begin_batch();
    state.expire(now, &mut out);
    for command in batch.drain(..) {
        match command {
            Command::Transfers {
                transfers,
                actor,
                reply,
            } => {
                if failure.is_some() {
                    answers.push((reply, Vec::new()));
                    continue;
                }
                match state.apply_request(&transfers, &actor, now, journal, &mut out) {
                    Ok(outcomes) => answers.push((reply, outcomes)),
                    Err(e) => {
                        failure = Some(LedgerError::Journal(e.to_string()));
                        answers.push((reply, Vec::new()));
                    }
                }
            }
            Command::CreateAccounts { accounts, reply } => {
                let _ = reply.send(create_accounts(state, journal, accounts, now));
            }
            // Answered after the batch, so that no one sees totals that are not yet durable.
            Command::Accounts { reply } => snapshots.push(reply),
        }
    }
    if failure.is_none() {
        if let Err(e) = state.finish_batch(&mut out) {
            tracing::error!(error = %e, "ledger batch refused");
            failure = Some(LedgerError::Conservation(e.to_string()));
        }
    } else {
        state.rollback_batch();
    }
    let writes = !(out.recorded.is_empty() && out.expired.is_empty());
    if failure.is_none() && writes {
        if let Err(e) = journal.write_batch(&out, state) {
            tracing::error!(error = %e, "ledger batch not committed; rolled back");
            // `finish_batch` already forgot the undo log: rebuild from the journal, which
            // holds exactly the committed batches.
            match journal.load() {
                Ok(loaded) => *state = loaded.into_state(),
                Err(reload) => tracing::error!(error = %reload, "ledger state not reloaded"),
            }
            failure = Some(LedgerError::Journal(e.to_string()));
        }
    }
    if failure.is_none() && writes {
        counters.batches.fetch_add(1, Ordering::Relaxed);
        counters.transfers.fetch_add(
            u64::try_from(out.recorded.len()).unwrap_or(0),
            Ordering::Relaxed,
        );
    }
    for reply in snapshots {
        let _ = reply.send(state.accounts().to_vec());
    }
    for (reply, outcomes) in answers {
        let _ = reply.send(match &failure {
            None => Ok(outcomes),
            Some(e) => Err(e.clone()),
        });
    }
}

/// Accounts are created between batches' transfers, committed at once (they are rare).
fn create_accounts(
    state: &mut LedgerState,
    journal: &mut Journal,
    mut accounts: Vec<Account>,
    now: i64,
) -> Result<(), LedgerError> {
    let mut seen = std::collections::HashSet::new();
    for a in &mut accounts {
        if state.account(a.id).is_some() || !seen.insert(a.id) {
            return Err(LedgerError::AccountExists(a.id));
        }
        a.created_at_ns = now;
    }
    journal
        .insert_accounts(&accounts)
        .map_err(|e| LedgerError::Journal(e.to_string()))?;
    for a in accounts {
        state.add_account(a);
    }
    Ok(())
}
