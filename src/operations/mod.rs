//! Operation settings on the server: applying a definition (checked, its schema compiled,
//! written with its audit entry) for the operation page, the API and the command line, and
//! the rules a review of a call must meet under its operation's settings.

pub mod markdown;
pub mod schema;

use chrono::Utc;

use crate::auth::manage::Actor;
use crate::error::AppError;
use crate::model::operation::{
    ApplyOutcome, CorrectionCheck, DefinitionError, OperationDefinition, SchemaFailure,
    SchemaReport, SCHEMA_REPORT_CALLS, SCHEMA_REPORT_EXAMPLES, SCHEMA_REPORT_MAX_CHARS,
};
use crate::model::review::{refuse, ReviewError, ValidReview};
use crate::model::{OutputKind, Verdict};
use crate::store::{ReviewRules, Store};
use schema::Schema;

/// Longest audit detail of one apply, in characters.
const MAX_AUDIT_DETAIL_CHARS: usize = 2_000;

impl From<DefinitionError> for AppError {
    fn from(error: DefinitionError) -> AppError {
        AppError::unprocessable(error.field, error.reason)
    }
}

/// Checks `definition` and makes its operation so (creating it when needed). Nothing is
/// written, and no audit entry made, when the operation already is as defined.
pub async fn apply(
    store: &Store,
    actor: &Actor,
    definition: OperationDefinition,
) -> Result<ApplyOutcome, AppError> {
    apply_at(store, actor, definition, None).await
}

/// As [`apply`], made from a page that showed the settings at `version` (see
/// [`Store::apply_operation_at`]): refused with a conflict when they changed since.
pub async fn apply_at(
    store: &Store,
    actor: &Actor,
    mut definition: OperationDefinition,
    version: Option<i64>,
) -> Result<ApplyOutcome, AppError> {
    definition.check()?;
    if let Some(schema) = definition.json_schema.clone() {
        // Compiling a large schema is CPU work: the blocking pool does it.
        tokio::task::spawn_blocking(move || Schema::compile(&schema).map(|_| ()))
            .await
            .map_err(|_| AppError::Internal)?
            .map_err(|reason| AppError::unprocessable("json_schema", reason))?;
    }
    let name = definition.name.clone();
    let audit = |outcome: &ApplyOutcome| {
        let action = if outcome.created {
            "operation.create"
        } else {
            "operation.apply"
        };
        let mut detail: String = outcome.changes.join("; ");
        if detail.chars().count() > MAX_AUDIT_DETAIL_CHARS {
            detail = detail
                .chars()
                .take(MAX_AUDIT_DETAIL_CHARS)
                .collect::<String>()
                + "…";
        }
        actor.entry(action, &name, detail)
    };
    store
        .apply_operation_at(&definition, version, audit, Utc::now())
        .await?
        .ok_or_else(stale_page)
}

/// The refusal of a change made from a page older than the settings.
pub fn stale_page() -> AppError {
    AppError::Conflict(
        "these settings changed after this page was opened (another tab or another lead): \
         reload the page to see them, then make your change again"
            .into(),
    )
}

/// Checks the newest calls of `operation` (outputs and current corrections) against
/// `schema`: counts and the first failures, for the operation page. CPU work on the
/// blocking pool.
pub async fn schema_report(
    store: &Store,
    operation: &str,
    schema: &serde_json::Value,
) -> Result<SchemaReport, AppError> {
    let schema = Schema::compile(schema).map_err(|reason| {
        tracing::error!(%operation, %reason, "a stored JSON Schema does not compile");
        AppError::Internal
    })?;
    let rows = store
        .outputs_to_check(operation, SCHEMA_REPORT_CALLS, SCHEMA_REPORT_MAX_CHARS)
        .await?;
    tokio::task::spawn_blocking(move || {
        let mut report = SchemaReport {
            checked: rows.len() as i64,
            ..Default::default()
        };
        let note = |report: &mut SchemaReport, id: &uuid::Uuid, correction, problem| {
            if report.examples.len() < SCHEMA_REPORT_EXAMPLES {
                report.examples.push(SchemaFailure {
                    call_id: id.hyphenated().to_string(),
                    correction,
                    problem,
                });
            }
        };
        for row in &rows {
            match &row.output {
                Some(output) => {
                    if let Some(problem) = schema.first_problem(output) {
                        report.failing_outputs += 1;
                        note(&mut report, &row.id, false, problem);
                    }
                }
                None => report.too_long += 1,
            }
            match &row.correction {
                Some(Some(correction)) => {
                    report.corrections += 1;
                    if let Some(problem) = schema.first_problem(correction) {
                        report.failing_corrections += 1;
                        note(&mut report, &row.id, true, problem);
                    }
                }
                Some(None) => report.too_long += 1,
                None => {}
            }
        }
        report
    })
    .await
    .map_err(|_| AppError::Internal)
}

/// What the editor's live check says about a correction of a `json` operation: why it is
/// not JSON, or every rule of the schema it breaks (with the total count).
pub async fn check_correction(
    store: &Store,
    operation: &str,
    text: String,
) -> Result<CorrectionCheck, AppError> {
    let Some(rules) = store.review_rules(operation).await? else {
        return Ok(CorrectionCheck::default());
    };
    if rules.output_kind != OutputKind::Json {
        return Ok(CorrectionCheck::default());
    }
    tokio::task::spawn_blocking(move || {
        let value: serde_json::Value = match serde_json::from_str(&text) {
            Ok(value) => value,
            Err(error) => {
                return CorrectionCheck {
                    not_json: Some(error.to_string()),
                    ..Default::default()
                }
            }
        };
        let Some(schema) = rules
            .json_schema
            .as_deref()
            .and_then(|s| Schema::compile_stored(s).ok())
        else {
            return CorrectionCheck::default();
        };
        let (violations, count) = schema.violations(&value);
        CorrectionCheck {
            not_json: None,
            violations,
            count,
        }
    })
    .await
    .map_err(|_| AppError::Internal)
}

