//! Verification as a state machine fed records in `seq` order and checkpoints in `seq` order
//! (the caller pages them out of the database, so memory stays bounded however long the
//! chain). It recomputes every hash and says where the chain breaks and how, and goes on after
//! a problem so the report lists each one. Pure: no I/O.
//!
//! How a break is told apart:
//! - **altered**: the record's stored hash does not match its content;
//! - **moved** (reordered, or renumbered after an insertion or a deletion): the stored hash
//!   matches the content as if it stood at another `seq` (positions within
//!   [`MOVE_WINDOW`] are tried);
//! - **deleted**: a gap in `seq`;
//! - **duplicate**: a second record with the same `seq`;
//! - **inserted**: the record after it links to the record before it, skipping it;
//! - **broken link**: a record's `prev_hash` is not its predecessor's hash (a predecessor
//!   replaced, or re-hashed by someone without the checkpoint key);
//! - checkpoints whose signature does not verify, whose hash disagrees with the chain, or whose
//!   record is gone; and a head row that disagrees with the last record.

use std::collections::{BTreeMap, VecDeque};

use super::encoding::{record_hash_at, Hash, RecordFields, GENESIS};

/// How far from its own position a record's hash is tried to recognise a moved record.
pub const MOVE_WINDOW: i64 = 1024;
/// Records for which the full window is searched (each search costs up to 2 × the window in
/// hashes); after that only the last offset found is tried, so a chain altered everywhere
/// still verifies in linear time.
const MOVE_SEARCHES_MAX: u32 = 10_000;
/// How many of the last problems a new one may extend as a run.
const RUN_LOOKBACK: usize = 4;
/// Problems kept in the report (all are counted).
pub const PROBLEMS_KEPT: usize = 1_000;

/// What is wrong at a position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// The record's stored hash does not match its content.
    Altered,
    /// The records `seq..=last_seq` are missing.
    Deleted,
    /// More than one record has this `seq`.
    Duplicate,
    /// The record at `seq` is not part of the chain: the next record links past it.
    Inserted,
    /// The record at `seq` was made at `from` (records reordered or renumbered).
    Moved { from: i64 },
    /// The record's `prev_hash` is not its predecessor's hash.
    BrokenLink,
    /// The checkpoint's signature does not verify (or its key is unknown: `reason` says).
    CheckpointSignature { reason: String },
    /// The checkpoint's hash is not the chain's hash at its `seq`.
    CheckpointMismatch,
    /// The checkpoint covers a record that is not in the chain (deleted from the end).
    CheckpointWithoutRecord,
    /// The head row does not name the last record.
    HeadMismatch { head_seq: i64 },
}

impl ProblemKind {
    fn describe(&self) -> String {
        match self {
            ProblemKind::Altered => "record altered: its hash does not match its content".into(),
            ProblemKind::Deleted => "record(s) deleted: gap in the sequence".into(),
            ProblemKind::Duplicate => "record inserted: a second record with this seq".into(),
            ProblemKind::Inserted => {
                "record inserted: the next record links to the one before it".into()
            }
            ProblemKind::Moved { from } => {
                format!("record moved: it was made at seq {from} (records reordered or renumbered)")
            }
            ProblemKind::BrokenLink => {
                "chain broken: prev_hash is not the predecessor's hash".into()
            }
            ProblemKind::CheckpointSignature { reason } => {
                format!("checkpoint signature does not verify: {reason}")
            }
            ProblemKind::CheckpointMismatch => {
                "checkpoint disagrees with the chain: records before it were rewritten".into()
            }
            ProblemKind::CheckpointWithoutRecord => {
                "checkpoint covers a record that is gone: records deleted from the end".into()
            }
            ProblemKind::HeadMismatch { head_seq } => {
                format!("the head row names seq {head_seq}, not the last record")
            }
        }
    }

    /// Whether `next` at `seq` continues a run of this kind that starts at `first_seq` (a run
    /// of moved records keeps one offset).
    fn continues(&self, first_seq: i64, next: &ProblemKind, seq: i64) -> bool {
        match (self, next) {
            (ProblemKind::Moved { from: a }, ProblemKind::Moved { from: b }) => {
                a - first_seq == b - seq
            }
            (ProblemKind::Altered, ProblemKind::Altered)
            | (ProblemKind::BrokenLink, ProblemKind::BrokenLink) => true,
            _ => false,
        }
    }
}

