//! The store: every SQL statement of Redline lives under this module.
//!
//! The backend is chosen by the database URL alone: `sqlite:` (the embedded default) or
//! `postgres:`/`postgresql:`. Statements are written once with `$n` placeholders (see `sql.rs`);
//! the few places where the two databases differ ask [`Dialect`] and are named there:
//! connecting and tuning (`sqlite.rs`, `postgres.rs`), full-text search (`search.rs`),
//! row locks (`reviews.rs`, `jobs.rs`) and disk/maintenance statements (here).

mod accounts;
mod alerts;
mod call;
mod conditions;
mod counts;
mod exports;
mod feed;
mod ingest;
mod jobs;
mod keys;
mod operations;
mod postgres;
mod queue;
mod reindex;
mod reviews;
mod search;
mod sessions;
mod skips;
mod sql;
mod sqlite;
mod tags;
mod trends;

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};

pub use accounts::{AuditQuery, NewAudit, UserChange, UserRecord};
pub use counts::{RebuildReport, RollupRows};
pub use exports::{ExportCandidate, ExportRow, EXPORT_JOB};
#[cfg(feature = "bench")]
pub use ingest::raw_insert_calls;
pub use ingest::InsertOutcome;
pub use jobs::{Job, JobState};
pub use keys::{KeyOwner, NewKey};
pub use operations::{KnownTag, OperationRecord, ReviewRules, TextsToCheck};
#[cfg(feature = "bench")]
pub use postgres::{describe_server, reset_schema};
pub use reviews::{ReviewInput, SaveOutcome};
pub use sessions::SessionUser;
pub use sql::Dialect;
pub(crate) use sql::{Bounded, Db, Sql, Tx};
pub use trends::{AccuracySettings, CostRow, DayRow, Grouping, TagDayRow};

/// Failures of the database itself; user mistakes never reach this type.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("bad database URL: {0}")]
    Url(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("a value could not be bound: {0}")]
    Bind(sqlx::error::BoxDynError),
    #[error("database error: {0}")]
    Bulk(String),
    #[error("the search ran past its deadline and was stopped")]
    Stopped,
}

impl StoreError {
    /// True when a search's statement was stopped at its deadline (a search too broad to
    /// answer in time); a statement timeout elsewhere is a plain database error.
    pub fn is_stopped(&self) -> bool {
        matches!(self, StoreError::Stopped)
    }

    /// True when the database cannot be reached (down, restarting, pool exhausted): the
    /// request may succeed later, and the client is told so (503).
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Database(e) => {
                matches!(
                    e,
                    sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)
                ) || matches!(e, sqlx::Error::Database(db) if db.code().is_some_and(|c| {
                    // PostgreSQL: admin shutdown, crash shutdown, cannot connect now.
                    // SQLite: another process held the write lock past the busy timeout
                    // (SQLITE_BUSY and its extended codes, SQLITE_LOCKED).
                    matches!(c.as_ref(), "57P01" | "57P02" | "57P03" | "5" | "6" | "261" | "517" | "773")
                }))
            }
            _ => false,
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// How to connect; every field has a sensible default.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Connections: PostgreSQL's pool size (default 10), SQLite's readers (default 4; SQLite
    /// always has one writer).
    pub pool_size: Option<u32>,
    /// PostgreSQL `statement_timeout`: a statement running longer is cancelled (default 30 s).
    /// SQLite has no such setting; there it bounds the wait for the write lock instead.
    pub statement_timeout: Duration,
    /// How long a request waits for a free connection (or for the database to come back)
    /// before it is answered 503.
    pub acquire_timeout: Duration,
    /// PostgreSQL TLS mode (`disable`, `prefer`, `require`, `verify-ca`, `verify-full`);
    /// overrides `sslmode` in the URL.
    pub tls_mode: Option<String>,
    /// CA certificate for `verify-ca`/`verify-full`; overrides `sslrootcert` in the URL.
    pub tls_root_cert: Option<PathBuf>,
}

