//! Search readers with a deadline: a reader connection whose statements stop when the
//! deadline passes or the request is dropped (SQLite through its progress handler,
//! PostgreSQL through `statement_timeout`), holding the search's turn until it is free.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{Postgres, Sqlite};
use tokio::sync::OwnedSemaphorePermit;

use super::{Db, Decode, Sql, Target};
use crate::store::{StoreError, StoreResult};

pub(crate) struct Bounded {
    conn: Option<BoundedConn>,
    deadline: Instant,
    /// The search's turn among the searches at once: given back only once the connection
    /// has lost its bound and is free for anyone, so turns really bound busy connections.
    turn: Option<OwnedSemaphorePermit>,
}

enum BoundedConn {
    Sqlite {
        conn: PoolConnection<Sqlite>,
        state: Arc<AtomicU8>,
    },
    Postgres(PoolConnection<Postgres>),
}

/// States of a bounded SQLite reader, as its progress handler reads them.
const RUNNING: u8 = 0;
const CANCELLED: u8 = 1;

/// SQLite calls the progress handler every this many virtual machine steps (~0.1 ms).
const PROGRESS_STEPS: i32 = 10_000;

impl Db {
    /// A reader whose statements stop `limit` from now, holding `turn` until it is free again.
    pub async fn bounded(
        &self,
        limit: Duration,
        turn: Option<OwnedSemaphorePermit>,
    ) -> StoreResult<Bounded> {
        let deadline = Instant::now() + limit;
        let conn = match self {
            Db::Sqlite { read, .. } => {
                let mut conn = read.acquire().await?;
                let state = Arc::new(AtomicU8::new(RUNNING));
                let seen = state.clone();
                // Returning false interrupts the statement (SQLITE_INTERRUPT).
                conn.lock_handle()
                    .await?
                    .set_progress_handler(PROGRESS_STEPS, move || {
                        seen.load(Ordering::Relaxed) == RUNNING && Instant::now() < deadline
                    });
                BoundedConn::Sqlite { conn, state }
            }
            Db::Postgres(pool) => BoundedConn::Postgres(pool.acquire().await?),
        };
        Ok(Bounded {
            conn: Some(conn),
            deadline,
            turn,
        })
    }
}

impl Bounded {
    /// PostgreSQL's timeout counts per statement: each gets what is left of the deadline.
    async fn target(
        &mut self,
    ) -> StoreResult<Target<&mut sqlx::SqliteConnection, &mut sqlx::PgConnection>> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        match self.conn.as_mut() {
            Some(BoundedConn::Sqlite { conn, .. }) => Ok(Target::Sqlite(&mut **conn)),
            Some(BoundedConn::Postgres(conn)) => {
                if left.is_zero() {
                    return Err(StoreError::Stopped);
                }
                let ms = left.as_millis().clamp(1, i32::MAX as u128);
                sqlx::query(&format!("SET statement_timeout = {ms}"))
                    .execute(&mut **conn)
                    .await?;
                Ok(Target::Postgres(&mut **conn))
            }
            None => Err(StoreError::Corrupt(
                "a bounded reader was used after it was given back".into(),
            )),
        }
    }

    pub async fn all<T: Decode>(&mut self, sql: &Sql) -> StoreResult<Vec<T>> {
        let target = self.target().await?;
        let rows: StoreResult<Vec<T>> = async { Ok(run!(target, sql, fetch_all, T)) }.await;
        rows.map_err(stopped)
    }

    pub async fn scalar<T>(&mut self, sql: &Sql) -> StoreResult<T>
    where
        (T,): Decode,
    {
        let target = self.target().await?;
        let row: StoreResult<(T,)> = async { Ok(run!(target, sql, fetch_one, (T,))) }.await;
        row.map(|(value,)| value).map_err(stopped)
    }
}

/// A statement interrupted by the deadline (SQLite's SQLITE_INTERRUPT, PostgreSQL's
/// query_canceled) is a stopped search, said so to the person; any other error stays.
fn stopped(error: StoreError) -> StoreError {
    match &error {
        StoreError::Database(sqlx::Error::Database(db))
            if db
                .code()
                .is_some_and(|c| matches!(c.as_ref(), "9" | "57014")) =>
        {
            StoreError::Stopped
        }
        _ => error,
    }
}

impl Drop for Bounded {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        let turn = self.turn.take();
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // No runtime to reset it on: the connection is closed, not reused.
            match conn {
                BoundedConn::Sqlite { mut conn, .. } => conn.close_on_drop(),
                BoundedConn::Postgres(mut conn) => conn.close_on_drop(),
            }
            return;
        };
        match conn {
            BoundedConn::Sqlite { mut conn, state } => {
                // Whatever still runs on this connection stops now; then the handler is
                // removed before the connection serves anyone else.
                state.store(CANCELLED, Ordering::Relaxed);
                runtime.spawn(async move {
                    let removed = match conn.lock_handle().await {
                        Ok(mut handle) => {
                            handle.remove_progress_handler();
                            true
                        }
                        Err(_) => false,
                    };
                    if !removed {
                        conn.close_on_drop();
                    }
                    drop(turn);
                });
            }
            BoundedConn::Postgres(mut conn) => {
                // The server's default timeout again (set by the pool on connect).
                runtime.spawn(async move {
                    let reset = sqlx::query("RESET statement_timeout")
                        .execute(&mut *conn)
                        .await;
                    if reset.is_err() {
                        conn.close_on_drop();
                    }
                    drop(turn);
                });
            }
        }
    }
}
