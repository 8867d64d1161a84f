//! The `redline` binary: serve the dashboard and API, load demo data, run the benchmark.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use leptos::config::LeptosOptions;
use redline::server::{bench, demo, router, state::AppState, store::Store};

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
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let result = match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Demo(args) => run_demo(args).await,
        Command::Bench(args) => bench::run(args).await,
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
    let store = Store::open(&url).await?;
    tracing::info!(database = %url, "database ready");
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
    axum::serve(listener, app.into_make_service())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    store.close().await;
    tracing::info!("stopped cleanly");
    Ok(())
}

async fn run_demo(args: DemoArgs) -> Result<(), AnyError> {
    let store = Store::open(&args.database).await?;
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