impl Default for StoreOptions {
    fn default() -> StoreOptions {
        StoreOptions {
            pool_size: None,
            statement_timeout: Duration::from_secs(30),
            acquire_timeout: Duration::from_secs(5),
            tls_mode: None,
            tls_root_cert: None,
        }
    }
}

/// Handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    db: Db,
    /// SQLite: searches with at most this many matches read the matches first (see `feed.rs`).
    rare_matches: i64,
    /// First chunk of calls a search walks (SQLite: doubling per further chunk; PostgreSQL:
    /// the one walk before the search index takes over).
    search_chunk: i64,
    /// Calls one search request walks at most (see `search::SEARCH_WALK_MAX_ROWS`).
    search_walk_max: i64,
    /// How long a search's statements may run (see `search::SEARCH_DEADLINE`).
    search_deadline: std::time::Duration,
    /// Searches at once: half the readers, so searches can never take every reader from
    /// the feed, the call page and the API.
    searches: std::sync::Arc<tokio::sync::Semaphore>,
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `url` with default options.
    pub async fn open(url: &str) -> StoreResult<Store> {
        Store::open_with(url, &StoreOptions::default()).await
    }

    /// Opens and migrates the database at `url`; the scheme picks the backend.
    pub async fn open_with(url: &str, options: &StoreOptions) -> StoreResult<Store> {
        let db = if url.starts_with("sqlite:") {
            sqlite::connect(url, options).await?
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            postgres::connect(url, options).await?
        } else {
            return Err(StoreError::Url(format!(
                "\"{}\": use sqlite://FILE (embedded) or postgres://USER@HOST/DATABASE",
                redact(url)
            )));
        };
        let readers = match db.dialect() {
            Dialect::Sqlite => options.pool_size.unwrap_or(4),
            Dialect::Postgres => options.pool_size.unwrap_or(10),
        };
        let store = Store {
            searches: std::sync::Arc::new(tokio::sync::Semaphore::new(
                (readers as usize / 2).max(1),
            )),
            db,
            rare_matches: search::RARE_MATCHES,
            search_chunk: search::SEARCH_CHUNK,
            search_walk_max: search::SEARCH_WALK_MAX_ROWS,
            search_deadline: search::SEARCH_DEADLINE,
        };
        store.rebuild_search_documents().await?;
        Ok(store)
    }

    pub fn dialect(&self) -> Dialect {
        self.db.dialect()
    }

    /// Moves the point where a search stops reading its matches first (tests use it to run
    /// both query plans on small data).
    pub fn with_rare_search_limit(mut self, matches: i64) -> Store {
        self.rare_matches = matches;
        self
    }

    /// Moves the search deadline (tests stop searches at once).
    pub fn with_search_deadline(mut self, deadline: std::time::Duration) -> Store {
        self.search_deadline = deadline;
        self
    }

    /// Moves the most calls one search walks (tests reach the bound on small data).
    pub fn with_search_walk_max(mut self, calls: i64) -> Store {
        self.search_walk_max = calls.max(1);
        self
    }

    /// Sets the first chunk size of common-word searches (tests use tiny chunks).
    pub fn with_search_chunk(mut self, calls: i64) -> Store {
        self.search_chunk = calls.max(1);
        self
    }

    /// Waits for in-flight statements, then closes every connection.
    pub async fn close(&self) {
        self.db.close().await;
    }

    /// True when the database holds no calls at all.
    pub async fn is_empty(&self) -> StoreResult<bool> {
        let any: Option<(i64,)> = self
            .db
            .optional(&Sql::new("SELECT seq FROM calls LIMIT 1"))
            .await?;
        Ok(any.is_none())
    }

    pub async fn call_count(&self) -> StoreResult<i64> {
        self.db
            .scalar(&Sql::new("SELECT count(*) FROM calls"))
            .await
    }

    /// Answers when the database does (the readiness probe).
    pub async fn ping(&self) -> StoreResult<()> {
        self.db
            .scalar::<i64>(&Sql::new("SELECT CAST(1 AS BIGINT)"))
            .await?;
        Ok(())
    }

    /// Sets how an operation's output is checked (`json` outputs must parse) and described.
    pub async fn define_operation(
        &self,
        name: &str,
        description: &str,
        kind: crate::model::OutputKind,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let sql = Sql::new(
            "INSERT INTO operations (name, description, output_kind, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO UPDATE SET description = excluded.description,
                                              output_kind = excluded.output_kind",
        )
        .arg(name)
        .arg(description)
        .arg(kind.as_str())
        .arg(now.timestamp_micros());
        self.db.execute(&sql).await?;
        Ok(())
    }

    /// Adds a failure tag to an operation's list (no-op when the name exists).
    pub async fn define_tag(&self, operation: &str, tag: &str) -> StoreResult<()> {
        let sql = Sql::new(
            "INSERT INTO tags (operation_id, name, listed)
             SELECT id, $2, $3 FROM operations WHERE name = $1
             ON CONFLICT DO NOTHING",
        )
        .arg(operation)
        .arg(tag)
        .arg(true);
        self.db.execute(&sql).await?;
        Ok(())
    }

    /// Bytes the database occupies on disk (SQLite: the file; PostgreSQL: Redline's tables
    /// and their indexes).
    pub async fn size_on_disk(&self) -> StoreResult<i64> {
        let sql = match self.dialect() {
            Dialect::Sqlite => {
                "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"
            }
            Dialect::Postgres => {
                "SELECT CAST(coalesce(sum(pg_total_relation_size(c.oid)), 0) AS BIGINT)
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relkind = 'r' AND n.nspname = current_schema()"
            }
        };
        self.db.scalar(&Sql::new(sql)).await
    }

    /// After a bulk load: SQLite moves the WAL into the main file and refreshes planner
    /// statistics; PostgreSQL vacuums and analyzes.
    pub async fn checkpoint(&self) -> StoreResult<()> {
        let statements: &[&str] = match self.dialect() {
            Dialect::Sqlite => &["PRAGMA wal_checkpoint(TRUNCATE)", "PRAGMA optimize"],
            Dialect::Postgres => &["VACUUM (ANALYZE)"],
        };
        for statement in statements {
            self.db.execute(&Sql::new(*statement)).await?;
        }
        Ok(())
    }
}

