//! What a reviewer submits, and the rules a review must meet before it is stored (shared by
//! the API and, later, the review page).

use serde::{Deserialize, Serialize};

use super::{OutputKind, Review, Verdict};

/// Most tags on one review.
pub const MAX_TAGS: usize = 20;
/// Tags a submission may list before duplicates are dropped (counted before any other work).
pub const MAX_TAGS_SENT: usize = 2 * MAX_TAGS;
/// Longest note, in characters.
pub const MAX_NOTE_CHARS: usize = 10_000;
/// Largest correction: as large as an output may be at ingest.
pub const MAX_CORRECTION_BYTES: usize = super::ingest::MAX_TEXT_BYTES;

/// A review as submitted: `base_revision` is the revision the reviewer saw (0: none yet).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewSubmission {
    pub verdict: String,
    #[serde(default)]
    pub corrected_output: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub note: String,
    pub base_revision: i64,
}

/// A submission that meets the rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidReview {
    pub verdict: Verdict,
    /// Only for an incorrect verdict: what the output should have been.
    pub corrected_output: Option<String>,
    pub tags: Vec<String>,
    pub note: String,
    pub base_revision: i64,
}

/// The editor's form as posted (a plain form before hydration, the same fields after):
/// `tags` is a comma-separated list, and a correct verdict ignores the editor's text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReviewForm {
    pub verdict: Option<String>,
    pub corrected_output: Option<String>,
    pub tags: Option<String>,
    pub note: Option<String>,
    pub base_revision: i64,
}

impl ReviewForm {
    /// The submission the form stands for; refused when no verdict was chosen.
    pub fn into_submission(self) -> Result<ReviewSubmission, ReviewError> {
        let Some(verdict) = self.verdict.filter(|v| !v.is_empty()) else {
            return Err(refuse("verdict", "choose correct or incorrect"));
        };
        let tags = tag_names(self.tags.as_deref().unwrap_or_default())
            // One more than allowed is enough to refuse: a huge list is never built.
            .take(MAX_TAGS_SENT + 1)
            .map(str::to_string)
            .collect();
        // A correct verdict keeps the original: the editor's text is only the correction.
        let corrected_output = match verdict.as_str() {
            "correct" => None,
            _ => self.corrected_output.map(|t| t.replace("\r\n", "\n")),
        };
        Ok(ReviewSubmission {
            verdict,
            corrected_output,
            tags,
            note: self.note.unwrap_or_default(),
            base_revision: self.base_revision,
        })
    }
}

/// The names in a comma-separated tag list, trimmed, without empties.
pub fn tag_names(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|t| !t.is_empty())
}

/// What became of a review save: the one answer the store, the API and the editor share.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SaveOutcome {
    Saved {
        revision: i64,
    },
    /// Someone saved since `base_revision`; nothing was written. `current` is the review
    /// that was saved (left out by bulk saves).
    Conflict {
        base_revision: i64,
        current_revision: i64,
        current: Option<Review>,
    },
    /// The submission broke a rule; nothing was written.
    Invalid(ReviewError),
    NotFound,
}

impl SaveOutcome {
    /// A conflict in words: who saved which revision when.
    pub fn conflict_message(&self) -> Option<String> {
        let SaveOutcome::Conflict {
            base_revision,
            current_revision,
            current,
        } = self
        else {
            return None;
        };
        let who = current
            .as_ref()
            .map(|r| {
                format!(
                    " by {} at {}",
                    r.reviewer,
                    r.created_at.format("%Y-%m-%d %H:%M:%S UTC")
                )
            })
            .unwrap_or_default();
        Some(format!(
            "this review is based on revision {base_revision}, but revision {current_revision} was saved{who}; nothing was written"
        ))
    }
}

/// Why a submission was refused: the field and a reason a person can act on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewError {
    pub field: String,
    pub reason: String,
    /// For a correction that breaks the operation's JSON Schema: every rule, with its path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<super::operation::Violation>,
}

pub fn refuse(field: &str, reason: impl Into<String>) -> ReviewError {
    ReviewError {
        field: field.into(),
        reason: reason.into(),
        violations: Vec::new(),
    }
}

