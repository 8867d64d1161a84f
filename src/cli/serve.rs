//! `redline serve` (the dashboard, the API and the job worker, until SIGINT or SIGTERM) and
//! `redline demo` (fill a database with the demo workload).

use std::net::SocketAddr;
use std::time::Duration;

use leptos::config::LeptosOptions;

use super::{AnyError, DbArgs};
use crate::auth::{ensure_admin, Auth, AuthConfig};
use crate::exports::ExportFiles;
use crate::http::router;
use crate::http::state::AppState;
use crate::jobs::{demo, worker};
use crate::store::{redact, Store};

#[derive(clap::Args)]
pub struct ServeArgs {
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
    /// Run no background worker in this instance (others on the same database still do):
    /// no jobs and no alert checks.
    #[arg(long)]
    no_worker: bool,
    /// Hosts (as written in webhook URLs, comma-separated) that alert webhooks may call even
    /// though they resolve to loopback, private or link-local addresses. By default a
    /// webhook may only call public addresses, so a lead cannot make the server call its
    /// own network.
    #[arg(long, env = "REDLINE_WEBHOOK_ALLOW_HOSTS", value_delimiter = ',')]
    webhook_allow_hosts: Vec<String>,
    /// Folder the dataset exports are written to and downloaded from [default: beside the
    /// SQLite file, `<name>-exports/`; `redline-exports/` in the working directory for
    /// PostgreSQL]. Every instance that serves downloads must see the same folder.
    #[arg(long, env = "REDLINE_EXPORT_DIR")]
    export_dir: Option<std::path::PathBuf>,
    /// Keep dataset exports in an S3-compatible bucket, `s3://bucket/prefix`, so that any
    /// instance serves any download (the export folder then only stages files before the
    /// upload). Credentials, region and endpoint come from AWS_ACCESS_KEY_ID,
    /// AWS_SECRET_ACCESS_KEY, AWS_REGION and AWS_ENDPOINT (AWS_ALLOW_HTTP=true for plain http).
    #[arg(long, env = "REDLINE_EXPORT_STORE")]
    export_store: Option<String>,
    /// Write dataset exports at most this many rows a second [default: no limit]: on a small
    /// server shared with reviewers, a million-call export then takes longer instead of a
    /// core and the database's attention.
    #[arg(long, env = "REDLINE_EXPORT_MAX_ROWS_PER_SECOND")]
    export_max_rows_per_second: Option<u32>,
    /// Sign-in sessions end after this many idle minutes.
    #[arg(long, env = "REDLINE_SESSION_IDLE_MINUTES", default_value_t = 720)]
    session_idle_minutes: u64,
    /// Sign-in sessions end this many hours after sign-in, used or not.
    #[arg(long, env = "REDLINE_SESSION_MAX_HOURS", default_value_t = 168)]
    session_max_hours: u64,
    /// Always mark the session cookie Secure (it is already when a proxy says
    /// X-Forwarded-Proto: https).
    #[arg(long, env = "REDLINE_SECURE_COOKIES")]
    secure_cookies: bool,
    /// Reverse proxies in front of Redline (IP addresses, comma-separated): their
    /// X-Forwarded-For names the client (for sign-in limits and the audit log) and their
    /// X-Forwarded-Proto says whether it came over HTTPS. Without this, every user behind a
    /// proxy shares the proxy's address, and one guesser makes them all wait.
    #[arg(long, env = "REDLINE_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxy: Vec<std::net::IpAddr>,
    /// Requests handled at once; more are answered 503 at once.
    #[arg(long, env = "REDLINE_MAX_IN_FLIGHT", default_value_t = 256)]
    max_in_flight: usize,
    /// A request not answered in this many seconds is stopped with 408.
    #[arg(long, env = "REDLINE_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    request_timeout_secs: u64,
    /// A request body not received in this many seconds is refused with 408 (while it
    /// arrives it holds no request slot).
    #[arg(long, env = "REDLINE_BODY_TIMEOUT_SECS", default_value_t = 30)]
    body_timeout_secs: u64,
    /// Folder of the compiled site (pkg/redline.js, .wasm, .css) [default: target/site in
    /// the working directory, or beside the binary: target/release/../site].
    #[arg(long, env = "REDLINE_SITE_ROOT")]
    site_root: Option<std::path::PathBuf>,
    #[command(flatten)]
    db: DbArgs,
}

