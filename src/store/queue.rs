//! Moving between calls: the review queue's random draw of an unreviewed call, and the next
//! call of the feed after the one a reviewer just saved.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::conditions::push_conditions;
use super::search::{search_text, Search};
use super::{Dialect, Sql, Store, StoreResult};
use crate::model::{CallFilter, Cursor, FeedQuery};

/// Every call's `sample_key` is drawn uniformly from `0..SAMPLE_KEYS` when it is stored.
pub const SAMPLE_KEYS: i64 = 1 << 31;

impl Store {
    /// Records that the queue drew call `id` for `reviewer` at `now` (again: the newer time).
    pub async fn record_draw(
        &self,
        id: &Uuid,
        reviewer: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.db
            .execute(
                &Sql::new(
                    "INSERT INTO draws (call_seq, reviewer, drawn_at) SELECT seq, $1, $2 FROM calls WHERE id = $3 \
                     ON CONFLICT (call_seq, reviewer) DO UPDATE SET drawn_at = excluded.drawn_at",
                )
                .arg(reviewer)
                .arg(now.timestamp_micros())
                .arg(*id),
            )
            .await?;
        Ok(())
    }

    /// Forgets that the queue drew call `id` for `reviewer` (they skipped it).
    pub async fn forget_draw(&self, id: &Uuid, reviewer: &str) -> StoreResult<()> {
        self.db
            .execute(
                &Sql::new(
                    "DELETE FROM draws WHERE reviewer = $1 AND call_seq = (SELECT seq FROM calls WHERE id = $2)",
                )
                .arg(reviewer)
                .arg(*id),
            )
            .await?;
        Ok(())
    }

    /// Whether the queue drew call `id` for `reviewer` at or after `since`.
    pub async fn was_drawn_for(
        &self,
        id: Uuid,
        reviewer: &str,
        since: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let found: Option<(i64,)> = self
            .db
            .optional(
                &Sql::new(
                    "SELECT d.drawn_at FROM draws d JOIN calls c ON c.seq = d.call_seq \
                     WHERE c.id = $1 AND d.reviewer = $2 AND d.drawn_at >= $3",
                )
                .arg(id)
                .arg(reviewer)
                .arg(since.timestamp_micros()),
            )
            .await?;
        Ok(found.is_some())
    }

    /// An unreviewed call within `filter` (its verdict is ignored) drawn at random: the first
    /// at or after `point` in the calls' random keys, wrapping around to the lowest key. Each
    /// step is a seek in a partial index of the unreviewed calls (by operation when the filter
    /// names one); the reviewed ones are never read. Other filters are checked on the rows met
    /// in key order, so a filter that keeps one unreviewed call in n reads about n rows.
    ///
    /// `skip` (the call just passed over) is drawn only when nothing else is left; calls
    /// `reviewer` skipped since `since` (today, for the queue) are never drawn for them.
    pub async fn draw_unreviewed(
        &self,
        filter: &CallFilter,
        point: i64,
        skip: Option<Uuid>,
        skipped_by: Option<(&str, DateTime<Utc>)>,
    ) -> StoreResult<Option<Uuid>> {
        let filter = filter.with_verdict(None);
        let resolved = self.resolve(&filter).await?;
        let search = search_text(self.dialect(), &filter, &resolved);
        if resolved.matches_nothing() || search.as_deref() == Some("") {
            return Ok(None);
        }
        let point = point.rem_euclid(SAMPLE_KEYS);
        let skips = match skip {
            Some(id) => vec![Some(id), None],
            None => vec![None],
        };
        // A draw within a search reads the search index: bounded like any search.
        let mut reader = match &search {
            Some(_) => Some(self.search_reader().await?),
            None => None,
        };
        let search = search.map(|text| Search::condition(self.dialect(), text));
        for skip in skips {
            for at_or_after in [true, false] {
                // `verdict = 0` written out: a partial index is used only when the query
                // states its condition, and a bound parameter does not.
                let mut sql = Sql::new("SELECT c.id FROM calls c");
                if self.dialect() == Dialect::Sqlite {
                    // With statistics SQLite prefers the verdict index and sorts every
                    // unreviewed call by key (300 ms at a million calls, measured): the
                    // draw's own index is named.
                    sql.push(match resolved.operation_id() {
                        Some(_) => " INDEXED BY calls_draw_by_operation",
                        None => " INDEXED BY calls_draw",
                    });
                }
                sql.push(" WHERE c.verdict = 0");
                push_conditions(&mut sql, &filter, &resolved, false, search.as_ref());
                if let Some(id) = skip {
                    sql.push(" AND c.id <> ").bind(id);
                }
                if let Some((reviewer, since)) = skipped_by {
                    sql.push(
                        " AND NOT EXISTS (SELECT 1 FROM skips s WHERE s.call_seq = c.seq AND s.reviewer = ",
                    )
                    .bind(reviewer.to_string())
                    .push(" AND s.skipped_at >= ")
                    .bind(super::skips::day_start(since))
                    .push(")");
                }
                sql.push(if at_or_after {
                    " AND c.sample_key >= "
                } else {
                    " AND c.sample_key < "
                })
                .bind(point)
                .push(" ORDER BY c.sample_key LIMIT 1");
                let found: Vec<(Uuid,)> = match reader.as_mut() {
                    Some(reader) => reader.all(&sql).await?,
                    None => self.db.all(&sql).await?,
                };
                if let Some((id,)) = found.into_iter().next() {
                    return Ok(Some(id));
                }
            }
        }
        Ok(None)
    }

