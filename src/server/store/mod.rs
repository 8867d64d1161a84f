//! The store: every SQL statement of Redline lives under this module.
//!
//! SQLite runs with one writer connection (SQLite allows one writer at a time; queuing in the
//! pool is cheaper than retrying on SQLITE_BUSY) and a small pool of readers (WAL lets them read
//! while the writer writes).

mod feed;
mod ingest;
mod reviews;

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use ingest::{raw_insert_calls, InsertOutcome};
pub use reviews::{ReviewInput, SaveOutcome};

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
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    write: SqlitePool,
    read: SqlitePool,
    /// Searches with at most this many matches read the matches first (see `feed.rs`).
    rare_matches: i64,
    /// First chunk of calls a common-word search reads (it doubles per further chunk).
    search_chunk: i64,
}

pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

impl Store {
    /// Opens (creating if needed) and migrates the database at `url`.
    pub async fn open(url: &str) -> StoreResult<Store> {
        if !url.starts_with("sqlite:") {
            return Err(StoreError::Url(format!(
                "\"{url}\": only sqlite: URLs are supported so far (e.g. sqlite://redline.db)"
            )));
        }
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Url(format!("\"{url}\": {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a batch acknowledged to a client survives a power cut, not only a crash.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&write).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        Ok(Store {
            write,
            read,
            rare_matches: feed::RARE_MATCHES,
            search_chunk: feed::SEARCH_CHUNK,
        })
    }

    /// A store over one pool for reads and writes (tests get their pool from `#[sqlx::test]`).
    pub fn from_pool(pool: SqlitePool) -> Store {
        Store {
            write: pool.clone(),
            read: pool,
            rare_matches: feed::RARE_MATCHES,
            search_chunk: feed::SEARCH_CHUNK,
        }
    }

    /// Moves the point where a search stops reading its matches first (tests use it to run
    /// both query plans on small data).
    pub fn with_rare_search_limit(mut self, matches: i64) -> Store {
        self.rare_matches = matches;
        self
    }

    /// Sets the first chunk size of common-word searches (tests use tiny chunks).
    pub fn with_search_chunk(mut self, calls: i64) -> Store {
        self.search_chunk = calls.max(1);
        self
    }

    /// Waits for in-flight statements, then closes every connection (checkpointing the WAL).
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }

    /// True when the database holds no calls at all.
    pub async fn is_empty(&self) -> StoreResult<bool> {
        let any: Option<i64> = sqlx::query_scalar("SELECT seq FROM calls LIMIT 1")
            .fetch_optional(&self.read)
            .await?;
        Ok(any.is_none())
    }

    pub async fn call_count(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM calls")
            .fetch_one(&self.read)
            .await?)
    }

    /// Sets how an operation's output is checked (`json` outputs must parse) and described.
    pub async fn define_operation(
        &self,
        name: &str,
        description: &str,
        kind: crate::model::OutputKind,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO operations (name, description, output_kind, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (name) DO UPDATE SET description = excluded.description,
                                              output_kind = excluded.output_kind",
        )
        .bind(name)
        .bind(description)
        .bind(kind.as_str())
        .bind(now.timestamp_micros())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Adds a failure tag to an operation's list (no-op when it exists).
    pub async fn define_tag(&self, operation: &str, tag: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO tags (operation_id, name)
             SELECT id, ?2 FROM operations WHERE name = ?1
             ON CONFLICT DO NOTHING",
        )
        .bind(operation)
        .bind(tag)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Bytes the database occupies on disk (main file and WAL).
    pub async fn size_on_disk(&self) -> StoreResult<i64> {
        let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
            .fetch_one(&self.write)
            .await?;
        let size: i64 = sqlx::query_scalar("PRAGMA page_size")
            .fetch_one(&self.write)
            .await?;
        Ok(pages * size)
    }

    /// Moves the WAL into the main file (after a bulk load).
    pub async fn checkpoint(&self) -> StoreResult<()> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.write)
            .await?;
        sqlx::query("PRAGMA optimize").execute(&self.write).await?;
        Ok(())
    }
}

pub(crate) const DAY_MICROS: i64 = 86_400_000_000;

/// Prefixes of the scope tokens indexed with every call's text: `rlop<operation id>` and
/// `rlmd<model id>`. A search with an operation or model filter then narrows inside the search
/// index (a list intersection) instead of checking calls one by one.
pub(crate) const OPERATION_TOKEN: &str = "rlop";
pub(crate) const MODEL_TOKEN: &str = "rlmd";

/// The input column of a call's search document: scope tokens, then the input's words.
pub(crate) fn search_document(operation_id: i64, model_id: i64, input_words: &str) -> String {
    format!("{OPERATION_TOKEN}{operation_id} {MODEL_TOKEN}{model_id}\n{input_words}")
}

pub(crate) fn micros_to_time(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

/// Renders a stored 16-byte id as the public UUID text.
pub(crate) fn id_text(bytes: &[u8]) -> StoreResult<String> {
    uuid::Uuid::from_slice(bytes)
        .map(|id| id.hyphenated().to_string())
        .map_err(|_| StoreError::Corrupt(format!("call id of {} bytes", bytes.len())))
}
