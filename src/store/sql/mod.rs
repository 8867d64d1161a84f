//! Statements that run on either backend.
//!
//! A [`Sql`] is statement text with `$1, $2, …` placeholders, which SQLite and PostgreSQL both
//! accept, and the values bound to them. [`Db`] holds the pools of the backend in use and runs
//! a `Sql` on it; rows decode into any type that decodes from both backends' rows (tuples of
//! `i64`, `String`, `Option<…>`, `Uuid`, `bool`, `f64`). Everything else in the store is written
//! once; where the SQL itself differs, the code asks [`Dialect`] and says why.

use sqlx::postgres::{PgArguments, PgPool, PgRow};
use sqlx::sqlite::{SqliteArguments, SqlitePool, SqliteRow};
use sqlx::{Arguments, Encode, FromRow, Postgres, Sqlite, Transaction, Type};
use uuid::Uuid;

use super::{StoreError, StoreResult};

/// Which SQL the database speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// One bound value.
#[derive(Clone, Debug)]
pub(crate) enum Value {
    Int(Option<i64>),
    Float(Option<f64>),
    Text(Option<String>),
    Bool(bool),
    Uuid(Uuid),
    /// A `bigint[]`, for `= ANY($n)`: PostgreSQL only (SQLite has no arrays; there a list
    /// is spelled out with [`Sql::bind_list`]).
    Ints(Vec<i64>),
}

macro_rules! value_from {
    ($($t:ty => $variant:ident($conv:expr)),* $(,)?) => {
        $(impl From<$t> for Value {
            fn from(v: $t) -> Value {
                Value::$variant($conv(v))
            }
        })*
    };
}

value_from! {
    i64 => Int(Some),
    Option<i64> => Int(|v| v),
    f64 => Float(Some),
    Option<f64> => Float(|v| v),
    String => Text(Some),
    &str => Text(|v: &str| Some(v.to_string())),
    &String => Text(|v: &String| Some(v.clone())),
    Option<String> => Text(|v| v),
    Option<&str> => Text(|v: Option<&str>| v.map(str::to_string)),
    bool => Bool(|v| v),
    Uuid => Uuid(|v| v),
}

/// Statement text and its values.
#[derive(Clone, Debug, Default)]
pub(crate) struct Sql {
    text: String,
    values: Vec<Value>,
    /// True while every placeholder came from [`Sql::bind`]: numbered in order, each used
    /// once, so SQLite can be given plain `?` (see `sqlite_text`).
    sequential: bool,
}

impl Sql {
    /// A statement; its `$n` placeholders are filled by [`Sql::arg`] in order.
    pub fn new(text: impl Into<String>) -> Sql {
        Sql {
            text: text.into(),
            values: Vec::new(),
            sequential: true,
        }
    }

    /// Adds the value of the next `$n` already written in the text.
    pub fn arg(mut self, value: impl Into<Value>) -> Sql {
        self.values.push(value.into());
        self.sequential = false;
        self
    }

    /// Appends text.
    pub fn push(&mut self, text: impl AsRef<str>) -> &mut Sql {
        self.text.push_str(text.as_ref());
        self
    }

    /// Appends a placeholder and its value.
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Sql {
        self.values.push(value.into());
        self.text.push('$');
        self.text.push_str(&self.values.len().to_string());
        self
    }

