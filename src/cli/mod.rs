//! The command line: argument definitions and the commands behind them (`serve`, `demo`,
//! `user`, `key`, `operation`, `export`, `job` and, built with the `bench` feature, `bench`). Commands that work on a
//! database open it, act and close it through `TargetDatabase::act`.

mod accounts;
mod export;
mod jobs;
mod operations;
mod rollups;
mod serve;

use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use crate::store::{Store, StoreOptions};

type AnyError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Parser)]
#[command(
    name = "redline",
    version,
    about = "Review and correct the outputs of production LLM calls"
)]
struct Cli {
    /// Log format: readable text, or one JSON object per line.
    #[arg(
        long,
        env = "REDLINE_LOG_FORMAT",
        global = true,
        default_value = "text"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the dashboard and the /api/v1 JSON API (migrating the database first).
    Serve(serve::ServeArgs),
    /// Fill a database with a realistic synthetic workload of LLM calls and reviews.
    Demo(serve::DemoArgs),
    /// Measure ingest throughput, feed latency, page render time, memory and disk use.
    #[cfg(feature = "bench")]
    Bench(crate::bench::BenchArgs),
    /// Build a dataset export into a folder, with a progress bar.
    Export(export::ExportArgs),
    /// Queue a background job, or list jobs.
    #[command(subcommand)]
    Job(jobs::JobCommand),
    /// Manage users: add, set-role, disable, enable, reset, list.
    #[command(subcommand)]
    User(accounts::UserCommand),
    /// Manage API keys: create, list, revoke.
    #[command(subcommand)]
    Key(accounts::KeyCommand),
    /// Operation definitions as code: list, show, apply.
    #[command(subcommand)]
    Operation(operations::OperationCommand),
    /// Recompute the rollups trends and routing read: rebuild.
    #[command(subcommand)]
    Rollups(rollups::RollupCommand),
}

/// Parses the command line, runs the command and says how it ended.
pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let result = match cli.command {
        Command::Serve(args) => serve::serve(args).await,
        Command::Demo(args) => serve::run_demo(args).await,
        #[cfg(feature = "bench")]
        Command::Bench(args) => crate::bench::run(args).await,
        Command::Export(args) => export::run(args).await,
        Command::Job(command) => jobs::run(command).await,
        Command::User(command) => accounts::run_user_command(command).await,
        Command::Key(command) => accounts::run_key_command(command).await,
        Command::Operation(command) => operations::run(command).await,
        Command::Rollups(command) => rollups::run(command).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("REDLINE_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,leptos_axum=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

/// How to connect to the database (URL aside); shared by every command.
#[derive(clap::Args, Clone)]
pub struct DbArgs {
    /// Connections: PostgreSQL's pool size [default: 10]; SQLite's readers [default: 4].
    #[arg(long, env = "REDLINE_DB_POOL_SIZE")]
    db_pool_size: Option<u32>,
    /// PostgreSQL statement timeout in milliseconds (SQLite: the wait for the write lock).
    #[arg(
        long,
        env = "REDLINE_DB_STATEMENT_TIMEOUT_MS",
        default_value_t = 30_000
    )]
    db_statement_timeout_ms: u64,
    /// How long a request waits for a connection, or for a restarting database, before it is
    /// answered 503, in milliseconds.
    #[arg(long, env = "REDLINE_DB_ACQUIRE_TIMEOUT_MS", default_value_t = 5_000)]
    db_acquire_timeout_ms: u64,
    /// PostgreSQL TLS: disable, prefer, require, verify-ca or verify-full [default: the URL's
    /// sslmode, else prefer].
    #[arg(long, env = "REDLINE_DB_TLS_MODE")]
    db_tls_mode: Option<String>,
    /// PostgreSQL TLS: CA certificate (PEM) for verify-ca and verify-full.
    #[arg(long, env = "REDLINE_DB_TLS_CA")]
    db_tls_ca: Option<PathBuf>,
}

impl DbArgs {
    pub fn options(&self) -> StoreOptions {
        StoreOptions {
            pool_size: self.db_pool_size,
            statement_timeout: Duration::from_millis(self.db_statement_timeout_ms.max(1)),
            acquire_timeout: Duration::from_millis(self.db_acquire_timeout_ms.max(1)),
            tls_mode: self.db_tls_mode.clone(),
            tls_root_cert: self.db_tls_ca.clone(),
        }
    }
}

/// The database a job, user or key command works on.
#[derive(clap::Args)]
struct TargetDatabase {
    /// Database URL.
    #[arg(
        long,
        env = "REDLINE_DATABASE_URL",
        default_value = "sqlite://redline.db"
    )]
    database: String,
    #[command(flatten)]
    db: DbArgs,
}

impl TargetDatabase {
    async fn open(&self) -> Result<Store, AnyError> {
        Ok(Store::open_with(&self.database, &self.db.options()).await?)
    }

    /// Opens the database, runs `act` on it and closes it, whatever `act` returned.
    async fn act<T, F, Fut>(&self, act: F) -> Result<T, AnyError>
    where
        F: FnOnce(Store) -> Fut,
        Fut: Future<Output = Result<T, AnyError>>,
    {
        let store = self.open().await?;
        let result = act(store.clone()).await;
        store.close().await;
        result
    }
}
