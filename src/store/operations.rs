//! Operation settings: the definition leads keep (read and applied whole, with a line per
//! change and its audit entry in the same transaction), the failure-tag taxonomy with the
//! names that now mean another tag, the rules a review save reads, and the operations list.
//!
//! Tags: a row per name an operation has ever used. A renamed or merged name stays as a row
//! whose `alias_of` is the tag it now means; `call_tags` only holds tags that are no alias,
//! so the feed's tag filter, the counts and exports follow a rename without rewriting reviews.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::accounts::audit_insert;
use super::tags::{apply_tags, TagRow, TAGS_OF};
use super::{micros_to_time, Dialect, NewAudit, Sql, Store, StoreError, StoreResult};
use crate::model::operation::{ApplyOutcome, OperationDefinition, OperationSummary, TagDefinition};
use crate::model::OutputKind;

/// Columns of an operation's settings, in the order [`definition_from`] reads them.
const SETTINGS: &str = "id, name, description, output_kind, json_schema, guidelines, \
     listed_tags_only, accuracy_target, min_reviews, configured_at";

type SettingsRow = (
    i64,
    String,
    String,
    String,
    Option<String>,
    String,
    bool,
    Option<f64>,
    i64,
    Option<i64>,
);

/// What a review save needs to know about the call's operation.
#[derive(Clone, Debug)]
pub struct ReviewRules {
    pub output_kind: OutputKind,
    /// The JSON Schema as stored (compiled by the caller).
    pub json_schema: Option<String>,
    pub listed_tags_only: bool,
    /// Every name the operation knows: the tag it means now, whether that tag is listed and
    /// whether it is retired.
    pub tags: HashMap<String, KnownTag>,
}

#[derive(Clone, Debug)]
pub struct KnownTag {
    pub means: String,
    pub listed: bool,
    pub retired: bool,
}

/// One call's texts for a schema report: `None` for a text too long to check;
/// `correction` is `None` when the current review has none.
#[derive(Clone, Debug)]
pub struct TextsToCheck {
    pub id: uuid::Uuid,
    pub output: Option<String>,
    pub correction: Option<Option<String>>,
}

/// An operation's settings as its pages show them.
#[derive(Clone, Debug)]
pub struct OperationRecord {
    pub definition: OperationDefinition,
    pub created_at: DateTime<Utc>,
    pub configured_at: Option<DateTime<Utc>>,
    /// Tags reviews use that are not on the list.
    pub unlisted_tags: Vec<String>,
}

impl OperationRecord {
    /// The version a change from a page names: when the settings last changed, in
    /// microseconds (0: never). See [`Store::apply_operation_at`].
    pub fn version(&self) -> i64 {
        self.configured_at.map_or(0, |at| at.timestamp_micros())
    }
}

impl Store {
    /// Every operation with its figures, by name: two queries whatever the number of
    /// operations.
    pub async fn list_operations(&self) -> StoreResult<Vec<OperationSummary>> {
        type Row = (
            i64,
            String,
            String,
            String,
            Option<i64>,
            i64,
            i64,
            Option<i64>,
        );
        let rows: Vec<Row> = self
            .db
            .all(&Sql::new(
                "SELECT o.id, o.name, o.description, o.output_kind, o.configured_at,
                        CAST(coalesce((SELECT sum(n) FROM call_counts k WHERE k.operation_id = o.id), 0) AS BIGINT),
                        CAST(coalesce((SELECT sum(n) FROM call_counts k WHERE k.operation_id = o.id AND k.verdict <> 0), 0) AS BIGINT),
                        (SELECT max(c.created_at) FROM calls c WHERE c.operation_id = o.id)
                 FROM operations o ORDER BY o.name",
            ))
            .await?;
        let tag_rows: Vec<(i64, String, i64)> = self
            .db
            .all(&Sql::new(
                "SELECT t.operation_id, t.name, count(*) FROM call_tags ct JOIN tags t ON t.id = ct.tag_id
                 GROUP BY t.operation_id, t.name ORDER BY count(*) DESC, t.name",
            ))
            .await?;
        let mut top_tags: HashMap<i64, Vec<(String, i64)>> = HashMap::new();
        for (operation_id, name, count) in tag_rows {
            let tags = top_tags.entry(operation_id).or_default();
            if tags.len() < 10 {
                tags.push((name, count));
            }
        }
        rows.into_iter()
            .map(
                |(id, name, description, kind, configured_at, calls, reviewed, last)| {
                    Ok(OperationSummary {
                        name,
                        description,
                        output_kind: output_kind(&kind)?,
                        calls,
                        reviewed,
                        top_tags: top_tags.remove(&id).unwrap_or_default(),
                        last_call_at: last.map(micros_to_time),
                        configured: configured_at.is_some(),
                    })
                },
            )
            .collect()
    }

