//! Reading calls: the feed page (keyset-paginated, never OFFSET), verdict counts, the filter
//! bar's choices and one call in full.

use sqlx::{QueryBuilder, Row, Sqlite};

use super::{
    id_text, micros_to_time, Store, StoreError, StoreResult, DAY_MICROS, MODEL_TOKEN,
    OPERATION_TOKEN,
};
use crate::model::{
    search_terms, CallDetail, CallFilter, CallSummary, Cursor, FeedPage, FeedQuery, FilterChoices,
    ModelVersion, OutputKind, Review, Verdict, VerdictCounts,
};

/// Characters of output the feed shows in its one-line preview.
const PREVIEW_CHARS: i64 = 240;
/// Counting stops here when counters cannot come from the daily rollup (search, tag).
pub const COUNT_CAP: i64 = 10_000;

/// A filter with names resolved to ids. `None` in a field means "no such name": nothing matches.
struct Resolved {
    operation_id: Option<Option<i64>>,
    model_ids: Option<Vec<i64>>,
}

impl Resolved {
    fn matches_nothing(&self) -> bool {
        matches!(self.operation_id, Some(None))
            || matches!(&self.model_ids, Some(ids) if ids.is_empty())
    }
}

impl Store {
    async fn resolve(&self, filter: &CallFilter) -> StoreResult<Resolved> {
        let operation_id = match &filter.operation {
            None => None,
            Some(name) => Some(
                sqlx::query_scalar("SELECT id FROM operations WHERE name = ?1")
                    .bind(name)
                    .fetch_optional(&self.read)
                    .await?,
            ),
        };
        let model_ids = if filter.model.is_none() && filter.model_version.is_none() {
            None
        } else {
            Some(
                sqlx::query_scalar(
                    "SELECT id FROM models WHERE (?1 IS NULL OR name = ?1) AND (?2 IS NULL OR version = ?2)",
                )
                .bind(filter.model.as_deref())
                .bind(filter.model_version.as_deref())
                .fetch_all(&self.read)
                .await?,
            )
        };
        Ok(Resolved {
            operation_id,
            model_ids,
        })
    }

