//! Accounts and hardening, through the real router on the backend `REDLINE_TEST_BACKEND`
//! names: who may reach what, sessions, API keys, sign-in limits, cross-site refusal,
//! security headers, request limits and the audit log.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, Response, StatusCode};
use axum::Router;
use common::{body_text, item, send, TestDb};
use leptos::config::LeptosOptions;
use redline::auth::manage::{self, Actor};
use redline::auth::{secrets, Auth, AuthConfig};
use redline::http::router::{build_router_with, Limits};
use redline::http::state::AppState;
use redline::model::auth::{Role, Scope};
use redline::store::{AuditQuery, Store};
use serde_json::json;

const PASSWORD: &str = "a-long-enough-password";

fn router(store: &Store, config: AuthConfig, limits: Limits) -> Router {
    build_router_with(
        AppState {
            leptos_options: LeptosOptions::builder().output_name("redline").build(),
            store: store.clone(),
            auth: Auth::new(config),
            exports: redline::exports::ExportFiles::new(
                std::env::temp_dir().join("redline-auth-test-exports"),
            ),
        },
        &limits,
    )
}

fn app(store: &Store) -> Router {
    common::router(store)
}

fn get(uri: &str) -> axum::http::request::Builder {
    Request::get(uri)
}

fn with_cookie(
    builder: axum::http::request::Builder,
    cookie: &str,
) -> axum::http::request::Builder {
    builder.header(header::COOKIE, cookie)
}

async fn add_user(store: &Store, name: &str, role: Role) {
    manage::add_user(store, &Actor::cli(), name, role, Some(PASSWORD.into()))
        .await
        .expect("add user");
}

/// Signs in through the form; returns the response.
async fn sign_in_as(
    app: &Router,
    name: &str,
    password: &str,
    cookie: Option<&str>,
) -> Response<Body> {
    let body = format!("name={}&password={}&next=%2Fcalls", name, password);
    let mut request = Request::post("/auth/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    send(app, request.body(Body::from(body)).unwrap()).await
}

/// The `redline_session=…` pair a sign-in set, if any.
fn session_of(response: &Response<Body>) -> Option<String> {
    let set = response.headers().get(header::SET_COOKIE)?.to_str().ok()?;
    let pair = set.split(';').next()?.trim().to_string();
    (pair.len() > "redline_session=".len()).then_some(pair)
}

fn location(response: &Response<Body>) -> String {
    response
        .headers()
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

async fn signed_in(app: &Router, name: &str) -> String {
    let response = sign_in_as(app, name, PASSWORD, None).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "sign-in of {name}"
    );
    session_of(&response).unwrap_or_else(|| panic!("{name} got no session cookie"))
}

async fn key_with(store: &Store, owner: &str, scopes: &[Scope]) -> String {
    manage::create_key(store, &Actor::cli(), owner, "test", scopes)
        .await
        .expect("create key")
        .0
}

/// The actions `actor` is in the audit log for, oldest first.
async fn audited_actions(store: &Store, actor: &str) -> Vec<String> {
    let query = AuditQuery {
        actor: Some(actor.into()),
        limit: 100,
        ..AuditQuery::default()
    };
    let entries = store.list_audit(&query).await.expect("the audit log");
    entries.into_iter().rev().map(|e| e.action).collect()
}

/// Who calls: the test's own names for the rows of the matrix.
#[derive(Clone, Debug)]
enum Who {
    Anonymous,
    Person(Role, String),
    Key(Scope, String),
}

/// The request as `who` sends it: a session cookie, an API key, or nothing.
fn as_who(request: axum::http::request::Builder, who: &Who) -> axum::http::request::Builder {
    match who {
        Who::Anonymous => request,
        Who::Person(_, cookie) => with_cookie(request, cookie),
        Who::Key(_, key) => request.header(header::AUTHORIZATION, format!("Bearer {key}")),
    }
}

/// What a route needs, written down here independently of the router's policy table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Needs {
    Anyone,
    Reviewer,
    KeysRole,
    /// Leads and admins: operation settings.
    Configurer,
    /// Leads, engineers and admins: trends and routing advice.
    Trends,
    /// Engineers and admins: dataset exports.
    Exporter,
    Admin,
    Scope(Scope),
}