/// One problem: at `seq` (through `last_seq` for a run; a moved run's `from` is its first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub seq: i64,
    pub last_seq: i64,
    pub kind: ProblemKind,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.last_seq == self.seq {
            write!(f, "seq {}: {}", self.seq, self.kind.describe())
        } else {
            let n = self.last_seq - self.seq + 1;
            write!(
                f,
                "seq {}..={} ({n} records): {}",
                self.seq,
                self.last_seq,
                self.kind.describe()
            )
        }
    }
}

/// What verification found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Records read.
    pub records: u64,
    /// The last record's seq (0 for an empty chain).
    pub last_seq: i64,
    pub checkpoints: u64,
    /// The highest checkpoint that verified; records after it are protected by the hashes
    /// only (anyone with write access could append after it undetected).
    pub last_signed_seq: Option<i64>,
    /// The problems, in order of position (at most [`PROBLEMS_KEPT`]).
    pub problems: Vec<Problem>,
    /// Every problem, counted.
    pub problem_count: u64,
}

impl Report {
    pub fn intact(&self) -> bool {
        self.problem_count == 0
    }

    /// One line: intact or broken, and the counts.
    pub fn summary(&self) -> String {
        let signed = match self.last_signed_seq {
            Some(seq) => format!("signed through seq {seq}"),
            None => "no verified checkpoint".to_owned(),
        };
        if self.intact() {
            format!(
                "exchange audit chain intact: {} records (seq 1..={}), {} checkpoints, {signed}",
                self.records, self.last_seq, self.checkpoints
            )
        } else {
            format!(
                "exchange audit chain BROKEN: {} problems in {} records, {} checkpoints, {signed}",
                self.problem_count, self.records, self.checkpoints
            )
        }
    }
}

/// A checkpoint as stored, with the outcome of its signature check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointSeen {
    pub seq: i64,
    pub hash: Vec<u8>,
    /// `Err(reason)` when the signature did not verify.
    pub signature: Result<(), String>,
}

/// The verifier's state between records.
#[derive(Debug)]
pub struct Verifier {
    report: Report,
    /// The seq of the last record fed, 0 before the first.
    last_seq: i64,
    /// The hash the record made at `last_seq` has, when known: what the next record must link to.
    link: Option<Hash>,
    /// The stored hashes of the last record and of the one before it.
    stored: Option<Hash>,
    stored_before: Option<Hash>,
    /// Whether the last record verified at its own position (only a record that did can be
    /// an inserted one: a forgery made to fit).
    clean: bool,
    /// Hashes of moved records by the position they were made at, within the window.
    moved: BTreeMap<i64, Hash>,
    last_offset: Option<i64>,
    searches: u32,
    checkpoints: VecDeque<CheckpointSeen>,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier {
            report: Report::default(),
            last_seq: 0,
            link: Some(GENESIS),
            // What the first record links to: "the record at 0".
            stored: Some(GENESIS),
            stored_before: None,
            clean: false,
            moved: BTreeMap::new(),
            last_offset: None,
            searches: 0,
            checkpoints: VecDeque::new(),
        }
    }
}

fn as_hash(bytes: &[u8]) -> Option<Hash> {
    bytes.try_into().ok()
}

impl Verifier {
    pub fn new() -> Verifier {
        Verifier::default()
    }

    /// The last record's seq so far.
    pub fn last_seq(&self) -> i64 {
        self.last_seq
    }

    fn problem(&mut self, seq: i64, last_seq: i64, kind: ProblemKind) {
        // A run goes on past the checkpoint problems reported inside it.
        let open_run = self
            .report
            .problems
            .iter_mut()
            .rev()
            .take(RUN_LOOKBACK)
            .find(|p| p.last_seq + 1 == seq && p.kind.continues(p.seq, &kind, seq));
        if let Some(run) = open_run {
            run.last_seq = last_seq;
            return;
        }
        self.report.problem_count += 1;
        if self.report.problems.len() < PROBLEMS_KEPT {
            self.report.problems.push(Problem {
                seq,
                last_seq,
                kind,
            });
        }
    }

