//! Long reads on SQLite without the async driver's per-row hand-over.
//!
//! sqlx's SQLite driver steps each statement on its worker thread and sends every row to the
//! async side through a channel, copying each of its values first (`sqlite3_value_dup`): for
//! an export of a million calls of 24 columns, that copy, its frees and the wake-ups were
//! about 40% of the job's CPU (perf, 2026-12-07). A bulk read runs instead on a blocking
//! thread over a read-only connection of its own, opened with rusqlite on the same file and
//! linked to the same SQLite library sqlx builds, and decodes each row straight from SQLite's
//! buffers into the caller's type. Statements are the same [`Sql`] the rest of the store runs.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Row};

use super::{Sql, Value};
use crate::store::{StoreError, StoreResult};

/// Connections kept open between reads (an export has up to two going at once: the chunk
/// it reads ahead and its next page of keys).
const KEEP_IDLE: usize = 2;

/// Prepared statements each connection keeps.
const STATEMENTS: usize = 16;

/// Read-only connections to one SQLite file, opened when first needed.
#[derive(Clone)]
pub(crate) struct Bulk {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    busy_timeout: Duration,
    idle: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for Bulk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bulk")
            .field("path", &self.inner.path)
            .finish()
    }
}

impl Bulk {
    pub fn new(path: PathBuf, busy_timeout: Duration) -> Bulk {
        Bulk {
            inner: Arc::new(Inner {
                path,
                busy_timeout,
                idle: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Every row of `sql`, each decoded by `decode` on the reading thread.
    pub async fn all<T, F>(&self, sql: &Sql, decode: F) -> StoreResult<Vec<T>>
    where
        T: Send + 'static,
        F: Fn(&Row<'_>) -> StoreResult<T> + Send + 'static,
    {
        let text = sql.sqlite_text().into_owned();
        let values = sql.values.clone();
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let conn = match inner.take() {
                Some(conn) => conn,
                None => inner.open()?,
            };
            let rows = read(&conn, &text, &values, &decode)?;
            inner.give_back(conn);
            Ok(rows)
        })
        .await
        .map_err(|e| StoreError::Bulk(format!("the reading thread stopped: {e}")))?
    }
}

impl Inner {
    fn take(&self) -> Option<Connection> {
        self.idle.lock().ok()?.pop()
    }

    /// Keeps a connection for the next read (a connection whose read failed is closed).
    fn give_back(&self, conn: Connection) {
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < KEEP_IDLE {
                idle.push(conn);
            }
        }
    }

    fn open(&self) -> StoreResult<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(self.busy_timeout)?;
        conn.set_prepared_statement_cache_capacity(STATEMENTS);
        Ok(conn)
    }
}

fn read<T>(
    conn: &Connection,
    text: &str,
    values: &[Value],
    decode: &impl Fn(&Row<'_>) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut statement = conn.prepare_cached(text)?;
    for at in 1..=statement.parameter_count() {
        // `$n` and `?n` take the n-th value, plain `?` the next one: as sqlx binds on SQLite,
        // so both readers of a statement see the same values.
        let n = statement
            .parameter_name(at)
            .and_then(|name| name.strip_prefix(['$', '?']))
            .and_then(|digits| digits.parse::<usize>().ok())
            .unwrap_or(at);
        let value = n
            .checked_sub(1)
            .and_then(|i| values.get(i))
            .ok_or_else(|| {
                StoreError::Bulk(format!("no value for the statement's parameter {n}"))
            })?;
        match value {
            Value::Int(v) => statement.raw_bind_parameter(at, v)?,
            Value::Float(v) => statement.raw_bind_parameter(at, v)?,
            Value::Text(v) => statement.raw_bind_parameter(at, v)?,
            Value::Bool(v) => statement.raw_bind_parameter(at, i64::from(*v))?,
            Value::Uuid(v) => statement.raw_bind_parameter(at, v.as_bytes().as_slice())?,
            Value::Ints(_) => {
                return Err(StoreError::Bulk(
                    "an array parameter is for PostgreSQL only".into(),
                ))
            }
        }
    }
    let mut rows = statement.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(decode(row)?);
    }
    Ok(out)
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> StoreError {
        StoreError::Bulk(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(path: &std::path::Path) {
        let conn = Connection::open(path).unwrap();
        conn.execute_batch(
            "CREATE TABLE t (n INTEGER, x REAL, s TEXT, b INTEGER, u BLOB);
             INSERT INTO t VALUES (1, 0.5, 'one', 1, x'00112233445566778899aabbccddeeff');
             INSERT INTO t VALUES (2, NULL, 'two', 0, NULL);
             INSERT INTO t VALUES (3, 2.5, NULL, 1, NULL);",
        )
        .unwrap();
    }

    #[tokio::test]
    async fn reads_with_every_kind_of_value_bound_by_number_or_in_order() {
        let dir = std::env::temp_dir().join(format!("redline-bulk-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bulk.db");
        let _ = std::fs::remove_file(&path);
        table(&path);
        let bulk = Bulk::new(path.clone(), Duration::from_secs(1));
        let names = |row: &Row<'_>| -> StoreResult<(i64, Option<String>)> {
            Ok((row.get(0)?, row.get(2)?))
        };

        // Placeholders appended in order (SQLite gets plain `?`).
        let mut sql = Sql::new("SELECT n, x, s FROM t WHERE n >= ");
        sql.bind(2_i64)
            .push(" AND b = ")
            .bind(true)
            .push(" ORDER BY n");
        assert_eq!(bulk.all(&sql, names).await.unwrap(), vec![(3, None)]);

        // Numbered placeholders used out of order and twice, with text, uuid and float.
        let id = uuid::Uuid::from_bytes([
            0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
            0xee, 0xff,
        ]);
        let sql = Sql::new(
            "SELECT n, x, s FROM t WHERE (u = $2 AND x < $3) OR s = $1 OR s = $1 ORDER BY n",
        )
        .arg("two")
        .arg(id)
        .arg(1.0_f64);
        assert_eq!(
            bulk.all(&sql, names).await.unwrap(),
            vec![(1, Some("one".into())), (2, Some("two".into()))]
        );

        // A statement that fails is an error, and the next read still works.
        let bad = Sql::new("SELECT nothing FROM t");
        assert!(matches!(
            bulk.all(&bad, names).await,
            Err(StoreError::Bulk(_))
        ));
        let sql = Sql::new("SELECT n, x, s FROM t WHERE s IS NULL");
        assert_eq!(bulk.all(&sql, names).await.unwrap(), vec![(3, None)]);

        // Read-only: a write through it is refused.
        let write = Sql::new("DELETE FROM t");
        assert!(bulk.all(&write, names).await.is_err());

        // An array is PostgreSQL's: refused with the reason, not bound as something else.
        let array = Sql::new("SELECT n, x, s FROM t WHERE n IN ($1)").arg(Value::Ints(vec![1, 2]));
        let error = bulk.all(&array, names).await.unwrap_err().to_string();
        assert!(error.contains("PostgreSQL only"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
