//! The difference between an output and its correction: word by word for prose, line by
//! line for JSON and code (where a changed line reads better than scattered words).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use similar::{ChangeTag, TextDiff};
use web_time::Instant;

use super::OutputKind;

/// Texts longer than this are compared line by line whatever their kind (word diffs of very
/// long texts are slow and unreadable).
const WORD_DIFF_MAX_BYTES: usize = 100_000;
/// Texts longer than this are not compared at all.
pub const DIFF_MAX_BYTES: usize = 1_000_000;
/// How long one comparison may take. Two unrelated texts of 60,000 lines each took 30 s and
/// more without a deadline (the work grows with length times the number of differences);
/// past it the texts are called too different to compare.
pub const DIFF_DEADLINE: Duration = Duration::from_millis(150);

/// What a comparison found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiffOutcome {
    Parts(Vec<DiffPart>),
    /// Either text is over `DIFF_MAX_BYTES`.
    TooLong {
        old_bytes: usize,
        new_bytes: usize,
    },
    /// The comparison ran past its deadline: the texts differ nearly everywhere.
    TooDifferent {
        old_bytes: usize,
        new_bytes: usize,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    Same,
    Added,
    Removed,
}

/// A run of text that is the same in both, only in the correction, or only in the original.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffPart {
    pub change: Change,
    pub text: String,
}

/// Whether a text reads as code: JSON output, or lines that look like a program.
fn is_code(text: &str, kind: OutputKind) -> bool {
    if kind == OutputKind::Json {
        return true;
    }
    let trimmed = text.trim_start();
    trimmed.starts_with('{')
        || trimmed.starts_with('[')
        || trimmed.starts_with("```")
        || text
            .lines()
            .filter(|l| l.starts_with("    ") || l.starts_with('\t'))
            .count()
            >= 3
}

/// The parts of `new` against `old`, in order, found within `DIFF_DEADLINE`.
pub fn diff(old: &str, new: &str, kind: OutputKind) -> DiffOutcome {
    diff_within(old, new, kind, DIFF_DEADLINE)
}

/// `diff` with a deadline of the caller's.
pub fn diff_within(old: &str, new: &str, kind: OutputKind, deadline: Duration) -> DiffOutcome {
    let (old_bytes, new_bytes) = (old.len(), new.len());
    if old_bytes > DIFF_MAX_BYTES || new_bytes > DIFF_MAX_BYTES {
        return DiffOutcome::TooLong {
            old_bytes,
            new_bytes,
        };
    }
    let started = Instant::now();
    let by_lines = is_code(old, kind)
        || is_code(new, kind)
        || old.len() > WORD_DIFF_MAX_BYTES
        || new.len() > WORD_DIFF_MAX_BYTES;
    let mut config = TextDiff::configure();
    config.timeout(deadline);
    let text_diff = if by_lines {
        config.diff_lines(old, new)
    } else {
        config.diff_words(old, new)
    };
    // Past the deadline the diff library stops looking for the shortest difference and
    // returns a rough one: not worth showing.
    if started.elapsed() >= deadline {
        return DiffOutcome::TooDifferent {
            old_bytes,
            new_bytes,
        };
    }
    let mut parts: Vec<DiffPart> = Vec::new();
    for change in text_diff.iter_all_changes() {
        let change_kind = match change.tag() {
            ChangeTag::Equal => Change::Same,
            ChangeTag::Insert => Change::Added,
            ChangeTag::Delete => Change::Removed,
        };
        match parts.last_mut() {
            Some(last) if last.change == change_kind => last.text.push_str(change.value()),
            _ => parts.push(DiffPart {
                change: change_kind,
                text: change.value().to_string(),
            }),
        }
    }
    DiffOutcome::Parts(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(outcome: DiffOutcome) -> Vec<DiffPart> {
        match outcome {
            DiffOutcome::Parts(parts) => parts,
            other => panic!("expected parts, got {other:?}"),
        }
    }

    fn render(parts: &[DiffPart]) -> String {
        parts
            .iter()
            .map(|p| match p.change {
                Change::Same => p.text.clone(),
                Change::Added => format!("[+{}]", p.text),
                Change::Removed => format!("[-{}]", p.text),
            })
            .collect()
    }

    #[test]
    fn prose_differs_by_words() {
        let parts = parts(diff(
            "The refund is $40 today.",
            "The refund is $45 today.",
            OutputKind::Text,
        ));
        assert_eq!(render(&parts), "The refund is [-$40][+$45] today.");
    }

    #[test]
    fn json_differs_by_lines() {
        let old = "{\n  \"amount\": 40,\n  \"currency\": \"USD\"\n}\n";
        let new = "{\n  \"amount\": 45,\n  \"currency\": \"USD\"\n}\n";
        let parts = parts(diff(old, new, OutputKind::Json));
        assert_eq!(
            render(&parts),
            "{\n[-  \"amount\": 40,\n][+  \"amount\": 45,\n]  \"currency\": \"USD\"\n}\n"
        );
    }

    #[test]
    fn the_parts_rebuild_both_texts_and_huge_texts_are_not_compared() {
        let (old, new) = ("a b c d", "a x c d e");
        let parts = parts(diff(old, new, OutputKind::Text));
        let keep = |skip: Change| -> String {
            parts
                .iter()
                .filter(|p| p.change != skip)
                .map(|p| p.text.as_str())
                .collect()
        };
        assert_eq!(keep(Change::Added), old);
        assert_eq!(keep(Change::Removed), new);
        let huge = "x".repeat(DIFF_MAX_BYTES + 1);
        assert_eq!(
            diff(&huge, "y", OutputKind::Text),
            DiffOutcome::TooLong {
                old_bytes: DIFF_MAX_BYTES + 1,
                new_bytes: 1
            }
        );
    }

    #[test]
    fn unrelated_long_texts_stop_at_the_deadline() {
        // Two unrelated 60,000-line texts: tens of seconds without a deadline.
        let old: String = (0..60_000).map(|i| format!("old line {i}\n")).collect();
        let new: String = (0..60_000)
            .map(|i| format!("new row {}\n", i * 7))
            .collect();
        let outcome = diff_within(&old, &new, OutputKind::Json, Duration::from_millis(50));
        assert!(
            matches!(outcome, DiffOutcome::TooDifferent { old_bytes, .. } if old_bytes == old.len()),
            "{:?}",
            std::mem::discriminant(&outcome)
        );
    }
}
