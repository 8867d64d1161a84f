//! Which calls an export takes, and on which side of the split, decided before anything is
//! written: the candidates are read in keyset order (oldest first, a page at a time, inputs
//! but no outputs), then de-duplication and the per-operation cap choose among them. What
//! is kept per call is a few numbers, so a million candidates stay within tens of megabytes.

use std::collections::{BTreeMap, HashMap};

use super::split::{input_key, pick_key, split_of};
use crate::model::export::{ExportFormat, ExportPlanCounts, ExportSpec, Split};
use crate::model::Verdict;
use crate::store::{ExportCandidate, Store, StoreResult};

/// Candidates read per query.
const PAGE: i64 = 2_000;

pub const LEFT_NO_CORRECTION: &str = "incorrect without a correction";
pub const LEFT_CORRECT: &str = "marked correct (not included)";
pub const LEFT_DUPLICATE: &str = "duplicate input (an older review)";
pub const LEFT_CAP: &str = "over the per-operation cap";
pub const LEFT_UNREADABLE: &str = "input is not JSON";

/// One chosen call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chosen {
    pub seq: i64,
    pub split: Split,
}

/// The calls an export writes, oldest first, with the counts shown before it starts.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub chosen: Vec<Chosen>,
    pub counts: ExportPlanCounts,
    /// Set when the plan stopped at its deadline: the `created_at` (microseconds) of the last
    /// call it read, oldest first. `None`: every candidate was read.
    pub counted_through: Option<i64>,
}

/// A candidate in a few numbers. Candidates are read oldest first, so their index orders
/// them by (created_at, seq): (review time, index) says which of two reviews is the newer.
struct Candidate {
    seq: i64,
    /// The normalized input's hash (0 when neither de-duplication nor the split reads it).
    key: u64,
    /// The call id's hash (0 without a per-operation cap).
    pick: u64,
    reviewed_at: i64,
    operation: u32,
    verdict: Verdict,
    kept: bool,
}

impl Candidate {
    fn newness(&self, index: usize) -> (i64, usize) {
        (self.reviewed_at, index)
    }
}

/// Whether planning reads the inputs: to find duplicates, to split by input, or to leave
/// out a training example whose input cannot be read.
fn reads_input(spec: &ExportSpec) -> bool {
    spec.dedupe || spec.validation_percent > 0 || spec.format.is_training()
}

/// The verdicts a format reads: training formats need a reviewed answer.
pub(super) fn verdicts(spec: &ExportSpec) -> Vec<Verdict> {
    match spec.format {
        ExportFormat::ChatJsonl => vec![Verdict::Incorrect, Verdict::Correct],
        ExportFormat::PreferenceJsonl => vec![Verdict::Incorrect, Verdict::Correct],
        ExportFormat::Jsonl | ExportFormat::Csv => Vec::new(),
    }
}

fn leave(counts: &mut ExportPlanCounts, reason: &str) {
    *counts.left_out.entry(reason.to_string()).or_default() += 1;
}

/// The candidates of a spec, a page at a time, in keyset order (oldest first).
struct Pages<'a> {
    store: &'a Store,
    spec: &'a ExportSpec,
    wanted: Vec<Verdict>,
    with_input: bool,
    after: Option<(i64, i64)>,
    finished: bool,
}

impl<'a> Pages<'a> {
    fn new(store: &'a Store, spec: &'a ExportSpec) -> Pages<'a> {
        Pages {
            store,
            spec,
            wanted: verdicts(spec),
            with_input: true,
            after: None,
            finished: false,
        }
    }

    async fn next(&mut self) -> StoreResult<Option<Vec<ExportCandidate>>> {
        if self.finished {
            return Ok(None);
        }
        let page = self
            .store
            .export_candidates(
                &self.spec.filter,
                &self.wanted,
                self.with_input,
                self.after,
                PAGE,
            )
            .await?;
        let Some(last) = page.last() else {
            self.finished = true;
            return Ok(None);
        };
        self.after = Some((last.created_at, last.seq));
        self.finished = (page.len() as i64) < PAGE;
        Ok(Some(page))
    }
}

/// Why a training format leaves a reviewed call out, if it does.
pub(super) fn not_teachable(
    spec: &ExportSpec,
    verdict: Verdict,
    has_correction: bool,
) -> Option<&'static str> {
    if !spec.format.is_training() {
        return None;
    }
    match verdict {
        Verdict::Incorrect if !has_correction => Some(LEFT_NO_CORRECTION),
        Verdict::Correct
            if !spec.include_correct || spec.format == ExportFormat::PreferenceJsonl =>
        {
            Some(LEFT_CORRECT)
        }
        _ => None,
    }
}

