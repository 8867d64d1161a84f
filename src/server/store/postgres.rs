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
