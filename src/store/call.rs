//! One call in full: its row, its operation's settings and tags, and its review history,
//! newest first.

use uuid::Uuid;

use super::{id_text, micros_to_time, Sql, Store, StoreError, StoreResult};
use crate::model::{CallDetail, OutputKind, Review, Verdict};

impl Store {
    /// One call in full with its current review and revision history, or `None`.
    pub async fn get_call(&self, id: &Uuid) -> StoreResult<Option<CallDetail>> {
        let sql = Sql::new(
            "SELECT c.seq, o.name AS operation, o.output_kind, m.name AS model, m.version AS model_version,
                    c.input, c.output, c.latency_ms, c.input_tokens, c.output_tokens, c.cost_usd,
                    c.created_at, c.received_at, c.metadata, c.source, c.external_id, c.verdict,
                    c.operation_id, o.description AS operation_description, o.guidelines,
                    o.listed_tags_only, o.json_schema IS NOT NULL AS has_schema
             FROM calls c JOIN operations o ON o.id = c.operation_id JOIN models m ON m.id = c.model_id
             WHERE c.id = $1",
        )
        .arg(*id);
        let Some(row) = self.db.optional::<CallRow>(&sql).await? else {
            return Ok(None);
        };
        let mut history = self.review_history(row.seq).await?;
        // Reviews keep the tag names they were saved with; a renamed or merged name shows
        // as the tag it means now.
        let aliases = self.tag_aliases(row.operation_id).await?;
        if !aliases.is_empty() {
            for review in &mut history {
                let mut tags: Vec<String> = Vec::with_capacity(review.tags.len());
                for tag in &review.tags {
                    let name = aliases.get(tag).unwrap_or(tag);
                    if !tags.contains(name) {
                        tags.push(name.clone());
                    }
                }
                review.tags = tags;
            }
        }
        let operation_tags = self
            .tag_choices(row.operation_id, row.listed_tags_only)
            .await?;
        let skips = self.call_skips(row.seq).await?;
        let parse_json = |text: &str, what: &str| {
            serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
        };
        Ok(Some(CallDetail {
            id: id_text(id),
            input: parse_json(&row.input, "input")?,
            metadata: parse_json(&row.metadata, "metadata")?,
            operation: row.operation,
            output_kind: OutputKind::parse(&row.output_kind).unwrap_or(OutputKind::Text),
            model: row.model,
            model_version: row.model_version,
            output: row.output,
            latency_ms: row.latency_ms,
            input_tokens: row.input_tokens,
            output_tokens: row.output_tokens,
            cost_usd: row.cost_usd,
            created_at: micros_to_time(row.created_at),
            received_at: micros_to_time(row.received_at),
            source: row.source,
            external_id: row.external_id,
            verdict: Verdict::from_code(row.verdict),
            review: history.first().cloned(),
            history,
            operation_tags,
            operation_description: row.operation_description,
            guidelines: row.guidelines,
            guidelines_html: String::new(),
            listed_tags_only: row.listed_tags_only,
            has_schema: row.has_schema,
            skips,
        }))
    }

    async fn review_history(&self, seq: i64) -> StoreResult<Vec<Review>> {
        type Row = (i64, String, i64, Option<String>, String, String, bool, i64);
        let rows: Vec<Row> = self
            .db
            .all(
                &Sql::new(
                    "SELECT revision, reviewer, verdict, corrected_output, tags, note, sampled, created_at
                     FROM reviews WHERE call_seq = $1 ORDER BY revision DESC",
                )
                .arg(seq),
            )
            .await?;
        rows.into_iter()
            .map(
                |(
                    revision,
                    reviewer,
                    verdict,
                    corrected_output,
                    tags,
                    note,
                    sampled,
                    created_at,
                )| {
                    Ok(Review {
                        revision,
                        reviewer,
                        verdict: Verdict::from_code(verdict),
                        corrected_output,
                        tags: serde_json::from_str(&tags)
                            .map_err(|e| StoreError::Corrupt(format!("review tags: {e}")))?,
                        note,
                        sampled,
                        created_at: micros_to_time(created_at),
                    })
                },
            )
            .collect()
    }
}

/// One call in full as read.
#[derive(sqlx::FromRow)]
struct CallRow {
    seq: i64,
    operation: String,
    output_kind: String,
    model: String,
    model_version: String,
    input: String,
    output: String,
    latency_ms: Option<i64>,
    input_tokens: Option<i64>,
    output_tokens: Option<i64>,
    cost_usd: Option<f64>,
    created_at: i64,
    received_at: i64,
    metadata: String,
    source: String,
    external_id: Option<String>,
    verdict: i64,
    operation_id: i64,
    operation_description: String,
    guidelines: String,
    listed_tags_only: bool,
    has_schema: bool,
}
