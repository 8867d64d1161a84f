//! What an export is asked to build (its spec), checked once when it is created; and what a
//! finished one reports (its manifest). Shared by the server and the pages.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{CallFilter, FeedQuery};

/// The most a validation split may take.
pub const MAX_VALIDATION_PERCENT: u32 = 50;
/// The longest replacement system message.
pub const MAX_SYSTEM_TEXT: usize = 20_000;
/// Fine-tuning services refuse smaller training sets.
pub const MIN_EXAMPLES: u64 = 10;
/// Context limit checked when the spec names none (tokens per example).
pub const DEFAULT_CONTEXT_LIMIT: u32 = 16_384;
/// The largest context limit a spec may set.
pub const MAX_CONTEXT_LIMIT: u32 = 2_000_000;

/// The file format of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// `{"messages": [...]}` per line: chat fine-tuning.
    ChatJsonl,
    /// Correction preferred, original rejected: preference tuning (DPO).
    PreferenceJsonl,
    /// Every field of each call with its current review.
    Jsonl,
    /// The same as `jsonl`, flattened (RFC 4180).
    Csv,
}

impl ExportFormat {
    pub const ALL: [ExportFormat; 4] = [
        ExportFormat::ChatJsonl,
        ExportFormat::PreferenceJsonl,
        ExportFormat::Jsonl,
        ExportFormat::Csv,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::ChatJsonl => "chat_jsonl",
            ExportFormat::PreferenceJsonl => "preference_jsonl",
            ExportFormat::Jsonl => "jsonl",
            ExportFormat::Csv => "csv",
        }
    }

    pub fn parse(text: &str) -> Option<ExportFormat> {
        ExportFormat::ALL.into_iter().find(|f| f.as_str() == text)
    }

    /// File name extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            _ => "jsonl",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            _ => "application/jsonl; charset=utf-8",
        }
    }

    /// Training formats hold reviewed examples only and are checked line by line; the data
    /// formats hold every call the filter matches.
    pub fn is_training(self) -> bool {
        matches!(
            self,
            ExportFormat::ChatJsonl | ExportFormat::PreferenceJsonl
        )
    }
}

/// The two shapes of a preference line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PreferenceStyle {
    /// OpenAI's preference fine-tuning: `input`, `preferred_output`, `non_preferred_output`.
    #[default]
    Openai,
    /// TRL's DPO trainer: `prompt`, `chosen`, `rejected`.
    Trl,
}

/// What happens to the call's system message in training lines.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode", content = "text")]
pub enum SystemMessage {
    #[default]
    Keep,
    Drop,
    /// Every example gets this system message instead (added where the call had none).
    Replace(String),
}

/// What happens to a training line that fails the format check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailingLines {
    /// Left out of the file, listed in the report.
    #[default]
    Skip,
    /// The export fails, listing them.
    Fail,
}

/// Everything an export is built from. The same spec over unchanged data gives the same bytes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportSpec {
    pub format: ExportFormat,
    pub filter: CallFilter,
    pub preference_style: PreferenceStyle,
    pub system: SystemMessage,
    /// Share of examples in the validation file, 0 to 50 %.
    pub validation_percent: u32,
    /// Identical inputs (after normalizing) give one example: the newest review's.
    pub dedupe: bool,
    /// At most this many examples per operation, chosen by a hash of the call id.
    pub max_per_operation: Option<u32>,
    /// Training formats: calls marked correct become examples of their original output.
    pub include_correct: bool,
    /// E-mail addresses, phone numbers, card numbers and IBANs become placeholders.
    pub redact: bool,
    /// Tokens one training example may hold.
    pub context_limit: u32,
    pub failing_lines: FailingLines,
}

/// A spec as a request sends it: every option may be left out.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    pub format: Option<String>,
    /// The feed's filter, as its URL parameters (`operation`, `verdict`, `model`,
    /// `model_version`, `from`, `to`, `tag`, `reviewer`, `q`).
    #[serde(default)]
    pub filter: BTreeMap<String, String>,
    pub preference_style: Option<PreferenceStyle>,
    pub system: Option<SystemMessage>,
    pub validation_percent: Option<u32>,
    pub dedupe: Option<bool>,
    pub max_per_operation: Option<u32>,
    pub include_correct: Option<bool>,
    pub redact: Option<bool>,
    pub context_limit: Option<u32>,
    pub failing_lines: Option<FailingLines>,
}

/// Why a spec was refused, naming the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{field}: {reason}")]
pub struct SpecError {
    pub field: String,
    pub reason: String,
}

fn refuse(field: &str, reason: impl Into<String>) -> SpecError {
    SpecError {
        field: field.to_string(),
        reason: reason.into(),
    }
}