    /// One page of the feed, newest first.
    pub async fn list_calls(&self, query: &FeedQuery) -> StoreResult<FeedPage> {
        let resolved = self.resolve(&query.filter).await?;
        let fts = fts_query(&query.filter, &resolved);
        if resolved.matches_nothing() || fts.as_deref() == Some("") {
            return Ok(FeedPage {
                calls: vec![],
                next_cursor: None,
            });
        }
        let search = match fts {
            None => None,
            Some(fts) => Some(self.search_plan(fts).await?),
        };
        let mut sql = QueryBuilder::<Sqlite>::new(
            "SELECT c.id, o.name, m.name, m.version, c.verdict, c.reviewer, substr(c.output, 1, ",
        );
        sql.push(PREVIEW_CHARS);
        // CROSS JOIN fixes the join order: calls outside, the small name tables inside. Left to
        // itself, SQLite with statistics loops over the 7 operations first and sorts a million.
        sql.push(
            "), c.latency_ms, c.input_tokens, c.output_tokens, c.cost_usd, c.created_at, c.seq
             FROM calls c CROSS JOIN operations o ON o.id = c.operation_id
             CROSS JOIN models m ON m.id = c.model_id
             WHERE c.seq IN (",
        );
        match search {
            Some(Search::Common(fts)) => {
                let keys = self.common_search_keys(query, &resolved, &fts).await?;
                if keys.is_empty() {
                    return Ok(FeedPage {
                        calls: vec![],
                        next_cursor: None,
                    });
                }
                let mut list = sql.separated(", ");
                for seq in keys {
                    list.push_bind(seq);
                }
            }
            search => {
                // The inner query finds the page's keys, sorting only (created_at, seq); the
                // outer one reads the rows shown. Sorting whole rows would drag every match's
                // text through the sorter.
                let rare = match &search {
                    Some(Search::Rare(fts)) => Some(fts.as_str()),
                    _ => None,
                };
                sql.push("SELECT c.seq FROM ");
                push_from(&mut sql, rare.is_some());
                sql.push(" WHERE 1 = 1");
                push_conditions(&mut sql, &query.filter, &resolved, true, rare);
                push_cursor(&mut sql, query.cursor);
                sql.push(" ORDER BY c.created_at DESC, c.seq DESC LIMIT ")
                    .push_bind(i64::from(query.limit) + 1);
            }
        }
        sql.push(") ORDER BY c.created_at DESC, c.seq DESC");

        let rows = sql.build().fetch_all(&self.read).await?;
        let mut calls = Vec::with_capacity(rows.len());
        let mut last = None;
        for row in rows.iter().take(query.limit as usize) {
            let created_at: i64 = row.try_get(11)?;
            last = Some(Cursor {
                created_at_micros: created_at,
                seq: row.try_get(12)?,
            });
            calls.push(CallSummary {
                id: id_text(&row.try_get::<Vec<u8>, _>(0)?)?,
                operation: row.try_get(1)?,
                model: row.try_get(2)?,
                model_version: row.try_get(3)?,
                verdict: Verdict::from_code(row.try_get(4)?),
                reviewer: row.try_get(5)?,
                output_preview: row.try_get(6)?,
                latency_ms: row.try_get(7)?,
                input_tokens: row.try_get(8)?,
                output_tokens: row.try_get(9)?,
                cost_usd: row.try_get(10)?,
                created_at: micros_to_time(created_at),
            });
        }
        let next_cursor = if rows.len() > query.limit as usize {
            last.map(|c| c.encode())
        } else {
            None
        };
        Ok(FeedPage { calls, next_cursor })
    }

    /// Calls matching the filter per verdict, ignoring the filter's own verdict (the counts
    /// label the verdict tabs). Exact from the daily rollup when the filter allows; otherwise
    /// counted up to `COUNT_CAP`.
    pub async fn count_verdicts(&self, filter: &CallFilter) -> StoreResult<VerdictCounts> {
        let filter = filter.with_verdict(None);
        let resolved = self.resolve(&filter).await?;
        let mut counts = VerdictCounts::default();
        let search = fts_query(&filter, &resolved);
        if resolved.matches_nothing() || search.as_deref() == Some("") {
            return Ok(counts);
        }
        let from_rollup = filter.q.is_none()
            && filter.tag.is_none()
            && filter.from.as_ref().is_none_or(|b| b.is_midnight())
            && filter.to.as_ref().is_none_or(|b| b.is_midnight());
        let rows: Vec<(i64, i64)> = if from_rollup {
            let mut sql = QueryBuilder::<Sqlite>::new(
                "SELECT verdict, CAST(sum(n) AS INTEGER) FROM call_counts WHERE 1 = 1",
            );
            if let Some(Some(id)) = resolved.operation_id {
                sql.push(" AND operation_id = ").push_bind(id);
            }
            if let Some(ids) = &resolved.model_ids {
                push_in(&mut sql, "model_id", ids);
            }
            if let Some(from) = &filter.from {
                sql.push(" AND day >= ")
                    .push_bind(from.micros.div_euclid(DAY_MICROS));
            }
            if let Some(to) = &filter.to {
                sql.push(" AND day < ")
                    .push_bind(to.micros.div_euclid(DAY_MICROS));
            }
            sql.push(" GROUP BY verdict");
            sql.build_query_as().fetch_all(&self.read).await?
        } else {
            // Driving from the search index stops after COUNT_CAP matches, however common the words.
            let mut sql = QueryBuilder::<Sqlite>::new(
                "SELECT verdict, count(*) FROM (SELECT c.verdict FROM ",
            );
            push_from(&mut sql, search.is_some());
            sql.push(" WHERE 1 = 1");
            push_conditions(&mut sql, &filter, &resolved, false, search.as_deref());
            sql.push(" LIMIT ")
                .push_bind(COUNT_CAP + 1)
                .push(") GROUP BY verdict");
            let rows: Vec<(i64, i64)> = sql.build_query_as().fetch_all(&self.read).await?;
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
        let operations = sqlx::query_scalar("SELECT name FROM operations ORDER BY name")
            .fetch_all(&self.read)
            .await?;
        let models = sqlx::query_as::<_, (String, String)>(
            "SELECT name, version FROM models ORDER BY name, version",
        )
        .fetch_all(&self.read)
        .await?
        .into_iter()
        .map(|(model, version)| ModelVersion { model, version })
        .collect();
        let tags = sqlx::query_scalar("SELECT DISTINCT name FROM tags ORDER BY name")
            .fetch_all(&self.read)
            .await?;
        Ok(FilterChoices {
            operations,
            models,
            tags,
        })
    }

    /// One call in full with its current review and revision history, or `None`.
    pub async fn get_call(&self, id: &uuid::Uuid) -> StoreResult<Option<CallDetail>> {
        let row = sqlx::query(
            "SELECT c.seq, o.name, o.output_kind, m.name, m.version, c.input, c.output, c.latency_ms,
                    c.input_tokens, c.output_tokens, c.cost_usd, c.created_at, c.received_at,
                    c.metadata, c.source, c.external_id, c.verdict
             FROM calls c JOIN operations o ON o.id = c.operation_id JOIN models m ON m.id = c.model_id
             WHERE c.id = ?1",
        )
        .bind(id.as_bytes().to_vec())
        .fetch_optional(&self.read)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let seq: i64 = row.try_get(0)?;
        let history = self.review_history(seq).await?;
        let parse_json = |text: String, what: &str| {
            serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
        };
        Ok(Some(CallDetail {
            id: id.hyphenated().to_string(),
            operation: row.try_get(1)?,
            output_kind: OutputKind::parse(row.try_get::<&str, _>(2)?).unwrap_or(OutputKind::Text),
            model: row.try_get(3)?,
            model_version: row.try_get(4)?,
            input: parse_json(row.try_get(5)?, "input")?,
            output: row.try_get(6)?,
            latency_ms: row.try_get(7)?,
            input_tokens: row.try_get(8)?,
            output_tokens: row.try_get(9)?,
            cost_usd: row.try_get(10)?,
            created_at: micros_to_time(row.try_get(11)?),
            received_at: micros_to_time(row.try_get(12)?),
            metadata: parse_json(row.try_get(13)?, "metadata")?,
            source: row.try_get(14)?,
            external_id: row.try_get(15)?,
            verdict: Verdict::from_code(row.try_get(16)?),
            review: history.first().cloned(),
            history,
        }))
    }

    /// Rare words: read their matches from the search index and sort those by time. Common
    /// words: walk the calls newest first in chunks (see `common_search_keys`), which finds a
    /// page after a few hundred rows instead of sorting a hundred thousand matches.
    async fn search_plan(&self, fts: String) -> StoreResult<Search> {
        let matches: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM (SELECT 1 FROM calls_fts WHERE calls_fts MATCH ?1 LIMIT ?2)",
        )
        .bind(&fts)
        .bind(self.rare_matches + 1)
        .fetch_one(&self.read)
        .await?;
        Ok(if matches > self.rare_matches {
            Search::Common(fts)
        } else {
            Search::Rare(fts)
        })
    }

    /// The keys of one page for a search whose words are common: calls are read newest first
    /// (by the best index for the other filters) in growing chunks; for each chunk the search
    /// index is asked only for matches within the chunk's key range, which it answers by
    /// seeking its lists. Exact whatever the order calls arrived in: a chunk's matches are
    /// checked against the chunk itself.
    async fn common_search_keys(
        &self,
        query: &FeedQuery,
        resolved: &Resolved,
        fts: &str,
    ) -> StoreResult<Vec<i64>> {
        let wanted = query.limit as usize + 1;
        let mut keys = Vec::with_capacity(wanted);
        let mut cursor = query.cursor;
        let mut chunk_size = self.search_chunk;
        loop {
            let mut sql =
                QueryBuilder::<Sqlite>::new("SELECT c.created_at, c.seq FROM calls c WHERE 1 = 1");
            push_conditions(&mut sql, &query.filter, resolved, true, None);
            push_cursor(&mut sql, cursor);
            sql.push(" ORDER BY c.created_at DESC, c.seq DESC LIMIT ")
                .push_bind(chunk_size);
            let chunk: Vec<(i64, i64)> = sql.build_query_as().fetch_all(&self.read).await?;
            let (Some(low), Some(high)) = (
                chunk.iter().map(|(_, seq)| *seq).min(),
                chunk.iter().map(|(_, seq)| *seq).max(),
            ) else {
                return Ok(keys);
            };
            let matching: std::collections::HashSet<i64> = sqlx::query_scalar(
                "SELECT rowid FROM calls_fts WHERE calls_fts MATCH ?1 AND rowid >= ?2 AND rowid <= ?3",
            )
            .bind(fts)
            .bind(low)
            .bind(high)
            .fetch_all(&self.read)
            .await?
            .into_iter()
            .collect();
            for (_, seq) in &chunk {
                if matching.contains(seq) {
                    keys.push(*seq);
                    if keys.len() == wanted {
                        return Ok(keys);
                    }
                }
            }
            if (chunk.len() as i64) < chunk_size {
                return Ok(keys);
            }
            let (created_at_micros, seq) = chunk[chunk.len() - 1];
            cursor = Some(Cursor {
                created_at_micros,
                seq,
            });
            chunk_size = (chunk_size * 2).min(64_000);
        }
    }

    async fn review_history(&self, seq: i64) -> StoreResult<Vec<Review>> {
        let rows = sqlx::query(
            "SELECT revision, reviewer, verdict, corrected_output, tags, note, sampled, created_at
             FROM reviews WHERE call_seq = ?1 ORDER BY revision DESC",
        )
        .bind(seq)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Review {
                    revision: row.try_get(0)?,
                    reviewer: row.try_get(1)?,
                    verdict: Verdict::from_code(row.try_get(2)?),
                    corrected_output: row.try_get(3)?,
                    tags: serde_json::from_str(row.try_get::<&str, _>(4)?)
                        .map_err(|e| StoreError::Corrupt(format!("review tags: {e}")))?,
                    note: row.try_get(5)?,
                    sampled: row.try_get(6)?,
                    created_at: micros_to_time(row.try_get(7)?),
                })
            })
            .collect()
    }
}

