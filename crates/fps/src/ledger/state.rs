//! The ledger's state machine: pure, in memory, deterministic. The writer feeds it batches of
//! requests and journals what it answers; property tests drive it directly.
//!
//! A batch is all-or-nothing towards the journal: [`LedgerState::begin_batch`] starts one,
//! [`LedgerState::finish_batch`] checks conservation over every account it touched and hands
//! back what to write, and [`LedgerState::rollback_batch`] undoes it (when the journal fails).
//! Within a batch, a linked chain is undone on its own when one of its transfers is refused.

use std::collections::{BTreeSet, HashMap, HashSet};

use bauhinia_core::Currency;

use super::model::{
    Account, Id, Kind, Outcome, Recorded, Refusal, Totals, Transfer, REFERENCE_MAX, TIMEOUT_MAX_S,
};

/// What the journal knows of earlier batches (the state keeps only ids and open pending
/// transfers in memory).
pub trait History {
    /// The transfer answered earlier under `id`, if any.
    fn transfer(&mut self, id: Id) -> Result<Option<Recorded>, HistoryError>;
    /// How a pending transfer that is no longer open ended, if it ever was accepted.
    fn resolution(&mut self, pending_id: Id) -> Result<Option<Resolution>, HistoryError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the ledger's journal could not be read: {0}")]
pub struct HistoryError(pub String);

/// How a pending transfer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    Posted,
    Voided,
    Expired,
}

/// A pending transfer still open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub debit: usize,
    pub credit: usize,
    pub amount: i64,
    pub currency: Currency,
    pub expires_at_ns: i64,
}

