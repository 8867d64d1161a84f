//! The difference between an output and its correction: word by word for prose, line by
//! line for JSON and code (where a changed line reads better than scattered words).

use serde::{Deserialize, Serialize};
use similar::{ChangeTag, TextDiff};

use super::OutputKind;

/// Texts longer than this are compared line by line whatever their kind (word diffs of very
/// long texts are slow and unreadable).
const WORD_DIFF_MAX_BYTES: usize = 100_000;
/// Texts longer than this are not compared at all.
pub const DIFF_MAX_BYTES: usize = 1_000_000;

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

/// The parts of `new` against `old`, in order; `None` when either is too long to compare.
pub fn diff(old: &str, new: &str, kind: OutputKind) -> Option<Vec<DiffPart>> {
    if old.len() > DIFF_MAX_BYTES || new.len() > DIFF_MAX_BYTES {
        return None;
    }
    let by_lines = is_code(old, kind)
        || is_code(new, kind)
        || old.len() > WORD_DIFF_MAX_BYTES
        || new.len() > WORD_DIFF_MAX_BYTES;
    let text_diff = if by_lines {
        TextDiff::from_lines(old, new)
    } else {
        TextDiff::from_words(old, new)
    };
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
    Some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let parts = diff(
            "The refund is $40 today.",
            "The refund is $45 today.",
            OutputKind::Text,
        )
        .unwrap();
        assert_eq!(render(&parts), "The refund is [-$40][+$45] today.");
    }

    #[test]
    fn json_differs_by_lines() {
        let old = "{\n  \"amount\": 40,\n  \"currency\": \"USD\"\n}\n";
        let new = "{\n  \"amount\": 45,\n  \"currency\": \"USD\"\n}\n";
        let parts = diff(old, new, OutputKind::Json).unwrap();
        assert_eq!(
            render(&parts),
            "{\n[-  \"amount\": 40,\n][+  \"amount\": 45,\n]  \"currency\": \"USD\"\n}\n"
        );
    }

    #[test]
    fn the_parts_rebuild_both_texts_and_huge_texts_are_not_compared() {
        let (old, new) = ("a b c d", "a x c d e");
        let parts = diff(old, new, OutputKind::Text).unwrap();
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
        assert!(diff(&huge, "y", OutputKind::Text).is_none());
    }
}
