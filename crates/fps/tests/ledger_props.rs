//! Property tests of the ledger's state machine: random sequences of single transfers,
//! pending / post / void, timeouts, linked chains, retries (same body and different body) and
//! batches that the journal fails, checking after every batch that
//!
//! - conservation holds (per currency, posted and pending balances sum to zero);
//! - no account with a debit cap is below it, and no total is negative;
//! - the totals equal an independent replay of what was recorded;
//! - a retry of any earlier id returns the original answer and changes nothing; a different
//!   body under an old id is a conflict and changes nothing;
//! - a linked chain is all created or none;
//! - a batch rolled back leaves the state exactly as before.

use std::collections::HashMap;

use bauhinia_core::Currency;
use bauhinia_fps::ledger::model::{Account, Kind, Outcome, Recorded, Transfer};
use bauhinia_fps::ledger::state::{BatchOutput, History, HistoryError, LedgerState, Resolution};
use proptest::prelude::*;

const RTGS: u128 = 100;
const CNY_A: u128 = 200;
const CNY_B: u128 = 201;

fn accounts() -> Vec<Account> {
    vec![
        Account::new(RTGS, Currency::Hkd, 2, None),
        Account::new(1, Currency::Hkd, 1, Some(0)),
        Account::new(2, Currency::Hkd, 1, Some(0)),
        Account::new(3, Currency::Hkd, 1, Some(5_000)),
        Account::new(4, Currency::Hkd, 1, Some(0)),
        Account::new(CNY_A, Currency::Cny, 1, None),
        Account::new(CNY_B, Currency::Cny, 1, Some(0)),
    ]
}

/// What the journal would hold: every committed record and expiry.
#[derive(Default, Clone)]
struct MemoryHistory {
    records: HashMap<u128, Recorded>,
    resolutions: HashMap<u128, Resolution>,
    log: Vec<Recorded>,
}

impl History for MemoryHistory {
    fn transfer(&mut self, id: u128) -> Result<Option<Recorded>, HistoryError> {
        Ok(self.records.get(&id).cloned())
    }
    fn resolution(&mut self, pending_id: u128) -> Result<Option<Resolution>, HistoryError> {
        Ok(self.resolutions.get(&pending_id).copied())
    }
}