/// A tag name: a lowercase letter, then lowercase letters, digits, `_` or `-`; at most 48.
pub fn is_tag_name(tag: &str) -> bool {
    let mut chars = tag.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && tag.len() <= 48
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// Checks a submission against the call's original output and its operation's output kind.
pub fn validate_review(
    submission: ReviewSubmission,
    original_output: &str,
    kind: OutputKind,
) -> Result<ValidReview, ReviewError> {
    check_sizes(&submission)?;
    let verdict = match submission.verdict.as_str() {
        "correct" => Verdict::Correct,
        "incorrect" => Verdict::Incorrect,
        other => {
            return Err(refuse(
                "verdict",
                format!("\"{other}\" is not a verdict: use correct or incorrect"),
            ))
        }
    };
    if submission.base_revision < 0 {
        return Err(refuse(
            "base_revision",
            "must be 0 (no review yet) or a revision number",
        ));
    }
    let corrected_output = match verdict {
        Verdict::Incorrect => {
            let Some(corrected) = submission.corrected_output else {
                return Err(refuse(
                    "corrected_output",
                    "an incorrect verdict needs the output it should have been",
                ));
            };
            if corrected.trim().is_empty() {
                return Err(refuse("corrected_output", "the correction is empty"));
            }
            if corrected == original_output {
                return Err(refuse(
                    "corrected_output",
                    "the correction is the same as the original output; change it, or mark the call correct",
                ));
            }
            if kind == OutputKind::Json {
                if let Err(error) = serde_json::from_str::<serde_json::Value>(&corrected) {
                    return Err(refuse(
                        "corrected_output",
                        format!(
                            "this operation's output is JSON and the correction does not parse: {} at line {}, column {}",
                            describe_json_error(&error),
                            error.line(),
                            error.column()
                        ),
                    ));
                }
            }
            Some(corrected)
        }
        _ => {
            if submission
                .corrected_output
                .as_deref()
                .is_some_and(|c| c != original_output)
            {
                return Err(refuse(
                    "corrected_output",
                    "a correct verdict keeps the original output; mark it incorrect to correct it",
                ));
            }
            None
        }
    };
    let mut seen = std::collections::HashSet::with_capacity(submission.tags.len());
    let mut tags: Vec<String> = Vec::with_capacity(submission.tags.len());
    for tag in submission.tags {
        let tag = tag.trim();
        if !is_tag_name(tag) {
            let shown: String = tag.chars().take(60).collect();
            return Err(refuse(
                "tags",
                format!("\"{shown}\" is not a tag name: a lowercase letter, then a-z, 0-9, _ or -, at most 48"),
            ));
        }
        if seen.insert(tag.to_string()) {
            tags.push(tag.to_string());
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(refuse("tags", format!("at most {MAX_TAGS} tags")));
    }
    Ok(ValidReview {
        verdict,
        corrected_output,
        tags,
        note: submission.note,
        base_revision: submission.base_revision,
    })
}

/// Counts and sizes, checked before anything else is done with a submission: a request can
/// make the server work only in proportion to what these bounds allow.
pub fn check_sizes(submission: &ReviewSubmission) -> Result<(), ReviewError> {
    if submission.tags.len() > MAX_TAGS_SENT {
        return Err(refuse(
            "tags",
            format!(
                "{} tags sent; a review has at most {MAX_TAGS}",
                submission.tags.len()
            ),
        ));
    }
    if let Some(long) = submission.tags.iter().find(|t| t.len() > 4 * 48) {
        let shown: String = long.chars().take(60).collect();
        return Err(refuse(
            "tags",
            format!("\"{shown}…\" is not a tag name: at most 48 characters"),
        ));
    }
    // Bytes first (a character is at most 4), so a huge note is refused without counting it.
    if submission.note.len() > 4 * MAX_NOTE_CHARS
        || submission.note.chars().count() > MAX_NOTE_CHARS
    {
        return Err(refuse(
            "note",
            format!("at most {MAX_NOTE_CHARS} characters"),
        ));
    }
    if let Some(corrected) = &submission.corrected_output {
        if corrected.len() > MAX_CORRECTION_BYTES {
            return Err(refuse(
                "corrected_output",
                format!(
                    "the correction is {} bytes; at most {} MB",
                    corrected.len(),
                    MAX_CORRECTION_BYTES / (1024 * 1024)
                ),
            ));
        }
    }
    Ok(())
}

fn describe_json_error(error: &serde_json::Error) -> String {
    // serde_json's message ends with its own " at line L column C"; the position is given once.
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn submit(verdict: &str, corrected: Option<&str>) -> ReviewSubmission {
        ReviewSubmission {
            verdict: verdict.into(),
            corrected_output: corrected.map(str::to_string),
            tags: vec![],
            note: String::new(),
            base_revision: 0,
        }
    }

    #[test]
    fn incorrect_needs_a_different_correction() {
        let err = validate_review(submit("incorrect", None), "a", OutputKind::Text).unwrap_err();
        assert_eq!(err.field, "corrected_output");
        let err =
            validate_review(submit("incorrect", Some("a")), "a", OutputKind::Text).unwrap_err();
        assert!(err.reason.contains("same as the original"));
        let ok = validate_review(submit("incorrect", Some("b")), "a", OutputKind::Text).unwrap();
        assert_eq!(ok.corrected_output.as_deref(), Some("b"));
        let ok = validate_review(submit("correct", Some("a")), "a", OutputKind::Text).unwrap();
        assert_eq!(ok.corrected_output, None);
        assert!(validate_review(submit("correct", Some("b")), "a", OutputKind::Text).is_err());
        assert!(validate_review(submit("unreviewed", None), "a", OutputKind::Text).is_err());
    }

    #[test]
    fn json_corrections_must_parse_and_the_error_says_where() {
        let err = validate_review(
            submit(
                "incorrect",
                Some("{\n  \"amount\": 12,\n  \"currency\": EUR\n}"),
            ),
            "{}",
            OutputKind::Json,
        )
        .unwrap_err();
        assert!(err.reason.contains("line 3, column"), "{}", err.reason);
        assert!(err.reason.contains("does not parse"), "{}", err.reason);
        assert!(validate_review(
            submit("incorrect", Some("{\"a\": 1}")),
            "{}",
            OutputKind::Json
        )
        .is_ok());
    }

    #[test]
    fn tags_are_names_and_deduplicated() {
        let mut s = submit("incorrect", Some("b"));
        s.tags = vec![
            "wrong_amount".into(),
            " wrong_amount".into(),
            "format".into(),
        ];
        let ok = validate_review(s.clone(), "a", OutputKind::Text).unwrap();
        assert_eq!(ok.tags, ["wrong_amount", "format"]);
        s.tags = vec!["Bad Tag".into()];
        assert_eq!(
            validate_review(s, "a", OutputKind::Text).unwrap_err().field,
            "tags"
        );
    }

    #[test]
    fn counts_and_sizes_are_refused_before_any_other_check() {
        // 200,000 distinct tags: refused by their count, not after comparing them.
        let mut s = submit("incorrect", Some("b"));
        s.tags = (0..200_000).map(|i| format!("t{i}")).collect();
        let err = validate_review(s, "a", OutputKind::Text).unwrap_err();
        assert_eq!(err.field, "tags");
        assert!(err.reason.contains("200000 tags sent"), "{}", err.reason);
        // 21 distinct tags pass the count of what was sent, then fail the limit.
        let mut s = submit("incorrect", Some("b"));
        s.tags = (0..21).map(|i| format!("t{i}")).collect();
        assert!(validate_review(s, "a", OutputKind::Text)
            .unwrap_err()
            .reason
            .contains("at most 20"));
        let mut s = submit("incorrect", Some(&"x".repeat(MAX_CORRECTION_BYTES + 1)));
        s.note = "n".repeat(10);
        assert_eq!(
            validate_review(s, "a", OutputKind::Text).unwrap_err().field,
            "corrected_output"
        );
        let mut s = submit("correct", None);
        s.note = "é".repeat(MAX_NOTE_CHARS + 1);
        assert_eq!(
            validate_review(s, "a", OutputKind::Text).unwrap_err().field,
            "note"
        );
    }

    #[test]
    fn the_editor_form_becomes_a_submission() {
        let form = ReviewForm {
            verdict: Some("incorrect".into()),
            corrected_output: Some("line one\r\nline two".into()),
            tags: Some(" format, ,wrong_amount ,".into()),
            note: None,
            base_revision: 3,
        };
        let submission = form.clone().into_submission().unwrap();
        assert_eq!(
            submission.corrected_output.as_deref(),
            Some("line one\nline two")
        );
        assert_eq!(submission.tags, vec!["format", "wrong_amount"]);
        assert_eq!(submission.base_revision, 3);
        // A correct verdict drops the editor's text; no verdict is refused.
        let correct = ReviewForm {
            verdict: Some("correct".into()),
            ..form.clone()
        };
        assert_eq!(correct.into_submission().unwrap().corrected_output, None);
        let none = ReviewForm {
            verdict: Some(String::new()),
            ..form
        };
        assert_eq!(none.into_submission().unwrap_err().field, "verdict");
        // A huge list is cut at one more than the count check allows.
        let many = ReviewForm {
            verdict: Some("correct".into()),
            tags: Some("t,".repeat(100_000)),
            ..Default::default()
        };
        let submission = many.into_submission().unwrap();
        assert_eq!(submission.tags.len(), MAX_TAGS_SENT + 1);
        assert_eq!(check_sizes(&submission).unwrap_err().field, "tags");
    }
}
