//! Reading calls: the feed page (keyset-paginated, never OFFSET), verdict counts, the filter
//! bar's choices and one call in full.

use uuid::Uuid;

use super::{
    id_text, micros_to_time, pg_scoped_word, Bounded, Dialect, Sql, Store, StoreError, StoreResult,
    DAY_MICROS, MODEL_TOKEN, OPERATION_TOKEN,
};
use crate::model::{
    search_terms, CallDetail, CallFilter, CallSummary, Cursor, FeedPage, FeedQuery, FilterChoices,
    ModelVersion, OutputKind, Review, Verdict, VerdictCounts,
};

/// Characters of output the feed shows in its one-line preview.
const PREVIEW_CHARS: i64 = 240;
/// Counting stops here when counters cannot come from the daily rollup (search, tag).
pub const COUNT_CAP: i64 = 10_000;
/// Calls one search request walks at most (SQLite's walk for common words): a word common
/// overall but rare under the other filters could otherwise read the whole table. Past it
/// the page ends where the walk stopped, and the next page goes on from there.
pub const SEARCH_WALK_MAX_ROWS: i64 = 256_000;
/// A search's statements stop this long after it began (the request timeout is 30 s): a
/// search too broad to answer in time is stopped and said so, never left holding a reader.
pub const SEARCH_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// A filter with names resolved to ids. `None` in a field means "no such name": nothing matches.
pub(super) struct Resolved {
    pub(super) operation_id: Option<Option<i64>>,
    model_ids: Option<Vec<i64>>,
}

impl Resolved {
    pub(super) fn matches_nothing(&self) -> bool {
        matches!(self.operation_id, Some(None))
            || matches!(&self.model_ids, Some(ids) if ids.is_empty())
    }
}