/// Up to this many matches, a search reads its matches first (see `search_plan`).
pub(crate) const RARE_MATCHES: i64 = 20_000;
/// First chunk of calls a common-word search reads: at more than 2% matches (else the search
/// is rare), 2,000 calls hold a page of 50 in all but the most skewed data.
pub(crate) const SEARCH_CHUNK: i64 = 2_000;

/// How a search is answered (see `search_plan`).
enum Search {
    /// Few matches: the search index drives; matches are filtered and sorted by time.
    Rare(String),
    /// Many matches: the calls drive, newest first, checked chunk by chunk.
    Common(String),
}

/// `calls c`, or the search index joined to it when the index drives.
fn push_from(sql: &mut QueryBuilder<'_, Sqlite>, fts_drives: bool) {
    if fts_drives {
        // CROSS JOIN keeps SQLite from reordering the join: the index is read first.
        sql.push("calls_fts CROSS JOIN calls c ON c.seq = calls_fts.rowid");
    } else {
        sql.push("calls c");
    }
}

fn push_cursor(sql: &mut QueryBuilder<'_, Sqlite>, cursor: Option<Cursor>) {
    if let Some(cursor) = cursor {
        sql.push(" AND (c.created_at, c.seq) < (")
            .push_bind(cursor.created_at_micros)
            .push(", ")
            .push_bind(cursor.seq)
            .push(")");
    }
}

