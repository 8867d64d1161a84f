//! Connecting to PostgreSQL: one pool for every instance's reads and writes, statement timeout
//! and TLS from the options, migrations from `migrations/postgres` (sqlx holds an advisory lock
//! while migrating, so instances starting together migrate once).

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};

use super::{redact, Db, StoreError, StoreOptions, StoreResult};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub(super) async fn connect(url: &str, options: &StoreOptions) -> StoreResult<Db> {
    let bad_url = |e: String| StoreError::Url(format!("\"{}\": {e}", redact(url)));
    let mut connect = PgConnectOptions::from_str(url)
        .map_err(|e| bad_url(e.to_string()))?
        .application_name("redline")
        .options([(
            "statement_timeout",
            options.statement_timeout.as_millis().to_string(),
        )]);
    if let Some(mode) = &options.tls_mode {
        let mode = PgSslMode::from_str(mode).map_err(|_| {
            bad_url(format!(
                "TLS mode \"{mode}\" is not one of disable, allow, prefer, require, verify-ca, verify-full"
            ))
        })?;
        connect = connect.ssl_mode(mode);
    }
    if let Some(cert) = &options.tls_root_cert {
        connect = connect.ssl_root_cert(cert);
    }
    let pool = PgPoolOptions::new()
        .max_connections(options.pool_size.unwrap_or(10).max(1))
        .acquire_timeout(options.acquire_timeout)
        // A connection broken by a database restart is noticed and replaced before use.
        .test_before_acquire(true)
        .connect_with(connect)
        .await?;
    MIGRATOR.run(&pool).await?;
    Ok(Db::Postgres(pool))
}

/// Drops the schema `name` with everything in it, and creates it empty again when `create`
/// (the benchmark's fresh databases; built with the `bench` feature only).
#[cfg(feature = "bench")]
pub async fn reset_schema(url: &str, name: &str, create: bool) -> StoreResult<()> {
    use sqlx::Connection;
    let mut conn = sqlx::postgres::PgConnection::connect(url).await?;
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
        .execute(&mut conn)
        .await?;
    if create {
        sqlx::query(&format!("CREATE SCHEMA {name}"))
            .execute(&mut conn)
            .await?;
    }
    conn.close().await?;
    Ok(())
}

/// The server's version and shared_buffers, for benchmark reports.
#[cfg(feature = "bench")]
pub async fn describe_server(url: &str) -> StoreResult<(String, String)> {
    use sqlx::Connection;
    let mut conn = sqlx::postgres::PgConnection::connect(url).await?;
    let described = sqlx::query_as(
        "SELECT current_setting('server_version'), current_setting('shared_buffers')",
    )
    .fetch_one(&mut conn)
    .await?;
    conn.close().await?;
    Ok(described)
}