    /// Appends `value, value, …` as placeholders.
    pub fn bind_list<V: Into<Value>>(&mut self, values: impl IntoIterator<Item = V>) -> &mut Sql {
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(value);
        }
        self
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text for SQLite. SQLite keeps `$n` parameters in a list searched by name, and the
    /// driver asks each parameter's name at every execution: quadratic in the parameter count,
    /// which made a 250-row INSERT (3,500 parameters) cost more than the writing itself
    /// (ingest fell from 18,700 to 7,700 calls/s, measured). Plain `?` parameters are numbered
    /// by position and never looked up.
    fn sqlite_text(&self) -> std::borrow::Cow<'_, str> {
        if !self.sequential {
            return std::borrow::Cow::Borrowed(&self.text);
        }
        let mut text = String::with_capacity(self.text.len());
        let mut chars = self.text.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
                while chars.peek().is_some_and(char::is_ascii_digit) {
                    chars.next();
                }
                text.push('?');
            } else {
                text.push(c);
            }
        }
        std::borrow::Cow::Owned(text)
    }

    fn sqlite_args(&self) -> StoreResult<SqliteArguments<'_>> {
        self.arguments(|_, _: &[i64]| {
            Err(StoreError::Bind(
                "an array parameter is for PostgreSQL only".into(),
            ))
        })
    }

    fn pg_args(&self) -> StoreResult<PgArguments> {
        self.arguments(|args: &mut PgArguments, list| {
            args.add(list.to_vec()).map_err(StoreError::Bind)
        })
    }

    /// The values as one driver's arguments.
    fn arguments<'q, A>(
        &'q self,
        list: impl Fn(&mut A, &'q [i64]) -> StoreResult<()>,
    ) -> StoreResult<A>
    where
        A: Arguments<'q> + Default,
        Option<i64>: Encode<'q, A::Database> + Type<A::Database>,
        Option<f64>: Encode<'q, A::Database> + Type<A::Database>,
        Option<&'q str>: Encode<'q, A::Database> + Type<A::Database>,
        bool: Encode<'q, A::Database> + Type<A::Database>,
        Uuid: Encode<'q, A::Database> + Type<A::Database>,
    {
        let mut args = A::default();
        for value in &self.values {
            match value {
                Value::Int(v) => args.add(*v),
                Value::Float(v) => args.add(*v),
                Value::Text(v) => args.add(v.as_deref()),
                Value::Bool(v) => args.add(*v),
                Value::Uuid(v) => args.add(*v),
                Value::Ints(v) => {
                    list(&mut args, v)?;
                    continue;
                }
            }
            .map_err(StoreError::Bind)?;
        }
        Ok(args)
    }
}

/// A row type that decodes from both backends.
pub(crate) trait Decode:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

impl<T> Decode for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// The pools of the backend in use. SQLite has one writer (it allows one at a time; queuing
/// in the pool is cheaper than retrying on SQLITE_BUSY) and read-only readers beside it (WAL);
/// PostgreSQL has one pool for everything.
#[derive(Clone, Debug)]
pub(crate) enum Db {
    Sqlite {
        write: SqlitePool,
        read: SqlitePool,
        /// Long reads off the async driver (`None` for an in-memory database, which no
        /// second connection can see).
        bulk: Option<Bulk>,
    },
    Postgres(PgPool),
}

/// Runs `$sql` with `$method` (`fetch_all`, `fetch_optional`, …) on a SQLite executor and a
/// PostgreSQL executor: the one place where statements meet the two drivers.
macro_rules! run {
    ($target:expr, $sql:expr, $method:ident, $row:ty) => {
        match $target {
            Target::Sqlite(ex) => {
                sqlx::query_as_with::<Sqlite, $row, _>(&$sql.sqlite_text(), $sql.sqlite_args()?)
                    .$method(ex)
                    .await?
            }
            Target::Postgres(ex) => {
                sqlx::query_as_with::<Postgres, $row, _>($sql.text(), $sql.pg_args()?)
                    .$method(ex)
                    .await?
            }
        }
    };
}

/// As `run!`, for statements that return no rows (the same `?` rewrite on SQLite).
macro_rules! execute {
    ($target:expr, $sql:expr) => {
        match $target {
            Target::Sqlite(ex) => {
                sqlx::query_with::<Sqlite, _>(&$sql.sqlite_text(), $sql.sqlite_args()?)
                    .execute(ex)
                    .await?
                    .rows_affected()
            }
            Target::Postgres(ex) => sqlx::query_with::<Postgres, _>($sql.text(), $sql.pg_args()?)
                .execute(ex)
                .await?
                .rows_affected(),
        }
    };
}

// Declared after the macros above, which it uses.
mod bounded;
pub(crate) use bounded::Bounded;
mod bulk;
pub(crate) use bulk::Bulk;

