//! Requests an attacker would send, through the real router on the backend
//! `REDLINE_TEST_BACKEND` names: paths that try to reach a page past the policy table, and
//! inputs that try to make the server work for minutes. Each test also shows the honest
//! request succeeding, so it can fail.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use chrono::Utc;
use common::{item, with, TestDb};
use leptos::config::LeptosOptions;
use redline::auth::manage::{self, Actor};
use redline::http::state::AppState;
use redline::model::auth::{Role, Scope};
use redline::store::{AuditQuery, Store};
use serde_json::{json, Value};

const SECRET_OUTPUT: &str = "zq-secret-output-4711";
const SECRET_NOTE: &str = "zq-secret-note-0815";
const SECRET_USER: &str = "zq-secret-auditor";

fn app(store: &Store) -> Router {
    common::router(store)
}

async fn send(app: &Router, request: Request<Body>) -> (StatusCode, String) {
    common::answer(app, request).await
}

async fn get(app: &Router, uri: &str, cookie: Option<&str>) -> (StatusCode, String) {
    let mut request = Request::get(uri);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    send(app, request.body(Body::empty()).expect("a request")).await
}

async fn post_json(app: &Router, uri: &str, key: &str, body: Value) -> (StatusCode, String) {
    let request = Request::post(uri)
        .header(header::AUTHORIZATION, key)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("a request");
    send(app, request).await
}

async fn post_review(app: &Router, key: &str, id: &str, review: Value) -> (StatusCode, String) {
    post_json(app, &format!("/api/v1/calls/{id}/reviews"), key, review).await
}