impl ExportRequest {
    /// Checks every field; the first problem is the answer.
    pub fn into_spec(self) -> Result<ExportSpec, SpecError> {
        let format_text = self.format.ok_or_else(|| {
            refuse(
                "format",
                "required: chat_jsonl, preference_jsonl, jsonl or csv",
            )
        })?;
        let format = ExportFormat::parse(format_text.trim()).ok_or_else(|| {
            refuse(
                "format",
                format!("\"{format_text}\" is not one of chat_jsonl, preference_jsonl, jsonl, csv"),
            )
        })?;
        if self.filter.len() > 16 {
            return Err(refuse("filter", "more than 16 parameters"));
        }
        let query = FeedQuery::from_pairs(
            self.filter
                .iter()
                .filter(|(key, _)| key.as_str() != "cursor" && key.as_str() != "limit")
                .map(|(k, v)| (k.as_str(), v.as_str())),
        )
        .map_err(|e| refuse(&format!("filter.{}", e.param), e.reason))?;
        if let Some(key) = self.filter.keys().find(|k| {
            !matches!(
                k.as_str(),
                "operation"
                    | "verdict"
                    | "model"
                    | "model_version"
                    | "from"
                    | "to"
                    | "tag"
                    | "reviewer"
                    | "q"
            )
        }) {
            return Err(refuse(
                &format!("filter.{key}"),
                "not a filter (operation, verdict, model, model_version, from, to, tag, reviewer, q)",
            ));
        }
        let validation_percent = self.validation_percent.unwrap_or(0);
        if validation_percent > MAX_VALIDATION_PERCENT {
            return Err(refuse(
                "validation_percent",
                format!("{validation_percent} is outside 0 to {MAX_VALIDATION_PERCENT}"),
            ));
        }
        let system = self.system.unwrap_or_default();
        if let SystemMessage::Replace(text) = &system {
            if text.trim().is_empty() {
                return Err(refuse("system", "the replacement system message is empty"));
            }
            if text.chars().count() > MAX_SYSTEM_TEXT {
                return Err(refuse(
                    "system",
                    format!("the replacement is longer than {MAX_SYSTEM_TEXT} characters"),
                ));
            }
        }
        if self.max_per_operation == Some(0) {
            return Err(refuse(
                "max_per_operation",
                "must be at least 1 (leave it out for no limit)",
            ));
        }
        let context_limit = self.context_limit.unwrap_or(DEFAULT_CONTEXT_LIMIT);
        if !(16..=MAX_CONTEXT_LIMIT).contains(&context_limit) {
            return Err(refuse(
                "context_limit",
                format!("{context_limit} is outside 16 to {MAX_CONTEXT_LIMIT} tokens"),
            ));
        }
        Ok(ExportSpec {
            format,
            filter: query.filter,
            preference_style: self.preference_style.unwrap_or_default(),
            system,
            validation_percent,
            dedupe: self.dedupe.unwrap_or(false),
            max_per_operation: self.max_per_operation,
            include_correct: self.include_correct.unwrap_or(false),
            redact: self.redact.unwrap_or(false),
            context_limit,
            failing_lines: self.failing_lines.unwrap_or_default(),
        })
    }
}

/// Which file of an export an example goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    Train,
    Validation,
}

impl Split {
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Validation => "validation",
        }
    }
}

/// How many examples an export holds, per operation and split, before it is written.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ExportPlanCounts {
    pub total: u64,
    pub train: u64,
    pub validation: u64,
    /// Operation name → [train, validation].
    pub per_operation: BTreeMap<String, [u64; 2]>,
    /// Verdict name → examples.
    pub per_verdict: BTreeMap<String, u64>,
    /// Calls the filter matched that give no example, by reason.
    pub left_out: BTreeMap<String, u64>,
}

impl ExportPlanCounts {
    /// Counts one example on its side of the split; gives the side's index in the
    /// `per_operation` pairs.
    pub fn add_example(&mut self, split: Split) -> usize {
        self.total += 1;
        match split {
            Split::Train => {
                self.train += 1;
                0
            }
            Split::Validation => {
                self.validation += 1;
                1
            }
        }
    }
}

/// Where an export's job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportState {
    Queued,
    Running,
    Done,
    Failed,
    Cancelled,
}

impl ExportState {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportState::Queued => "queued",
            ExportState::Running => "running",
            ExportState::Done => "done",
            ExportState::Failed => "failed",
            ExportState::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> ExportState {
        match text {
            "running" => ExportState::Running,
            "done" => ExportState::Done,
            "failed" => ExportState::Failed,
            "cancelled" => ExportState::Cancelled,
            _ => ExportState::Queued,
        }
    }

    pub fn is_finished(self) -> bool {
        matches!(
            self,
            ExportState::Done | ExportState::Failed | ExportState::Cancelled
        )
    }
}

/// One file of a finished export.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportFile {
    /// `train`, `validation` or `manifest`.
    pub part: String,
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

/// A training line that failed the format check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailedLine {
    pub call_id: String,
    pub reason: String,
}

