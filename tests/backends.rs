//! What must hold on both backends alike: the same schema, saves that never overwrite each
//! other, jobs claimed once; and on PostgreSQL, a pool that outlives a database restart.

mod common;

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use common::{item, new_call, Backend, TestDb};
use redline::model::Verdict;
use redline::store::{InsertOutcome, JobState, ReviewInput, SaveOutcome, StoreOptions};
use sqlx::{Connection, PgConnection, SqliteConnection};

/// Columns per table, without each backend's own search index (SQLite: the `calls_fts`
/// virtual table and its shadow tables; PostgreSQL: the `calls.search` column).
async fn columns(db: &TestDb, backend: Backend) -> BTreeSet<(String, String)> {
    let rows: Vec<(String, String)> = match backend {
        Backend::Sqlite => {
            let mut conn = SqliteConnection::connect(&db.url).await.unwrap();
            sqlx::query_as(
                "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
                   AND m.name NOT LIKE '\\_sqlx%' ESCAPE '\\' AND m.name NOT LIKE 'calls\\_fts%' ESCAPE '\\'",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap()
        }
        Backend::Postgres => {
            let mut conn = PgConnection::connect(&db.url).await.unwrap();
            sqlx::query_as(
                "SELECT table_name::text, column_name::text FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name NOT LIKE '\\_sqlx%'
                   AND NOT (table_name = 'calls' AND column_name = 'search')",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap()
        }
    };
    rows.into_iter().collect()
}

#[tokio::test]
async fn both_schemas_have_the_same_tables_and_columns() {
    let sqlite = TestDb::on(Backend::Sqlite, StoreOptions::default()).await;
    let postgres = TestDb::on(Backend::Postgres, StoreOptions::default()).await;
    let on_sqlite = columns(&sqlite, Backend::Sqlite).await;
    let on_postgres = columns(&postgres, Backend::Postgres).await;
    assert!(on_sqlite.contains(&("calls".into(), "verdict".into())));
    assert!(on_sqlite.contains(&("jobs".into(), "claimed_by".into())));
    let only_sqlite: Vec<_> = on_sqlite.difference(&on_postgres).collect();
    let only_postgres: Vec<_> = on_postgres.difference(&on_sqlite).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "only in SQLite: {only_sqlite:?}; only in PostgreSQL: {only_postgres:?}"
    );
}

#[tokio::test]
async fn concurrent_saves_on_one_revision_let_exactly_one_win() {
    let db = TestDb::new().await;
    let outcomes = db
        .store
        .insert_calls(&[new_call(&item("op_a", 0, "original"))], Utc::now())
        .await
        .unwrap();
    let InsertOutcome::Created { id } = &outcomes[0] else {
        panic!("not created: {outcomes:?}")
    };
    let call_id = uuid::Uuid::parse_str(id).unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = db.store.clone();
            tokio::spawn(async move {
                let review = ReviewInput {
                    call_id,
                    base_revision: 0,
                    reviewer: format!("reviewer{i}"),
                    verdict: Verdict::Incorrect,
                    corrected_output: Some(format!("correction {i}")),
                    tags: vec!["format".into()],
                    note: String::new(),
                    sampled: false,
                };
                store.save_reviews(&[review], Utc::now()).await.unwrap()
            })
        })
        .collect();
    let mut saved = 0;
    let mut conflicts = 0;
    for task in tasks {
        match task.await.unwrap()[0] {
            SaveOutcome::Saved { revision } => {
                assert_eq!(revision, 1);
                saved += 1;
            }
            SaveOutcome::Conflict {
                current_revision, ..
            } => {
                assert_eq!(current_revision, 1);
                conflicts += 1;
            }
            ref other => panic!("the call exists and the review is valid: {other:?}"),
        }
    }
    assert_eq!((saved, conflicts), (1, 15));
    let call = db.store.get_call(&call_id).await.unwrap().unwrap();
    assert_eq!(call.history.len(), 1, "one revision stored");
    let counts = db.store.count_verdicts(&Default::default()).await.unwrap();
    assert_eq!((counts.unreviewed, counts.incorrect), (0, 1));
}

