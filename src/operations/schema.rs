//! JSON Schema (draft 2020-12) for `json` operations: a lead's schema is compiled once to
//! check it is one, and outputs and corrections are checked against it. Nothing is fetched: a
//! `$ref` outside the schema itself is refused.

use serde_json::Value;

use crate::model::operation::Violation;

/// Most violations reported for one value; the count says how many there were.
pub const MAX_VIOLATIONS: usize = 50;
/// Longest message of one violation, in characters (a message may quote the value).
const MAX_MESSAGE_CHARS: usize = 300;

/// A schema that compiled.
pub struct Schema {
    validator: jsonschema::Validator,
}

impl Schema {
    /// Compiles `schema`, or says why it is not a draft 2020-12 JSON Schema Redline can use.
    pub fn compile(schema: &Value) -> Result<Schema, String> {
        if !schema.is_object() && !schema.is_boolean() {
            return Err("a JSON Schema is an object (or true or false)".into());
        }
        if let Some((at, target)) = outside_reference(schema, &mut String::new()) {
            return Err(format!(
                "the reference \"{}\" at {} points outside this schema; Redline does not fetch schemas: put the definition under \"$defs\" and refer to it as \"#/$defs/…\"",
                clip(&target, 120),
                if at.is_empty() { "the top" } else { &at }
            ));
        }
        let validator = jsonschema::draft202012::new(schema).map_err(|error| {
            let at = error.schema_path().as_str().to_string();
            let instance = error.instance_path().as_str().to_string();
            let place = [at, instance]
                .into_iter()
                .find(|p| !p.is_empty())
                .map(|p| format!(" (at {p})"))
                .unwrap_or_default();
            format!(
                "not a valid draft 2020-12 JSON Schema: {}{place}",
                clip(&error.to_string(), MAX_MESSAGE_CHARS)
            )
        })?;
        Ok(Schema { validator })
    }

    /// Compiles a schema as the store keeps it (JSON text).
    pub fn compile_stored(schema: &str) -> Result<Schema, String> {
        let value: Value = serde_json::from_str(schema).map_err(|e| e.to_string())?;
        Schema::compile(&value)
    }

    /// Every rule `value` breaks (at most [`MAX_VIOLATIONS`]), and how many there were.
    pub fn violations(&self, value: &Value) -> (Vec<Violation>, usize) {
        let mut found = Vec::new();
        let mut count = 0;
        for error in self.validator.iter_errors(value) {
            count += 1;
            if found.len() < MAX_VIOLATIONS {
                found.push(Violation {
                    path: error.instance_path().as_str().to_string(),
                    rule: error.schema_path().as_str().to_string(),
                    message: clip(&error.to_string(), MAX_MESSAGE_CHARS),
                });
            }
        }
        (found, count)
    }

    /// What is wrong with `text` first: why it is not JSON, or the first rule it breaks with
    /// its path; `None` when it meets the schema.
    pub fn first_problem(&self, text: &str) -> Option<String> {
        match serde_json::from_str::<Value>(text) {
            Ok(value) => self.validator.iter_errors(&value).next().map(|error| {
                let path = error.instance_path().as_str().to_string();
                let path = if path.is_empty() {
                    "/".to_string()
                } else {
                    path
                };
                clip(&format!("at {path}: {error}"), MAX_MESSAGE_CHARS)
            }),
            Err(error) => Some(clip(&format!("not JSON: {error}"), MAX_MESSAGE_CHARS)),
        }
    }

    /// Whether `text` parses as JSON and meets the schema (the count of broken rules: 0).
    pub fn text_fails(&self, text: &str) -> bool {
        match serde_json::from_str::<Value>(text) {
            Ok(value) => !self.validator.is_valid(&value),
            Err(_) => true,
        }
    }
}

/// The first `$ref` or `$dynamicRef` that is not a fragment of this schema (`#…`), with the
/// JSON pointer of the object holding it.
fn outside_reference(value: &Value, at: &mut String) -> Option<(String, String)> {
    match value {
        Value::Object(map) => {
            for key in ["$ref", "$dynamicRef"] {
                if let Some(Value::String(target)) = map.get(key) {
                    if !target.starts_with('#') {
                        return Some((at.clone(), target.clone()));
                    }
                }
            }
            for (key, child) in map {
                let len = at.len();
                at.push('/');
                at.push_str(&key.replace('~', "~0").replace('/', "~1"));
                let found = outside_reference(child, at);
                at.truncate(len);
                if found.is_some() {
                    return found;
                }
            }
            None
        }
        Value::Array(items) => items.iter().enumerate().find_map(|(i, child)| {
            let len = at.len();
            at.push_str(&format!("/{i}"));
            let found = outside_reference(child, at);
            at.truncate(len);
            found
        }),
        _ => None,
    }
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut clipped: String = text.chars().take(max).collect();
    clipped.push('…');
    clipped
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn invoice_schema() -> Value {
        json!({
            "type": "object",
            "required": ["total", "currency"],
            "properties": {
                "total": {"type": "number", "minimum": 0},
                "currency": {"enum": ["EUR", "USD"]},
                "lines": {"type": "array", "items": {"$ref": "#/$defs/line"}}
            },
            "$defs": {"line": {"type": "object", "required": ["amount"]}}
        })
    }

    #[test]
    fn each_violation_names_the_value_path_and_the_schema_rule() {
        let schema = Schema::compile(&invoice_schema()).unwrap();
        let (found, count) =
            schema.violations(&json!({"total": "12", "currency": "GBP", "lines": [{}]}));
        assert_eq!(count, 3);
        let mut pairs: Vec<(&str, &str)> = found
            .iter()
            .map(|v| (v.path.as_str(), v.rule.as_str()))
            .collect();
        pairs.sort();
        assert_eq!(
            pairs,
            vec![
                ("/currency", "/properties/currency/enum"),
                ("/lines/0", "/$defs/line/required"),
                ("/total", "/properties/total/type"),
            ]
        );
        assert!(found.iter().all(|v| !v.message.is_empty()));
        assert_eq!(
            schema.violations(&json!({"total": 3, "currency": "EUR"})).1,
            0
        );
    }

    #[test]
    fn a_schema_that_is_not_one_is_refused_with_the_reason() {
        let error = Schema::compile(&json!({"type": "invoice"})).err().unwrap();
        assert!(
            error.contains("not a valid draft 2020-12 JSON Schema"),
            "{error}"
        );
        assert!(Schema::compile(&json!([1, 2])).is_err());
    }

    #[test]
    fn a_remote_reference_is_refused_without_fetching() {
        let error = Schema::compile(&json!({
            "properties": {"a": {"$ref": "https://example.com/schemas/a.json"}}
        }))
        .err()
        .unwrap();
        assert!(
            error.contains("https://example.com/schemas/a.json"),
            "{error}"
        );
        assert!(error.contains("/properties/a"), "{error}");
        let error = Schema::compile(&json!({"$ref": "other.json#/x"}))
            .err()
            .unwrap();
        assert!(error.contains("does not fetch"), "{error}");
    }

    #[test]
    fn text_that_does_not_parse_fails_the_schema() {
        let schema = Schema::compile(&invoice_schema()).unwrap();
        assert!(schema.text_fails("{not json"));
        assert!(schema.text_fails(r#"{"total": 1}"#));
        assert!(!schema.text_fails(r#"{"total": 1, "currency": "USD"}"#));
    }
}
