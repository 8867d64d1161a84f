//! What a call, its verdict and a page of the feed look like on the wire.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The current verdict of a call: the verdict of its newest review revision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Unreviewed,
    Correct,
    Incorrect,
}

impl Verdict {
    pub const ALL: [Verdict; 3] = [Verdict::Unreviewed, Verdict::Correct, Verdict::Incorrect];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Unreviewed => "unreviewed",
            Verdict::Correct => "correct",
            Verdict::Incorrect => "incorrect",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Verdict::Unreviewed => "Unreviewed",
            Verdict::Correct => "Correct",
            Verdict::Incorrect => "Incorrect",
        }
    }

    pub fn parse(text: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == text)
    }

    /// The small integer the store keeps in the calls table (indexed).
    pub fn code(self) -> i64 {
        match self {
            Verdict::Unreviewed => 0,
            Verdict::Correct => 1,
            Verdict::Incorrect => 2,
        }
    }

    pub fn from_code(code: i64) -> Verdict {
        match code {
            1 => Verdict::Correct,
            2 => Verdict::Incorrect,
            _ => Verdict::Unreviewed,
        }
    }
}

/// One row of the feed: everything but the full input and output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallSummary {
    pub id: String,
    pub operation: String,
    pub model: String,
    pub model_version: String,
    pub verdict: Verdict,
    pub reviewer: Option<String>,
    /// The first characters of the output (never the whole of a long one).
    pub output_preview: String,
    pub latency_ms: Option<i64>,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
    pub created_at: DateTime<Utc>,
}

/// How many calls match a filter, per verdict.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictCounts {
    pub unreviewed: u64,
    pub correct: u64,
    pub incorrect: u64,
    /// True when counting stopped at a cap: the figures are lower bounds.
    pub capped: bool,
}

impl VerdictCounts {
    pub fn total(&self) -> u64 {
        self.unreviewed + self.correct + self.incorrect
    }

    pub fn get(&self, verdict: Verdict) -> u64 {
        match verdict {
            Verdict::Unreviewed => self.unreviewed,
            Verdict::Correct => self.correct,
            Verdict::Incorrect => self.incorrect,
        }
    }

    pub fn add(&mut self, verdict: Verdict, n: u64) {
        match verdict {
            Verdict::Unreviewed => self.unreviewed += n,
            Verdict::Correct => self.correct += n,
            Verdict::Incorrect => self.incorrect += n,
        }
    }
}

/// One page of the feed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FeedPage {
    pub calls: Vec<CallSummary>,
    /// Cursor of the next (older) page; `None` on the last page.
    pub next_cursor: Option<String>,
    /// Set when a search stopped looking to stay fast: it read the calls back to this time,
    /// and `next_cursor` goes on from there (the page may hold fewer calls, or none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub searched_back_to: Option<DateTime<Utc>>,
}

/// A model and one of its versions.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ModelVersion {
    pub model: String,
    pub version: String,
}

/// The values the feed's filter bar offers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FilterChoices {
    pub operations: Vec<String>,
    pub models: Vec<ModelVersion>,
    pub tags: Vec<String>,
    pub reviewers: Vec<String>,
}

/// A review revision (append-only).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub revision: i64,
    pub reviewer: String,
    pub verdict: Verdict,
    pub corrected_output: Option<String>,
    pub tags: Vec<String>,
    pub note: String,
    pub sampled: bool,
    pub created_at: DateTime<Utc>,
}

/// Output kind of an operation: free text, or JSON that must parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputKind {
    Text,
    Json,
}

impl OutputKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OutputKind::Text => "text",
            OutputKind::Json => "json",
        }
    }

    pub fn parse(text: &str) -> Option<OutputKind> {
        match text {
            "text" => Some(OutputKind::Text),
            "json" => Some(OutputKind::Json),
            _ => None,
        }
    }
}