#[tokio::test]
async fn concurrent_workers_claim_each_job_once() {
    let db = TestDb::new().await;
    let mut ids = HashSet::new();
    for _ in 0..40 {
        ids.insert(
            db.store
                .enqueue_job("noop", "{}", Utc::now())
                .await
                .unwrap(),
        );
    }
    let workers: Vec<_> = (0..6)
        .map(|w| {
            let store = db.store.clone();
            tokio::spawn(async move {
                let name = format!("worker{w}");
                let mut mine = Vec::new();
                while let Some(job) = store.claim_job(&name, Utc::now()).await.unwrap() {
                    mine.push(job.id);
                    assert!(store
                        .finish_job(job.id, &name, Ok(()), Utc::now())
                        .await
                        .unwrap());
                }
                mine
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for worker in workers {
        claimed.extend(worker.await.unwrap());
    }
    let distinct: HashSet<i64> = claimed.iter().copied().collect();
    assert_eq!(claimed.len(), 40, "no job claimed twice");
    assert_eq!(distinct, ids);
    for job in db.store.list_jobs(100).await.unwrap() {
        assert_eq!((job.state, job.attempts), (JobState::Done, 1), "{job:?}");
    }
}

#[tokio::test]
async fn a_job_whose_worker_vanished_is_claimed_again_after_its_lease() {
    let db = TestDb::new().await;
    let id = db
        .store
        .enqueue_job("noop", "{}", Utc::now())
        .await
        .unwrap();
    let first = db
        .store
        .claim_job("lost", Utc::now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.id, id);
    assert_eq!(db.store.claim_job("other", Utc::now()).await.unwrap(), None);
    let later = Utc::now() + chrono::Duration::minutes(11);
    let again = db.store.claim_job("other", later).await.unwrap().unwrap();
    assert_eq!((again.id, again.attempts), (id, 2));
    assert!(
        !db.store
            .finish_job(id, "lost", Ok(()), later)
            .await
            .unwrap(),
        "the first worker lost its claim"
    );
    assert!(db
        .store
        .finish_job(id, "other", Err("boom".into()), later)
        .await
        .unwrap());
    let job = &db.store.list_jobs(1).await.unwrap()[0];
    assert_eq!(
        (job.state, job.error.as_deref()),
        (JobState::Failed, Some("boom"))
    );
}

/// `host:port` of the test PostgreSQL server, as written in its URL.
fn postgres_address() -> String {
    let options: sqlx::postgres::PgConnectOptions = common::postgres_url().parse().unwrap();
    format!("{}:{}", options.get_host(), options.get_port())
}

/// A TCP relay to PostgreSQL that can be stopped (every connection cut, new ones refused,
/// as when the server restarts) and started again on the same port.
struct Relay {
    port: u16,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Relay {
    async fn start(port: u16) -> Relay {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let mut links = tokio::task::JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                links.spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(postgres_address()).await
                    {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Relay {
            port,
            task: Some(task),
        }
    }

    /// Cuts every connection (the JoinSet of links is dropped with the task) and stops listening.
    async fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

#[tokio::test]
async fn requests_get_503_while_postgres_is_down_and_work_again_after() {
    // PostgreSQL only: SQLite is a file, there is no server to restart.
    let direct = TestDb::on(Backend::Postgres, StoreOptions::default()).await;
    let mut relay = Relay::start(0).await;
    let url = direct
        .url
        .replace(&postgres_address(), &format!("127.0.0.1:{}", relay.port));
    assert_ne!(url, direct.url, "the test URL must go through the relay");
    let options = StoreOptions {
        acquire_timeout: Duration::from_millis(800),
        ..StoreOptions::default()
    };
    let store = redline::store::Store::open_with(&url, &options)
        .await
        .unwrap();
    let app = Arc::new(http::app_on(store.clone()).await);
    assert_eq!(http::status(&app, "/api/v1/calls").await, 200);

    relay.stop().await;
    assert_eq!(http::status(&app, "/api/v1/calls").await, 503);
    let (status, body) = http::get_text(&app, "/api/v1/calls").await;
    assert_eq!(status, 503);
    assert!(body.contains("database is unavailable"), "{body}");
    assert_eq!(http::status(&app, "/calls").await, 503, "the feed page too");
    assert_eq!(http::status(&app, "/readyz").await, 503);

    let _relay = Relay::start(relay.port).await;
    assert_eq!(http::status(&app, "/api/v1/calls").await, 200);
    assert_eq!(http::status(&app, "/calls").await, 200);
    assert_eq!(http::status(&app, "/readyz").await, 200);
    store.close().await;
}

mod http {
    use axum::body::Body;
    use axum::http::Request;
    use axum::Router;
    use redline::store::Store;

    /// The app as a signed-in admin with an all-scope key sees it.
    pub async fn app_on(store: Store) -> Router {
        crate::common::signed_in_router(&store).await
    }

    pub async fn get_text(app: &Router, uri: &str) -> (u16, String) {
        let request = Request::get(uri).body(Body::empty()).unwrap();
        let (status, text) = crate::common::answer(app, request).await;
        (status.as_u16(), text)
    }

    pub async fn status(app: &Router, uri: &str) -> u16 {
        get_text(app, uri).await.0
    }
}

#[tokio::test]
async fn postgres_tls_options_reach_the_connection() {
    // PostgreSQL only: SQLite has no connection to encrypt.
    let url = common::postgres_url();
    let open = |mode: &str| {
        let options = StoreOptions {
            tls_mode: Some(mode.to_string()),
            acquire_timeout: Duration::from_secs(3),
            ..StoreOptions::default()
        };
        let url = url.clone();
        async move { redline::store::Store::open_with(&url, &options).await }
    };
    let error = open("sometimes").await.unwrap_err().to_string();
    assert!(error.contains("TLS mode \"sometimes\""), "{error}");
    // Plain connections are accepted by the test server.
    open("disable").await.unwrap().close().await;
    // verify-full checks the server's certificate against trusted roots; the test server's
    // self-signed certificate (or no TLS at all) cannot pass, so the open must fail.
    assert!(
        open("verify-full").await.is_err(),
        "verify-full accepted a server it cannot have verified"
    );
}
