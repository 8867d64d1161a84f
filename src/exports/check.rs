//! The format check of training lines, as fine-tuning services and open trainers read them:
//! known roles, string contents (null only beside tool calls), tool calls in the standard
//! shape with arguments that parse as JSON, a final non-empty assistant message; and each
//! example's tokens, counted with the o200k_base tokenizer, against the context limit.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
use tiktoken_rs::CoreBPE;

use crate::model::export::{FailedLine, TokenStats, ValidationReport, MIN_EXAMPLES};

/// Failing lines listed in a report (all are counted).
const MAX_LISTED: usize = 1_000;
/// Tokens a chat format adds per message (role and separators) and per conversation.
const TOKENS_PER_MESSAGE: usize = 3;
const TOKENS_PER_CONVERSATION: usize = 3;

const ROLES: [&str; 4] = ["system", "user", "assistant", "tool"];

fn check_tool_calls(calls: &Value, at: &str) -> Result<(), String> {
    let calls = calls
        .as_array()
        .ok_or_else(|| format!("{at}.tool_calls is not a list"))?;
    for (i, call) in calls.iter().enumerate() {
        let here = format!("{at}.tool_calls[{i}]");
        if !call
            .get("id")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
        {
            return Err(format!("{here}.id is missing"));
        }
        if call.get("type").and_then(Value::as_str) != Some("function") {
            return Err(format!("{here}.type is not \"function\""));
        }
        let function = call
            .get("function")
            .ok_or_else(|| format!("{here}.function is missing"))?;
        if !function
            .get("name")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
        {
            return Err(format!("{here}.function.name is missing"));
        }
        let arguments = function
            .get("arguments")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{here}.function.arguments is not a string"))?;
        if serde_json::from_str::<Value>(arguments).is_err() {
            return Err(format!("{here}.function.arguments is not JSON"));
        }
    }
    Ok(())
}

/// Checks one conversation; the last message must be the assistant's non-empty answer.
fn check_messages(messages: &[Value], at: &str, needs_final_assistant: bool) -> Result<(), String> {
    if messages.is_empty() {
        return Err(format!("{at} is empty"));
    }
    for (i, message) in messages.iter().enumerate() {
        let here = format!("{at}[{i}]");
        let role = message
            .get("role")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{here}.role is missing"))?;
        if !ROLES.contains(&role) {
            return Err(format!(
                "{here}.role \"{role}\" is not one of system, user, assistant, tool"
            ));
        }
        let calls = message.get("tool_calls");
        match message.get("content") {
            Some(Value::String(_)) => {}
            Some(Value::Null) | None if role == "assistant" && calls.is_some() => {}
            _ => return Err(format!("{here}.content is not a string")),
        }
        if let Some(calls) = calls {
            if role != "assistant" {
                return Err(format!("{here} has tool calls but is not the assistant's"));
            }
            check_tool_calls(calls, &here)?;
        }
        if role == "tool" && !message.get("tool_call_id").is_some_and(Value::is_string) {
            return Err(format!("{here}.tool_call_id is missing"));
        }
    }
    if needs_final_assistant {
        let last = &messages[messages.len() - 1];
        if last.get("role").and_then(Value::as_str) != Some("assistant") {
            return Err(format!("{at}: the last message is not the assistant's"));
        }
        let text = last.get("content").and_then(Value::as_str).unwrap_or("");
        let has_calls = last
            .get("tool_calls")
            .and_then(Value::as_array)
            .is_some_and(|c| !c.is_empty());
        if text.trim().is_empty() && !has_calls {
            return Err(format!("{at}: the assistant's answer is empty"));
        }
    }
    Ok(())
}

fn list<'a>(line: &'a Value, key: &str) -> Result<&'a [Value], String> {
    line.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .ok_or_else(|| format!("{key} is not a list"))
}

/// Checks a `chat_jsonl` or `preference_jsonl` line; returns the conversations it holds.
pub fn check_line(line: &Value) -> Result<Vec<&[Value]>, String> {
    if !line.is_object() {
        return Err("the line is not a JSON object".into());
    }
    if line.get("messages").is_some() {
        let messages = list(line, "messages")?;
        check_messages(messages, "messages", true)?;
        return Ok(vec![messages]);
    }
    if let Some(input) = line.get("input") {
        let prompt = list(input, "messages").map_err(|e| format!("input.{e}"))?;
        check_messages(prompt, "input.messages", false)?;
        let preferred = list(line, "preferred_output")?;
        let rejected = list(line, "non_preferred_output")?;
        check_messages(preferred, "preferred_output", true)?;
        check_messages(rejected, "non_preferred_output", true)?;
        return Ok(vec![prompt, preferred, rejected]);
    }
    let prompt = list(line, "prompt")?;
    check_messages(prompt, "prompt", false)?;
    let chosen = list(line, "chosen")?;
    let rejected = list(line, "rejected")?;
    check_messages(chosen, "chosen", true)?;
    check_messages(rejected, "rejected", true)?;
    Ok(vec![prompt, chosen, rejected])
}

