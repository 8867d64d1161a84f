//! Full-text search, on both backends: the search document each call is indexed with, the
//! query a filter's words become, how a search is planned (rare words read the index first,
//! common ones walk the calls newest first), the one condition a search adds to a query, and
//! the bounds that keep any search from holding a reader past its deadline.

use std::collections::HashSet;

use super::conditions::{push_conditions, push_cursor, Resolved};
use super::{Bounded, Dialect, Sql, Store, StoreError, StoreResult};
use crate::model::search::document_words;
use crate::model::{search_terms, CallFilter, Cursor, FeedQuery};

/// Calls one search request walks at most (SQLite's walk for common words): a word common
/// overall but rare under the other filters could otherwise read the whole table. Past it
/// the page ends where the walk stopped, and the next page goes on from there.
pub const SEARCH_WALK_MAX_ROWS: i64 = 256_000;
/// A search's statements stop this long after it began (the request timeout is 30 s): a
/// search too broad to answer in time is stopped and said so, never left holding a reader.
pub const SEARCH_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// How long a search waits for its turn when the most searches at once are running; then
/// it is answered 503 (try again shortly).
const SEARCH_TURN_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

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
    /// SQLite, when another index drives (the queue's random keys): each row's membership in
    /// the search's matches is checked.
    Member(String),
}

impl Search {
    /// The search as a plain condition, for a query that another index drives.
    pub(super) fn condition(dialect: Dialect, text: String) -> Search {
        match dialect {
            Dialect::Sqlite => Search::Member(text),
            Dialect::Postgres => Search::Postgres(text),
        }
    }
}

/// `calls c`, or SQLite's search index joined to it when the index drives.
pub(super) fn push_from(sql: &mut Sql, search: Option<&Search>) {
    if let Some(Search::Rare(_)) = search {
        // CROSS JOIN keeps SQLite from reordering the join: the index is read first.
        sql.push("calls_fts CROSS JOIN calls c ON c.seq = calls_fts.rowid");
    } else {
        sql.push("calls c");
    }
}

