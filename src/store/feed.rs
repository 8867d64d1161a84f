//! Reading the feed: one page of calls (keyset-paginated, never OFFSET), the verdict counts
//! that label its tabs, and the filter bar's choices.

use uuid::Uuid;

use super::conditions::{push_conditions, push_cursor};
use super::counts::{counts_answer, verdict_totals};
use super::search::{no_reader, push_from, search_text, Search};
use super::{id_text, micros_to_time, Dialect, Sql, Store, StoreResult};
use crate::model::{
    CallFilter, CallSummary, Cursor, FeedPage, FeedQuery, FilterChoices, ModelVersion, Verdict,
    VerdictCounts,
};

/// Characters of output the feed shows in its one-line preview.
const PREVIEW_CHARS: i64 = 240;
/// Counting stops here when counters cannot come from the daily rollup (search, tag).
pub const COUNT_CAP: i64 = 10_000;

impl Store {
    /// One page of the feed, newest first.
    pub async fn list_calls(&self, query: &FeedQuery) -> StoreResult<FeedPage> {
        let resolved = self.resolve(&query.filter).await?;
        let search = search_text(self.dialect(), &query.filter, &resolved);
        if resolved.matches_nothing() || search.as_deref() == Some("") {
            return Ok(FeedPage::default());
        }
        // A search runs on a reader of its own that stops at the search deadline.
        let mut reader = match &search {
            Some(_) => Some(self.search_reader().await?),
            None => None,
        };
        let search = match (search, reader.as_mut()) {
            (Some(text), Some(reader)) => Some(self.search_plan(reader, text).await?),
            _ => None,
        };
        // Where a bounded search walk stopped before filling the page.
        let mut stopped: Option<Cursor> = None;
        let mut sql = Sql::new("SELECT c.id, o.name AS operation, m.name AS model, m.version AS model_version, c.verdict, c.reviewer, substr(c.output, 1, ");
        sql.push(PREVIEW_CHARS.to_string());
        // CROSS JOIN fixes the join order: calls outside, the small name tables inside. Left to
        // itself, SQLite with statistics loops over the 7 operations first and sorts a million.
        sql.push(
            ") AS output_preview, c.latency_ms, c.input_tokens, c.output_tokens, c.cost_usd, c.created_at, c.seq
             FROM calls c CROSS JOIN operations o CROSS JOIN models m
             WHERE o.id = c.operation_id AND m.id = c.model_id AND c.seq IN (",
        );
        match &search {
            Some(search @ (Search::Common(_) | Search::Postgres(_))) => {
                let reader = reader.as_mut().ok_or_else(no_reader)?;
                let (keys, stopped_at) = self.search_keys(reader, query, &resolved, search).await?;
                stopped = stopped_at;
                if keys.is_empty() {
                    return Ok(FeedPage {
                        next_cursor: stopped.map(|c| c.encode()),
                        searched_back_to: stopped.map(|c| micros_to_time(c.created_at_micros)),
                        ..FeedPage::default()
                    });
                }
                sql.bind_list(keys);
            }
            search => {
                // The inner query finds the page's keys, sorting only (created_at, seq); the
                // outer one reads the rows shown. Sorting whole rows would drag every match's
                // text through the sorter.
                sql.push("SELECT c.seq FROM ");
                push_from(&mut sql, search.as_ref());
                sql.push(" WHERE 1 = 1");
                push_conditions(&mut sql, &query.filter, &resolved, true, search.as_ref());
                push_cursor(&mut sql, query.cursor);
                sql.push(" ORDER BY c.created_at DESC, c.seq DESC LIMIT ")
                    .bind(i64::from(query.limit) + 1);
            }
        }
        sql.push(") ORDER BY c.created_at DESC, c.seq DESC");

        let mut rows: Vec<SummaryRow> = match reader.as_mut() {
            Some(reader) => reader.all(&sql).await?,
            None => self.db.all(&sql).await?,
        };
        drop(reader);
        let more = rows.len() > query.limit as usize;
        rows.truncate(query.limit as usize);
        let next_cursor = match rows.last() {
            Some(last) if more => Some(
                Cursor {
                    created_at_micros: last.created_at,
                    seq: last.seq,
                }
                .encode(),
            ),
            _ => stopped.map(|c| c.encode()),
        };
        let calls = rows.into_iter().map(SummaryRow::into_summary).collect();
        Ok(FeedPage {
            calls,
            next_cursor,
            searched_back_to: stopped.map(|c| micros_to_time(c.created_at_micros)),
        })
    }

    /// Calls matching the filter per verdict, ignoring the filter's own verdict (the counts
    /// label the verdict tabs). Exact from the daily rollup when the filter allows; otherwise
    /// counted up to `COUNT_CAP`.
    pub async fn count_verdicts(&self, filter: &CallFilter) -> StoreResult<VerdictCounts> {
        let filter = filter.with_verdict(None);
        let resolved = self.resolve(&filter).await?;
        let mut counts = VerdictCounts::default();
        let search = search_text(self.dialect(), &filter, &resolved);
        if resolved.matches_nothing() || search.as_deref() == Some("") {
            return Ok(counts);
        }
        let rows: Vec<(i64, i64)> = if counts_answer(&filter) {
            self.db.all(&verdict_totals(&filter, &resolved)).await?
        } else {
            // Driving from the search index stops after COUNT_CAP matches, however common the
            // words (SQLite: the index drives; PostgreSQL: the planner picks).
            let search = search.map(|text| match self.dialect() {
                Dialect::Sqlite => Search::Rare(text),
                Dialect::Postgres => Search::Postgres(text),
            });
            let mut sql = Sql::new("SELECT verdict, count(*) FROM (SELECT c.verdict FROM ");
            push_from(&mut sql, search.as_ref());
            sql.push(" WHERE 1 = 1");
            push_conditions(&mut sql, &filter, &resolved, false, search.as_ref());
            sql.push(" LIMIT ")
                .bind(COUNT_CAP + 1)
                .push(") AS matched GROUP BY verdict");
            let rows: Vec<(i64, i64)> = if search.is_some() {
                let mut reader = self.search_reader().await?;
                reader.all(&sql).await?
            } else {
                self.db.all(&sql).await?
            };
            counts.capped = rows.iter().map(|(_, n)| n).sum::<i64>() > COUNT_CAP;
            rows
        };
        for (verdict, n) in rows {
            counts.add(Verdict::from_code(verdict), n.max(0) as u64);
        }
        Ok(counts)
    }

    /// Operations, model versions and tags that exist, for the filter bar.
    pub async fn filter_choices(&self) -> StoreResult<FilterChoices> {
        let operations: Vec<(String,)> = self
            .db
            .all(&Sql::new("SELECT name FROM operations ORDER BY name"))
            .await?;
        let models: Vec<(String, String)> = self
            .db
            .all(&Sql::new(
                "SELECT name, version FROM models ORDER BY name, version",
            ))
            .await?;
        let tags: Vec<(String,)> = self
            .db
            .all(&Sql::new(
                "SELECT DISTINCT name FROM tags WHERE alias_of IS NULL ORDER BY name",
            ))
            .await?;
        let reviewers: Vec<(String,)> = self
            .db
            .all(&Sql::new("SELECT name FROM reviewers ORDER BY name"))
            .await?;
        Ok(FilterChoices {
            reviewers: reviewers.into_iter().map(|(name,)| name).collect(),
            operations: operations.into_iter().map(|(name,)| name).collect(),
            models: models
                .into_iter()
                .map(|(model, version)| ModelVersion { model, version })
                .collect(),
            tags: tags.into_iter().map(|(name,)| name).collect(),
        })
    }
}

/// One feed row as read.
#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: Uuid,
    operation: String,
    model: String,
    model_version: String,
    verdict: i64,
    reviewer: Option<String>,
    output_preview: String,
    latency_ms: Option<i64>,
    input_tokens: Option<i64>,
    output_tokens: Option<i64>,
    cost_usd: Option<f64>,
    created_at: i64,
    seq: i64,
}

impl SummaryRow {
    fn into_summary(self) -> CallSummary {
        CallSummary {
            id: id_text(&self.id),
            operation: self.operation,
            model: self.model,
            model_version: self.model_version,
            verdict: Verdict::from_code(self.verdict),
            reviewer: self.reviewer,
            output_preview: self.output_preview,
            latency_ms: self.latency_ms,
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            cost_usd: self.cost_usd,
            created_at: micros_to_time(self.created_at),
        }
    }
}