/// System messages whose counts a [`Tokens`] keeps: an operation's calls share a handful.
const MEMO_ENTRIES: usize = 256;

/// Counts an example's tokens with the o200k_base tokenizer. One per thread that prepares
/// lines; the tokenizer's tables are shared. System messages repeat across an operation's
/// calls (often the longest text of an example), so their counts are kept, by text.
pub struct Tokens {
    bpe: Arc<CoreBPE>,
    memo: HashMap<String, usize>,
}

impl Tokens {
    pub fn new(bpe: Arc<CoreBPE>) -> Tokens {
        Tokens {
            bpe,
            memo: HashMap::new(),
        }
    }

    /// The tokenizer's tables (a fifth of a second to build, tens of megabytes).
    pub fn load() -> Result<Arc<CoreBPE>, String> {
        tiktoken_rs::o200k_base()
            .map(Arc::new)
            .map_err(|e| format!("tokenizer: {e}"))
    }

    fn text(&mut self, text: &str, repeats: bool) -> usize {
        if !repeats {
            return self.bpe.encode_ordinary(text).len();
        }
        if let Some(&n) = self.memo.get(text) {
            return n;
        }
        let n = self.bpe.encode_ordinary(text).len();
        if self.memo.len() >= MEMO_ENTRIES {
            self.memo.clear();
        }
        self.memo.insert(text.to_string(), n);
        n
    }

    fn count(&mut self, conversations: &[&[Value]]) -> usize {
        let mut n = TOKENS_PER_CONVERSATION;
        for messages in conversations {
            for message in messages.iter() {
                n += TOKENS_PER_MESSAGE;
                if let Some(text) = message.get("content").and_then(Value::as_str) {
                    let system = message.get("role").and_then(Value::as_str) == Some("system");
                    n += self.text(text, system);
                }
                if let Some(calls) = message.get("tool_calls") {
                    n += self.text(&calls.to_string(), false);
                }
            }
        }
        n
    }

    /// Checks a line and counts its tokens against `context_limit`: the tokens, or the
    /// reason the line fails.
    pub fn examine(&mut self, line: &Value, context_limit: u64) -> Result<u64, String> {
        let conversations = check_line(line)?;
        let tokens = self.count(&conversations) as u64;
        if tokens > context_limit {
            return Err(format!(
                "{tokens} tokens, over the context limit of {context_limit}"
            ));
        }
        Ok(tokens)
    }
}

/// Collects the check of every line and the token counts.
#[derive(Default)]
pub struct Checker {
    report: ValidationReport,
    tokens: Vec<u32>,
}

impl Checker {
    /// Records a line's outcome as [`Tokens::examine`] gave it; `Err` carries the reason it
    /// fails (the caller leaves it out or fails).
    pub fn record(&mut self, call_id: &str, outcome: Result<u64, String>) -> Result<(), String> {
        self.report.lines_checked += 1;
        match outcome {
            Ok(tokens) => {
                self.tokens.push(u32::try_from(tokens).unwrap_or(u32::MAX));
                Ok(())
            }
            Err(reason) => {
                self.report.lines_failed += 1;
                if reason.contains("context limit") {
                    let stats = self.report.tokens.get_or_insert_with(TokenStats::default);
                    stats.over_context_limit += 1;
                }
                if self.report.failures.len() < MAX_LISTED {
                    self.report.failures.push(FailedLine {
                        call_id: call_id.to_string(),
                        reason: reason.clone(),
                    });
                }
                Err(reason)
            }
        }
    }