/// Tokens per example, counted with o200k_base.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenStats {
    pub tokenizer: String,
    pub p50: u64,
    pub p95: u64,
    pub max: u64,
    pub total: u64,
    pub over_context_limit: u64,
}

/// The format check of a training export.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ValidationReport {
    pub lines_checked: u64,
    pub lines_failed: u64,
    /// The failing lines, up to a bound (`lines_failed` counts them all).
    pub failures: Vec<FailedLine>,
    pub tokens: Option<TokenStats>,
    /// Problems with the set as a whole (too few examples).
    pub warnings: Vec<String>,
}

/// One example's provenance: the call and the review revision it came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub call_id: String,
    pub split: Split,
    pub revision: i64,
    pub reviewer: Option<String>,
}

/// What a finished export says about itself (also a file beside it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportManifest {
    pub export_id: i64,
    pub spec: ExportSpec,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub redline_version: String,
    pub counts: ExportPlanCounts,
    /// Placeholders put in, per kind (`email`, `phone`, `card`, `iban`).
    pub redactions: BTreeMap<String, u64>,
    pub validation: Option<ValidationReport>,
    pub files: Vec<ExportFile>,
    /// Every example, in the manifest file; the export's row keeps the rest, without them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<ManifestEntry>,
}

/// An export as lists and the API show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportInfo {
    pub id: i64,
    pub spec: ExportSpec,
    pub state: ExportState,
    pub rows_done: u64,
    pub rows_total: u64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
    pub cancel_requested: bool,
    pub deleted: bool,
    /// A running export's estimate from its pace so far.
    pub seconds_left: Option<u64>,
    /// The finished export's files (the manifest has the rest).
    pub files: Vec<ExportFile>,
    pub counts: Option<ExportPlanCounts>,
    pub validation: Option<ValidationReport>,
    pub redactions: BTreeMap<String, u64>,
}

/// Parses a spec stored as JSON text (the store keeps what `into_spec` made).
pub fn spec_from_json(value: &Value) -> Option<ExportSpec> {
    serde_json::from_value(value.clone()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(value: Value) -> Result<ExportSpec, SpecError> {
        serde_json::from_value::<ExportRequest>(value)
            .map_err(|e| refuse("body", e.to_string()))?
            .into_spec()
    }

    #[test]
    fn a_minimal_request_gets_the_documented_defaults() {
        let spec = request(json!({"format": "chat_jsonl"})).unwrap();
        assert_eq!(spec.format, ExportFormat::ChatJsonl);
        assert!(spec.filter.is_empty());
        assert_eq!(spec.validation_percent, 0);
        assert_eq!(spec.context_limit, DEFAULT_CONTEXT_LIMIT);
        assert_eq!(spec.system, SystemMessage::Keep);
        assert!(!spec.dedupe && !spec.include_correct && !spec.redact);
    }

    #[test]
    fn the_feed_filter_is_checked_as_the_feed_checks_it() {
        let spec = request(json!({"format": "jsonl", "filter": {"operation": "billing_extract", "from": "2026-11-01"}})).unwrap();
        assert_eq!(spec.filter.operation.as_deref(), Some("billing_extract"));
        assert!(spec.filter.from.is_some());
        let error =
            request(json!({"format": "jsonl", "filter": {"verdict": "great"}})).unwrap_err();
        assert_eq!(error.field, "filter.verdict");
        let error = request(json!({"format": "jsonl", "filter": {"colour": "red"}})).unwrap_err();
        assert_eq!(error.field, "filter.colour");
    }

    #[test]
    fn bad_specs_are_refused_with_the_field_and_reason() {
        let cases = [
            (json!({}), "format"),
            (json!({"format": "parquet"}), "format"),
            (
                json!({"format": "chat_jsonl", "validation_percent": 51}),
                "validation_percent",
            ),
            (
                json!({"format": "chat_jsonl", "system": {"mode": "replace", "text": "  "}}),
                "system",
            ),
            (
                json!({"format": "chat_jsonl", "max_per_operation": 0}),
                "max_per_operation",
            ),
            (
                json!({"format": "chat_jsonl", "context_limit": 3}),
                "context_limit",
            ),
        ];
        for (body, field) in cases {
            let error = request(body.clone()).unwrap_err();
            assert_eq!(error.field, field, "{body}");
            assert!(!error.reason.is_empty());
        }
        assert!(
            serde_json::from_value::<ExportRequest>(json!({"format": "csv", "colour": 1})).is_err()
        );
    }

    #[test]
    fn a_spec_survives_the_store_round_trip() {
        let spec = request(json!({"format": "preference_jsonl", "preference_style": "trl", "system": {"mode": "replace", "text": "Be brief."}, "validation_percent": 10, "dedupe": true, "max_per_operation": 500, "redact": true, "failing_lines": "fail"})).unwrap();
        let text = serde_json::to_value(&spec).unwrap();
        assert_eq!(spec_from_json(&text), Some(spec));
    }
}