enum Target<S, P> {
    Sqlite(S),
    Postgres(P),
}

impl Db {
    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite { .. } => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    /// SQLite's bulk reader, when there is one (see [`Bulk`]).
    pub fn bulk(&self) -> Option<&Bulk> {
        match self {
            Db::Sqlite { bulk, .. } => bulk.as_ref(),
            Db::Postgres(_) => None,
        }
    }

    fn reader(&self) -> Target<&SqlitePool, &PgPool> {
        match self {
            Db::Sqlite { read, .. } => Target::Sqlite(read),
            Db::Postgres(pool) => Target::Postgres(pool),
        }
    }

    fn writer(&self) -> Target<&SqlitePool, &PgPool> {
        match self {
            Db::Sqlite { write, .. } => Target::Sqlite(write),
            Db::Postgres(pool) => Target::Postgres(pool),
        }
    }

    /// Reads every row.
    pub async fn all<T: Decode>(&self, sql: &Sql) -> StoreResult<Vec<T>> {
        Ok(run!(self.reader(), sql, fetch_all, T))
    }

    /// Reads the first row, if any.
    pub async fn optional<T: Decode>(&self, sql: &Sql) -> StoreResult<Option<T>> {
        Ok(run!(self.reader(), sql, fetch_optional, T))
    }

    /// Reads the single value of the first row.
    pub async fn scalar<T>(&self, sql: &Sql) -> StoreResult<T>
    where
        (T,): Decode,
    {
        Ok(run!(self.reader(), sql, fetch_one, (T,)).0)
    }

    /// Runs one statement on the writer, outside any transaction; returns rows changed.
    pub async fn execute(&self, sql: &Sql) -> StoreResult<u64> {
        Ok(execute!(self.writer(), sql))
    }

    /// Reads through the writer (statements with side effects and a result).
    pub async fn write_all<T: Decode>(&self, sql: &Sql) -> StoreResult<Vec<T>> {
        Ok(run!(self.writer(), sql, fetch_all, T))
    }

    /// Starts a transaction on the writer. SQLite: as a writer from its first statement
    /// (`BEGIN IMMEDIATE`): a transaction that began with a read could not become a writer
    /// once another process (a second instance on the same file) had written, and failed
    /// with SQLITE_BUSY_SNAPSHOT; now it waits for the lock (the busy timeout) instead.
    pub async fn begin(&self) -> StoreResult<Tx> {
        Ok(match self {
            Db::Sqlite { write, .. } => Tx::Sqlite(write.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite { write, read, .. } => {
                read.close().await;
                write.close().await;
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

/// A transaction; dropped without [`Tx::commit`], it rolls back.
pub(crate) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    pub fn dialect(&self) -> Dialect {
        match self {
            Tx::Sqlite(_) => Dialect::Sqlite,
            Tx::Postgres(_) => Dialect::Postgres,
        }
    }

    fn target(&mut self) -> Target<&mut sqlx::SqliteConnection, &mut sqlx::PgConnection> {
        match self {
            Tx::Sqlite(tx) => Target::Sqlite(&mut **tx),
            Tx::Postgres(tx) => Target::Postgres(&mut **tx),
        }
    }

    pub async fn all<T: Decode>(&mut self, sql: &Sql) -> StoreResult<Vec<T>> {
        Ok(run!(self.target(), sql, fetch_all, T))
    }

    pub async fn optional<T: Decode>(&mut self, sql: &Sql) -> StoreResult<Option<T>> {
        Ok(run!(self.target(), sql, fetch_optional, T))
    }

    pub async fn scalar<T>(&mut self, sql: &Sql) -> StoreResult<T>
    where
        (T,): Decode,
    {
        Ok(run!(self.target(), sql, fetch_one, (T,)).0)
    }

    pub async fn execute(&mut self, sql: &Sql) -> StoreResult<u64> {
        Ok(execute!(self.target(), sql))
    }

    pub async fn commit(self) -> StoreResult<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}