fn person_may(role: Role, needs: Needs) -> bool {
    match needs {
        Needs::Anyone => true,
        Needs::Reviewer => true,
        Needs::KeysRole => matches!(role, Role::Engineer | Role::Admin),
        Needs::Configurer => matches!(role, Role::Lead | Role::Admin),
        Needs::Trends => matches!(role, Role::Lead | Role::Engineer | Role::Admin),
        Needs::Exporter => matches!(role, Role::Engineer | Role::Admin),
        Needs::Admin => role == Role::Admin,
        Needs::Scope(_) => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_every_role_as_its_access_says() {
    let db = TestDb::new().await;
    let store = &db.store;
    let files = common::export_files("matrix");
    let app = common::router_with_exports(store, files.clone());
    for role in Role::ALL {
        add_user(store, role.as_str(), role).await;
    }
    // A real call, so that call pages and `GET /api/v1/calls/{id}` have something to show.
    let ingest_key = key_with(store, "engineer", &[Scope::Ingest]).await;
    let response = send(
        &app,
        Request::post("/api/v1/calls")
            .header(header::AUTHORIZATION, format!("Bearer {ingest_key}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json!([item("op", 1, "hello")]).to_string()))
            .unwrap(),
    )
    .await;
    let text = body_text(response).await;
    let answer: serde_json::Value = serde_json::from_str(&text).expect("ingest answer");
    let call_id = answer["results"][0]["id"]
        .as_str()
        .expect("an id")
        .to_string();

    let mut callers = vec![Who::Anonymous];
    for role in Role::ALL {
        callers.push(Who::Person(role, signed_in(&app, role.as_str()).await));
    }
    for scope in Scope::ALL {
        // A scope that acts for its owner's role (configure) is held by an admin's key.
        let owner = if scope.owner_needs().is_some() {
            "admin"
        } else {
            "engineer"
        };
        callers.push(Who::Key(scope, key_with(store, owner, &[scope]).await));
    }

    // Every page, server function and API route must be listed here.
    let pages: BTreeMap<&str, Needs> = [
        ("/login", Needs::Anyone),
        ("/calls", Needs::Reviewer),
        ("/calls/{id}", Needs::Reviewer),
        ("/review", Needs::Reviewer),
        ("/operations", Needs::Configurer),
        ("/operations/{name}", Needs::Configurer),
        ("/trends", Needs::Trends),
        ("/trends/{operation}", Needs::Trends),
        ("/keys", Needs::KeysRole),
        ("/exports", Needs::Exporter),
        ("/admin", Needs::Admin),
        ("/admin/audit", Needs::Admin),
        ("/account/password", Needs::Reviewer),
    ]
    .into();
    let functions: BTreeMap<&str, Needs> = [
        ("/api/viewer", Needs::Anyone),
        ("/api/load_feed", Needs::Reviewer),
        ("/api/load_filter_choices", Needs::Reviewer),
        ("/api/load_call", Needs::Reviewer),
        ("/api/draw_call", Needs::Reviewer),
        ("/api/next_call", Needs::Reviewer),
        ("/api/save_review", Needs::Reviewer),
        ("/api/check_correction", Needs::Reviewer),
        ("/api/list_operations", Needs::Configurer),
        ("/api/load_operation", Needs::Configurer),
        ("/api/create_operation", Needs::Configurer),
        ("/api/save_operation", Needs::Configurer),
        ("/api/change_tag", Needs::Configurer),
        ("/api/save_alert", Needs::Configurer),
        ("/api/load_trends", Needs::Trends),
        ("/api/load_operation_trends", Needs::Trends),
        ("/api/list_keys", Needs::KeysRole),
        ("/api/create_key", Needs::KeysRole),
        ("/api/revoke_key", Needs::KeysRole),
        ("/api/list_users", Needs::Admin),
        ("/api/add_user", Needs::Admin),
        ("/api/update_user", Needs::Admin),
        ("/api/list_audit", Needs::Admin),
        ("/api/load_exports", Needs::Exporter),
        ("/api/preview_export", Needs::Exporter),
        ("/api/create_export", Needs::Exporter),
        ("/api/cancel_export", Needs::Exporter),
        ("/api/delete_export", Needs::Exporter),
    ]
    .into();
    // The keys and users pages' plain form posts (without JavaScript): like server functions.
    let forms: BTreeMap<&str, Needs> = [
        ("/keys/create", Needs::KeysRole),
        ("/keys/revoke", Needs::KeysRole),
        ("/admin/users/add", Needs::Admin),
        ("/admin/users/change", Needs::Admin),
    ]
    .into();
    let api: BTreeMap<(&str, &str), Needs> = [
        (("GET", "/api/v1/calls"), Needs::Scope(Scope::Read)),
        (("POST", "/api/v1/calls"), Needs::Scope(Scope::Ingest)),
        (("POST", "/v1/traces"), Needs::Scope(Scope::Ingest)),
        (("GET", "/api/v1/calls/{id}"), Needs::Scope(Scope::Read)),
        (
            ("POST", "/api/v1/calls/{id}/reviews"),
            Needs::Scope(Scope::Review),
        ),
        (("GET", "/api/v1/operations"), Needs::Scope(Scope::Read)),
        (
            ("GET", "/api/v1/operations/{name}"),
            Needs::Scope(Scope::Read),
        ),
        (
            ("PUT", "/api/v1/operations/{name}"),
            Needs::Scope(Scope::Configure),
        ),
        (("GET", "/api/v1/accuracy"), Needs::Scope(Scope::Read)),
        (("GET", "/api/v1/routing"), Needs::Scope(Scope::Read)),
        (
            ("GET", "/api/v1/routing/{operation}"),
            Needs::Scope(Scope::Read),
        ),
        (("GET", "/api/v1/exports"), Needs::Scope(Scope::Export)),
        (("POST", "/api/v1/exports"), Needs::Scope(Scope::Export)),
        (
            ("POST", "/api/v1/exports/preview"),
            Needs::Scope(Scope::Export),
        ),
        (("GET", "/api/v1/exports/{id}"), Needs::Scope(Scope::Export)),
        (
            ("DELETE", "/api/v1/exports/{id}"),
            Needs::Scope(Scope::Export),
        ),
        (
            ("POST", "/api/v1/exports/{id}/cancel"),
            Needs::Scope(Scope::Export),
        ),
        (
            ("GET", "/api/v1/exports/{id}/download"),
            Needs::Scope(Scope::Export),
        ),
    ]
    .into();

    // The router's own lists: a page or server function added without an entry above fails.
    let listed_pages: Vec<String> = redline::http::router::page_routes()
        .iter()
        .map(|listing| listing.path().to_string())
        .collect();
    for path in &listed_pages {
        assert!(
            pages.contains_key(path.as_str()),
            "page {path} has no expected access in this test (add it here and to the policy)"
        );
    }
    assert_eq!(listed_pages.len(), pages.len(), "pages: {listed_pages:?}");
    let registered: Vec<&str> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path)
        .collect();
    for path in &registered {
        assert!(
            functions.contains_key(path),
            "server function {path} has no expected access in this test (add it here and to the policy)"
        );
    }
    assert_eq!(
        registered.len(),
        functions.len(),
        "server functions: {registered:?}"
    );
    for (method, path, _) in redline::auth::policy::ROUTES {
        if *method == "POST" && (path.starts_with("/keys/") || path.starts_with("/admin/")) {
            assert!(
                forms.contains_key(path),
                "form route {path} has no expected access in this test"
            );
        }
        if path.starts_with("/api/v1") || path.starts_with("/v1/") {
            assert!(
                api.contains_key(&(*method, *path)),
                "API route {method} {path} has no expected access in this test"
            );
        }
    }

    // Exports for the export routes: a finished one to read and download, a queued one to
    // cancel, a cancelled one to delete.
    let export_key = key_with(store, "admin", &[Scope::Export]).await;
    let mut export_ids = Vec::new();
    for _ in 0..3 {
        let response = send(
            &app,
            Request::post("/api/v1/exports")
                .header(header::AUTHORIZATION, format!("Bearer {export_key}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(r#"{"format": "jsonl"}"#))
                .unwrap(),
        )
        .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let created: serde_json::Value =
            serde_json::from_str(&body_text(response).await).expect("an export");
        export_ids.push(created["id"].as_i64().expect("an id"));
        if export_ids.len() == 1 {
            assert_eq!(common::run_jobs(store, &files, "worker").await, 1);
        }
    }
    let (done, queued, cancelled) = (export_ids[0], export_ids[1], export_ids[2]);
    let response = send(
        &app,
        Request::post(format!("/api/v1/exports/{cancelled}/cancel"))
            .header(header::AUTHORIZATION, format!("Bearer {export_key}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let export_id = |method: &str, pattern: &str| match (method, pattern) {
        ("DELETE", _) => cancelled,
        (_, p) if p.ends_with("/cancel") => queued,
        _ => done,
    };

    let concrete = |path: &str| {
        path.replace("{id}", &call_id)
            .replace("{name}", "op")
            .replace("{operation}", "op")
    };
    let mut failures = Vec::new();
    for who in &callers {
        for (pattern, needs) in &pages {
            let mut request = get(&concrete(pattern));
            request = as_who(request, who);
            let response = send(&app, request.body(Body::empty()).unwrap()).await;
            let status = response.status();
            let expected = match who {
                Who::Person(role, _) if person_may(*role, *needs) => StatusCode::OK,
                Who::Person(..) => StatusCode::FORBIDDEN,
                _ if *needs == Needs::Anyone => StatusCode::OK,
                // Not signed in: sent to the sign-in page (keys do not sign anyone in).
                _ => StatusCode::SEE_OTHER,
            };
            if status != expected {
                failures.push(format!(
                    "{who:?} GET {pattern}: {status}, expected {expected}"
                ));
            }
            if status == StatusCode::SEE_OTHER && !location(&response).starts_with("/login?next=") {
                failures.push(format!(
                    "{who:?} GET {pattern}: redirected to {}",
                    location(&response)
                ));
            }
        }
        for (path, needs) in functions.iter().chain(&forms) {
            let mut request = Request::post(*path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            request = as_who(request, who);
            let response = send(&app, request.body(Body::empty()).unwrap()).await;
            let status = response.status();
            let allowed = match who {
                Who::Person(role, _) => person_may(*role, *needs),
                _ => *needs == Needs::Anyone,
            };
            let refused = matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN);
            let right = if allowed {
                !refused && status != StatusCode::NOT_FOUND
            } else {
                match who {
                    Who::Person(..) => status == StatusCode::FORBIDDEN,
                    // A form post without a session is sent to sign in, as its page is.
                    _ if forms.contains_key(path) => status == StatusCode::SEE_OTHER,
                    _ => status == StatusCode::UNAUTHORIZED,
                }
            };
            if !right {
                failures.push(format!(
                    "{who:?} POST {path}: {status} (allowed: {allowed})"
                ));
            }
        }
        for ((method, pattern), needs) in &api {
            let uri = if pattern.starts_with("/api/v1/exports/{id}") {
                pattern.replace("{id}", &export_id(method, pattern).to_string())
            } else {
                concrete(pattern)
            };
            let mut request = Request::builder()
                .method(*method)
                .uri(uri)
                .header(header::CONTENT_TYPE, "application/json");
            request = as_who(request, who);
            let body = match (*method, *pattern) {
                ("POST", "/api/v1/calls") => "[]",
                // An empty OTLP/JSON export request.
                ("POST", "/v1/traces") => "{}",
                ("POST", "/api/v1/exports" | "/api/v1/exports/preview") => r#"{"format": "jsonl"}"#,
                ("POST", "/api/v1/exports/{id}/cancel") => "",
                ("POST", _) => r#"{"verdict": "correct", "base_revision": 0}"#,
                ("PUT", _) => r#"{"description": "a test operation"}"#,
                _ => "",
            };
            let response = send(&app, request.body(Body::from(body)).unwrap()).await;
            let status = response.status();
            let expected_ok =
                matches!((who, needs), (Who::Key(scope, _), Needs::Scope(s)) if scope == s);
            let right = match who {
                _ if expected_ok => status.is_success(),
                Who::Key(..) => status == StatusCode::FORBIDDEN,
                // Sessions do not work on the API: a service needs a key.
                _ => status == StatusCode::UNAUTHORIZED,
            };
            if !right {
                failures.push(format!("{who:?} {method} {pattern}: {status}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} wrong answers:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_issues_a_fresh_session_and_sign_out_ends_it_on_the_server() {
    let db = TestDb::new().await;
    let app = app(&db.store);
    add_user(&db.store, "ana", Role::Reviewer).await;

    // A session id planted before sign-in is never promoted.
    let planted = "redline_session=0123456789abcdef";
    let response = sign_in_as(&app, "ana", PASSWORD, Some(planted)).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/calls");
    let first = session_of(&response).expect("a session cookie");
    assert_ne!(first, planted);
    let set_cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    assert!(
        !set_cookie.contains("Secure"),
        "plain http without a proxy: {set_cookie}"
    );

    let calls = |cookie: &str| {
        with_cookie(get("/calls"), cookie)
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(send(&app, calls(&first)).await.status(), StatusCode::OK);

    // Signing in again (the id changes) drops the old session.
    let response = sign_in_as(&app, "ana", PASSWORD, Some(&first)).await;
    let second = session_of(&response).expect("a new session cookie");
    assert_ne!(first, second);
    assert_eq!(
        send(&app, calls(&first)).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(send(&app, calls(&second)).await.status(), StatusCode::OK);

    // Sign-out ends the session on the server: the same cookie, replayed, is dead.
    let response = send(
        &app,
        with_cookie(Request::post("/auth/logout"), &second)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login");
    let cleared = response.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(
        send(&app, calls(&second)).await.status(),
        StatusCode::SEE_OTHER
    );

    // Behind a TLS proxy Redline trusts, the cookie is `__Host-…; Secure`, and only that
    // cookie signs in; an untrusted peer's X-Forwarded-Proto changes nothing.
    let proxy: std::net::IpAddr = "10.1.0.1".parse().unwrap();
    let behind = router(
        &db.store,
        AuthConfig {
            trusted_proxies: vec![proxy],
            ..AuthConfig::default()
        },
        Limits::default(),
    );
    let via = |peer: &str, request: axum::http::request::Builder, body: Body| {
        let mut request = request
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-for", "198.51.100.9")
            .body(body)
            .unwrap();
        let peer: SocketAddr = format!("{peer}:443").parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(peer));
        request
    };
    let login = || {
        Request::post("/auth/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
    };
    let form = || Body::from(format!("name=ana&password={PASSWORD}"));
    let response = send(&behind, via("10.1.0.1", login(), form())).await;
    let set_cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        set_cookie.starts_with("__Host-redline_session="),
        "{set_cookie}"
    );
    assert!(
        set_cookie.contains("; Secure") && set_cookie.contains("Path=/"),
        "{set_cookie}"
    );
    let token = set_cookie.split(';').next().unwrap().to_string();
    let page = |cookie: String| {
        via(
            "10.1.0.1",
            get("/calls").header(header::COOKIE, cookie),
            Body::empty(),
        )
    };
    assert_eq!(
        send(&behind, page(token.clone())).await.status(),
        StatusCode::OK
    );
    let plain = token.replace("__Host-redline_session", "redline_session");
    assert_eq!(
        send(&behind, page(plain)).await.status(),
        StatusCode::SEE_OTHER,
        "over HTTPS a plain cookie (one a sibling subdomain could plant) signs no one in"
    );
    let response = send(&behind, via("10.1.0.2", login(), form())).await;
    let set_cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(
        set_cookie.starts_with("redline_session=") && !set_cookie.contains("Secure"),
        "{set_cookie}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_when_idle_too_long_and_users_are_disabled() {
    let db = TestDb::new().await;
    let config = AuthConfig {
        idle: Duration::from_millis(1500),
        ..AuthConfig::default()
    };
    let app = router(&db.store, config, Limits::default());
    add_user(&db.store, "ana", Role::Reviewer).await;
    add_user(&db.store, "bob", Role::Reviewer).await;
    let ana = signed_in(&app, "ana").await;
    let calls = |cookie: &str| {
        with_cookie(get("/calls"), cookie)
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(send(&app, calls(&ana)).await.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1700)).await;
    assert_eq!(
        send(&app, calls(&ana)).await.status(),
        StatusCode::SEE_OTHER,
        "idle too long"
    );

    let app = self::app(&db.store);
    let bob = signed_in(&app, "bob").await;
    assert_eq!(send(&app, calls(&bob)).await.status(), StatusCode::OK);
    manage::set_disabled(&db.store, &Actor::cli(), "bob", true)
        .await
        .unwrap();
    assert_eq!(
        send(&app, calls(&bob)).await.status(),
        StatusCode::SEE_OTHER
    );
    let response = sign_in_as(&app, "bob", PASSWORD, None).await;
    assert!(
        location(&response).contains("error=invalid"),
        "disabled users cannot sign in"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_stop_working_at_once_when_revoked_or_their_owner_loses_the_right() {
    let db = TestDb::new().await;
    let app = app(&db.store);
    add_user(&db.store, "eve", Role::Engineer).await;
    add_user(&db.store, "root2", Role::Admin).await;
    let list = |key: &str| {
        Request::get("/api/v1/calls")
            .header(header::AUTHORIZATION, format!("Bearer {key}"))
            .body(Body::empty())
            .unwrap()
    };
    let (key, summary) = manage::create_key(&db.store, &Actor::cli(), "eve", "svc", &[Scope::Read])
        .await
        .unwrap();
    assert_eq!(send(&app, list(&key)).await.status(), StatusCode::OK);
    let keys = db.store.list_keys(None).await.unwrap();
    assert!(keys[0].last_used_at.is_some(), "last use is recorded");
    assert!(
        !format!("{keys:?}").contains(&key),
        "lists never hold the secret"
    );

    manage::revoke_key(&db.store, &Actor::cli(), summary.id, None)
        .await
        .unwrap();
    let response = send(&app, list(&key)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().contains_key(header::WWW_AUTHENTICATE));
    assert!(body_text(response).await.contains("API key"));

    let (key, _) = manage::create_key(&db.store, &Actor::cli(), "eve", "svc2", &[Scope::Read])
        .await
        .unwrap();
    manage::set_role(&db.store, &Actor::cli(), "eve", Role::Reviewer)
        .await
        .unwrap();
    assert_eq!(send(&app, list(&key)).await.status(), StatusCode::FORBIDDEN);
    manage::set_role(&db.store, &Actor::cli(), "eve", Role::Engineer)
        .await
        .unwrap();
    assert_eq!(send(&app, list(&key)).await.status(), StatusCode::OK);
    manage::set_disabled(&db.store, &Actor::cli(), "eve", true)
        .await
        .unwrap();
    assert_eq!(
        send(&app, list(&key)).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // Reviewers hold no keys; a made-up key is just unknown.
    add_user(&db.store, "rita", Role::Reviewer).await;
    assert!(
        manage::create_key(&db.store, &Actor::cli(), "rita", "x", &[Scope::Read])
            .await
            .is_err()
    );
    assert_eq!(
        send(
            &app,
            list("rl_000000000000000000000000000000000000000000000000")
        )
        .await
        .status(),
        StatusCode::UNAUTHORIZED
    );
}

fn sign_in_from(address: &str, name: &str, password: &str) -> Request<Body> {
    let mut request = Request::post("/auth/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("name={name}&password={password}")))
        .unwrap();
    let peer: SocketAddr = format!("{address}:5000").parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_are_limited_per_name_and_address_per_name_and_per_address() {
    let db = TestDb::new().await;
    let config = AuthConfig {
        pair_failures: 3,
        account_failures: 6,
        address_failures: 5,
        ..AuthConfig::default()
    };
    let app = router(&db.store, config, Limits::default());
    add_user(&db.store, "ana", Role::Reviewer).await;
    add_user(&db.store, "bob", Role::Reviewer).await;
    add_user(&db.store, "eve", Role::Reviewer).await;
    let from = sign_in_from;

    // Unknown name and wrong password answer alike.
    let unknown = send(&app, from("10.0.0.1", "nobody", "wrong-password")).await;
    let wrong = send(&app, from("10.0.0.2", "bob", "wrong-password")).await;
    assert_eq!(location(&unknown), location(&wrong));
    assert!(location(&wrong).contains("error=invalid"));

    // One guesser: three failures on ana from one address, then that address waits for ana,
    // even with the right password, while ana herself signs in from her own address.
    for _ in 0..3 {
        let response = send(&app, from("10.0.1.1", "ana", "wrong-password")).await;
        assert!(location(&response).contains("error=invalid"));
    }
    let response = send(&app, from("10.0.1.1", "ana", PASSWORD)).await;
    assert!(
        location(&response).contains("error=limited"),
        "{}",
        location(&response)
    );
    assert!(session_of(&response).is_none());
    let response = send(&app, from("10.0.9.9", "ana", PASSWORD)).await;
    assert_eq!(location(&response), "/calls", "the owner is not locked out");

    // Guessers on many addresses: the slower per-name limit (six in its window) holds,
    // except where eve signed in before: the guessers cannot lock her out of her place.
    let response = send(&app, from("10.0.7.7", "eve", PASSWORD)).await;
    assert_eq!(location(&response), "/calls");
    for i in 0..6 {
        let response = send(&app, from(&format!("10.0.3.{i}"), "eve", "wrong-password")).await;
        assert!(location(&response).contains("error=invalid"), "guess {i}");
    }
    let response = send(&app, from("10.0.3.200", "eve", PASSWORD)).await;
    assert!(location(&response).contains("error=limited"));
    let response = send(&app, from("10.0.7.7", "eve", PASSWORD)).await;
    assert_eq!(location(&response), "/calls", "eve's own address is spared");
    // Another account is not affected.
    let response = send(&app, from("10.0.3.200", "bob", PASSWORD)).await;
    assert_eq!(location(&response), "/calls");

    // One address trying many names: five failures, then that address waits.
    for name in ["u1", "u2", "u3", "u4", "u5"] {
        send(&app, from("10.0.2.1", name, "wrong-password")).await;
    }
    let response = send(&app, from("10.0.2.1", "bob", PASSWORD)).await;
    assert!(location(&response).contains("error=limited"));
    let response = send(&app, from("10.0.2.2", "bob", PASSWORD)).await;
    assert_eq!(
        location(&response),
        "/calls",
        "other addresses are not affected"
    );
    // Successful sign-ins do not use up an address's allowance.
    for _ in 0..8 {
        let response = send(&app, from("10.0.4.1", "bob", PASSWORD)).await;
        assert_eq!(location(&response), "/calls");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_guesses_pass_the_limit_no_more_often_than_one_by_one() {
    let db = TestDb::new().await;
    let app = router(&db.store, AuthConfig::default(), Limits::default());
    add_user(&db.store, "ana", Role::Admin).await;
    let mut guesses = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let app = app.clone();
        guesses.spawn(async move {
            location(&send(&app, sign_in_from("10.0.5.1", "ana", "wrong-password")).await)
        });
    }
    let answers = guesses.join_all().await;
    let checked = answers
        .iter()
        .filter(|l| l.contains("error=invalid"))
        .count();
    let limited = answers
        .iter()
        .filter(|l| l.contains("error=limited"))
        .count();
    let limit = AuthConfig::default().pair_failures;
    assert_eq!((checked, limited), (limit, 40 - limit), "{answers:?}");
    // The owner, from another address, still signs in.
    let response = send(&app, sign_in_from("10.0.5.2", "ana", PASSWORD)).await;
    assert_eq!(location(&response), "/calls");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_names_are_bounded_and_never_reach_the_log_raw() {
    let db = TestDb::new().await;
    let app = app(&db.store);
    add_user(&db.store, "ana", Role::Reviewer).await;
    for name in ["a".repeat(10_000), "ana%0AFAKE%20LOG%20LINE".to_string()] {
        let response = send(&app, sign_in_from("10.0.6.1", &name, PASSWORD)).await;
        assert!(
            location(&response).contains("error=invalid"),
            "{}",
            &name[..20]
        );
    }
    // A sign-in form larger than an anonymous request may be is refused before it is read.
    let response = send(
        &app,
        sign_in_from("10.0.6.2", &"a".repeat(100_000), PASSWORD),
    )
    .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_state_changes_are_refused() {
    let db = TestDb::new().await;
    let app = app(&db.store);
    add_user(&db.store, "adm", Role::Admin).await;
    let cookie = signed_in(&app, "adm").await;

    let add_user_from = |site: Option<&str>, origin: Option<&str>| {
        let mut request = with_cookie(Request::post("/api/add_user"), &cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::HOST, "redline.test");
        if let Some(site) = site {
            request = request.header("sec-fetch-site", site);
        }
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        request.body(Body::from("name=mallory&role=admin")).unwrap()
    };
    let response = send(&app, add_user_from(Some("cross-site"), None)).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(body_text(response).await.contains("cross-site"));
    let response = send(&app, add_user_from(None, Some("https://evil.example"))).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        db.store.find_user("mallory").await.unwrap().is_none(),
        "nothing changed"
    );

    // A form posted to sign-out from another site does not sign anyone out.
    let response = send(
        &app,
        with_cookie(Request::post("/auth/logout"), &cookie)
            .header("sec-fetch-site", "cross-site")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let still = send(
        &app,
        with_cookie(get("/calls"), &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(still.status(), StatusCode::OK);

    // The same request from Redline's own page goes through.
    let response = send(
        &app,
        add_user_from(Some("same-origin"), Some("http://redline.test")),
    )
    .await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{}",
        body_text(response).await
    );
    assert!(db.store.find_user("mallory").await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_the_security_headers_and_pages_use_the_nonce() {
    let db = TestDb::new().await;
    let app = app(&db.store);
    add_user(&db.store, "ana", Role::Reviewer).await;
    let cookie = signed_in(&app, "ana").await;
    for (uri, cookie) in [
        ("/calls", Some(cookie.as_str())),
        ("/login", None),
        ("/api/v1/calls", None),
        ("/healthz", None),
        ("/pkg/missing.js", None),
        ("/admin", Some(cookie.as_str())),
    ] {
        let mut request = get(uri);
        if let Some(cookie) = cookie {
            request = with_cookie(request, cookie);
        }
        let response = send(&app, request.body(Body::empty()).unwrap()).await;
        let headers = response.headers().clone();
        let status = response.status();
        let csp = headers
            .get(header::CONTENT_SECURITY_POLICY)
            .unwrap_or_else(|| panic!("{uri}: no CSP ({status})"))
            .to_str()
            .unwrap()
            .to_string();
        for part in [
            "default-src 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
            "'wasm-unsafe-eval'",
        ] {
            assert!(csp.contains(part), "{uri}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{uri}: {csp}");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{uri}");
        assert_eq!(headers[header::REFERRER_POLICY], "same-origin", "{uri}");
        if uri == "/calls" || uri == "/login" {
            let nonce = csp
                .split("'nonce-")
                .nth(1)
                .and_then(|rest| rest.split('\'').next())
                .expect("a nonce");
            let html = body_text(response).await;
            assert!(
                html.contains(&format!("nonce=\"{nonce}\"")),
                "{uri}: the page's scripts must carry this response's nonce"
            );
            assert!(
                !html.contains("<script>"),
                "{uri}: a script without the nonce"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_slow_and_excess_requests_get_clear_errors() {
    let db = TestDb::new().await;
    let limits = Limits {
        max_body_bytes: 64 * 1024,
        body_timeout: Duration::from_millis(400),
        max_uploads_per_client: 2,
        ..Limits::default()
    };
    let app = router(&db.store, AuthConfig::default(), limits);
    add_user(&db.store, "ana", Role::Reviewer).await;

    let big = "x".repeat(100 * 1024);
    let response = send(
        &app,
        Request::post("/auth/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::CONTENT_LENGTH, big.len())
            .body(Body::from(big.clone()))
            .unwrap(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body_text(response).await.contains("larger than"));
    // Streamed without a length: cut off at the limit all the same.
    let chunks = futures_util::stream::iter(
        (0..20).map(|_| Ok::<_, std::io::Error>(axum::body::Bytes::from(vec![b'x'; 8 * 1024]))),
    );
    let response = send(
        &app,
        Request::post("/auth/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from_stream(chunks))
            .unwrap(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Bodies that never finish, from one address: two are received at once, a third is
    // refused at once; each is stopped at the body deadline with a clear message.
    let slow_from = |address: &str| {
        let never = futures_util::stream::pending::<Result<axum::body::Bytes, std::io::Error>>();
        let mut request = Request::post("/auth/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from_stream(never))
            .unwrap();
        let peer: SocketAddr = format!("{address}:5000").parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(peer));
        request
    };
    let pending: Vec<_> = (0..2)
        .map(|_| {
            let (app, request) = (app.clone(), slow_from("10.9.0.1"));
            tokio::spawn(async move { send(&app, request).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let response = send(&app, slow_from("10.9.0.1")).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(body_text(response).await.contains("uploads at once"));
    // Meanwhile everything else is served: health, a page, a sign-in from elsewhere.
    let response = send(&app, get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = send(&app, get("/login").body(Body::empty()).unwrap()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = send(&app, sign_in_from("10.9.0.2", "ana", PASSWORD)).await;
    assert_eq!(location(&response), "/calls");
    for task in pending {
        let response = task.await.unwrap();
        assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
        assert!(body_text(response).await.contains("did not arrive"));
    }

    // A server with every request slot taken refuses at once instead of queuing; its
    // health checks still answer.
    let full = router(
        &db.store,
        AuthConfig::default(),
        Limits {
            max_in_flight: 0,
            ..Limits::default()
        },
    );
    let response = send(&full, get("/login").body(Body::empty()).unwrap()).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(body_text(response).await.contains("busy"));
    let response = send(&full, get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audited_actions_are_logged_with_who_what_and_where() {
    let db = TestDb::new().await;
    let store = &db.store;
    let app = app(store);
    add_user(store, "adm", Role::Admin).await;
    let cookie = signed_in(&app, "adm").await;

    // Through the browser's server functions, from a known address.
    let call = |path: &str, body: &str| {
        let mut request = with_cookie(Request::post(path), &cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.to_string()))
            .unwrap();
        request
            .extensions_mut()
            .insert(ConnectInfo("192.0.2.7:4000".parse::<SocketAddr>().unwrap()));
        request
    };
    let mut secret = String::new();
    for (path, body) in [
        ("/api/add_user", "name=rita&role=reviewer"),
        ("/api/update_user", "name=rita&change=role&role=lead"),
        ("/api/update_user", "name=rita&change=disable"),
        ("/api/update_user", "name=rita&change=enable"),
        ("/api/update_user", "name=rita&change=reset"),
        ("/api/create_key", "name=svc&scopes=ingest%2Cread"),
    ] {
        let response = send(&app, call(path, body)).await;
        let status = response.status();
        let text = body_text(response).await;
        assert_eq!(status, StatusCode::OK, "{path} {body}: {text}");
        if path == "/api/create_key" {
            let created: serde_json::Value = serde_json::from_str(&text).expect("JSON");
            secret = created["secret"]
                .as_str()
                .expect("the secret, once")
                .to_string();
        }
    }
    assert!(secret.starts_with("rl_"));
    let keys = store.list_keys(None).await.unwrap();
    let response = send(&app, call("/api/revoke_key", &format!("id={}", keys[0].id))).await;
    assert_eq!(response.status(), StatusCode::OK);

    let entries = store
        .list_audit(&AuditQuery {
            actor: Some("adm".into()),
            limit: 100,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = entries.iter().rev().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "auth.login",
            "user.add",
            "user.set_role",
            "user.disable",
            "user.enable",
            "user.reset",
            "key.create",
            "key.revoke"
        ]
    );
    let set_role = entries
        .iter()
        .find(|e| e.action == "user.set_role")
        .unwrap();
    assert_eq!(set_role.target, "rita");
    assert!(set_role.detail.contains("lead"));
    assert_eq!(set_role.address.as_deref(), Some("192.0.2.7"));
    assert!(
        !format!("{entries:?}").contains(&secret),
        "the audit log never holds a key"
    );

    // Families filter; the command line is an actor too.
    key_with(store, "adm", &[Scope::Export]).await;
    let key_entries = store
        .list_audit(&AuditQuery {
            action: Some("key".into()),
            limit: 100,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(key_entries.len(), 3);
    assert_eq!(key_entries[0].actor, "cli");

    // The log is append-only, even for someone with the database URL.
    for statement in [
        "UPDATE audit_log SET actor = 'someone else'",
        "DELETE FROM audit_log",
    ] {
        let error = tamper(&db, statement).await.expect_err(statement);
        assert!(error.contains("append-only"), "{statement}: {error}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_start_creates_one_admin_and_guards_the_last_one() {
    let db = TestDb::new().await;
    let store = &db.store;
    let generated = redline::auth::ensure_admin(store, None)
        .await
        .unwrap()
        .expect("a generated password");
    assert!(generated.len() >= 16);
    assert!(redline::auth::ensure_admin(store, None)
        .await
        .unwrap()
        .is_none());
    let admin = store.find_user("admin").await.unwrap().unwrap();
    assert_eq!(admin.role, Role::Admin);
    assert!(secrets::verify_password(&generated, &admin.password_hash));

    let err = manage::set_role(store, &Actor::cli(), "admin", Role::Reviewer)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("last enabled admin"), "{err}");
    assert!(manage::set_disabled(store, &Actor::cli(), "admin", true)
        .await
        .is_err());
    let err = manage::add_user(store, &Actor::cli(), "admin", Role::Lead, None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("exists"), "{err}");
    let err = manage::add_user(store, &Actor::cli(), "x", Role::Lead, Some("short".into()))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("at least"), "{err}");
}

async fn tamper(db: &TestDb, statement: &str) -> Result<u64, String> {
    common::raw_statement(db, statement).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_first_password_must_be_replaced_before_anything_else() {
    let db = TestDb::new().await;
    let app = app(&db.store);
    let generated = redline::auth::ensure_admin(&db.store, None)
        .await
        .unwrap()
        .expect("a generated password");
    let form = |pairs: &[(&str, String)]| redline::model::encode_query(pairs);
    let sign_in = || {
        Request::post("/auth/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form(&[
                ("name", "admin".into()),
                ("password", generated.clone()),
            ])))
            .unwrap()
    };
    let cookie = session_of(&send(&app, sign_in()).await).expect("signed in");
    let other = session_of(&send(&app, sign_in()).await).expect("a second session");
    let page = |uri: &str, cookie: &str| with_cookie(get(uri), cookie).body(Body::empty()).unwrap();

    // Every page leads to the password page; server functions and the admin's tools refuse.
    for uri in ["/calls", "/admin", "/keys"] {
        let response = send(&app, page(uri, &cookie)).await;
        assert!(response.status().is_redirection(), "{uri}");
        assert_eq!(location(&response), "/account/password", "{uri}");
    }
    let response = send(
        &app,
        with_cookie(Request::post("/api/list_users"), &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = send(&app, page("/account/password", &cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);

    let change = |current: &str, new: &str, repeat: &str| {
        with_cookie(Request::post("/auth/password"), &cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form(&[
                ("current", current.into()),
                ("new", new.into()),
                ("repeat", repeat.into()),
            ])))
            .unwrap()
    };
    let chosen = "a password only I know";
    for (current, new, repeat, error) in [
        ("wrong-password-1", chosen, chosen, "current"),
        (generated.as_str(), chosen, "another one entirely", "repeat"),
        (generated.as_str(), "short", "short", "strength"),
        (
            generated.as_str(),
            generated.as_str(),
            generated.as_str(),
            "same",
        ),
    ] {
        let response = send(&app, change(current, new, repeat)).await;
        assert_eq!(
            location(&response),
            format!("/account/password?error={error}")
        );
    }
    let still = store_user(&db.store).await;
    assert!(secrets::verify_password(&generated, &still.password_hash));

    let response = send(&app, change(&generated, chosen, chosen)).await;
    assert_eq!(location(&response), "/calls");
    let admin = store_user(&db.store).await;
    assert!(secrets::verify_password(chosen, &admin.password_hash));
    // Now the admin's pages open, the other session has ended, and the change is audited.
    let response = send(&app, page("/admin", &cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = send(&app, page("/calls", &other)).await;
    assert!(
        location(&response).starts_with("/login"),
        "{}",
        location(&response)
    );
    let audit = db
        .store
        .list_audit(&redline::store::AuditQuery {
            actor: None,
            action: None,
            before: None,
            limit: 50,
        })
        .await
        .unwrap();
    assert!(audit
        .iter()
        .any(|e| e.action == "user.password" && e.target == "admin"));

    // Anonymous callers cannot use the form.
    let response = send(
        &app,
        Request::post("/auth/password")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("current=x&new=y&repeat=y"))
            .unwrap(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

async fn store_user(store: &Store) -> redline::store::UserRecord {
    store.find_user("admin").await.unwrap().expect("admin")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keys_and_users_forms_work_without_javascript() {
    let db = TestDb::new().await;
    let store = &db.store;
    let app = app(store);
    add_user(store, "ada", Role::Admin).await;
    add_user(store, "rita", Role::Reviewer).await;
    let admin = signed_in(&app, "ada").await;
    let reviewer = signed_in(&app, "rita").await;
    let post_form = |path: &str, cookie: &str, form: &str| {
        with_cookie(Request::post(path), cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form.to_string()))
            .unwrap()
    };
    // The one-time secret on the page a plain form post answers with.
    let secret_on = |page: &str| -> String {
        let at = page
            .find("once-secret")
            .unwrap_or_else(|| panic!("no secret in {page}"));
        let start = at + page[at..].find('>').expect("the tag ends") + 1;
        page[start..]
            .split('<')
            .next()
            .unwrap_or_default()
            .to_string()
    };

    // Adding a user shows the generated password once; it signs them in.
    let response = send(
        &app,
        post_form("/admin/users/add", &admin, "name=nora&role=engineer"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    let page = body_text(response).await;
    assert!(page.contains("Added nora as engineer."), "{page}");
    let password = secret_on(&page);
    assert!(password.len() >= 12, "{password}");
    let nora = store.find_user("nora").await.unwrap().expect("nora");
    assert_eq!(nora.role, Role::Engineer);
    assert!(secrets::verify_password(&password, &nora.password_hash));

    // Role, disable, enable: back to the page; a reset shows the new password once.
    for (form, role, disabled) in [
        ("name=nora&change=role&role=lead", Role::Lead, false),
        ("name=nora&change=disable", Role::Lead, true),
        ("name=nora&change=enable", Role::Lead, false),
        ("name=nora&change=role&role=engineer", Role::Engineer, false),
    ] {
        let response = send(&app, post_form("/admin/users/change", &admin, form)).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{form}");
        assert_eq!(location(&response), "/admin");
        let nora = store.find_user("nora").await.unwrap().expect("nora");
        assert_eq!((nora.role, nora.disabled), (role, disabled), "{form}");
    }
    let response = send(
        &app,
        post_form("/admin/users/change", &admin, "name=nora&change=reset"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let password = secret_on(&body_text(response).await);
    let nora = store.find_user("nora").await.unwrap().expect("nora");
    assert!(secrets::verify_password(&password, &nora.password_hash));

    // A refused change says why and changes nothing.
    let response = send(
        &app,
        post_form(
            "/admin/users/change",
            &admin,
            "name=nora&change=role&role=pope",
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(body_text(response).await.contains("unknown role"));
    assert_eq!(
        store.find_user("nora").await.unwrap().expect("nora").role,
        Role::Engineer
    );

    // A key: its secret shown once and working; revoked, it stops.
    let response = send(
        &app,
        post_form(
            "/keys/create",
            &admin,
            "name=nightly&scope=read&scope=ingest",
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let key = secret_on(&body_text(response).await);
    assert!(key.starts_with("rl_"), "{key}");
    let list = |key: String| {
        Request::get("/api/v1/calls")
            .header(header::AUTHORIZATION, format!("Bearer {key}"))
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(send(&app, list(key.clone())).await.status(), StatusCode::OK);
    let stored = store.list_keys(None).await.unwrap();
    let nightly = stored
        .iter()
        .find(|k| k.name == "nightly")
        .expect("the key");
    assert_eq!(nightly.scopes, vec![Scope::Ingest, Scope::Read]);
    let form = format!("id={}", nightly.id);
    let response = send(&app, post_form("/keys/revoke", &admin, &form)).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/keys");
    assert_eq!(
        send(&app, list(key)).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // A reviewer may do none of it; the audit log has every change, by the admin.
    for path in [
        "/keys/create",
        "/keys/revoke",
        "/admin/users/add",
        "/admin/users/change",
    ] {
        let response = send(
            &app,
            post_form(
                path,
                &reviewer,
                "name=x&role=admin&change=reset&id=1&scope=read",
            ),
        )
        .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
    }
    assert!(store.find_user("x").await.unwrap().is_none());
    // Without a session, the browser is sent to sign in and back to the page.
    let anonymous = Request::post("/keys/create")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("name=x&scope=read"))
        .unwrap();
    let response = send(&app, anonymous).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login?next=%2Fkeys");
    assert_eq!(
        audited_actions(store, "ada").await,
        [
            "auth.login",
            "user.add",
            "user.set_role",
            "user.disable",
            "user.enable",
            "user.set_role",
            "user.reset",
            "key.create",
            "key.revoke"
        ]
    );
}