impl MemoryHistory {
    fn commit(&mut self, out: &BatchOutput) {
        for r in &out.recorded {
            self.records.insert(r.transfer.id, r.clone());
            if r.result.is_ok() {
                match r.transfer.kind {
                    Kind::Post { pending_id } => {
                        self.resolutions.insert(pending_id, Resolution::Posted);
                    }
                    Kind::Void { pending_id } => {
                        self.resolutions.insert(pending_id, Resolution::Voided);
                    }
                    _ => {}
                }
            }
            self.log.push(r.clone());
        }
        for (id, _) in &out.expired {
            self.resolutions.insert(*id, Resolution::Expired);
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Single {
        id: u128,
        d: u128,
        c: u128,
        amount: i64,
        linked: bool,
    },
    Pending {
        id: u128,
        d: u128,
        c: u128,
        amount: i64,
        timeout: u32,
        linked: bool,
    },
    Post {
        id: u128,
        pending: u128,
        amount: i64,
        linked: bool,
    },
    Void {
        id: u128,
        pending: u128,
        linked: bool,
    },
    /// Resubmit an earlier transfer (by position in the log), same body or altered.
    Retry { pick: usize, alter: bool },
}

fn account_id() -> impl Strategy<Value = u128> {
    prop_oneof![
        Just(RTGS),
        Just(1u128),
        Just(2),
        Just(3),
        Just(4),
        Just(CNY_A),
        Just(CNY_B),
        Just(999), // does not exist
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let id = 1u128..60; // a small pool, so ids repeat
    prop_oneof![
        4 => (id.clone(), account_id(), account_id(), -5i64..20_000, any::<bool>())
            .prop_map(|(id, d, c, amount, linked)| Op::Single { id, d, c, amount, linked }),
        2 => (id.clone(), account_id(), account_id(), 1i64..20_000, 0u32..5, any::<bool>())
            .prop_map(|(id, d, c, amount, timeout, linked)| Op::Pending { id, d, c, amount, timeout, linked }),
        2 => (id.clone(), 1u128..60, 0i64..20_000, any::<bool>())
            .prop_map(|(id, pending, amount, linked)| Op::Post { id, pending, amount, linked }),
        1 => (id, 1u128..60, any::<bool>())
            .prop_map(|(id, pending, linked)| Op::Void { id, pending, linked }),
        2 => (any::<usize>(), any::<bool>()).prop_map(|(pick, alter)| Op::Retry { pick, alter }),
    ]
}

fn currency_of(id: u128) -> Currency {
    if id == CNY_A || id == CNY_B {
        Currency::Cny
    } else {
        Currency::Hkd
    }
}

fn transfer(id: u128, d: u128, c: u128, amount: i64, kind: Kind, linked: bool) -> Transfer {
    Transfer {
        id,
        debit_account: d,
        credit_account: c,
        amount,
        currency: currency_of(d),
        kind,
        linked,
        code: 1,
        user_data: 0,
        reference: String::new(),
    }
}

fn to_transfer(op: &Op, history: &MemoryHistory) -> Option<(Transfer, bool)> {
    Some(match *op {
        Op::Single {
            id,
            d,
            c,
            amount,
            linked,
        } => (transfer(id, d, c, amount, Kind::Single, linked), false),
        Op::Pending {
            id,
            d,
            c,
            amount,
            timeout,
            linked,
        } => (
            transfer(
                id,
                d,
                c,
                amount,
                Kind::Pending { timeout_s: timeout },
                linked,
            ),
            false,
        ),
        Op::Post {
            id,
            pending,
            amount,
            linked,
        } => (
            transfer(
                id,
                0,
                0,
                amount,
                Kind::Post {
                    pending_id: pending,
                },
                linked,
            ),
            false,
        ),
        Op::Void {
            id,
            pending,
            linked,
        } => (
            transfer(
                id,
                0,
                0,
                0,
                Kind::Void {
                    pending_id: pending,
                },
                linked,
            ),
            false,
        ),
        Op::Retry { pick, alter } => {
            if history.log.is_empty() {
                return None;
            }
            let original = history.log.get(pick % history.log.len())?;
            let mut t = original.transfer.clone();
            if alter {
                t.reference = "altered".into();
            }
            (t, true)
        }
    })
}

fn check_invariants(state: &LedgerState, history: &MemoryHistory) -> Result<(), TestCaseError> {
    for (currency, posted, pending) in state.sums() {
        prop_assert_eq!(posted, 0, "posted sum in {:?}", currency);
        prop_assert_eq!(pending, 0, "pending sum in {:?}", currency);
    }
    // An independent replay of the committed records.
    let mut posted: HashMap<u128, i128> = HashMap::new();
    for r in history.log.iter().filter(|r| r.result.is_ok()) {
        let t = &r.transfer;
        if matches!(t.kind, Kind::Single | Kind::Post { .. }) {
            *posted.entry(t.debit_account).or_default() -= i128::from(t.amount);
            *posted.entry(t.credit_account).or_default() += i128::from(t.amount);
        }
    }
    for a in state.accounts() {
        let t = a.totals;
        prop_assert!(t.debits_pending >= 0 && t.debits_posted >= 0);
        prop_assert!(t.credits_pending >= 0 && t.credits_posted >= 0);
        if let Some(cap) = a.debit_cap {
            prop_assert!(
                t.available() >= -i128::from(cap),
                "account {} below its cap: {:?}",
                a.id,
                t
            );
        }
        prop_assert_eq!(
            t.balance(),
            posted.get(&a.id).copied().unwrap_or(0),
            "account {}",
            a.id
        );
    }
    Ok(())
}

fn fund(state: &mut LedgerState, history: &mut MemoryHistory) {
    state.begin_batch();
    let mut out = BatchOutput::default();
    let funding: Vec<Transfer> = [1u128, 2, 3]
        .iter()
        .map(|&p| transfer(10_000 + p, RTGS, p, 30_000, Kind::Single, false))
        .collect();
    let _ = state.apply_request(&funding, "test", 1_000, history, &mut out);
    let _ = state.finish_batch(&mut out);
    history.commit(&out);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_sequences_keep_every_invariant(
        batches in prop::collection::vec(
            (prop::collection::vec(prop::collection::vec(op(), 1..6), 1..4), any::<bool>(), 0i64..4),
            1..25,
        )
    ) {
        let mut state = LedgerState::default();
        for a in accounts() {
            prop_assert!(state.add_account(a));
        }
        let mut history = MemoryHistory::default();
        fund(&mut state, &mut history);
        let mut now: i64 = 2_000_000_000;
        for (requests, fail_journal, advance_s) in batches {
            now += advance_s * 1_000_000_000;
            let before: Vec<Account> = state.accounts().to_vec();
            let pending_before = state.open_pending();
            let known_before = state.transfers_known();
            state.begin_batch();
            let mut out = BatchOutput::default();
            state.expire(now, &mut out);
            for request in &requests {
                let mut transfers = Vec::new();
                let mut retries = Vec::new();
                for op in request {
                    if let Some((t, retry)) = to_transfer(op, &history) {
                        transfers.push(t);
                        retries.push(retry);
                    }
                }
                // A retry never joins a chain of new transfers: send it alone, unlinked.
                let (retry, fresh): (Vec<_>, Vec<_>) =
                    transfers.into_iter().zip(retries).partition(|(_, r)| *r);
                let fresh: Vec<Transfer> = fresh.into_iter().map(|(t, _)| t).collect();
                let outcomes = state
                    .apply_request(&fresh, "test", now, &mut history, &mut out)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(outcomes.len(), fresh.len());
                // Chains: all created or none.
                let mut start = 0;
                while start < fresh.len() {
                    let end = fresh.iter().skip(start).position(|t| !t.linked).map_or(fresh.len(), |p| start + p + 1);
                    let created = (start..end).filter(|&k| matches!(outcomes[k], Outcome::Created { .. })).count();
                    let new_refused = (start..end).filter(|&k| matches!(outcomes[k], Outcome::Refused(_) | Outcome::IdConflict)).count();
                    if new_refused > 0 {
                        prop_assert_eq!(created, 0, "a chain with a refusal created {} transfers", created);
                    }
                    start = end;
                }
                for (t, _) in retry {
                    let mut t = t;
                    t.linked = false;
                    let totals: Vec<_> = state.accounts().iter().map(|a| a.totals).collect();
                    let answer = state
                        .apply_request(std::slice::from_ref(&t), "test", now, &mut history, &mut out)
                        .map_err(|e| TestCaseError::fail(e.to_string()))?;
                    let original = history.records.get(&t.id).cloned();
                    match (answer.first(), original) {
                        (Some(Outcome::Exists(result)), Some(orig)) => {
                            prop_assert_eq!(*result, orig.result.map(|()| orig.timestamp_ns));
                            prop_assert!(t.same_request_as(&orig.transfer));
                        }
                        (Some(Outcome::IdConflict), Some(orig)) => {
                            prop_assert!(!t.same_request_as(&orig.transfer));
                        }
                        (other, orig) => prop_assert!(false, "retry answered {:?} for {:?}", other, orig),
                    }
                    let after: Vec<_> = state.accounts().iter().map(|a| a.totals).collect();
                    prop_assert_eq!(totals, after, "a retry changed totals");
                }
            }
            if fail_journal {
                state.rollback_batch();
                prop_assert_eq!(state.accounts(), &before[..]);
                prop_assert_eq!(state.open_pending(), pending_before);
                prop_assert_eq!(state.transfers_known(), known_before);
            } else {
                state.finish_batch(&mut out).map_err(|e| TestCaseError::fail(e.to_string()))?;
                history.commit(&out);
            }
            check_invariants(&state, &history)?;
        }
    }
}

#[test]
fn a_pending_transfer_times_out_and_cannot_then_be_posted() -> Result<(), String> {
    let mut state = LedgerState::default();
    for a in accounts() {
        state.add_account(a);
    }
    let mut history = MemoryHistory::default();
    fund(&mut state, &mut history);
    let run = |state: &mut LedgerState, history: &mut MemoryHistory, t: Transfer, now: i64| {
        state.begin_batch();
        let mut out = BatchOutput::default();
        state.expire(now, &mut out);
        let o = state
            .apply_request(&[t], "test", now, history, &mut out)
            .map_err(|e| e.to_string())?;
        state.finish_batch(&mut out).map_err(|e| e.to_string())?;
        history.commit(&out);
        Ok::<_, String>((o, out.expired.len()))
    };
    let (o, _) = run(
        &mut state,
        &mut history,
        transfer(1, 1, 2, 500, Kind::Pending { timeout_s: 2 }, false),
        10_000_000_000,
    )?;
    assert!(matches!(o.first(), Some(Outcome::Created { .. })));
    assert_eq!(state.account(1).map(|a| a.totals.debits_pending), Some(500));
    let (o, expired) = run(
        &mut state,
        &mut history,
        transfer(2, 0, 0, 0, Kind::Post { pending_id: 1 }, false),
        13_000_000_000,
    )?;
    assert_eq!(expired, 1);
    assert_eq!(
        o.first(),
        Some(&Outcome::Refused(
            bauhinia_fps::ledger::Refusal::PendingTransferExpired
        ))
    );
    assert_eq!(state.account(1).map(|a| a.totals.debits_pending), Some(0));
    Ok(())
}
