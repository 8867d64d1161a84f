//! Shared by the store, HTTP and instance tests: a fresh database per test on the backend
//! under test, and builders of ingest items.
//!
//! `REDLINE_TEST_BACKEND` picks the backend: `sqlite` (default) or `postgres`. PostgreSQL is
//! reached at `REDLINE_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`);
//! each test gets a schema of its own there. When PostgreSQL does not answer, the test fails
//! and says so: it never skips.
#![allow(dead_code)]

use std::path::PathBuf;

use chrono::{DateTime, Duration, Utc};
use redline::model::ingest::{validate_call, NewCall};
use redline::store::{Store, StoreOptions};
use serde_json::{json, Value};
use sqlx::Connection;

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backend this run tests.
pub fn backend() -> Backend {
    match std::env::var("REDLINE_TEST_BACKEND").as_deref() {
        Ok("sqlite") | Err(_) => Backend::Sqlite,
        Ok("postgres") => Backend::Postgres,
        Ok(other) => panic!("REDLINE_TEST_BACKEND={other}: use sqlite or postgres"),
    }
}

pub fn postgres_url() -> String {
    std::env::var("REDLINE_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into())
}

/// A fresh, migrated database; removed when dropped.
pub struct TestDb {
    pub url: String,
    pub store: Store,
    cleanup: Cleanup,
}

enum Cleanup {
    File(PathBuf),
    Schema(String),
}

impl TestDb {
    pub async fn new() -> TestDb {
        TestDb::on(backend(), StoreOptions::default()).await
    }

    pub async fn on(backend: Backend, options: StoreOptions) -> TestDb {
        let (url, cleanup) = match backend {
            Backend::Sqlite => {
                let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("test-dbs");
                std::fs::create_dir_all(&dir).expect("create the test database folder");
                let path = dir.join(format!("{}.db", uuid::Uuid::now_v7().simple()));
                (format!("sqlite://{}", path.display()), Cleanup::File(path))
            }
            Backend::Postgres => {
                let schema = create_schema().await;
                let base = postgres_url();
                let separator = if base.contains('?') { '&' } else { '?' };
                (
                    format!("{base}{separator}options[search_path]={schema}"),
                    Cleanup::Schema(schema),
                )
            }
        };
        let store = Store::open_with(&url, &options)
            .await
            .unwrap_or_else(|e| panic!("cannot open the test database {url}: {e}"));
        TestDb {
            url,
            store,
            cleanup,
        }
    }
}

/// Connects to the test PostgreSQL server, failing the test loudly when it does not answer.
pub async fn postgres_connection() -> sqlx::PgConnection {
    let url = postgres_url();
    match sqlx::PgConnection::connect(&url).await {
        Ok(conn) => conn,
        Err(e) => panic!(
            "PostgreSQL does not answer at {url}: {e}\n\
             The PostgreSQL tests need a server: start one (Debian: apt-get install postgresql, \
             then pg_ctlcluster 15 main start) or point REDLINE_TEST_POSTGRES_URL at one."
        ),
    }
}

/// Creates an empty schema named `rl_test_<unix seconds>_<random>`, first dropping those an
/// earlier run left behind more than an hour ago.
async fn create_schema() -> String {
    let mut conn = postgres_connection().await;
    let now = Utc::now().timestamp();
    let old: Vec<(String,)> =
        sqlx::query_as("SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'rl\\_test\\_%'")
            .fetch_all(&mut conn)
            .await
            .expect("list test schemas");
    for (name,) in old {
        let born: i64 = name
            .split('_')
            .nth(2)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        if born < now - 3600 {
            let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                .execute(&mut conn)
                .await;
        }
    }
    let random = uuid::Uuid::now_v7().simple().to_string();
    let schema = format!("rl_test_{now}_{}", &random[20..]);
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut conn)
        .await
        .expect("create a test schema");
    schema
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut name = path.clone().into_os_string();
                    name.push(suffix);
                    let _ = std::fs::remove_file(name);
                }
            }
            Cleanup::Schema(schema) => {
                // Drop runs inside the test's runtime: do the async work on a thread of its own.
                let statement = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
                let url = postgres_url();
                let _ = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .ok()?;
                    runtime.block_on(async {
                        let mut conn = sqlx::PgConnection::connect(&url).await.ok()?;
                        sqlx::query(&statement).execute(&mut conn).await.ok()
                    })
                })
                .join();
            }
        }
    }
}