    /// Queues a checkpoint; checkpoints must come in `seq` order, before the record they cover.
    pub fn checkpoint(&mut self, c: CheckpointSeen) {
        self.report.checkpoints += 1;
        if let Err(reason) = &c.signature {
            let reason = reason.clone();
            self.problem(c.seq, c.seq, ProblemKind::CheckpointSignature { reason });
        }
        self.checkpoints.push_back(c);
    }

    /// Checks the queued checkpoints up to `seq` against the record there (`stored`).
    fn settle_checkpoints(&mut self, seq: i64, stored: Option<&[u8]>) {
        while let Some(c) = self.checkpoints.front() {
            if c.seq > seq {
                break;
            }
            let Some(c) = self.checkpoints.pop_front() else {
                break;
            };
            let signed = c.signature.is_ok();
            match stored {
                Some(hash) if c.seq == seq => {
                    if c.hash != hash {
                        // A bad signature is already reported: its hash proves nothing.
                        if signed {
                            self.problem(c.seq, c.seq, ProblemKind::CheckpointMismatch);
                        }
                    } else if signed {
                        self.report.last_signed_seq = Some(c.seq);
                    }
                }
                _ => self.problem(c.seq, c.seq, ProblemKind::CheckpointWithoutRecord),
            }
        }
    }

    /// The position the record was made at, if not `seq`: its hash verifies there.
    fn find_origin(&mut self, r: &RecordFields<'_>, stored: &Hash) -> Option<i64> {
        if let Some(offset) = self.last_offset {
            let at = r.seq.saturating_add(offset);
            if at >= 1 && at != r.seq && record_hash_at(r, at) == *stored {
                return Some(at);
            }
        }
        if self.searches >= MOVE_SEARCHES_MAX {
            return None;
        }
        self.searches += 1;
        let found = (1..=MOVE_WINDOW)
            .flat_map(|d| [r.seq.saturating_sub(d), r.seq.saturating_add(d)])
            .filter(|&at| at >= 1)
            .find(|&at| record_hash_at(r, at) == *stored);
        if let Some(at) = found {
            self.last_offset = Some(at - r.seq);
        }
        found
    }

    /// Feeds the next record, with its stored hash. Records come in `seq` order (records with
    /// equal `seq` in any fixed order).
    pub fn record(&mut self, r: &RecordFields<'_>, stored_hash: &[u8]) {
        self.report.records += 1;
        if r.seq < 1 || (r.seq <= self.last_seq && self.report.records > 1) {
            self.problem(r.seq, r.seq, ProblemKind::Duplicate);
            return;
        }
        self.settle_checkpoints(r.seq - 1, None);
        let gap = r.seq > self.last_seq + 1;
        if gap {
            self.problem(self.last_seq + 1, r.seq - 1, ProblemKind::Deleted);
        }
        let stored = as_hash(stored_hash);
        let mut made_here = stored;
        let mut clean = false;
        match stored {
            Some(s) if s == record_hash_at(r, r.seq) => {
                clean = true;
                if !gap {
                    self.check_link(r);
                }
            }
            Some(s) => match self.find_origin(r, &s) {
                Some(from) => {
                    self.moved.insert(from, s);
                    if from == r.seq - 1 && self.links_past_last(r) {
                        self.problem(r.seq - 1, r.seq - 1, ProblemKind::Inserted);
                    }
                    self.problem(r.seq, r.seq, ProblemKind::Moved { from });
                    made_here = self.moved.get(&r.seq).copied();
                }
                None => self.problem(r.seq, r.seq, ProblemKind::Altered),
            },
            None => self.problem(r.seq, r.seq, ProblemKind::Altered),
        }
        self.settle_checkpoints(r.seq, Some(stored_hash));
        self.moved = self.moved.split_off(&(r.seq - 2 * MOVE_WINDOW));
        self.stored_before = self.stored;
        self.stored = stored;
        self.clean = clean;
        self.link = made_here;
        self.last_seq = r.seq;
    }

