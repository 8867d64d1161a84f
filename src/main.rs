//! The `redline` binary: serve the dashboard and API, load demo data, run the benchmark.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use leptos::config::LeptosOptions;
use redline::server::store::{redact, Store, StoreOptions};
use redline::server::{bench, demo, router, state::AppState, worker};

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
    Serve(ServeArgs),
    /// Fill a database with a realistic synthetic workload of LLM calls and reviews.
    Demo(DemoArgs),
    /// Measure ingest throughput, feed latency, page render time, memory and disk use.
    Bench(bench::BenchArgs),
    /// Queue a background job, or list jobs.
    #[command(subcommand)]
    Job(JobCommand),
}

/// How to connect to the database (URL aside); shared by every command.
#[derive(clap::Args, Clone)]
struct DbArgs {
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
    fn options(&self) -> StoreOptions {
        StoreOptions {
            pool_size: self.db_pool_size,
            statement_timeout: Duration::from_millis(self.db_statement_timeout_ms.max(1)),
            acquire_timeout: Duration::from_millis(self.db_acquire_timeout_ms.max(1)),
            tls_mode: self.db_tls_mode.clone(),
            tls_root_cert: self.db_tls_ca.clone(),
        }
    }
}

#[derive(Subcommand)]
enum JobCommand {
    /// Queue a job; a running `redline serve` (any instance) runs it once.
    Add {
        /// Kind of job: noop (waits payload.sleep_ms; checks the queue runs) or optimize
        /// (refreshes the planner's statistics).
        kind: String,
        /// JSON payload.
        #[arg(long, default_value = "{}")]
        payload: String,
        #[command(flatten)]
        target: JobDatabase,
    },
    /// List the newest jobs.
    List {
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: i64,
        #[command(flatten)]
        target: JobDatabase,
    },
}

/// The database a job command works on.
#[derive(clap::Args)]
struct JobDatabase {
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

impl JobDatabase {
    async fn open(&self) -> Result<Store, AnyError> {
        Ok(Store::open_with(&self.database, &self.db.options()).await?)
    }
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "REDLINE_ADDR", default_value = "127.0.0.1:3000")]
    addr: SocketAddr,
    /// Database URL [default: sqlite://redline.db, or sqlite://redline-demo.db with --demo].
    #[arg(long, env = "REDLINE_DATABASE_URL")]
    database: Option<String>,
    /// Serve the demo database, filling it with sample traffic if it has no calls yet.
    #[arg(long)]
    demo: bool,
    /// Calls the demo database is filled with on its first start.
    #[arg(long, default_value_t = 100_000)]
    demo_calls: usize,
    /// This instance's name in the job queue [default: host:port:pid].
    #[arg(long, env = "REDLINE_INSTANCE")]
    instance: Option<String>,
    /// How often the background worker looks for due jobs, in milliseconds.
    #[arg(long, env = "REDLINE_JOB_POLL_MS", default_value_t = 1_000)]
    job_poll_ms: u64,
    /// Run no background worker in this instance (others on the same database still do).
    #[arg(long)]
    no_worker: bool,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(clap::Args)]
struct DemoArgs {
    /// Number of calls to generate.
    #[arg(long, default_value_t = 100_000)]
    calls: usize,
    /// Database URL.
    #[arg(
        long,
        env = "REDLINE_DATABASE_URL",
        default_value = "sqlite://redline-demo.db"
    )]
    database: String,
    /// Seed of the generator: the same seed gives the same calls.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    #[command(flatten)]
    db: DbArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let result = match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Demo(args) => run_demo(args).await,
        Command::Bench(args) => bench::run(args).await,
        Command::Job(command) => run_job_command(command).await,
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

type AnyError = Box<dyn std::error::Error + Send + Sync>;

async fn serve(args: ServeArgs) -> Result<(), AnyError> {
    let url = args.database.clone().unwrap_or_else(|| {
        if args.demo {
            "sqlite://redline-demo.db".into()
        } else {
            "sqlite://redline.db".into()
        }
    });
    let store = Store::open_with(&url, &args.db.options()).await?;
    tracing::info!(database = %redact(&url), "database ready");
    if args.demo && store.is_empty().await? {
        demo::fill(&store, &demo::DemoOptions::new(args.demo_calls, 7)).await?;
    }

    let mut leptos_options = match leptos::config::get_configuration(None) {
        Ok(conf) => conf.leptos_options,
        Err(_) => LeptosOptions::builder().output_name("redline").build(),
    };
    leptos_options.site_addr = args.addr;
    let state = AppState {
        leptos_options,
        store: store.clone(),
    };
    let app = router::build_router(state);
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    tracing::info!("Redline is serving on http://{}", args.addr);

    let (stop_worker, stopped) = tokio::sync::watch::channel(false);
    let worker = (!args.no_worker).then(|| {
        let name = args.instance.clone().unwrap_or_else(|| {
            format!("{}:{}:{}", hostname(), args.addr.port(), std::process::id())
        });
        tokio::spawn(worker::run(
            store.clone(),
            name,
            Duration::from_millis(args.job_poll_ms.max(10)),
            stopped,
        ))
    });
    axum::serve(listener, app.into_make_service())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    let _ = stop_worker.send(true);
    if let Some(worker) = worker {
        // A job in progress finishes (or its lease lets another instance take it later).
        let _ = tokio::time::timeout(router::SHUTDOWN_GRACE, worker).await;
    }
    store.close().await;
    tracing::info!("stopped cleanly");
    Ok(())
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|name| name.trim().to_string())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

async fn run_job_command(command: JobCommand) -> Result<(), AnyError> {
    match command {
        JobCommand::Add {
            kind,
            payload,
            target,
        } => {
            if !worker::KINDS.contains(&kind.as_str()) {
                return Err(format!(
                    "unknown job kind \"{kind}\" (known: {})",
                    worker::KINDS.join(", ")
                )
                .into());
            }
            serde_json::from_str::<serde_json::Value>(&payload)
                .map_err(|e| format!("--payload is not JSON: {e}"))?;
            let store = target.open().await?;
            let id = store
                .enqueue_job(&kind, &payload, chrono::Utc::now())
                .await?;
            println!("queued job {id} ({kind})");
            store.close().await;
        }
        JobCommand::List { limit, target } => {
            let store = target.open().await?;
            for job in store.list_jobs(limit).await? {
                println!(
                    "{:>6}  {:<10} {:<8?} attempts={} by={} {}",
                    job.id,
                    job.kind,
                    job.state,
                    job.attempts,
                    job.claimed_by.as_deref().unwrap_or("-"),
                    job.error.as_deref().unwrap_or("")
                );
            }
            store.close().await;
        }
    }
    Ok(())
}

async fn run_demo(args: DemoArgs) -> Result<(), AnyError> {
    let store = Store::open_with(&args.database, &args.db.options()).await?;
    demo::fill(&store, &demo::DemoOptions::new(args.calls, args.seed)).await?;
    store.close().await;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM; axum then stops accepting and lets in-flight requests finish.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
    tokio::spawn(async {
        tokio::time::sleep(router::SHUTDOWN_GRACE).await;
        tracing::warn!("in-flight requests did not finish in time; exiting");
        std::process::exit(1);
    });
}