pub(super) fn no_reader() -> StoreError {
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
    let operation = resolved.operation_id();
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

/// The condition a search adds to a query on `calls c`; nothing for a walk, which checks
/// the calls it reads itself (see `common_search_keys`).
pub(super) fn push_search(sql: &mut Sql, search: Option<&Search>) {
    match search {
        Some(Search::Rare(fts)) => {
            sql.push(" AND calls_fts MATCH ").bind(fts.as_str());
        }
        Some(Search::Member(fts)) => {
            sql.push(" AND c.seq IN (SELECT rowid FROM calls_fts WHERE calls_fts MATCH ")
                .bind(fts.as_str())
                .push(")");
        }
        Some(Search::Postgres(tsquery)) => {
            sql.push(" AND c.search @@ CAST(")
                .bind(tsquery.as_str())
                .push(" AS tsquery)");
        }
        Some(Search::Common(_)) | None => {}
    }
}

/// Prefixes of the scope tokens indexed with every call's text: `rlop<operation id>` and
/// `rlmd<model id>`. A search with an operation or model filter then narrows inside the search
/// index (a list intersection) instead of checking calls one by one.
pub(crate) const OPERATION_TOKEN: &str = "rlop";
pub(crate) const MODEL_TOKEN: &str = "rlmd";

/// A word as PostgreSQL's search document holds it a second time, qualified by the call's
/// operation: `<operation id>~word`. `~` never occurs in a search word.
pub(crate) fn pg_scoped_word(operation_id: i64, word: &str) -> String {
    format!("{operation_id}~{word}")
}

/// The input column of a call's SQLite search document: scope tokens, then the input's
/// words as `model::search` splits them (the index only splits at the spaces between).
pub(crate) fn search_document(operation_id: i64, model_id: i64, input_text: &str) -> String {
    format!(
        "{OPERATION_TOKEN}{operation_id} {MODEL_TOKEN}{model_id} {}",
        crate::model::search::document_text(input_text)
    )
}

/// Longest word PostgreSQL's search indexes (longer ones are ids or encoded blobs, and a
/// lexeme may not exceed 2,047 bytes).
const PG_MAX_WORD_BYTES: usize = 200;
/// Text PostgreSQL's search indexes per call (a tsvector may not exceed 1 MB).
const PG_MAX_SEARCH_BYTES: usize = 400_000;

/// PostgreSQL's search document, as tsvector text: the model's scope lexeme `rlmd<id>`, then
/// the distinct words of the input and output, split and lowercased exactly as search terms
/// are (`model::search`), each twice: as itself (searches over all operations) and
/// qualified by the operation (`pg_scoped_word`, searches within one). Alphanumeric words need
/// no quoting, and without positions the index is as lean as SQLite's `detail=none`.
pub(crate) fn pg_search_lexemes(
    operation_id: i64,
    model_id: i64,
    input_words: &str,
    output: &str,
) -> String {
    let mut seen = HashSet::new();
    let mut document = format!("{MODEL_TOKEN}{model_id}");
    let mut full = false;
    for text in [input_words, output] {
        document_words(text, |word| {
            if full || word.len() > PG_MAX_WORD_BYTES || seen.contains(word) {
                return;
            }
            let scoped = pg_scoped_word(operation_id, word);
            if document.len() + word.len() + scoped.len() + 2 > PG_MAX_SEARCH_BYTES {
                full = true;
                return;
            }
            seen.insert(word.to_string());
            document.push(' ');
            document.push_str(word);
            document.push(' ');
            document.push_str(&scoped);
        });
    }
    document
}

impl Store {
    /// A reader for one search: a turn among the searches at once (waiting up to the pool's
    /// own wait), then a connection bounded by the search deadline.
    pub(crate) async fn search_reader(&self) -> StoreResult<Bounded> {
        let turn = tokio::time::timeout(SEARCH_TURN_WAIT, self.searches.clone().acquire_owned())
            .await
            .map_err(|_| StoreError::Database(sqlx::Error::PoolTimedOut))?
            .map_err(|_| StoreError::Database(sqlx::Error::PoolClosed))?;
        self.db.bounded(self.search_deadline, Some(turn)).await
    }

    /// The keys of one feed page for a search that is not a plain condition (a common-word
    /// walk on SQLite, PostgreSQL's walk and index), and where a bounded walk stopped.
    pub(super) async fn search_keys(
        &self,
        reader: &mut Bounded,
        query: &FeedQuery,
        resolved: &Resolved,
        search: &Search,
    ) -> StoreResult<(Vec<i64>, Option<Cursor>)> {
        match search {
            Search::Common(fts) => self.common_search_keys(reader, query, resolved, fts).await,
            Search::Postgres(tsquery) => Ok((
                self.pg_search_keys(reader, query, resolved, tsquery)
                    .await?,
                None,
            )),
            Search::Rare(_) | Search::Member(_) => Err(StoreError::Corrupt(
                "a search that is a plain condition was asked for its keys".into(),
            )),
        }
    }

    /// How a search is answered. SQLite: chosen by counting the matches in the search index
    /// (up to `rare_matches`; the scope tokens make the count include the operation and model
    /// filters): rare words read their matches from the index and sort those by time; common
    /// words walk the calls newest first in chunks (see `common_search_keys`), which finds a
    /// page after a few hundred rows instead of sorting a hundred thousand matches.
    /// PostgreSQL: see `pg_search_keys` (counting in a GIN index costs as much as reading).
    pub(super) async fn search_plan(
        &self,
        reader: &mut Bounded,
        text: String,
    ) -> StoreResult<Search> {
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
        if resolved.operation_id().is_none() {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_documents_hold_each_word_once_lowercased_and_split_like_search_terms() {
        let document = pg_search_lexemes(
            3,
            9,
            "Refund REFUND for order #123",
            "l'été: refund-request",
        );
        assert_eq!(
            document,
            "rlmd9 refund 3~refund for 3~for order 3~order 123 3~123 l 3~l été 3~été request 3~request"
        );
        let terms = crate::model::search_terms("refund-request été");
        for term in terms {
            assert!(document.split(' ').any(|w| w == term.word));
            assert!(document
                .split(' ')
                .any(|w| w == pg_scoped_word(3, &term.word)));
        }
    }

    #[test]
    fn postgres_documents_stay_within_tsvector_limits() {
        let long_word = "x".repeat(PG_MAX_WORD_BYTES + 1);
        assert_eq!(
            pg_search_lexemes(1, 2, &format!("a {long_word} b"), ""),
            "rlmd2 a 1~a b 1~b"
        );
        let many: String = (0..200_000).map(|i| format!("w{i} ")).collect();
        let document = pg_search_lexemes(1, 2, &many, "");
        assert!(document.len() <= PG_MAX_SEARCH_BYTES);
        assert!(document.starts_with("rlmd2 w0 1~w0 w1 1~w1"));
    }
}