/// Holds a valid review to its operation's rules: a `json` operation's correction meets the
/// JSON Schema (every broken rule is listed), each tag is named as it is now (a renamed or
/// merged name becomes the tag it means), and with "listed tags only" every tag is listed and
/// not retired. CPU work for a large correction: run it on the blocking pool.
pub fn check_review(review: &mut ValidReview, rules: &ReviewRules) -> Result<(), ReviewError> {
    if let (Verdict::Incorrect, OutputKind::Json, Some(schema), Some(correction)) = (
        review.verdict,
        rules.output_kind,
        &rules.json_schema,
        &review.corrected_output,
    ) {
        let schema = Schema::compile_stored(schema).map_err(|reason| {
            refuse(
                "corrected_output",
                format!(
                    "this operation's JSON Schema cannot be used ({reason}); ask a lead to fix it"
                ),
            )
        })?;
        // The correction parsed when the review was validated.
        let value: serde_json::Value = serde_json::from_str(correction)
            .map_err(|e| refuse("corrected_output", e.to_string()))?;
        let (violations, count) = schema.violations(&value);
        if count > 0 {
            let first = &violations[0];
            let place = if first.path.is_empty() {
                "the top"
            } else {
                &first.path
            };
            return Err(ReviewError {
                field: "corrected_output".into(),
                reason: format!(
                    "the correction breaks {count} rule{} of this operation's JSON Schema; first, at {place}: {}",
                    if count == 1 { "" } else { "s" },
                    first.message
                ),
                violations,
            });
        }
    }
    let mut tags: Vec<String> = Vec::with_capacity(review.tags.len());
    for tag in &review.tags {
        let known = rules.tags.get(tag);
        if rules.listed_tags_only {
            match known {
                Some(known) if known.listed && !known.retired => {}
                Some(known) if known.retired => {
                    return Err(refuse(
                        "tags",
                        format!("\"{}\" is retired; pick a tag from the operation's list", known.means),
                    ))
                }
                _ => {
                    return Err(refuse(
                        "tags",
                        format!("\"{tag}\" is not on this operation's tag list, and reviewers may only pick listed tags"),
                    ))
                }
            }
        }
        let name = known.map_or(tag, |k| &k.means);
        if !tags.contains(name) {
            tags.push(name.clone());
        }
    }
    review.tags = tags;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::store::KnownTag;

    fn rules(schema: Option<&str>, listed_only: bool) -> ReviewRules {
        let known = |means: &str, listed, retired| KnownTag {
            means: means.into(),
            listed,
            retired,
        };
        ReviewRules {
            output_kind: OutputKind::Json,
            json_schema: schema.map(str::to_string),
            listed_tags_only: listed_only,
            tags: HashMap::from([
                (
                    "wrong_amount".to_string(),
                    known("wrong_amount", true, false),
                ),
                ("amt".to_string(), known("wrong_amount", true, false)),
                ("old_style".to_string(), known("old_style", true, true)),
                ("typo".to_string(), known("typo", false, false)),
            ]),
        }
    }

    fn review(correction: &str, tags: &[&str]) -> ValidReview {
        ValidReview {
            verdict: Verdict::Incorrect,
            corrected_output: Some(correction.into()),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            note: String::new(),
            base_revision: 0,
        }
    }

    #[test]
    fn a_correction_that_breaks_the_schema_lists_every_rule() {
        let schema = r#"{"type":"object","required":["total"],"properties":{"total":{"type":"number"},"currency":{"type":"string"}}}"#;
        let error = check_review(
            &mut review(r#"{"total":"12","currency":3}"#, &[]),
            &rules(Some(schema), false),
        )
        .unwrap_err();
        assert_eq!(error.field, "corrected_output");
        assert!(error.reason.contains("breaks 2 rules"), "{}", error.reason);
        let mut paths: Vec<&str> = error.violations.iter().map(|v| v.path.as_str()).collect();
        paths.sort();
        assert_eq!(paths, ["/currency", "/total"]);
        assert!(check_review(
            &mut review(r#"{"total":12}"#, &[]),
            &rules(Some(schema), false)
        )
        .is_ok());
    }

    #[test]
    fn tags_are_saved_under_their_current_names() {
        let mut saved = review("{}", &["amt", "wrong_amount", "typo", "new_kind"]);
        check_review(&mut saved, &rules(None, false)).unwrap();
        assert_eq!(saved.tags, ["wrong_amount", "typo", "new_kind"]);
    }

    #[test]
    fn listed_tags_only_refuses_unlisted_and_retired_tags() {
        let listed = rules(None, true);
        assert!(check_review(&mut review("{}", &["amt"]), &listed).is_ok());
        for tag in ["typo", "new_kind", "old_style"] {
            let error = check_review(&mut review("{}", &[tag]), &listed).unwrap_err();
            assert_eq!(error.field, "tags", "{tag}");
            assert!(error.reason.contains(tag), "{}", error.reason);
        }
    }
}