/// One call with a secret output and a review with a secret note; returns its id.
async fn secret_call(app: &Router, key: &str) -> String {
    let (status, body) = post_json(
        app,
        "/api/v1/calls",
        key,
        json!([with(
            item("ticket_summarize", 1, "x"),
            "output",
            json!(SECRET_OUTPUT)
        )]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let body: Value = serde_json::from_str(&body).expect("JSON");
    let id = body["results"][0]["id"]
        .as_str()
        .expect("an id")
        .to_string();
    let review = json!({"verdict": "incorrect", "corrected_output": "fixed", "note": SECRET_NOTE, "base_revision": 0});
    let (status, body) = post_review(app, key, &id, review).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    id
}

/// The call `id` as the store has it now.
async fn stored_call(db: &TestDb, id: &str) -> redline::model::CallDetail {
    let id = uuid::Uuid::parse_str(id).expect("an id");
    db.store
        .get_call(&id)
        .await
        .expect("read")
        .expect("the call")
}

/// A fresh database, an admin named `admin` with a session and an all-scope key, the router,
/// and the id of one call with a secret output and note.
async fn setup(admin: &str) -> (TestDb, common::Credentials, Router, String) {
    let db = TestDb::new().await;
    let admin = common::credentials(&db.store, admin).await;
    let app = app(&db.store);
    let id = secret_call(&app, &admin.authorization).await;
    (db, admin, app, id)
}

/// Every way found of writing a path that a lax server would resolve to `page` while its
/// checks saw `prefix`: dot segments plain and encoded in each case, encoded slashes and
/// backslashes, `..;`, doubled slashes, trailing dots and slashes, a double encoding.
fn disguises(prefix: &str, page: &str) -> Vec<String> {
    let rest = page.trim_start_matches('/');
    let mut paths = Vec::new();
    for dots in [
        "..",
        "%2e%2e",
        "%2E%2E",
        ".%2e",
        "%2e.",
        "..;",
        "...",
        "..%00",
        "%252e%252e",
    ] {
        paths.push(format!("{prefix}/{dots}/{rest}"));
        paths.push(format!("{prefix}/x/{dots}/{dots}/{rest}"));
    }
    for slash in ["%2f", "%2F", "%5c", "%5C"] {
        paths.push(format!("{prefix}{slash}..{slash}{rest}"));
        paths.push(format!("{prefix}/..{slash}{rest}"));
    }
    paths.push(format!("{prefix}//{rest}"));
    paths.push(format!("{prefix}/.//{rest}"));
    paths.push(format!("/{rest}/."));
    paths.push(format!("/{rest}/./"));
    paths.push(format!("//{rest}"));
    paths.push(format!("/./{rest}"));
    paths
}

const PUBLIC_PREFIXES: &[&str] = &[
    "/pkg",
    "/pkg/redline.js",
    "/favicon.svg",
    "/login",
    "/healthz",
    "/readyz",
    "/auth/login",
    "",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_encoding_of_a_path_shows_a_page_to_someone_who_may_not_see_it() {
    let (db, admin, app, id) = setup(SECRET_USER).await;
    let reviewer = common::user_session(&db.store, "rita", Role::Reviewer).await;

    // The pages hold the secrets for those allowed: the test below can fail.
    let (status, page) = get(&app, "/calls", Some(&admin.cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(SECRET_OUTPUT), "the feed shows the output");
    let (_, page) = get(&app, &format!("/calls/{id}"), Some(&reviewer)).await;
    assert!(page.contains(SECRET_NOTE), "the call page shows the note");
    let (_, page) = get(&app, "/admin", Some(&admin.cookie)).await;
    assert!(page.contains(SECRET_USER), "the admin page lists users");

    let call_page = format!("/calls/{id}");
    let review_pages: [&str; 3] = ["/calls", call_page.as_str(), "/review"];
    let admin_pages = ["/admin", "/admin/audit", "/keys"];
    let mut tried = 0;
    for prefix in PUBLIC_PREFIXES {
        for page in review_pages.iter().chain(admin_pages.iter()) {
            for path in disguises(prefix, page) {
                let Ok(request) = Request::get(path.as_str()).body(Body::empty()) else {
                    continue; // not a valid request target: no server would get it
                };
                tried += 1;
                let (status, body) = send(&app, request).await;
                for secret in [SECRET_OUTPUT, SECRET_NOTE, SECRET_USER] {
                    assert!(
                        !body.contains(secret),
                        "anonymous {path} ({status}) showed {secret}"
                    );
                }
                if admin_pages.contains(page) {
                    let (status, body) = get(&app, &path, Some(&reviewer)).await;
                    assert!(
                        !body.contains(SECRET_USER),
                        "a reviewer's {path} ({status}) showed the user list"
                    );
                }
            }
        }
    }
    assert!(tried > 1000, "only {tried} paths were tried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_functions_check_their_caller_themselves() {
    use leptos::prelude::{provide_context, Owner, ScopedFuture};
    use redline::api::calls::{draw_call, load_call, load_feed, load_filter_choices, next_call};
    // Called as a route the middleware missed would call them: the store is there, no
    // caller is. Each refuses on its own.
    let db = TestDb::new().await;
    let admin = common::credentials(&db.store, "ada").await;
    let id = secret_call(&app(&db.store), &admin.authorization).await;
    let calls: Vec<(&str, Answer)> = vec![
        (
            "load_feed",
            Box::pin(async { load_feed(String::new()).await.map(|v| format!("{v:?}")) }),
        ),
        (
            "load_filter_choices",
            Box::pin(async { load_filter_choices().await.map(|v| format!("{v:?}")) }),
        ),
        (
            "load_call",
            Box::pin({
                let id = id.clone();
                async move { load_call(id).await.map(|v| format!("{v:?}")) }
            }),
        ),
        (
            "draw_call",
            Box::pin(async { draw_call(String::new()).await.map(|v| format!("{v:?}")) }),
        ),
        (
            "next_call",
            Box::pin({
                let id = id.clone();
                async move { next_call(id, String::new()).await.map(|v| format!("{v:?}")) }
            }),
        ),
    ];
    for (name, call) in calls {
        let owner = Owner::new();
        let scoped = owner.with(|| {
            provide_context(db.store.clone());
            ScopedFuture::new(call)
        });
        let error = scoped.await.expect_err(name).to_string();
        assert!(error.contains("sign in"), "{name}: {error}");
    }
}

type Answer = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<String, redline::error::AppError>> + Send>,
>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_handlers_check_their_caller_themselves() {
    // The REST routes mounted without the middleware, as a route it missed would be: each
    // handler still refuses a request that carries no caller.
    let db = TestDb::new().await;
    let admin = common::credentials(&db.store, "ada").await;
    let id = secret_call(&app(&db.store), &admin.authorization).await;
    let bare: Router = redline::http::rest::routes().with_state(AppState::new(
        LeptosOptions::builder().output_name("redline").build(),
        db.store.clone(),
    ));
    let ingest = json!([item("op", 1, "planted")]).to_string();
    for (method, uri, body) in [
        ("GET", "/api/v1/calls".to_string(), String::new()),
        ("GET", format!("/api/v1/calls/{id}"), String::new()),
        ("POST", "/api/v1/calls".to_string(), ingest),
        (
            "POST",
            format!("/api/v1/calls/{id}/reviews"),
            json!({"verdict": "correct", "base_revision": 1}).to_string(),
        ),
    ] {
        let request = Request::builder()
            .method(method)
            .uri(&uri)
            .header(header::AUTHORIZATION, &admin.authorization)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .expect("a request");
        let (status, text) = send(&bare, request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {uri}: {text}");
        assert!(!text.contains(SECRET_OUTPUT), "{method} {uri}");
    }
    assert_eq!(
        db.store.call_count().await.unwrap(),
        1,
        "nothing was ingested"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_functions_answer_401_without_a_session_and_200_with_one() {
    let (_db, admin, app, id) = setup("ada").await;
    for (endpoint, body) in [
        ("/api/load_feed", "search=".to_string()),
        ("/api/load_filter_choices", String::new()),
        ("/api/load_call", format!("id={id}")),
        ("/api/draw_call", "search=".to_string()),
        ("/api/next_call", format!("id={id}&search=")),
    ] {
        let request = Request::post(endpoint)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.clone()))
            .expect("a request");
        let (status, text) = send(&app, request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{endpoint}: {text}");
        assert!(!text.contains(SECRET_OUTPUT));
        let request = Request::post(endpoint)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, &admin.cookie)
            .body(Body::from(body))
            .expect("a request");
        let (status, text) = send(&app, request).await;
        assert_eq!(status, StatusCode::OK, "{endpoint} signed in: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_with_200000_tags_is_refused_by_its_count_at_once() {
    let (_db, admin, app, id) = setup("ada").await;
    let tags: Vec<String> = (0..200_000).map(|i| format!("t{i}")).collect();
    let review = json!({"verdict": "incorrect", "corrected_output": "again", "tags": tags, "base_revision": 1});
    let (status, body) = post_review(&app, &admin.authorization, &id, review).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("200000 tags sent"), "{body}");
    let huge = "y".repeat(redline::model::review::MAX_CORRECTION_BYTES + 1);
    let review = json!({"verdict": "incorrect", "corrected_output": huge, "base_revision": 1});
    let (status, body) = post_review(&app, &admin.authorization, &id, review).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        &body[..body.len().min(300)]
    );
    assert!(body.contains("corrected_output"));
    // Nothing was written: revision 1 is still the current one.
    let request = Request::get(format!("/api/v1/calls/{id}"))
        .header(header::AUTHORIZATION, &admin.authorization)
        .body(Body::empty())
        .expect("a request");
    let (_, body) = send(&app, request).await;
    let call: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(call["review"]["revision"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_with_two_unrelated_huge_revisions_renders_its_page() {
    let (_db, admin, app, id) = setup("ada").await;
    for (base, word) in [(1, "alpha"), (2, "omega")] {
        let text: String = (0..60_000)
            .map(|i| format!("{word} line {}\n", i * 7 + base))
            .collect();
        let review =
            json!({"verdict": "incorrect", "corrected_output": text, "base_revision": base});
        let (status, body) = post_review(&app, &admin.authorization, &id, review).await;
        assert_eq!(
            status,
            StatusCode::CREATED,
            "{}",
            &body[..body.len().min(300)]
        );
    }
    let (status, page) = get(&app, &format!("/calls/{id}"), Some(&admin.cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Revision history"));
    assert!(page.contains("omega line"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviews_and_the_audit_log_refuse_rewrites_in_the_database_itself() {
    let db = TestDb::new().await;
    let admin = common::credentials(&db.store, "ada").await;
    let id = secret_call(&app(&db.store), &admin.authorization).await;
    let mut statements = vec![
        "UPDATE reviews SET note = 'rewritten'",
        "DELETE FROM reviews",
    ];
    if common::backend() == common::Backend::Postgres {
        statements.extend(["TRUNCATE reviews CASCADE", "TRUNCATE audit_log"]);
    }
    for statement in statements {
        let error = common::raw_statement(&db, statement)
            .await
            .expect_err(statement);
        assert!(error.contains("append-only"), "{statement}: {error}");
    }
    let call = stored_call(&db, &id).await;
    assert_eq!(call.history.len(), 1);
    assert_eq!(call.history[0].note, SECRET_NOTE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_admins_demoting_each_other_at_once_leave_one() {
    for round in 0..8 {
        let db = TestDb::new().await;
        for name in ["adm-a", "adm-b"] {
            manage::add_user(
                &db.store,
                &Actor::cli(),
                name,
                Role::Admin,
                Some("a-long-enough-password".into()),
            )
            .await
            .expect("add admin");
        }
        let demote = |name: &'static str, disable: bool| {
            let store = db.store.clone();
            tokio::spawn(async move {
                if disable {
                    manage::set_disabled(&store, &Actor::cli(), name, true).await
                } else {
                    manage::set_role(&store, &Actor::cli(), name, Role::Lead).await
                }
            })
        };
        // Odd rounds: one is demoted while the other is disabled.
        let (first, second) = (demote("adm-a", false), demote("adm-b", round % 2 == 1));
        let results = [first.await.expect("joined"), second.await.expect("joined")];
        assert_eq!(
            results.iter().filter(|r| r.is_err()).count(),
            1,
            "round {round}: {results:?}"
        );
        let admins = db
            .store
            .list_users()
            .await
            .expect("users")
            .into_iter()
            .filter(|u| u.role == Role::Admin && !u.disabled)
            .count();
        assert_eq!(admins, 1, "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worst_searches_in_parallel_leave_the_feed_and_health_answering() {
    let db = TestDb::new().await;
    let admin = common::credentials(&db.store, "ada").await;
    // Many distinct words sharing short starts: prefix searches expand to long lists.
    let syllables = [
        "ab", "ac", "ad", "ba", "be", "ca", "co", "da", "de", "ra", "re", "ro",
    ];
    let calls: Vec<_> = (0..4_000)
        .map(|i: usize| {
            let words: Vec<String> = (0..12)
                .map(|j| {
                    let a = syllables[(i * 7 + j) % syllables.len()];
                    let b = syllables[(i / 3 + j * 5) % syllables.len()];
                    format!("{a}{b}{}", (i * 31 + j) % 997)
                })
                .collect();
            common::new_call(&item(
                if i % 2 == 0 { "op_even" } else { "op_odd" },
                i as i64,
                &words.join(" "),
            ))
        })
        .collect();
    for chunk in calls.chunks(500) {
        db.store
            .insert_calls(chunk, Utc::now())
            .await
            .expect("ingest");
    }
    let store = db
        .store
        .clone()
        .with_search_deadline(std::time::Duration::from_millis(300));
    let app = app(&store);
    let worst = [
        "/api/v1/calls?q=aba*+abe*+aca*+ada*+bab*+bec*+cab*+cod*+dab*+rab*+rea*+rob*&limit=500",
        "/api/v1/calls?q=abab*&operation=op_odd&limit=500",
        "/api/v1/calls?q=rer*+ror*+rab*&model=gpt-4o&limit=500",
        "/api/v1/calls?q=ab*",
    ];
    let get_with_key = |uri: String| {
        let (app, key) = (app.clone(), admin.authorization.clone());
        tokio::spawn(async move {
            let request = Request::get(uri.as_str())
                .header(header::AUTHORIZATION, key)
                .body(Body::empty())
                .expect("a request");
            (uri, send(&app, request).await)
        })
    };
    let searches: Vec<_> = (0..12)
        .map(|i| get_with_key(worst[i % worst.len()].to_string()))
        .collect();
    let plain: Vec<_> = (0..12)
        .map(|_| get_with_key("/api/v1/calls?limit=50".to_string()))
        .collect();
    let health = {
        let app = app.clone();
        tokio::spawn(async move { get(&app, "/healthz", None).await })
    };
    for task in plain {
        let (uri, (status, body)) = task.await.expect("joined");
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    }
    assert_eq!(health.await.expect("joined").0, StatusCode::OK);
    for task in searches {
        let (uri, (status, body)) = task.await.expect("joined");
        match status {
            StatusCode::OK | StatusCode::SERVICE_UNAVAILABLE => {}
            StatusCode::BAD_REQUEST => assert!(body.contains("too short"), "{uri}: {body}"),
            StatusCode::UNPROCESSABLE_ENTITY => {
                assert!(body.contains("took too long"), "{uri}: {body}")
            }
            other => panic!("{uri}: {other} {body}"),
        }
    }
}

/// Makes every audit insert fail, as a full disk or a crash between two statements would.
async fn refuse_audit_entries(db: &TestDb) {
    let statements: &[&str] = match common::backend() {
        common::Backend::Sqlite => &["CREATE TRIGGER audit_refused BEFORE INSERT ON audit_log
             BEGIN SELECT RAISE(ABORT, 'audit refused by the test'); END"],
        common::Backend::Postgres => &[
            "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql
             AS $$ BEGIN RAISE EXCEPTION 'audit refused by the test'; END $$",
            "CREATE TRIGGER audit_refused BEFORE INSERT ON audit_log
             FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
        ],
    };
    for statement in statements {
        common::raw_statement(db, statement)
            .await
            .expect("the trigger is installed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_whose_audit_entry_cannot_be_written_is_not_made() {
    let (db, admin, app, id) = setup("ada").await;
    let cli = Actor::cli();
    manage::add_user(&db.store, &cli, "bob", Role::Engineer, None)
        .await
        .expect("bob");
    let (_, key) = manage::create_key(&db.store, &cli, "bob", "svc", &[Scope::Read])
        .await
        .expect("a key");
    let bob = db.store.find_user("bob").await.expect("read").expect("bob");
    let keys_before = db.store.list_keys(None).await.expect("keys");
    let audit_entries = || async {
        let all = AuditQuery {
            limit: 1000,
            ..Default::default()
        };
        db.store.list_audit(&all).await.expect("audit").len()
    };
    let audit_before = audit_entries().await;

    refuse_audit_entries(&db).await;

    let (status, body) = post_review(
        &app,
        &admin.authorization,
        &id,
        json!({"verdict": "correct", "base_revision": 1}),
    )
    .await;
    assert!(status.is_server_error(), "{status}: {body}");
    let call = stored_call(&db, &id).await;
    assert_eq!(call.history.len(), 1, "the review was rolled back");
    assert_eq!(call.review.map(|r| r.revision), Some(1));

    let refused = [
        manage::add_user(&db.store, &cli, "carol", Role::Reviewer, None)
            .await
            .map(|_| ()),
        manage::set_role(&db.store, &cli, "bob", Role::Reviewer).await,
        manage::set_disabled(&db.store, &cli, "bob", true).await,
        manage::reset_password(&db.store, &cli, "bob", None)
            .await
            .map(|_| ()),
        manage::create_key(&db.store, &cli, "bob", "other", &[Scope::Read])
            .await
            .map(|_| ()),
        manage::revoke_key(&db.store, &cli, key.id, None).await,
    ];
    for (i, outcome) in refused.iter().enumerate() {
        assert!(
            outcome.is_err(),
            "change {i} went through without its audit entry"
        );
    }
    assert!(db.store.find_user("carol").await.expect("read").is_none());
    let bob_after = db.store.find_user("bob").await.expect("read").expect("bob");
    assert_eq!(bob_after.role, Role::Engineer);
    assert!(!bob_after.disabled);
    assert_eq!(bob_after.password_hash, bob.password_hash);
    assert_eq!(db.store.list_keys(None).await.expect("keys"), keys_before);
    assert_eq!(audit_entries().await, audit_before);
}