/// The Python of a venv under tools/ that `scripts/bootstrap.sh browser` installs, or the one
/// `variable` names; the test fails naming how to install it when it is missing.
pub fn tool_python(variable: &str, venv: &str, what: &str) -> PathBuf {
    let path = std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tools")
                .join(venv)
                .join("bin/python")
        });
    assert!(
        path.is_file(),
        "{what} are not installed at {}: run `source scripts/bootstrap.sh browser` (or name a \
         Python that has them with {variable})",
        path.display()
    );
    path
}

pub fn base_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-10T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// A valid ingest item; `minutes` after `base_time()`.
pub fn item(operation: &str, minutes: i64, output: &str) -> Value {
    json!({
        "operation": operation,
        "model": "gpt-4o",
        "model_version": "2024-08-06",
        "input": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": format!("question {minutes}")}],
        "output": output,
        "latency_ms": 500 + minutes,
        "input_tokens": 20,
        "output_tokens": 5,
        "cost_usd": 0.0001,
        "created_at": (base_time() + Duration::minutes(minutes)).to_rfc3339(),
    })
}

pub fn with(mut value: Value, key: &str, field: Value) -> Value {
    value[key] = field;
    value
}

pub fn new_call(value: &Value) -> NewCall {
    validate_call(value, Utc::now()).expect("test item is valid")
}

/// A signed-in person and an API key, made straight in the store, for tests that are not
/// about signing in.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// `Bearer rl_…` with every scope.
    pub authorization: String,
    /// `redline_session=…` of the same person.
    pub cookie: String,
}

/// An admin `name` with a session and a key of every scope.
pub async fn credentials(store: &Store, name: &str) -> Credentials {
    use redline::auth::manage::{self, Actor};
    use redline::model::auth::{Role, Scope};
    let cookie = user_session(store, name, Role::Admin).await;
    let (key, _) = manage::create_key(store, &Actor::cli(), name, "tests", &Scope::ALL)
        .await
        .expect("create the test key");
    Credentials {
        authorization: format!("Bearer {key}"),
        cookie,
    }
}

/// A new user `name` with `role`, made straight in the store, and the `redline_session=…`
/// cookie of a session of theirs.
pub async fn user_session(store: &Store, name: &str, role: redline::model::auth::Role) -> String {
    use redline::auth::manage::{self, Actor};
    use redline::auth::secrets;
    manage::add_user(
        store,
        &Actor::cli(),
        name,
        role,
        Some("test-password-1".into()),
    )
    .await
    .expect("add the test user");
    let user = store
        .find_user(name)
        .await
        .expect("read the test user")
        .expect("the test user exists");
    let token = secrets::random_hex(32).expect("randomness");
    store
        .create_session(&secrets::token_hash(&token), user.id, None, Utc::now())
        .await
        .expect("start the test session");
    format!("redline_session={token}")
}

/// The router with `credentials` added to every request (as a logged-in browser and a
/// service with a key would send them).
pub fn with_credentials(router: axum::Router, credentials: Credentials) -> axum::Router {
    use axum::http::HeaderValue;
    let authorization = HeaderValue::from_str(&credentials.authorization).expect("header value");
    let cookie = HeaderValue::from_str(&credentials.cookie).expect("header value");
    router.layer(tower::util::MapRequestLayer::new(
        move |mut request: axum::http::Request<axum::body::Body>| {
            let headers = request.headers_mut();
            if !headers.contains_key("authorization") {
                headers.insert("authorization", authorization.clone());
            }
            if !headers.contains_key("cookie") {
                headers.insert("cookie", cookie.clone());
            }
            request
        },
    ))
}

/// Runs `statement` on the test database through a connection of its own, past the store
/// (as someone holding the database URL could).
pub async fn raw_statement(db: &TestDb, statement: &str) -> Result<u64, String> {
    match backend() {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&db.url)
                .await
                .map_err(|e| e.to_string())?;
            sqlx::query(statement)
                .execute(&mut conn)
                .await
                .map(|r| r.rows_affected())
                .map_err(|e| e.to_string())
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&db.url)
                .await
                .map_err(|e| e.to_string())?;
            sqlx::query(statement)
                .execute(&mut conn)
                .await
                .map(|r| r.rows_affected())
                .map_err(|e| e.to_string())
        }
    }
}

/// The real router over `store`, as `redline serve` builds it (default sign-in settings and
/// request limits).
pub fn router(store: &Store) -> axum::Router {
    redline::http::router::build_router(redline::http::state::AppState::new(
        leptos::config::LeptosOptions::builder()
            .output_name("redline")
            .build(),
        store.clone(),
    ))
}