/// Everything a batch changed, for the journal.
#[derive(Debug, Default)]
pub struct BatchOutput {
    /// Every transfer answered in the batch, accepted or refused, in order.
    pub recorded: Vec<Recorded>,
    /// Pending transfers that timed out in this batch, with when.
    pub expired: Vec<(Id, i64)>,
    /// The accounts whose totals changed (indexes into [`LedgerState::accounts`]).
    pub touched: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    #[error(transparent)]
    History(#[from] HistoryError),
    /// Never expected: the batch would have created or destroyed money. Nothing is written.
    #[error("conservation violated in {currency:?}: the batch's changes sum to {posted} posted and {pending} pending, not 0")]
    Conservation {
        currency: Currency,
        posted: i128,
        pending: i128,
    },
}

#[derive(Debug)]
enum Undo {
    Totals(usize, Totals),
    Id(Id),
    PendingAdded(Id, i64),
    PendingRemoved(Id, Pending),
    Resolved(Id),
}

#[derive(Debug, Default)]
pub struct LedgerState {
    accounts: Vec<Account>,
    index: HashMap<Id, usize>,
    ids: HashSet<Id>,
    pending: HashMap<Id, Pending>,
    expiries: BTreeSet<(i64, Id)>,
    last_timestamp_ns: i64,
    // The open batch.
    undo: Vec<Undo>,
    /// The totals of each account the batch touched, as they were before it.
    before: HashMap<usize, Totals>,
    /// Transfers answered in this batch, by id → index into the output's `recorded`.
    batch_ids: HashMap<Id, usize>,
    /// Pending transfers resolved in this batch.
    batch_resolutions: HashMap<Id, Resolution>,
    batch_timestamp_start: i64,
}

impl LedgerState {
    /// A state from what the journal holds: accounts with their totals, every transfer id
    /// answered, the open pending transfers and the latest timestamp.
    pub fn restore(
        accounts: Vec<Account>,
        ids: HashSet<Id>,
        pending: Vec<(Id, Pending)>,
        last_timestamp_ns: i64,
    ) -> LedgerState {
        let index = accounts
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id, i))
            .collect();
        let expiries = pending
            .iter()
            .map(|(id, p)| (p.expires_at_ns, *id))
            .collect();
        LedgerState {
            accounts,
            index,
            ids,
            pending: pending.into_iter().collect(),
            expiries,
            last_timestamp_ns,
            ..LedgerState::default()
        }
    }

    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    pub fn account(&self, id: Id) -> Option<&Account> {
        self.index.get(&id).and_then(|&i| self.accounts.get(i))
    }

    pub fn account_index(&self, id: Id) -> Option<usize> {
        self.index.get(&id).copied()
    }

    pub fn open_pending(&self) -> usize {
        self.pending.len()
    }

    pub fn transfers_known(&self) -> usize {
        self.ids.len()
    }

    pub fn last_timestamp_ns(&self) -> i64 {
        self.last_timestamp_ns
    }

    /// The earliest time a pending transfer expires, if any is open.
    pub fn next_expiry_ns(&self) -> Option<i64> {
        self.expiries.first().map(|(at, _)| *at)
    }

    /// Adds an account (outside any batch; the caller journals it first). `false` if the id
    /// is taken.
    pub fn add_account(&mut self, mut account: Account) -> bool {
        if self.index.contains_key(&account.id) {
            return false;
        }
        account.totals = Totals::default();
        self.index.insert(account.id, self.accounts.len());
        self.accounts.push(account);
        true
    }

    /// Per currency, the sum of posted and of pending balances over all accounts: both zero in
    /// a consistent ledger.
    pub fn sums(&self) -> Vec<(Currency, i128, i128)> {
        let mut sums: Vec<(Currency, i128, i128)> = Vec::new();
        for account in &self.accounts {
            let t = &account.totals;
            let pending = i128::from(t.credits_pending) - i128::from(t.debits_pending);
            match sums.iter_mut().find(|(c, _, _)| *c == account.currency) {
                Some(entry) => {
                    entry.1 += t.balance();
                    entry.2 += pending;
                }
                None => sums.push((account.currency, t.balance(), pending)),
            }
        }
        sums
    }

    fn next_timestamp(&mut self, now_ns: i64) -> i64 {
        self.last_timestamp_ns = now_ns.max(self.last_timestamp_ns.saturating_add(1));
        self.last_timestamp_ns
    }

    pub fn begin_batch(&mut self) {
        self.undo.clear();
        self.before.clear();
        self.batch_ids.clear();
        self.batch_resolutions.clear();
        self.batch_timestamp_start = self.last_timestamp_ns;
    }

    /// Undoes everything since [`LedgerState::begin_batch`].
    pub fn rollback_batch(&mut self) {
        self.undo_to(0);
        self.before.clear();
        self.batch_ids.clear();
        self.last_timestamp_ns = self.batch_timestamp_start;
    }

    /// Ends the batch: checks that its changes sum to zero per currency and lists the touched
    /// accounts. On an error the batch is rolled back.
    pub fn finish_batch(&mut self, out: &mut BatchOutput) -> Result<(), BatchError> {
        let mut deltas: Vec<(Currency, i128, i128)> = Vec::new();
        out.touched.clear();
        for (&i, before) in &self.before {
            let Some(account) = self.accounts.get(i) else {
                continue;
            };
            let now = &account.totals;
            let posted = now.balance() - before.balance();
            let pending = (i128::from(now.credits_pending) - i128::from(now.debits_pending))
                - (i128::from(before.credits_pending) - i128::from(before.debits_pending));
            match deltas.iter_mut().find(|(c, _, _)| *c == account.currency) {
                Some(d) => {
                    d.1 += posted;
                    d.2 += pending;
                }
                None => deltas.push((account.currency, posted, pending)),
            }
            if now != before {
                out.touched.push(i);
            }
        }
        out.touched.sort_unstable();
        if let Some(&(currency, posted, pending)) = deltas
            .iter()
            .find(|(_, posted, pending)| *posted != 0 || *pending != 0)
        {
            self.rollback_batch();
            return Err(BatchError::Conservation {
                currency,
                posted,
                pending,
            });
        }
        self.undo.clear();
        self.before.clear();
        self.batch_ids.clear();
        self.batch_resolutions.clear();
        Ok(())
    }

    fn undo_to(&mut self, mark: usize) {
        while self.undo.len() > mark {
            let Some(entry) = self.undo.pop() else { break };
            match entry {
                Undo::Totals(i, totals) => {
                    if let Some(a) = self.accounts.get_mut(i) {
                        a.totals = totals;
                    }
                }
                Undo::Id(id) => {
                    self.ids.remove(&id);
                }
                Undo::PendingAdded(id, expires_at_ns) => {
                    self.pending.remove(&id);
                    self.expiries.remove(&(expires_at_ns, id));
                }
                Undo::PendingRemoved(id, pending) => {
                    self.expiries.insert((pending.expires_at_ns, id));
                    self.pending.insert(id, pending);
                }
                Undo::Resolved(id) => {
                    self.batch_resolutions.remove(&id);
                }
            }
        }
    }

    fn set_totals(&mut self, i: usize, totals: Totals) {
        if let Some(account) = self.accounts.get_mut(i) {
            let old = account.totals;
            account.totals = totals;
            self.before.entry(i).or_insert(old);
            self.undo.push(Undo::Totals(i, old));
        }
    }

    fn totals(&self, i: usize) -> Totals {
        self.accounts.get(i).map(|a| a.totals).unwrap_or_default()
    }

    /// Releases every pending transfer whose timeout has passed by `now_ns`.
    pub fn expire(&mut self, now_ns: i64, out: &mut BatchOutput) {
        while let Some(&(at, id)) = self.expiries.first() {
            if at > now_ns {
                break;
            }
            self.expiries.pop_first();
            let Some(p) = self.pending.remove(&id) else {
                continue;
            };
            let mut debit = self.totals(p.debit);
            debit.debits_pending -= p.amount;
            self.set_totals(p.debit, debit);
            let mut credit = self.totals(p.credit);
            credit.credits_pending -= p.amount;
            self.set_totals(p.credit, credit);
            self.undo.push(Undo::PendingRemoved(id, p));
            self.batch_resolutions.insert(id, Resolution::Expired);
            self.undo.push(Undo::Resolved(id));
            let ts = self.next_timestamp(now_ns);
            out.expired.push((id, ts));
        }
    }

    /// Answers one request (its transfers, with linked chains inside it), appending what it
    /// records to `out` and returning one outcome per transfer.
    pub fn apply_request(
        &mut self,
        transfers: &[Transfer],
        actor: &str,
        now_ns: i64,
        history: &mut dyn History,
        out: &mut BatchOutput,
    ) -> Result<Vec<Outcome>, HistoryError> {
        let mut outcomes = Vec::with_capacity(transfers.len());
        let mut start = 0;
        while start < transfers.len() {
            // The chain: up to and including the first transfer not marked linked.
            let end = transfers
                .iter()
                .skip(start)
                .position(|t| !t.linked)
                .map_or(transfers.len(), |p| start + p + 1);
            let chain = transfers.get(start..end).unwrap_or_default();
            let open = chain.last().is_some_and(|t| t.linked);
            self.apply_chain(chain, open, actor, now_ns, history, out, &mut outcomes)?;
            start = end;
        }
        Ok(outcomes)
    }

    #[allow(clippy::too_many_arguments)]
    fn apply_chain(
        &mut self,
        chain: &[Transfer],
        open: bool,
        actor: &str,
        now_ns: i64,
        history: &mut dyn History,
        out: &mut BatchOutput,
        outcomes: &mut Vec<Outcome>,
    ) -> Result<(), HistoryError> {
        let mark = self.undo.len();
        let first = outcomes.len();
        let mut staged: Vec<Option<Recorded>> = Vec::with_capacity(chain.len());
        let mut failed: Option<usize> = None;
        for (k, transfer) in chain.iter().enumerate() {
            let (outcome, record) = self.apply_one(transfer, actor, now_ns, history, out)?;
            let refused = matches!(outcome, Outcome::Refused(_) | Outcome::IdConflict);
            outcomes.push(outcome);
            staged.push(record);
            if refused && chain.len() > 1 {
                failed = Some(k);
                break;
            }
        }
        if open && failed.is_none() {
            failed = Some(usize::MAX);
        }
        let Some(failed_at) = failed else {
            for record in staged.into_iter().flatten() {
                self.batch_ids
                    .insert(record.transfer.id, out.recorded.len());
                out.recorded.push(record);
            }
            return Ok(());
        };
        // Undo the chain and answer every member: the culprit with its own reason, the
        // others (new ones only; an id seen before keeps its old answer) as linked failures.
        self.undo_to(mark);
        let culprit = first
            .checked_add(failed_at)
            .and_then(|i| outcomes.get(i))
            .copied();
        outcomes.truncate(first);
        for (k, transfer) in chain.iter().enumerate() {
            let reason = if open {
                Refusal::LinkedChainOpen
            } else if k == failed_at {
                match culprit {
                    Some(Outcome::Refused(r)) => r,
                    Some(other) => {
                        outcomes.push(other);
                        continue;
                    }
                    None => Refusal::LinkedEventFailed,
                }
            } else {
                Refusal::LinkedEventFailed
            };
            if transfer.id == 0 {
                outcomes.push(Outcome::Refused(Refusal::IdMustNotBeZero));
                continue;
            }
            if self.ids.contains(&transfer.id) {
                // Seen before (not in this chain, which was undone): its old answer stands.
                let (outcome, _) = self.apply_one(transfer, actor, now_ns, history, out)?;
                outcomes.push(outcome);
                continue;
            }
            outcomes.push(Outcome::Refused(reason));
            self.record(transfer.clone(), Err(reason), actor, now_ns, out);
        }
        Ok(())
    }

    fn record(
        &mut self,
        transfer: Transfer,
        result: Result<(), Refusal>,
        actor: &str,
        now_ns: i64,
        out: &mut BatchOutput,
    ) -> i64 {
        let ts = self.next_timestamp(now_ns);
        self.ids.insert(transfer.id);
        self.undo.push(Undo::Id(transfer.id));
        self.batch_ids.insert(transfer.id, out.recorded.len());
        out.recorded.push(Recorded {
            transfer,
            result,
            timestamp_ns: ts,
            actor: actor.to_owned(),
        });
        ts
    }

    /// One transfer: its outcome and, if it is new, what to record (not yet recorded, so
    /// that a failed chain can answer differently).
    fn apply_one(
        &mut self,
        t: &Transfer,
        actor: &str,
        now_ns: i64,
        history: &mut dyn History,
        out: &BatchOutput,
    ) -> Result<(Outcome, Option<Recorded>), HistoryError> {
        if t.id == 0 {
            return Ok((Outcome::Refused(Refusal::IdMustNotBeZero), None));
        }
        if self.ids.contains(&t.id) {
            let stored = match self.batch_ids.get(&t.id).and_then(|&i| out.recorded.get(i)) {
                Some(r) => Some(r.clone()),
                None => history.transfer(t.id)?,
            };
            return Ok((
                match stored {
                    Some(s) if t.same_request_as(&s.transfer) => {
                        Outcome::Exists(s.result.map(|()| s.timestamp_ns))
                    }
                    // An id of this chain (staged, not yet recorded) or one the journal lacks.
                    _ => Outcome::IdConflict,
                },
                None,
            ));
        }
        // Claim the id now, so a second use inside the same chain is seen.
        self.ids.insert(t.id);
        self.undo.push(Undo::Id(t.id));
        let effect = match t.kind {
            Kind::Single | Kind::Pending { .. } => self.move_funds(t, now_ns),
            Kind::Post { pending_id } | Kind::Void { pending_id } => {
                self.resolve(t, pending_id, history)?
            }
        };
        let ts = self.next_timestamp(now_ns);
        let (outcome, transfer, result) = match effect {
            Ok(resolved) => (Outcome::Created { timestamp_ns: ts }, resolved, Ok(())),
            Err(r) => (Outcome::Refused(r), t.clone(), Err(r)),
        };
        Ok((
            outcome,
            Some(Recorded {
                transfer,
                result,
                timestamp_ns: ts,
                actor: actor.to_owned(),
            }),
        ))
    }

    fn move_funds(&mut self, t: &Transfer, now_ns: i64) -> Result<Transfer, Refusal> {
        if t.reference.chars().count() > REFERENCE_MAX {
            return Err(Refusal::ReferenceTooLong);
        }
        if t.amount <= 0 {
            return Err(Refusal::AmountMustBePositive);
        }
        if t.debit_account == t.credit_account {
            return Err(Refusal::AccountsMustBeDifferent);
        }
        let d = self
            .index
            .get(&t.debit_account)
            .copied()
            .ok_or(Refusal::DebitAccountNotFound)?;
        let c = self
            .index
            .get(&t.credit_account)
            .copied()
            .ok_or(Refusal::CreditAccountNotFound)?;
        let (Some(debit_acc), Some(credit_acc)) = (self.accounts.get(d), self.accounts.get(c))
        else {
            return Err(Refusal::DebitAccountNotFound);
        };
        if debit_acc.currency != t.currency || credit_acc.currency != t.currency {
            return Err(Refusal::CurrencyMismatch);
        }
        let pending_timeout = match t.kind {
            Kind::Pending { timeout_s } => {
                if timeout_s == 0 || timeout_s > TIMEOUT_MAX_S {
                    return Err(Refusal::TimeoutOutOfRange);
                }
                Some(timeout_s)
            }
            _ => None,
        };
        if let Some(cap) = debit_acc.debit_cap {
            if debit_acc.totals.available() - i128::from(t.amount) < -i128::from(cap) {
                return Err(Refusal::ExceedsDebitCap);
            }
        }
        let mut debit = debit_acc.totals;
        let mut credit = credit_acc.totals;
        let add = |a: i64| a.checked_add(t.amount).ok_or(Refusal::Overflow);
        if pending_timeout.is_some() {
            debit.debits_pending = add(debit.debits_pending)?;
            credit.credits_pending = add(credit.credits_pending)?;
        } else {
            debit.debits_posted = add(debit.debits_posted)?;
            credit.credits_posted = add(credit.credits_posted)?;
        }
        self.set_totals(d, debit);
        self.set_totals(c, credit);
        if let Some(timeout_s) = pending_timeout {
            let expires_at_ns = now_ns.saturating_add(i64::from(timeout_s) * 1_000_000_000);
            self.pending.insert(
                t.id,
                Pending {
                    debit: d,
                    credit: c,
                    amount: t.amount,
                    currency: t.currency,
                    expires_at_ns,
                },
            );
            self.expiries.insert((expires_at_ns, t.id));
            self.undo.push(Undo::PendingAdded(t.id, expires_at_ns));
        }
        Ok(t.clone())
    }

    fn resolve(
        &mut self,
        t: &Transfer,
        pending_id: Id,
        history: &mut dyn History,
    ) -> Result<Result<Transfer, Refusal>, HistoryError> {
        if t.reference.chars().count() > REFERENCE_MAX {
            return Ok(Err(Refusal::ReferenceTooLong));
        }
        let Some(p) = self.pending.get(&pending_id).cloned() else {
            let ended = match self.batch_resolutions.get(&pending_id) {
                Some(r) => Some(*r),
                None => history.resolution(pending_id)?,
            };
            return Ok(Err(match ended {
                Some(Resolution::Posted) => Refusal::PendingTransferAlreadyPosted,
                Some(Resolution::Voided) => Refusal::PendingTransferAlreadyVoided,
                Some(Resolution::Expired) => Refusal::PendingTransferExpired,
                None => Refusal::PendingTransferNotFound,
            }));
        };
        let (Some(debit_acc), Some(credit_acc)) =
            (self.accounts.get(p.debit), self.accounts.get(p.credit))
        else {
            return Ok(Err(Refusal::PendingTransferNotFound));
        };
        let (debit_id, credit_id) = (debit_acc.id, credit_acc.id);
        if (t.debit_account != 0 && t.debit_account != debit_id)
            || (t.credit_account != 0 && t.credit_account != credit_id)
            || t.currency != p.currency
        {
            return Ok(Err(Refusal::PendingTransferDiffers));
        }
        let posting = matches!(t.kind, Kind::Post { .. });
        let amount = match (posting, t.amount) {
            (_, a) if a < 0 => return Ok(Err(Refusal::AmountMustBePositive)),
            (_, 0) => p.amount,
            (true, a) if a > p.amount => return Ok(Err(Refusal::ExceedsPendingAmount)),
            (true, a) => a,
            (false, a) if a == p.amount => a,
            (false, _) => return Ok(Err(Refusal::PendingTransferDiffers)),
        };
        let mut debit = debit_acc.totals;
        let mut credit = credit_acc.totals;
        debit.debits_pending -= p.amount;
        credit.credits_pending -= p.amount;
        if posting {
            let (Some(dp), Some(cp)) = (
                debit.debits_posted.checked_add(amount),
                credit.credits_posted.checked_add(amount),
            ) else {
                return Ok(Err(Refusal::Overflow));
            };
            debit.debits_posted = dp;
            credit.credits_posted = cp;
        }
        self.set_totals(p.debit, debit);
        self.set_totals(p.credit, credit);
        self.expiries.remove(&(p.expires_at_ns, pending_id));
        self.pending.remove(&pending_id);
        self.undo.push(Undo::PendingRemoved(pending_id, p));
        let resolution = if posting {
            Resolution::Posted
        } else {
            Resolution::Voided
        };
        self.batch_resolutions.insert(pending_id, resolution);
        self.undo.push(Undo::Resolved(pending_id));
        let mut resolved = t.clone();
        resolved.debit_account = debit_id;
        resolved.credit_account = credit_id;
        resolved.amount = amount;
        Ok(Ok(resolved))
    }
}