impl Store {
    pub(super) async fn resolve(&self, filter: &CallFilter) -> StoreResult<Resolved> {
        let operation_id = match &filter.operation {
            None => None,
            Some(name) => Some(
                self.db
                    .optional::<(i64,)>(
                        &Sql::new("SELECT id FROM operations WHERE name = $1").arg(name),
                    )
                    .await?
                    .map(|(id,)| id),
            ),
        };
        let model_ids = if filter.model.is_none() && filter.model_version.is_none() {
            None
        } else {
            let mut sql = Sql::new("SELECT id FROM models WHERE 1 = 1");
            if let Some(model) = &filter.model {
                sql.push(" AND name = ").bind(model);
            }
            if let Some(version) = &filter.model_version {
                sql.push(" AND version = ").bind(version);
            }
            Some(
                self.db
                    .all::<(i64,)>(&sql)
                    .await?
                    .into_iter()
                    .map(|(id,)| id)
                    .collect(),
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
            Some(Search::Common(fts)) => {
                let reader = reader.as_mut().ok_or_else(no_reader)?;
                let (keys, stopped_at) = self
                    .common_search_keys(reader, query, &resolved, fts)
                    .await?;
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
            Some(Search::Postgres(tsquery)) => {
                let reader = reader.as_mut().ok_or_else(no_reader)?;
                let keys = self
                    .pg_search_keys(reader, query, &resolved, tsquery)
                    .await?;
                if keys.is_empty() {
                    return Ok(FeedPage::default());
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
        let from_rollup = filter.q.is_none()
            && filter.tag.is_none()
            && filter.reviewer.is_none()
            && filter.from.as_ref().is_none_or(|b| b.is_midnight())
            && filter.to.as_ref().is_none_or(|b| b.is_midnight());
        let rows: Vec<(i64, i64)> = if from_rollup {
            let mut sql =
                Sql::new("SELECT verdict, CAST(sum(n) AS BIGINT) FROM call_counts WHERE 1 = 1");
            if let Some(Some(id)) = resolved.operation_id {
                sql.push(" AND operation_id = ").bind(id);
            }
            if let Some(ids) = &resolved.model_ids {
                push_in(&mut sql, "model_id", ids);
            }
            if let Some(from) = &filter.from {
                sql.push(" AND day >= ")
                    .bind(from.micros.div_euclid(DAY_MICROS));
            }
            if let Some(to) = &filter.to {
                sql.push(" AND day < ")
                    .bind(to.micros.div_euclid(DAY_MICROS));
            }
            sql.push(" GROUP BY verdict");
            self.db.all(&sql).await?
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
            .all(&Sql::new("SELECT DISTINCT name FROM tags ORDER BY name"))
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

    /// One call in full with its current review and revision history, or `None`.
    pub async fn get_call(&self, id: &Uuid) -> StoreResult<Option<CallDetail>> {
        let sql = Sql::new(
            "SELECT c.seq, o.name AS operation, o.output_kind, m.name AS model, m.version AS model_version,
                    c.input, c.output, c.latency_ms, c.input_tokens, c.output_tokens, c.cost_usd,
                    c.created_at, c.received_at, c.metadata, c.source, c.external_id, c.verdict,
                    c.operation_id
             FROM calls c JOIN operations o ON o.id = c.operation_id JOIN models m ON m.id = c.model_id
             WHERE c.id = $1",
        )
        .arg(*id);
        let Some(row) = self.db.optional::<CallRow>(&sql).await? else {
            return Ok(None);
        };
        let history = self.review_history(row.seq).await?;
        let operation_tags: Vec<(String,)> = self
            .db
            .all(
                &Sql::new("SELECT name FROM tags WHERE operation_id = $1 ORDER BY name")
                    .arg(row.operation_id),
            )
            .await?;
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
            operation_tags: operation_tags.into_iter().map(|(name,)| name).collect(),
        }))
    }

    /// How a search is answered. SQLite: chosen by counting the matches in the search index
    /// (up to `rare_matches`; the scope tokens make the count include the operation and model
    /// filters): rare words read their matches from the index and sort those by time; common
    /// words walk the calls newest first in chunks (see `common_search_keys`), which finds a
    /// page after a few hundred rows instead of sorting a hundred thousand matches.
    /// PostgreSQL: see `pg_search_keys` (counting in a GIN index costs as much as reading).
    async fn search_plan(&self, reader: &mut Bounded, text: String) -> StoreResult<Search> {
        if self.dialect() == Dialect::Postgres {
            return Ok(Search::Postgres(text));
        }
        let matches: i64 = reader
            .scalar(
                &Sql::new(
                    "SELECT count(*) FROM (SELECT 1 FROM calls_fts WHERE calls_fts MATCH $1 LIMIT $2) AS m",
                )
                .arg(text.as_str())
                .arg(self.rare_matches + 1),
            )
            .await?;
        Ok(if matches > self.rare_matches {
            Search::Common(text)
        } else {
            Search::Rare(text)
        })
    }

    /// PostgreSQL: the keys of one search page. First the calls under the other filters are
    /// walked newest first (an ordered index scan) for at most `PG_WALK_CHUNKS` chunks of
    /// rows (growing chunks), checking each; words in more than about 0.2% of calls fill the
    /// page there. What the walk did not fill is read from the
    /// GIN index among the older calls, and sorted. The planner is not left to choose: it
    /// estimates "a word within an operation" as if the two were independent, and for a word
    /// common overall but absent from one operation it walked that whole operation (1 s at a
    /// million calls, measured).
    async fn pg_search_keys(
        &self,
        reader: &mut Bounded,
        query: &FeedQuery,
        resolved: &Resolved,
        tsquery: &str,
    ) -> StoreResult<Vec<i64>> {
        let wanted = query.limit as usize + 1;
        let budget = self.search_chunk * PG_WALK_CHUNKS;
        let mut keys: Vec<i64> = Vec::with_capacity(wanted);
        let mut cursor = query.cursor;
        let mut walked_total = 0;
        let mut chunk = self.search_chunk * 2;
        loop {
            // `coalesce(…)` is an expression the GIN index cannot answer: the planner must walk.
            let mut walk = Sql::new("SELECT c.created_at, c.seq, coalesce(c.search @@ CAST(");
            walk.bind(tsquery)
                .push(" AS tsquery), false) FROM calls c WHERE 1 = 1");
            push_conditions(&mut walk, &query.filter, resolved, true, None);
            push_cursor(&mut walk, cursor);
            let size = chunk.min(budget - walked_total);
            walk.push(" ORDER BY c.created_at DESC, c.seq DESC LIMIT ")
                .bind(size);
            let walked: Vec<(i64, i64, bool)> = reader.all(&walk).await?;
            walked_total += walked.len() as i64;
            for (_, seq, hit) in &walked {
                if *hit {
                    keys.push(*seq);
                    if keys.len() == wanted {
                        return Ok(keys);
                    }
                }
            }
            let Some(&(created_at_micros, seq, _)) = walked.last() else {
                return Ok(keys);
            };
            cursor = Some(Cursor {
                created_at_micros,
                seq,
            });
            if (walked.len() as i64) < size {
                return Ok(keys);
            }
            if walked_total >= budget {
                break;
            }
            if chunk == self.search_chunk * 2
                && self
                    .pg_few_matches(reader, query, resolved, tsquery, cursor)
                    .await?
            {
                // The rest is a short read from the index: walking on would cost more.
                break;
            }
            chunk *= 2;
        }
        let Some(Cursor {
            created_at_micros,
            seq,
        }) = cursor
        else {
            return Ok(keys);
        };
        // `+ 0`: no index yields this order, so the planner reads the matches from the GIN
        // index and sorts them instead of walking on.
        let mut rest = Sql::new("SELECT c.seq FROM calls c WHERE 1 = 1");
        let search = Search::Postgres(tsquery.to_string());
        push_conditions(&mut rest, &query.filter, resolved, true, Some(&search));
        push_cursor(
            &mut rest,
            Some(Cursor {
                created_at_micros,
                seq,
            }),
        );
        rest.push(" ORDER BY c.created_at + 0 DESC, c.seq DESC LIMIT ")
            .bind((wanted - keys.len()) as i64);
        let older: Vec<(i64,)> = reader.all(&rest).await?;
        keys.extend(older.into_iter().map(|(seq,)| seq));
        Ok(keys)
    }

    /// PostgreSQL, within one operation: whether the search matches fewer than
    /// `PG_PROBE_MATCHES` calls older than `cursor`. Asked once the first chunk of the walk has
    /// not filled the page, so the words are in under ~1% of the operation's calls and their
    /// operation-qualified lists in the GIN index are short: the count is cheap, and a word
    /// absent from the operation (common elsewhere) is answered at once instead of after a
    /// 32,000-row walk. Without an operation the lists are those of the whole table, and a
    /// count could cost more than the walk; it is not asked.
    async fn pg_few_matches(
        &self,
        reader: &mut Bounded,
        query: &FeedQuery,
        resolved: &Resolved,
        tsquery: &str,
        cursor: Option<Cursor>,
    ) -> StoreResult<bool> {
        if !matches!(resolved.operation_id, Some(Some(_))) {
            return Ok(false);
        }
        let search = Search::Postgres(tsquery.to_string());
        let mut sql = Sql::new("SELECT count(*) FROM (SELECT 1 FROM calls c WHERE 1 = 1");
        push_conditions(&mut sql, &query.filter, resolved, true, Some(&search));
        push_cursor(&mut sql, cursor);
        sql.push(" LIMIT ").bind(PG_PROBE_MATCHES).push(") AS m");
        let matches: i64 = reader.scalar(&sql).await?;
        Ok(matches < PG_PROBE_MATCHES)
    }

    /// SQLite: the keys of one page for a search whose words are common: calls are read
    /// newest first (by the best index for the other filters) in growing chunks; for each
    /// chunk the search index is asked only for matches within the chunk's key range, which it
    /// answers by seeking its lists. Exact whatever the order calls arrived in: a chunk's
    /// matches are checked against the chunk itself.
    async fn common_search_keys(
        &self,
        reader: &mut Bounded,
        query: &FeedQuery,
        resolved: &Resolved,
        fts: &str,
    ) -> StoreResult<(Vec<i64>, Option<Cursor>)> {
        let wanted = query.limit as usize + 1;
        let mut keys = Vec::with_capacity(wanted);
        let mut cursor = query.cursor;
        let mut chunk_size = self.search_chunk;
        let mut walked = 0;
        loop {
            if walked >= self.search_walk_max {
                // Stopped to stay fast; the page's next cursor goes on from here.
                return Ok((keys, cursor));
            }
            chunk_size = chunk_size.min(self.search_walk_max - walked);
            let mut sql = Sql::new("SELECT c.created_at, c.seq FROM calls c WHERE 1 = 1");
            push_conditions(&mut sql, &query.filter, resolved, true, None);
            push_cursor(&mut sql, cursor);
            sql.push(" ORDER BY c.created_at DESC, c.seq DESC LIMIT ")
                .bind(chunk_size);
            let chunk: Vec<(i64, i64)> = reader.all(&sql).await?;
            walked += chunk.len() as i64;
            let (Some(low), Some(high)) = (
                chunk.iter().map(|(_, seq)| *seq).min(),
                chunk.iter().map(|(_, seq)| *seq).max(),
            ) else {
                return Ok((keys, None));
            };
            let matching: std::collections::HashSet<i64> = reader
                .all::<(i64,)>(
                    &Sql::new(
                        "SELECT rowid FROM calls_fts WHERE calls_fts MATCH $1 AND rowid >= $2 AND rowid <= $3",
                    )
                    .arg(fts)
                    .arg(low)
                    .arg(high),
                )
                .await?
                .into_iter()
                .map(|(seq,)| seq)
                .collect();
            for (_, seq) in &chunk {
                if matching.contains(seq) {
                    keys.push(*seq);
                    if keys.len() == wanted {
                        return Ok((keys, None));
                    }
                }
            }
            if (chunk.len() as i64) < chunk_size {
                return Ok((keys, None));
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
}

/// SQLite: up to this many matches, a search reads its matches first (see `search_plan`).
pub(crate) const RARE_MATCHES: i64 = 20_000;
/// First chunk of calls a common-word search reads: at more than 2% matches (else the search
/// is rare), 2,000 calls hold a page of 50 in all but the most skewed data. PostgreSQL walks
/// this many calls before it turns to the search index.
pub(crate) const SEARCH_CHUNK: i64 = 2_000;

/// PostgreSQL walks at most this many `SEARCH_CHUNK`s of calls (in chunks of 2, 4, 8 …)
/// before it turns to the search index. Measured at 10M calls: a walked row costs about
/// 3.5 µs, a match read from the GIN index about 7 µs (a heap page each, then a sort), so the
/// walk wins down to about 0.2% matches, and 32,000 rows (about 110 ms) find a page of
/// words in 0.16% of calls. Rarer words then cost the walk plus at most about 16,000 matches.
const PG_WALK_CHUNKS: i64 = 16;

/// Within an operation, fewer matches than this (after the first walked chunk) are read from
/// the GIN index at once (about 7 µs each at 10M calls: at most ~35 ms).
const PG_PROBE_MATCHES: i64 = 5_000;

/// How a search is answered (see `search_plan`).
pub(super) enum Search {
    /// SQLite, few matches: the FTS5 index drives; matches are filtered and sorted by time.
    Rare(String),
    /// SQLite, many matches: the calls drive, newest first, checked chunk by chunk.
    Common(String),
    /// PostgreSQL: a walk newest first that checks each row, then the GIN index for what the
    /// walk did not reach (see `pg_search_keys`).
    Postgres(String),
}

/// `calls c`, or SQLite's search index joined to it when the index drives.
fn push_from(sql: &mut Sql, search: Option<&Search>) {
    if let Some(Search::Rare(_)) = search {
        // CROSS JOIN keeps SQLite from reordering the join: the index is read first.
        sql.push("calls_fts CROSS JOIN calls c ON c.seq = calls_fts.rowid");
    } else {
        sql.push("calls c");
    }
}

fn push_cursor(sql: &mut Sql, cursor: Option<Cursor>) {
    if let Some(cursor) = cursor {
        sql.push(" AND (c.created_at, c.seq) < (")
            .bind(cursor.created_at_micros)
            .push(", ")
            .bind(cursor.seq)
            .push(")");
    }
}

fn no_reader() -> StoreError {
    StoreError::Corrupt("a search ran without its bounded reader".into())
}

/// The search for the filter's text, in the dialect's query language (FTS5 or tsquery):
/// every word, whole unless typed with a trailing `*`, narrowed to the operation and model
/// filters inside the search index itself. `Some("")` when the text has no words (nothing
/// matches).
///
/// SQLite adds the scope tokens `rlop<id>`/`rlmd<id>` to the query. PostgreSQL looks words up
/// qualified by the operation (`<id>~word`, see `pg_search_lexemes`): a word common elsewhere
/// but absent from the operation is then an empty list in the GIN index, not the
/// intersection of two long ones.
pub(super) fn search_text(
    dialect: Dialect,
    filter: &CallFilter,
    resolved: &Resolved,
) -> Option<String> {
    let text = filter.q.as_deref()?;
    let terms = search_terms(text);
    if terms.is_empty() {
        return Some(String::new());
    }
    let operation = match resolved.operation_id {
        Some(Some(id)) => Some(id),
        _ => None,
    };
    let mut words: Vec<String> = match dialect {
        Dialect::Sqlite => terms
            .iter()
            .map(|t| format!("\"{}\"{}", t.word, if t.prefix { "*" } else { "" }))
            .chain(operation.map(|id| format!("{OPERATION_TOKEN}{id}")))
            .collect(),
        // Words are letters and digits (and `~` after the operation id): nothing in them
        // needs quoting in a tsquery.
        Dialect::Postgres => terms
            .iter()
            .map(|t| {
                let word = match operation {
                    Some(id) => pg_scoped_word(id, &t.word),
                    None => t.word.clone(),
                };
                if t.prefix {
                    format!("{word}:*")
                } else {
                    word
                }
            })
            .collect(),
    };
    if let Some(ids) = &resolved.model_ids {
        let or = match dialect {
            Dialect::Sqlite => " OR ",
            Dialect::Postgres => " | ",
        };
        let any: Vec<String> = ids.iter().map(|id| format!("{MODEL_TOKEN}{id}")).collect();
        words.push(format!("({})", any.join(or)));
    }
    let and = match dialect {
        Dialect::Sqlite => " AND ",
        Dialect::Postgres => " & ",
    };
    Some(words.join(and))
}

fn push_in(sql: &mut Sql, column: &str, ids: &[i64]) {
    if let [id] = ids {
        sql.push(format!(" AND {column} = ")).bind(*id);
        return;
    }
    sql.push(format!(" AND {column} IN ("));
    sql.bind_list(ids.iter().copied());
    sql.push(")");
}

/// Appends the filter's conditions on `calls c`.
pub(super) fn push_conditions(
    sql: &mut Sql,
    filter: &CallFilter,
    resolved: &Resolved,
    with_verdict: bool,
    search: Option<&Search>,
) {
    if let Some(Some(id)) = resolved.operation_id {
        sql.push(" AND c.operation_id = ").bind(id);
    }
    if let Some(ids) = &resolved.model_ids {
        push_in(sql, "c.model_id", ids);
    }
    if with_verdict {
        if let Some(verdict) = filter.verdict {
            sql.push(" AND c.verdict = ").bind(verdict.code());
        }
    }
    if let Some(from) = &filter.from {
        sql.push(" AND c.created_at >= ").bind(from.micros);
    }
    if let Some(to) = &filter.to {
        sql.push(" AND c.created_at < ").bind(to.micros);
    }
    if let Some(reviewer) = &filter.reviewer {
        sql.push(" AND c.reviewer = ").bind(reviewer);
    }
    if let Some(tag) = &filter.tag {
        sql.push(" AND c.seq IN (SELECT ct.call_seq FROM call_tags ct JOIN tags t ON t.id = ct.tag_id WHERE t.name = ")
            .bind(tag)
            .push(")");
    }
    match search {
        Some(Search::Rare(fts)) => {
            sql.push(" AND calls_fts MATCH ").bind(fts.as_str());
        }
        Some(Search::Postgres(tsquery)) => {
            sql.push(" AND c.search @@ CAST(")
                .bind(tsquery.as_str())
                .push(" AS tsquery)");
        }
        Some(Search::Common(_)) | None => {}
    }
}
