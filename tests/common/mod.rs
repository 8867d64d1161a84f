//! Builders shared by the store and HTTP tests.
#![allow(dead_code)]

use chrono::{DateTime, Duration, Utc};
use redline::model::ingest::{validate_call, NewCall};
use serde_json::{json, Value};

pub fn base_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-10T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// A valid ingest item; `minutes` after `base_time()`.
pub fn item(operation: &str, minutes: i64, output: &str) -> Value {
    json!({
        "operation": operation,
        "model": "gpt-4o",
        "model_version": "2024-08-06",
        "input": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": format!("question {minutes}")}],
        "output": output,
        "latency_ms": 500 + minutes,
        "input_tokens": 20,
        "output_tokens": 5,
        "cost_usd": 0.0001,
        "created_at": (base_time() + Duration::minutes(minutes)).to_rfc3339(),
    })
}

pub fn with(mut value: Value, key: &str, field: Value) -> Value {
    value[key] = field;
    value
}

pub fn new_call(value: &Value) -> NewCall {
    validate_call(value, Utc::now()).expect("test item is valid")
}