/// The files a site folder must hold for pages to load and hydrate.
const SITE_FILES: [&str; 3] = ["pkg/redline.js", "pkg/redline.wasm", "pkg/redline.css"];

/// The compiled site's folder: the one named, or the first default that holds the site.
/// Missing files are an error at start, naming what is missing and how to build it.
fn find_site(named: Option<&std::path::Path>, configured: &str) -> Result<String, AnyError> {
    use std::path::PathBuf;
    let holds_site = |dir: &PathBuf| SITE_FILES.iter().all(|f| dir.join(f).is_file());
    let candidates: Vec<PathBuf> = match named {
        Some(dir) => vec![dir.to_path_buf()],
        None => {
            let mut dirs = vec![PathBuf::from(configured)];
            if let Some(bin_dir) = std::env::current_exe()
                .ok()
                .and_then(|e| e.parent().map(PathBuf::from))
            {
                dirs.push(bin_dir.join("../site"));
                dirs.push(bin_dir.join("site"));
            }
            dirs
        }
    };
    if let Some(found) = candidates.iter().find(|dir| holds_site(dir)) {
        return Ok(found.to_string_lossy().into_owned());
    }
    let looked: Vec<String> = candidates
        .iter()
        .map(|d| format!("{}", d.display()))
        .collect();
    Err(format!(
        "the compiled site ({}) is not in {}: build it with ./scripts/build.sh, or name its folder with --site-root (REDLINE_SITE_ROOT)",
        SITE_FILES.join(", "),
        looked.join(" or ")
    )
    .into())
}

#[derive(clap::Args)]
pub struct DemoArgs {
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
    /// Days the calls span, ending now (the benchmark's trends use 365).
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(i64).range(1..=3650))]
    days: i64,
    /// Model versions serving traffic over those days, at most 12 (the benchmark uses 12).
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u64).range(1..=12))]
    versions: u64,
    /// Share of calls that get a review (the benchmark reviews 0.2).
    #[arg(long, default_value_t = 0.08)]
    reviewed_share: f64,
    #[command(flatten)]
    db: DbArgs,
}