    /// Whether `r` links to the record before the last one, skipping a last record that
    /// verified at its own position: that record was inserted.
    fn links_past_last(&self, r: &RecordFields<'_>) -> bool {
        self.clean && r.seq > 1 && self.stored_before.is_some_and(|h| h[..] == *r.prev_hash)
    }

    fn check_link(&mut self, r: &RecordFields<'_>) {
        let Some(expected) = self.link.or_else(|| self.moved.get(&(r.seq - 1)).copied()) else {
            // The hash of the record made just before is unknown (it was moved and is not seen
            // yet): the move is already reported.
            return;
        };
        if r.prev_hash == expected {
            return;
        }
        if self.links_past_last(r) {
            self.problem(r.seq - 1, r.seq - 1, ProblemKind::Inserted);
        } else {
            self.problem(r.seq, r.seq, ProblemKind::BrokenLink);
        }
    }

    /// Reports a record at `seq` past the head row's `head_seq` that the appender did not write.
    pub fn beyond_head(&mut self, seq: i64, head_seq: i64) {
        self.problem(seq, seq, ProblemKind::HeadMismatch { head_seq });
    }

    /// Ends verification: checkpoints past the last record, and the head row if there is one.
    pub fn finish(mut self, head: Option<(i64, Vec<u8>)>) -> Report {
        self.settle_checkpoints(i64::MAX, None);
        if let Some((head_seq, head_hash)) = head {
            let last_hash = self.stored.map_or(GENESIS.to_vec(), |h| h.to_vec());
            if head_seq != self.last_seq || head_hash != last_hash {
                let at = self.last_seq.max(1);
                self.problem(at, at, ProblemKind::HeadMismatch { head_seq });
            }
        }
        self.report.last_seq = self.last_seq;
        self.report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::encoding::record_hash;
    use proptest::prelude::*;

    /// A record held in memory, as the database would store it.
    #[derive(Debug, Clone)]
    struct Rec {
        seq: i64,
        at_s: i64,
        kind: Vec<u8>,
        actor: Vec<u8>,
        owner: Option<Vec<u8>>,
        consent: Option<Vec<u8>>,
        detail: Vec<u8>,
        prev_hash: Vec<u8>,
        hash: Vec<u8>,
    }

    impl Rec {
        fn fields(&self) -> RecordFields<'_> {
            RecordFields {
                seq: self.seq,
                prev_hash: &self.prev_hash,
                at_s: self.at_s,
                kind: &self.kind,
                actor: &self.actor,
                owner: self.owner.as_deref(),
                consent: self.consent.as_deref(),
                detail: &self.detail,
            }
        }
    }

    type Event = (String, String, Option<String>, Option<String>, String, i64);

    fn chain(events: &[Event]) -> Vec<Rec> {
        let mut prev = GENESIS.to_vec();
        let mut out = Vec::new();
        for (i, (kind, actor, owner, consent, detail, at_s)) in events.iter().enumerate() {
            let mut rec = Rec {
                seq: i as i64 + 1,
                at_s: *at_s,
                kind: kind.clone().into_bytes(),
                actor: actor.clone().into_bytes(),
                owner: owner.clone().map(String::into_bytes),
                consent: consent.clone().map(String::into_bytes),
                detail: detail.clone().into_bytes(),
                prev_hash: prev.clone(),
                hash: Vec::new(),
            };
            rec.hash = record_hash(&rec.fields()).to_vec();
            prev = rec.hash.clone();
            out.push(rec);
        }
        out
    }

    fn run(records: &[Rec]) -> Report {
        let mut sorted = records.to_vec();
        // The database hands records over in seq order.
        sorted.sort_by_key(|r| r.seq);
        let mut v = Verifier::new();
        for r in &sorted {
            v.record(&r.fields(), &r.hash);
        }
        v.finish(None)
    }

    fn event() -> impl Strategy<Value = Event> {
        (
            "[a-z.]{0,12}",
            "\\PC{0,10}",
            proptest::option::of("[a-z0-9]{0,8}"),
            proptest::option::of("[a-z0-9-]{0,8}"),
            "\\PC{0,24}",
            any::<i64>(),
        )
    }