    /// The newest `limit` calls of `operation`: id, output and the current review's
    /// correction (if any), for checking them against a schema. A text longer than
    /// `max_chars` is not read (`None`; its length is), so a report holds at most
    /// `2 × limit × max_chars` characters however long the stored texts are.
    pub async fn outputs_to_check(
        &self,
        operation: &str,
        limit: i64,
        max_chars: i64,
    ) -> StoreResult<Vec<TextsToCheck>> {
        let rows: Vec<(uuid::Uuid, Option<String>, Option<String>, Option<i64>)> = self
            .db
            .all(
                &Sql::new(
                    "SELECT c.id, CASE WHEN length(c.output) <= $3 THEN c.output END,
                            CASE WHEN length(r.corrected_output) <= $4 THEN r.corrected_output END,
                            length(r.corrected_output)
                     FROM calls c LEFT JOIN reviews r ON r.call_seq = c.seq
                          AND r.revision = (SELECT max(revision) FROM reviews x WHERE x.call_seq = c.seq)
                     WHERE c.operation_id = (SELECT id FROM operations WHERE name = $1)
                     ORDER BY c.created_at DESC, c.seq DESC LIMIT $2",
                )
                .arg(operation)
                .arg(limit)
                .arg(max_chars)
                .arg(max_chars),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, output, correction, correction_chars)| TextsToCheck {
                id,
                output,
                correction: match (correction, correction_chars) {
                    (Some(text), _) => Some(Some(text)),
                    (None, Some(_)) => Some(None),
                    (None, None) => None,
                },
            })
            .collect())
    }

    /// One operation's settings, or `None` when there is no such operation.
    pub async fn operation(&self, name: &str) -> StoreResult<Option<OperationRecord>> {
        let sql = Sql::new(format!(
            "SELECT {SETTINGS}, created_at FROM operations WHERE name = $1"
        ))
        .arg(name);
        let Some(row) = self
            .db
            .optional::<(
                i64,
                String,
                String,
                String,
                Option<String>,
                String,
                bool,
                Option<f64>,
                i64,
                Option<i64>,
                i64,
            )>(&sql)
            .await?
        else {
            return Ok(None);
        };
        let created_at = row.10;
        let settings: SettingsRow = (
            row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8, row.9,
        );
        let tags: Vec<TagRow> = self.db.all(&Sql::new(TAGS_OF).arg(row.0)).await?;
        let in_use: Vec<(String,)> = self
            .db
            .all(
                &Sql::new(
                    "SELECT DISTINCT t.name FROM call_tags ct JOIN tags t ON t.id = ct.tag_id
                     WHERE t.operation_id = $1 AND NOT t.listed ORDER BY t.name",
                )
                .arg(row.0),
            )
            .await?;
        Ok(Some(OperationRecord {
            definition: definition_from(settings, &tags)?,
            created_at: micros_to_time(created_at),
            configured_at: row.9.map(micros_to_time),
            unlisted_tags: in_use.into_iter().map(|(name,)| name).collect(),
        }))
    }

    /// Makes operation `definition.name` as defined (creating it when needed), in one
    /// transaction with the audit entry `audit` makes of the outcome; nothing is written when
    /// the operation already is as defined. The definition must have passed its checks.
    pub async fn apply_operation(
        &self,
        definition: &OperationDefinition,
        audit: impl FnOnce(&ApplyOutcome) -> NewAudit,
        now: DateTime<Utc>,
    ) -> StoreResult<ApplyOutcome> {
        self.apply_operation_at(definition, None, audit, now)
            .await?
            .ok_or_else(|| StoreError::Corrupt("an apply without a version was stale".into()))
    }

    /// As [`Store::apply_operation`], but only when the settings are still at `version` (when
    /// they last changed, in microseconds; 0: never) under the transaction's lock: `None`
    /// (and nothing written) when someone changed them since.
    pub async fn apply_operation_at(
        &self,
        definition: &OperationDefinition,
        version: Option<i64>,
        audit: impl FnOnce(&ApplyOutcome) -> NewAudit,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<ApplyOutcome>> {
        let mut tx = self.db.begin().await?;
        let created = tx
            .execute(
                &Sql::new(
                    "INSERT INTO operations (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                )
                .arg(&definition.name)
                .arg(now.timestamp_micros()),
            )
            .await?
            == 1;
        let mut read = Sql::new(format!("SELECT {SETTINGS} FROM operations WHERE name = $1"))
            .arg(&definition.name);
        if tx.dialect() == Dialect::Postgres {
            // Two applies of the same operation run one after the other.
            read.push(" FOR UPDATE");
        }
        let current: SettingsRow = tx.optional(&read).await?.ok_or_else(|| {
            StoreError::Corrupt(format!("operation {} vanished", definition.name))
        })?;
        if version.is_some_and(|v| v != current.9.unwrap_or(0)) {
            return Ok(None);
        }
        let id = current.0;
        let tags: Vec<TagRow> = tx.all(&Sql::new(TAGS_OF).arg(id)).await?;
        let before = definition_from(current, &tags)?;

        let mut changes = settings_changes(&before, definition);
        if !changes.is_empty() {
            let schema = definition
                .json_schema
                .as_ref()
                .map(serde_json::Value::to_string);
            tx.execute(
                &Sql::new(
                    "UPDATE operations SET description = $2, output_kind = $3, json_schema = $4,
                            guidelines = $5, listed_tags_only = $6, accuracy_target = $7, min_reviews = $8
                     WHERE id = $1",
                )
                .arg(id)
                .arg(&definition.description)
                .arg(definition.output_kind.as_str())
                .arg(schema)
                .arg(&definition.guidelines)
                .arg(definition.listed_tags_only)
                .arg(definition.accuracy_target)
                .arg(definition.min_reviews),
            )
            .await?;
        }
        apply_tags(&mut tx, id, &tags, &definition.tags, &mut changes).await?;

        let outcome = ApplyOutcome { created, changes };
        if outcome.created || !outcome.changes.is_empty() {
            tx.execute(
                &Sql::new("UPDATE operations SET configured_at = $2 WHERE id = $1")
                    .arg(id)
                    .arg(now.timestamp_micros()),
            )
            .await?;
            tx.execute(&audit_insert(&audit(&outcome), now)).await?;
            tx.commit().await?;
        }
        Ok(Some(outcome))
    }

    /// The rules a review of a call of `operation` must meet.
    pub async fn review_rules(&self, operation: &str) -> StoreResult<Option<ReviewRules>> {
        let Some((id, kind, schema, listed_only)) = self
            .db
            .optional::<(i64, String, Option<String>, bool)>(
                &Sql::new(
                    "SELECT id, output_kind, json_schema, listed_tags_only FROM operations WHERE name = $1",
                )
                .arg(operation),
            )
            .await?
        else {
            return Ok(None);
        };
        let rows: Vec<TagRow> = self.db.all(&Sql::new(TAGS_OF).arg(id)).await?;
        let listed: HashMap<&str, (bool, bool)> = rows
            .iter()
            .filter(|row| row.5.is_none())
            .map(|row| (row.1.as_str(), (row.3, row.4)))
            .collect();
        let tags = rows
            .iter()
            .map(|(_, name, _, _, _, alias_of)| {
                let means = alias_of.clone().unwrap_or_else(|| name.clone());
                let (listed, retired) = listed.get(means.as_str()).copied().unwrap_or_default();
                (
                    name.clone(),
                    KnownTag {
                        means,
                        listed,
                        retired,
                    },
                )
            })
            .collect();
        Ok(Some(ReviewRules {
            output_kind: output_kind(&kind)?,
            json_schema: schema,
            listed_tags_only: listed_only,
            tags,
        }))
    }
}

fn definition_from(row: SettingsRow, tags: &[TagRow]) -> StoreResult<OperationDefinition> {
    let (_, name, description, kind, schema, guidelines, listed_only, target, min_reviews, _) = row;
    let json_schema = schema
        .map(|text| serde_json::from_str(&text))
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("operation {name}: JSON Schema: {e}")))?;
    let tags = tags
        .iter()
        .filter(|(_, _, _, listed, _, alias_of)| *listed && alias_of.is_none())
        .map(|(_, tag, description, _, retired, _)| TagDefinition {
            name: tag.clone(),
            description: description.clone(),
            retired: *retired,
            aliases: tags
                .iter()
                .filter(|row| row.5.as_deref() == Some(tag.as_str()))
                .map(|row| row.1.clone())
                .collect(),
        })
        .collect();
    Ok(OperationDefinition {
        name,
        description,
        output_kind: output_kind(&kind)?,
        json_schema,
        guidelines,
        tags,
        listed_tags_only: listed_only,
        accuracy_target: target,
        min_reviews,
    })
}