pub async fn serve(args: ServeArgs) -> Result<(), AnyError> {
    let url = args.database.clone().unwrap_or_else(|| {
        if args.demo {
            "sqlite://redline-demo.db".into()
        } else {
            "sqlite://redline.db".into()
        }
    });
    let mut leptos_options = match leptos::config::get_configuration(None) {
        Ok(conf) => conf.leptos_options,
        Err(_) => LeptosOptions::builder().output_name("redline").build(),
    };
    // Before the database: a server without its site would answer pages that never load.
    let site_root = find_site(args.site_root.as_deref(), &leptos_options.site_root)?;
    tracing::info!(site = %site_root, "site files found");
    leptos_options.site_root = site_root.into();
    let store = Store::open_with(&url, &args.db.options()).await?;
    tracing::info!(database = %redact(&url), "database ready");
    if args.demo && store.is_empty().await? {
        demo::fill(&store, &demo::DemoOptions::new(args.demo_calls, 7)).await?;
    }
    first_admin(&store).await?;

    if leptos_options.output_name.is_empty() {
        // A server binary built by plain `cargo build` (not cargo-leptos) knows no output
        // name; the site's files are still called redline.*.
        leptos_options.output_name = "redline".into();
    }
    leptos_options.site_addr = args.addr;
    let export_folder = args
        .export_dir
        .clone()
        .unwrap_or_else(|| default_export_dir(&url));
    let export_files = match &args.export_store {
        Some(bucket) => ExportFiles::in_bucket(bucket, export_folder, &[])?,
        None => ExportFiles::new(export_folder),
    };
    tracing::info!(store = %export_files.describe(), "exports kept in");
    let state = AppState {
        leptos_options,
        store: store.clone(),
        exports: export_files.clone(),
        auth: Auth::new(AuthConfig {
            idle: Duration::from_secs(args.session_idle_minutes.max(1) * 60),
            absolute: Duration::from_secs(args.session_max_hours.max(1) * 3600),
            secure_cookies: args.secure_cookies,
            trusted_proxies: args.trusted_proxy.clone(),
            ..AuthConfig::default()
        }),
    };
    let limits = router::Limits {
        max_in_flight: args.max_in_flight.max(1),
        request_timeout: Duration::from_secs(args.request_timeout_secs.max(1)),
        body_timeout: Duration::from_secs(args.body_timeout_secs.max(1)),
        ..router::Limits::default()
    };
    let app = router::build_router_with(state, &limits);
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    tracing::info!("Redline is serving on http://{}", args.addr);

    let (stop_worker, stopped) = tokio::sync::watch::channel(false);
    let worker = (!args.no_worker).then(|| {
        let name = args.instance.clone().unwrap_or_else(|| {
            format!("{}:{}:{}", hostname(), args.addr.port(), std::process::id())
        });
        let settings = crate::alerts::AlertSettings {
            allow_hosts: crate::alerts::webhook::AllowHosts::new(args.webhook_allow_hosts.clone()),
        };
        let alerts = tokio::spawn(crate::alerts::run(
            store.clone(),
            settings,
            name.clone(),
            stopped.clone(),
        ));
        let jobs = tokio::spawn(worker::run(
            store.clone(),
            name,
            export_files,
            args.export_max_rows_per_second,
            Duration::from_millis(args.job_poll_ms.max(10)),
            stopped,
        ));
        async move {
            let _ = tokio::join!(jobs, alerts);
        }
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
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

/// Beside a SQLite file `data/redline.db`: `data/redline-exports`; for PostgreSQL,
/// `redline-exports` in the working directory.
fn default_export_dir(url: &str) -> std::path::PathBuf {
    let file = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or(rest))
        .filter(|path| !path.is_empty() && *path != ":memory:");
    match file {
        Some(path) => {
            let path = std::path::Path::new(path);
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("redline");
            path.with_file_name(format!("{stem}-exports"))
        }
        None => std::path::PathBuf::from("redline-exports"),
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|name| name.trim().to_string())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

pub async fn run_demo(args: DemoArgs) -> Result<(), AnyError> {
    if !(0.0..=1.0).contains(&args.reviewed_share) {
        return Err("--reviewed-share is a share of calls, from 0 to 1".into());
    }
    let store = Store::open_with(&args.database, &args.db.options()).await?;
    let mut options = demo::DemoOptions::new(args.calls, args.seed);
    options.days = args.days;
    options.versions = args.versions as usize;
    options.reviewed_share = args.reviewed_share;
    demo::fill(&store, &options).await?;
    first_admin(&store).await?;
    store.close().await;
    println!(
        "Services send calls with an API key of the ingest scope. Create one (printed once):\n  redline key create --user admin --name my-service --scope ingest --database {url}\nthen: curl -H 'Authorization: Bearer rl_…' -H 'content-type: application/json' -d @calls.json http://127.0.0.1:3000/api/v1/calls",
        url = redact(&args.database)
    );
    Ok(())
}

/// On an empty database, creates the admin (password from REDLINE_ADMIN_PASSWORD, or
/// generated and logged once).
async fn first_admin(store: &Store) -> Result<(), AnyError> {
    let password = std::env::var("REDLINE_ADMIN_PASSWORD").ok();
    if let Some(generated) = ensure_admin(store, password.as_deref()).await? {
        // On the terminal only, never in the log (which may be shipped elsewhere).
        tracing::info!("created the first user \"admin\"; its password is on the terminal");
        eprintln!(
            "\n  First user created: name \"admin\", password \"{generated}\"\n  Shown once: sign in with it, and Redline asks you to choose your own at once.\n"
        );
    }
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