/// The FTS5 query for the filter's search text: every word, the last one as a prefix, and the
/// scope tokens of the operation and model filters (see `search_scope`), so the search index
/// itself narrows to them. `Some("")` when the text has no words (nothing matches).
fn fts_query(filter: &CallFilter, resolved: &Resolved) -> Option<String> {
    let text = filter.q.as_deref()?;
    let terms = search_terms(text);
    if terms.is_empty() {
        return Some(String::new());
    }
    let count = terms.len();
    let mut query = terms
        .into_iter()
        .enumerate()
        .map(|(i, term)| {
            if i + 1 == count {
                format!("\"{term}\"*")
            } else {
                format!("\"{term}\"")
            }
        })
        .collect::<Vec<_>>()
        .join(" AND ");
    if let Some(Some(id)) = resolved.operation_id {
        query.push_str(&format!(" AND {OPERATION_TOKEN}{id}"));
    }
    if let Some(ids) = &resolved.model_ids {
        let any: Vec<String> = ids.iter().map(|id| format!("{MODEL_TOKEN}{id}")).collect();
        query.push_str(&format!(" AND ({})", any.join(" OR ")));
    }
    Some(query)
}

fn push_in(sql: &mut QueryBuilder<'_, Sqlite>, column: &str, ids: &[i64]) {
    if let [id] = ids {
        sql.push(format!(" AND {column} = ")).push_bind(*id);
        return;
    }
    sql.push(format!(" AND {column} IN ("));
    let mut list = sql.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    sql.push(")");
}

/// Appends the filter's conditions on `calls c`.
fn push_conditions(
    sql: &mut QueryBuilder<'_, Sqlite>,
    filter: &CallFilter,
    resolved: &Resolved,
    with_verdict: bool,
    fts_drives: Option<&str>,
) {
    if let Some(Some(id)) = resolved.operation_id {
        sql.push(" AND c.operation_id = ").push_bind(id);
    }
    if let Some(ids) = &resolved.model_ids {
        push_in(sql, "c.model_id", ids);
    }
    if with_verdict {
        if let Some(verdict) = filter.verdict {
            sql.push(" AND c.verdict = ").push_bind(verdict.code());
        }
    }
    if let Some(from) = &filter.from {
        sql.push(" AND c.created_at >= ").push_bind(from.micros);
    }
    if let Some(to) = &filter.to {
        sql.push(" AND c.created_at < ").push_bind(to.micros);
    }
    if let Some(tag) = &filter.tag {
        sql.push(" AND c.seq IN (SELECT ct.call_seq FROM call_tags ct JOIN tags t ON t.id = ct.tag_id WHERE t.name = ")
            .push_bind(tag.clone())
            .push(")");
    }
    if let Some(fts) = fts_drives {
        sql.push(" AND calls_fts MATCH ").push_bind(fts.to_string());
    }
}