/// One line per setting (other than tags) that differs.
fn settings_changes(before: &OperationDefinition, after: &OperationDefinition) -> Vec<String> {
    let mut changes = Vec::new();
    if before.description != after.description {
        changes.push("description changed".to_string());
    }
    if before.output_kind != after.output_kind {
        changes.push(format!(
            "output kind {} → {}",
            before.output_kind.as_str(),
            after.output_kind.as_str()
        ));
    }
    match (&before.json_schema, &after.json_schema) {
        (None, Some(_)) => changes.push("JSON Schema set".into()),
        (Some(_), None) => changes.push("JSON Schema removed".into()),
        (Some(old), Some(new)) if old != new => changes.push("JSON Schema changed".into()),
        _ => {}
    }
    if before.guidelines != after.guidelines {
        changes.push("guidelines changed".into());
    }
    if before.listed_tags_only != after.listed_tags_only {
        changes.push(if after.listed_tags_only {
            "reviewers may only pick listed tags".into()
        } else {
            "reviewers may use any tag".into()
        });
    }
    if before.accuracy_target != after.accuracy_target {
        let shown = |t: Option<f64>| t.map_or("none".to_string(), |t| format!("{}%", t * 100.0));
        changes.push(format!(
            "accuracy target {} → {}",
            shown(before.accuracy_target),
            shown(after.accuracy_target)
        ));
    }
    if before.min_reviews != after.min_reviews {
        changes.push(format!(
            "minimum reviews {} → {}",
            before.min_reviews, after.min_reviews
        ));
    }
    changes
}

fn output_kind(text: &str) -> StoreResult<OutputKind> {
    OutputKind::parse(text)
        .ok_or_else(|| StoreError::Corrupt(format!("operation output kind \"{text}\"")))
}