    /// The report, with the token distribution of the lines that passed.
    pub fn finish(mut self, examples_written: u64) -> ValidationReport {
        self.tokens.sort_unstable();
        let at = |q: f64| -> u64 {
            if self.tokens.is_empty() {
                return 0;
            }
            let i = ((self.tokens.len() - 1) as f64 * q).round() as usize;
            u64::from(self.tokens[i.min(self.tokens.len() - 1)])
        };
        let over = self
            .report
            .tokens
            .as_ref()
            .map_or(0, |t| t.over_context_limit);
        self.report.tokens = Some(TokenStats {
            tokenizer: "o200k_base".into(),
            p50: at(0.5),
            p95: at(0.95),
            max: self.tokens.last().copied().map_or(0, u64::from),
            total: self.tokens.iter().map(|&t| u64::from(t)).sum(),
            over_context_limit: over,
        });
        if examples_written < MIN_EXAMPLES {
            self.report.warnings.push(format!(
                "{examples_written} examples: fine-tuning services ask for at least {MIN_EXAMPLES}"
            ));
        }
        self.report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn good_lines_of_each_shape_pass() {
        let chat = json!({"messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Weather?"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Oslo\"}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "4 °C"},
            {"role": "assistant", "content": "4 °C in Oslo."}
        ]});
        assert!(check_line(&chat).is_ok());
        let openai = json!({"input": {"messages": [{"role": "user", "content": "Hi"}]}, "preferred_output": [{"role": "assistant", "content": "Hello"}], "non_preferred_output": [{"role": "assistant", "content": "Go away"}]});
        assert!(check_line(&openai).is_ok());
        let trl = json!({"prompt": [{"role": "user", "content": "Hi"}], "chosen": [{"role": "assistant", "content": "Hello"}], "rejected": [{"role": "assistant", "content": "Go away"}]});
        assert!(check_line(&trl).is_ok());
    }

    #[test]
    fn broken_lines_fail_with_the_reason() {
        let cases = [
            (json!([1]), "not a JSON object"),
            (
                json!({"messages": [{"role": "wizard", "content": "x"}, {"role": "assistant", "content": "y"}]}),
                "is not one of",
            ),
            (
                json!({"messages": [{"role": "user", "content": "x"}]}),
                "last message",
            ),
            (
                json!({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "  "}]}),
                "empty",
            ),
            (
                json!({"messages": [{"role": "user", "content": 5}, {"role": "assistant", "content": "y"}]}),
                "content is not a string",
            ),
            (
                json!({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": null, "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{oops"}}]}]}),
                "arguments is not JSON",
            ),
            (
                json!({"messages": [{"role": "tool", "content": "x"}, {"role": "assistant", "content": "y"}]}),
                "tool_call_id",
            ),
        ];
        for (line, reason) in cases {
            let error = check_line(&line).unwrap_err();
            assert!(error.contains(reason), "{line}: {error}");
        }
    }

    #[test]
    fn tokens_are_counted_by_the_tokenizer_and_held_to_the_limit() {
        let mut checker = Checker::default();
        let mut tokens = Tokens::new(Tokens::load().unwrap());
        let limit = 40;
        let short = json!({"messages": [{"role": "user", "content": "Hello world"}, {"role": "assistant", "content": "Hi"}]});
        assert!(checker.record("a", tokens.examine(&short, limit)).is_ok());
        let long = json!({"messages": [{"role": "user", "content": "word ".repeat(100)}, {"role": "assistant", "content": "Hi"}]});
        let error = checker
            .record("b", tokens.examine(&long, limit))
            .unwrap_err();
        assert!(error.contains("context limit"), "{error}");
        let report = checker.finish(1);
        let tokens = report.tokens.unwrap();
        // "Hello world" and "Hi" are 2 and 1 tokens in o200k_base, plus 3 per message and 3.
        assert_eq!(tokens.total, 2 + 1 + 3 * 2 + 3);
        assert_eq!(tokens.over_context_limit, 1);
        assert_eq!(report.failures[0].call_id, "b");
        assert_eq!(report.warnings.len(), 1);
    }

    #[test]
    fn a_repeated_system_message_counts_the_same_as_the_first_time() {
        let bpe = Tokens::load().unwrap();
        let line = |user: &str| {
            json!({"messages": [
                {"role": "system", "content": "You summarize support tickets in two sentences."},
                {"role": "user", "content": user},
                {"role": "assistant", "content": "Done."}
            ]})
        };
        let mut kept = Tokens::new(bpe.clone());
        let users = [
            "Printer on fire",
            "مرحبا، الطابعة لا تعمل",
            "Refund 🙏 please",
        ];
        let counted: Vec<u64> = users
            .iter()
            .map(|u| kept.examine(&line(u), 1_000).unwrap())
            .collect();
        // Each line counted by a fresh counter, which has seen no system message before.
        let fresh: Vec<u64> = users
            .iter()
            .map(|u| Tokens::new(bpe.clone()).examine(&line(u), 1_000).unwrap())
            .collect();
        assert_eq!(counted, fresh);
        assert_eq!(kept.memo.len(), 1);
        // Only system messages are kept.
        assert!(kept.memo.keys().all(|k| k.starts_with("You summarize")));
    }
}