/// Whether the spec gives at least one example, read until the first one is found (creating
/// an export answers at once; the job plans it in full). `Err` carries what was left out and
/// why when none is.
pub async fn has_example(
    store: &Store,
    spec: &ExportSpec,
) -> StoreResult<Result<(), BTreeMap<String, u64>>> {
    let mut counts = ExportPlanCounts::default();
    let mut pages = Pages::new(store, spec);
    while let Some(page) = pages.next().await? {
        for row in page {
            if let Some(reason) = not_teachable(spec, row.verdict, row.has_correction) {
                leave(&mut counts, reason);
            } else if serde_json::from_str::<serde_json::Value>(&row.input).is_err() {
                leave(&mut counts, LEFT_UNREADABLE);
            } else {
                return Ok(Ok(()));
            }
        }
    }
    Ok(Err(counts.left_out))
}

/// Plans an export of the spec over the data as it is now.
pub async fn plan(store: &Store, spec: &ExportSpec) -> StoreResult<Plan> {
    plan_until(store, spec, None).await
}

/// Plans as [`plan`] does, but stops reading candidates at `deadline` (a live preview cannot
/// wait for a million inputs): the counts are then those of the calls read so far, which only
/// grow with the rest, and `counted_through` says how far it got.
pub async fn plan_until(
    store: &Store,
    spec: &ExportSpec,
    deadline: Option<std::time::Instant>,
) -> StoreResult<Plan> {
    let mut counts = ExportPlanCounts::default();
    let mut operations: Vec<String> = Vec::new();
    let mut operation_index: HashMap<String, u32> = HashMap::new();
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut by_key: HashMap<u64, usize> = HashMap::new();
    let mut pages = Pages::new(store, spec);
    pages.with_input = reads_input(spec);
    let mut counted_through = None;
    while let Some(page) = pages.next().await? {
        for row in page {
            if let Some(reason) = not_teachable(spec, row.verdict, row.has_correction) {
                leave(&mut counts, reason);
                continue;
            }
            let key = if pages.with_input {
                let Ok(input) = serde_json::from_str(&row.input) else {
                    leave(&mut counts, LEFT_UNREADABLE);
                    continue;
                };
                input_key(&input)
            } else {
                0
            };
            let operation = match operation_index.get(&row.operation) {
                Some(&i) => i,
                None => {
                    let i = operations.len() as u32;
                    operations.push(row.operation.clone());
                    operation_index.insert(row.operation, i);
                    i
                }
            };
            let candidate = Candidate {
                seq: row.seq,
                operation,
                verdict: row.verdict,
                key,
                pick: if spec.max_per_operation.is_some() {
                    pick_key(&row.id)
                } else {
                    0
                },
                reviewed_at: row.reviewed_at.unwrap_or(0),
                kept: true,
            };
            let index = candidates.len();
            if spec.dedupe {
                if let Some(&other) = by_key.get(&key) {
                    let (loser, winner) =
                        if candidates[other].newness(other) < candidate.newness(index) {
                            (other, index)
                        } else {
                            (index, other)
                        };
                    candidates.push(candidate);
                    candidates[loser].kept = false;
                    by_key.insert(key, winner);
                    leave(&mut counts, LEFT_DUPLICATE);
                    continue;
                }
                by_key.insert(key, index);
            }
            candidates.push(candidate);
        }
        if deadline.is_some_and(|d| std::time::Instant::now() >= d) && !pages.finished {
            counted_through = pages.after.map(|(at, _)| at);
            break;
        }
    }
    drop(by_key);
    if let Some(cap) = spec.max_per_operation {
        let mut per_operation: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        for (i, c) in candidates.iter().enumerate().filter(|(_, c)| c.kept) {
            per_operation.entry(c.operation).or_default().push(i);
        }
        for (_, mut indices) in per_operation {
            if indices.len() <= cap as usize {
                continue;
            }
            indices.sort_by_key(|&i| (candidates[i].pick, candidates[i].seq));
            for &i in &indices[cap as usize..] {
                candidates[i].kept = false;
                leave(&mut counts, LEFT_CAP);
            }
        }
    }
    // Counted per operation index and verdict code, named once at the end (a million
    // chosen calls need not build a million map keys).
    let mut chosen = Vec::with_capacity(candidates.iter().filter(|c| c.kept).count());
    let mut per_operation = vec![[0u64; 2]; operations.len()];
    let mut per_verdict: BTreeMap<&'static str, u64> = BTreeMap::new();
    for c in candidates.iter().filter(|c| c.kept) {
        let split = split_of(c.key, spec.validation_percent);
        chosen.push(Chosen { seq: c.seq, split });
        let side = counts.add_example(split);
        per_operation[c.operation as usize][side] += 1;
        *per_verdict.entry(c.verdict.as_str()).or_default() += 1;
    }
    drop(candidates);
    for (name, sides) in operations.into_iter().zip(per_operation) {
        if sides != [0, 0] {
            counts.per_operation.insert(name, sides);
        }
    }
    for (verdict, n) in per_verdict {
        counts.per_verdict.insert(verdict.to_string(), n);
    }
    Ok(Plan {
        chosen,
        counts,
        counted_through,
    })
}