    fn flip(bytes: &mut [u8], at: usize, mask: u8) {
        let n = bytes.len();
        if let Some(b) = bytes.get_mut(at % n) {
            *b ^= mask;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_chain_verifies_clean(events in proptest::collection::vec(event(), 0..40)) {
            let report = run(&chain(&events));
            prop_assert!(report.intact(), "{:?}", report.problems);
            prop_assert_eq!(report.records, events.len() as u64);
        }

        #[test]
        fn any_single_byte_change_is_detected(
            events in proptest::collection::vec(event(), 1..30),
            which in any::<usize>(),
            field in 0usize..9,
            at in any::<usize>(),
            mask in 1u8..=255,
        ) {
            let mut records = chain(&events);
            let n = records.len();
            let r = records.get_mut(which % n).unwrap();
            let seq = r.seq;
            let mut seq_bytes = r.seq.to_be_bytes();
            let mut at_bytes = r.at_s.to_be_bytes();
            let target: &mut [u8] = match field {
                0 => &mut seq_bytes,
                1 => &mut at_bytes,
                2 => &mut r.kind,
                3 => &mut r.actor,
                4 => r.owner.as_deref_mut().unwrap_or(&mut r.kind),
                5 => r.consent.as_deref_mut().unwrap_or(&mut r.actor),
                6 => &mut r.detail,
                7 => &mut r.prev_hash,
                _ => &mut r.hash,
            };
            // An empty text has no byte to change: change the hash instead.
            if target.is_empty() {
                flip(&mut r.hash, at, mask);
            } else {
                flip(target, at, mask);
            }
            r.seq = i64::from_be_bytes(seq_bytes);
            r.at_s = i64::from_be_bytes(at_bytes);
            let moved = r.seq != seq;
            let report = run(&records);
            prop_assert!(!report.intact());
            if !moved {
                prop_assert!(
                    report.problems.iter().any(|p| p.seq <= seq && seq <= p.last_seq),
                    "no problem at {}: {:?}", seq, report.problems
                );
            }
        }
    }

    fn tampered(n: usize, change: impl FnOnce(&mut Vec<Rec>)) -> Vec<Problem> {
        let events: Vec<Event> = (0..n)
            .map(|i| {
                (
                    "data.fetched".into(),
                    format!("p{i}"),
                    None,
                    None,
                    "{}".into(),
                    1,
                )
            })
            .collect();
        let mut records = chain(&events);
        change(&mut records);
        run(&records).problems
    }

    fn at(seq: i64, kind: ProblemKind) -> Problem {
        Problem {
            seq,
            last_seq: seq,
            kind,
        }
    }

    #[test]
    fn each_kind_of_tampering_is_told_apart() {
        // Swapped (reordered).
        let swapped = tampered(10, |r| {
            r.swap(3, 4);
            r[3].seq = 4;
            r[4].seq = 5;
        });
        assert_eq!(
            swapped,
            vec![
                at(4, ProblemKind::Moved { from: 5 }),
                at(5, ProblemKind::Moved { from: 4 })
            ]
        );
        // Deleted.
        let deleted = tampered(10, |r| {
            r.remove(6);
        });
        assert_eq!(deleted, vec![at(7, ProblemKind::Deleted)]);
        // Inserted: a forged record made to fit after seq 5, the rest renumbered.
        let inserted = tampered(10, |r| {
            for rec in r.iter_mut().skip(5) {
                rec.seq += 1;
            }
            let mut forged = r[4].clone();
            forged.seq = 6;
            forged.actor = b"forger".to_vec();
            forged.prev_hash = r[4].hash.clone();
            forged.hash = record_hash(&forged.fields()).to_vec();
            r.insert(5, forged);
        });
        assert_eq!(
            inserted,
            vec![
                at(6, ProblemKind::Inserted),
                Problem {
                    seq: 7,
                    last_seq: 11,
                    kind: ProblemKind::Moved { from: 6 }
                },
            ]
        );
        // A predecessor re-hashed after its content changed: the next link breaks.
        let rehashed = tampered(10, |r| {
            r[2].detail = b"{\"x\":1}".to_vec();
            r[2].hash = record_hash(&r[2].fields()).to_vec();
        });
        assert_eq!(rehashed, vec![at(4, ProblemKind::BrokenLink)]);
    }
}
