//! Connecting to SQLite: WAL, one writer, read-only readers, migrations from
//! `migrations/sqlite`.

use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::sql::Bulk;
use super::{redact, Db, StoreError, StoreOptions, StoreResult};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

pub(super) async fn connect(url: &str, options: &StoreOptions) -> StoreResult<Db> {
    let connect = SqliteConnectOptions::from_str(url)
        .map_err(|e| StoreError::Url(format!("\"{}\": {e}", redact(url))))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL: a batch acknowledged to a client survives a power cut, not only a crash.
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        // SQLite has no statement timeout; the closest is how long to wait for the write lock.
        .busy_timeout(options.statement_timeout);
    let write = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(options.acquire_timeout)
        .connect_with(connect.clone())
        .await?;
    MIGRATOR.run(&write).await?;
    let filename = connect.get_filename();
    let bulk = (filename != std::path::Path::new(":memory:"))
        .then(|| Bulk::new(filename.to_path_buf(), options.statement_timeout));
    let read = SqlitePoolOptions::new()
        .max_connections(options.pool_size.unwrap_or(4).max(1))
        .acquire_timeout(options.acquire_timeout)
        .connect_with(connect.read_only(true))
        .await?;
    Ok(Db::Sqlite { write, read, bulk })
}
