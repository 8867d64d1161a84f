//! The `redline` binary: serve the dashboard and API, load demo data, run the benchmark.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use leptos::config::LeptosOptions;
use redline::model::auth::{Role, Scope};
use redline::server::auth::manage::{self, Actor};
use redline::server::auth::{ensure_admin, Auth, AuthConfig};
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
    /// Manage users: add, set-role, disable, enable, reset, list.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API keys: create, list, revoke.
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; prints a generated password once unless --password-stdin is given.
    Add {
        name: String,
        /// reviewer, lead, engineer or admin.
        #[arg(long)]
        role: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        target: TargetDatabase,
    },
    /// Change a user's role.
    SetRole {
        name: String,
        role: String,
        #[command(flatten)]
        target: TargetDatabase,
    },
    /// Disable a user: their sessions end and their API keys stop working at once.
    Disable {
        name: String,
        #[command(flatten)]
        target: TargetDatabase,
    },
    /// Enable a disabled user again.
    Enable {
        name: String,
        #[command(flatten)]
        target: TargetDatabase,
    },
    /// Set a new password (generated and printed once, or from --password-stdin); ends the
    /// user's sessions.
    Reset {
        name: String,
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        target: TargetDatabase,
    },
    /// List users.
    List {
        #[command(flatten)]
        target: TargetDatabase,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Create an API key and print it once (only its hash is stored).
    Create {
        /// Scopes, comma-separated: ingest, read, review, export.
        #[arg(long)]
        scope: String,
        /// What the key is for (e.g. the service that uses it).
        #[arg(long, default_value = "service")]
        name: String,
        /// The engineer or admin who owns the key.
        #[arg(long, default_value = "admin")]
        user: String,
        #[command(flatten)]
        target: TargetDatabase,
    },
    /// List keys (never their secrets).
    List {
        #[command(flatten)]
        target: TargetDatabase,
    },
    /// Revoke a key by its id (see `key list`); it stops working at once.
    Revoke {
        id: i64,
        #[command(flatten)]
        target: TargetDatabase,
    },
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
        target: TargetDatabase,
    },
    /// List the newest jobs.
    List {
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: i64,
        #[command(flatten)]
        target: TargetDatabase,
    },
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
        Command::User(command) => run_user_command(command).await,
        Command::Key(command) => run_key_command(command).await,
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
    first_admin(&store).await?;

    let mut leptos_options = match leptos::config::get_configuration(None) {
        Ok(conf) => conf.leptos_options,
        Err(_) => LeptosOptions::builder().output_name("redline").build(),
    };
    if leptos_options.output_name.is_empty() {
        // A server binary built by plain `cargo build` (not cargo-leptos) knows no output
        // name; the site's files are still called redline.*.
        leptos_options.output_name = "redline".into();
    }
    leptos_options.site_addr = args.addr;
    let state = AppState {
        leptos_options,
        store: store.clone(),
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
        tokio::spawn(worker::run(
            store.clone(),
            name,
            Duration::from_millis(args.job_poll_ms.max(10)),
            stopped,
        ))
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

fn read_password(from_stdin: bool) -> Result<Option<String>, AnyError> {
    if !from_stdin {
        return Ok(None);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    Ok(Some(password))
}

fn parse_role(text: &str) -> Result<Role, AnyError> {
    Role::parse(text).ok_or_else(|| {
        format!(
            "unknown role \"{text}\" (roles: {})",
            Role::ALL.map(Role::as_str).join(", ")
        )
        .into()
    })
}

async fn run_user_command(command: UserCommand) -> Result<(), AnyError> {
    let actor = Actor::cli();
    match command {
        UserCommand::Add {
            name,
            role,
            password_stdin,
            target,
        } => {
            let role = parse_role(&role)?;
            let password = read_password(password_stdin)?;
            let store = target.open().await?;
            let generated = manage::add_user(&store, &actor, &name, role, password).await;
            store.close().await;
            match generated? {
                Some(password) => println!("added {name} ({role}); password: {password}"),
                None => println!("added {name} ({role})"),
            }
        }
        UserCommand::SetRole { name, role, target } => {
            let role = parse_role(&role)?;
            let store = target.open().await?;
            let done = manage::set_role(&store, &actor, &name, role).await;
            store.close().await;
            done?;
            println!("{name} is now {role}");
        }
        UserCommand::Disable { name, target } => {
            let store = target.open().await?;
            let done = manage::set_disabled(&store, &actor, &name, true).await;
            store.close().await;
            done?;
            println!("{name} is disabled; their sessions and API keys stopped working");
        }
        UserCommand::Enable { name, target } => {
            let store = target.open().await?;
            let done = manage::set_disabled(&store, &actor, &name, false).await;
            store.close().await;
            done?;
            println!("{name} is enabled");
        }
        UserCommand::Reset {
            name,
            password_stdin,
            target,
        } => {
            let password = read_password(password_stdin)?;
            let store = target.open().await?;
            let generated = manage::reset_password(&store, &actor, &name, password).await;
            store.close().await;
            match generated? {
                Some(password) => println!("new password for {name}: {password}"),
                None => println!("password of {name} changed"),
            }
        }
        UserCommand::List { target } => {
            let store = target.open().await?;
            let users = store.list_users().await;
            store.close().await;
            for user in users? {
                println!(
                    "{:<24} {:<9} {}",
                    user.name,
                    user.role,
                    if user.disabled { "disabled" } else { "" }
                );
            }
        }
    }
    Ok(())
}

async fn run_key_command(command: KeyCommand) -> Result<(), AnyError> {
    let actor = Actor::cli();
    match command {
        KeyCommand::Create {
            scope,
            name,
            user,
            target,
        } => {
            let scopes = Scope::parse_list(&scope)?;
            let store = target.open().await?;
            let created = manage::create_key(&store, &actor, &user, &name, &scopes).await;
            store.close().await;
            let (secret, key) = created?;
            eprintln!(
                "created key {} (\"{}\" of {}, scopes {}); it is shown only now:",
                key.id,
                key.name,
                key.owner,
                Scope::join(&key.scopes)
            );
            println!("{secret}");
        }
        KeyCommand::List { target } => {
            let store = target.open().await?;
            let keys = store.list_keys(None).await;
            store.close().await;
            for key in keys? {
                println!(
                    "{:>4}  {}…  {:<20} {:<12} {:<22} {}",
                    key.id,
                    key.prefix,
                    key.name,
                    key.owner,
                    Scope::join(&key.scopes),
                    if key.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "live"
                    }
                );
            }
        }
        KeyCommand::Revoke { id, target } => {
            let store = target.open().await?;
            let done = manage::revoke_key(&store, &actor, id, None).await;
            store.close().await;
            done?;
            println!("key {id} revoked");
        }
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