/// The URL with any password replaced, for messages and logs: in the user part
/// (`postgres://u:secret@host`) and in the query (`?password=secret`, `&sslpassword=…`).
pub fn redact(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = match (base.find("://"), base.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &base[scheme + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &base[..scheme + 3],
                    &credentials[..colon],
                    &base[at..]
                ),
                None => base.to_string(),
            }
        }
        _ => base.to_string(),
    };
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.to_ascii_lowercase().contains("password") => {
                    format!("{key}=***")
                }
                _ => pair.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}

pub(crate) const DAY_MICROS: i64 = 86_400_000_000;

pub(crate) fn micros_to_time(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

/// The public text of a call id.
pub(crate) fn id_text(id: &uuid::Uuid) -> String {
    id.hyphenated().to_string()
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_reach_a_log_line_whatever_their_form() {
        assert_eq!(
            redact("postgres://rl:s3cret@db:5432/redline"),
            "postgres://rl:***@db:5432/redline"
        );
        assert_eq!(
            redact("postgres://db/redline?user=rl&password=s3cret&sslmode=require"),
            "postgres://db/redline?user=rl&password=***&sslmode=require"
        );
        assert_eq!(
            redact("postgres://rl:a@b@db/x?sslpassword=k"),
            "postgres://rl:***@db/x?sslpassword=***"
        );
        assert_eq!(redact("sqlite://redline.db"), "sqlite://redline.db");
    }
}