    /// Where call `id` stands in the feed's order: its time and sequence number.
    async fn feed_position(&self, id: &Uuid) -> StoreResult<Option<(i64, i64)>> {
        self.db
            .optional(&Sql::new("SELECT created_at, seq FROM calls WHERE id = $1").arg(*id))
            .await
    }

    /// The call before `id` in the feed under `filter` (the next newer one), or `None` at
    /// the top of the feed or for an unknown id. A search narrows it as a condition on the
    /// calls walked from `id` upwards, bounded like any search.
    pub async fn newer_in_feed(&self, filter: &CallFilter, id: &Uuid) -> StoreResult<Option<Uuid>> {
        let Some((created_at, seq)) = self.feed_position(id).await? else {
            return Ok(None);
        };
        let resolved = self.resolve(filter).await?;
        let search = search_text(self.dialect(), filter, &resolved);
        if resolved.matches_nothing() || search.as_deref() == Some("") {
            return Ok(None);
        }
        let mut reader = match &search {
            Some(_) => Some(self.search_reader().await?),
            None => None,
        };
        let search = search.map(|text| Search::condition(self.dialect(), text));
        let mut sql = Sql::new("SELECT c.id FROM calls c WHERE (c.created_at, c.seq) > (");
        sql.bind(created_at).push(", ").bind(seq).push(")");
        push_conditions(&mut sql, filter, &resolved, true, search.as_ref());
        sql.push(" ORDER BY c.created_at, c.seq LIMIT 1");
        let found: Vec<(Uuid,)> = match reader.as_mut() {
            Some(reader) => reader.all(&sql).await?,
            None => self.db.all(&sql).await?,
        };
        Ok(found.into_iter().next().map(|(id,)| id))
    }

    /// The call after `id` in the feed under `filter` (the next older one), or `None` at the
    /// end of the feed or for an unknown id.
    pub async fn next_in_feed(&self, filter: &CallFilter, id: &Uuid) -> StoreResult<Option<Uuid>> {
        let Some((created_at_micros, seq)) = self.feed_position(id).await? else {
            return Ok(None);
        };
        let page = self
            .list_calls(&FeedQuery {
                filter: filter.clone(),
                cursor: Some(Cursor {
                    created_at_micros,
                    seq,
                }),
                limit: 1,
            })
            .await?;
        Ok(page
            .calls
            .into_iter()
            .next()
            .and_then(|call| Uuid::parse_str(&call.id).ok()))
    }
}