/// The real router, writing and serving exports from `files`.
pub fn router_with_exports(store: &Store, files: redline::exports::ExportFiles) -> axum::Router {
    let mut state = redline::http::state::AppState::new(
        leptos::config::LeptosOptions::builder()
            .output_name("redline")
            .build(),
        store.clone(),
    );
    state.exports = files;
    redline::http::router::build_router(state)
}

/// An empty export folder of the test's own (under the system's temporary folder).
pub fn export_files(name: &str) -> redline::exports::ExportFiles {
    let dir = std::env::temp_dir().join(format!(
        "redline-test-exports-{name}-{}-{}",
        std::process::id(),
        Utc::now().timestamp_micros()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    redline::exports::ExportFiles::new(dir)
}

/// Runs every due job the way a `redline serve` worker does, as worker `worker`; how many ran.
pub async fn run_jobs(store: &Store, files: &redline::exports::ExportFiles, worker: &str) -> usize {
    let context = redline::exports::run::ExportContext {
        store: store.clone(),
        files: files.clone(),
        worker: worker.to_string(),
        max_rows_per_second: None,
    };
    let mut ran = 0;
    while let Some(job) = store
        .claim_job(worker, Utc::now())
        .await
        .expect("claim a job")
    {
        let result = redline::jobs::worker::execute(&context, &job).await;
        store
            .finish_job(job.id, worker, result, Utc::now())
            .await
            .expect("finish a job");
        ran += 1;
    }
    ran
}

/// The router as a signed-in admin holding an all-scope key sees it.
pub async fn signed_in_router(store: &Store) -> axum::Router {
    let credentials = credentials(store, "tester").await;
    with_credentials(router(store), credentials)
}

/// Sends `request` through `app`; the response as it left the router.
pub async fn send(
    app: &axum::Router,
    request: axum::http::Request<axum::body::Body>,
) -> axum::http::Response<axum::body::Body> {
    use tower::ServiceExt;
    app.clone()
        .oneshot(request)
        .await
        .expect("the router answers")
}

/// A response's body.
pub async fn body_bytes(response: axum::http::Response<axum::body::Body>) -> Vec<u8> {
    use http_body_util::BodyExt;
    response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes()
        .to_vec()
}

/// A response's body as text.
pub async fn body_text(response: axum::http::Response<axum::body::Body>) -> String {
    String::from_utf8_lossy(&body_bytes(response).await).into_owned()
}

/// Sends `request`; the answer's status and body as text.
pub async fn answer(
    app: &axum::Router,
    request: axum::http::Request<axum::body::Body>,
) -> (axum::http::StatusCode, String) {
    let response = send(app, request).await;
    (response.status(), body_text(response).await)
}

/// Sends a JSON request (no body when `body` is `None`); the status and the parsed answer
/// (`Null` when the answer is empty). A non-JSON answer fails the test, naming the route.
pub async fn json_request(
    app: &axum::Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (axum::http::StatusCode, Value) {
    use axum::body::Body;
    let request = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header(axum::http::header::CONTENT_TYPE, "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .expect("a request");
    let (status, text) = answer(app, request).await;
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{method} {uri} answered {status}: {text}"))
    };
    (status, value)
}

/// Ingests `items` through `POST /api/v1/calls`, which must store every one; their ids.
pub async fn ingest_items(app: &axum::Router, items: Vec<Value>) -> Vec<String> {
    let (status, body) = json_request(app, "POST", "/api/v1/calls", Some(json!(items))).await;
    assert_eq!(status, axum::http::StatusCode::OK, "{body}");
    body["results"]
        .as_array()
        .expect("a results list")
        .iter()
        .map(|r| {
            r["id"]
                .as_str()
                .unwrap_or_else(|| panic!("not stored: {r}"))
                .to_string()
        })
        .collect()
}

/// Posts a page's form to server function `path` as the browser's script does (same-origin,
/// form-encoded); the status and the answer's JSON (or its text as a JSON string).
pub async fn form_post(
    app: &axum::Router,
    path: &str,
    fields: &[(&str, &str)],
) -> (axum::http::StatusCode, Value) {
    let body = redline::model::encode_query(
        &fields
            .iter()
            .map(|(k, v)| (*k, v.to_string()))
            .collect::<Vec<_>>(),
    );
    let request = axum::http::Request::post(path)
        .header(
            axum::http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header("sec-fetch-site", "same-origin")
        .body(axum::body::Body::from(body))
        .expect("a request");
    let (status, text) = answer(app, request).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}