/// One call in full, with its current review and the revision history (newest first).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallDetail {
    pub id: String,
    pub operation: String,
    pub output_kind: OutputKind,
    pub model: String,
    pub model_version: String,
    pub input: serde_json::Value,
    pub output: String,
    pub latency_ms: Option<i64>,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
    pub created_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub metadata: serde_json::Value,
    pub source: String,
    pub external_id: Option<String>,
    pub verdict: Verdict,
    pub review: Option<Review>,
    pub history: Vec<Review>,
    /// The failure tags this call's operation offers (listed, not retired), by name.
    pub operation_tags: Vec<super::operation::TagChoice>,
    pub operation_description: String,
    /// The operation's review guidelines, in Markdown.
    pub guidelines: String,
    /// The guidelines rendered and sanitized, for pages (the server fills it in).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub guidelines_html: String,
    /// Reviewers may only pick listed tags.
    pub listed_tags_only: bool,
    /// Corrections must meet the operation's JSON Schema.
    pub has_schema: bool,
    /// How often reviewers skipped this call in the queue, by reason.
    #[serde(default)]
    pub skips: Vec<super::skips::SkipCount>,
}

/// A chat message of a call's input, as the UI shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatTurn {
    pub role: String,
    pub content: String,
    /// Tool calls, each as (name, pretty-printed JSON arguments).
    pub tool_calls: Vec<(String, String)>,
}

/// Splits a stored input into conversation turns: plain text becomes one user turn.
pub fn input_turns(input: &serde_json::Value) -> Vec<ChatTurn> {
    use serde_json::Value;
    match input {
        Value::String(text) => vec![ChatTurn {
            role: "user".into(),
            content: text.clone(),
            tool_calls: vec![],
        }],
        Value::Array(messages) => messages
            .iter()
            .map(|message| {
                let role = message
                    .get("role")
                    .and_then(Value::as_str)
                    .unwrap_or("user")
                    .to_string();
                let content = match message.get("content") {
                    Some(Value::String(text)) => text.clone(),
                    Some(Value::Null) | None => String::new(),
                    Some(other) => serde_json::to_string_pretty(other).unwrap_or_default(),
                };
                let tool_calls = message
                    .get("tool_calls")
                    .and_then(Value::as_array)
                    .map(|calls| calls.iter().map(tool_call_view).collect())
                    .unwrap_or_default();
                ChatTurn {
                    role,
                    content,
                    tool_calls,
                }
            })
            .collect(),
        other => vec![ChatTurn {
            role: "user".into(),
            content: serde_json::to_string_pretty(other).unwrap_or_default(),
            tool_calls: vec![],
        }],
    }
}

fn tool_call_view(call: &serde_json::Value) -> (String, String) {
    use serde_json::Value;
    let function = call.get("function").unwrap_or(call);
    let name = function
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("tool")
        .to_string();
    let arguments = match function.get("arguments") {
        // OpenAI sends arguments as a JSON string; show it parsed when it parses.
        Some(Value::String(text)) => serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_else(|| text.clone()),
        Some(other) => serde_json::to_string_pretty(other).unwrap_or_default(),
        None => String::new(),
    };
    (name, arguments)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn verdict_codes_round_trip() {
        for verdict in Verdict::ALL {
            assert_eq!(Verdict::from_code(verdict.code()), verdict);
            assert_eq!(Verdict::parse(verdict.as_str()), Some(verdict));
        }
        assert_eq!(Verdict::parse("Correct"), None);
    }

    #[test]
    fn plain_text_input_is_one_user_turn() {
        let turns = input_turns(&json!("hello"));
        assert_eq!(turns.len(), 1);
        assert_eq!(turns[0].role, "user");
        assert_eq!(turns[0].content, "hello");
    }

    #[test]
    fn tool_call_arguments_are_pretty_printed() {
        let input = json!([
            {"role": "system", "content": "be brief"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "1", "type": "function", "function": {"name": "lookup", "arguments": "{\"id\":7}"}}
            ]}
        ]);
        let turns = input_turns(&input);
        assert_eq!(turns[0].role, "system");
        assert_eq!(turns[1].tool_calls[0].0, "lookup");
        assert_eq!(turns[1].tool_calls[0].1, "{\n  \"id\": 7\n}");
    }
}
