//! Two `redline serve` processes on one database (the backend `REDLINE_TEST_BACKEND` names):
//! both serve the same data, and every background job runs exactly once.

mod common;

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use chrono::Utc;
use common::{item, TestDb};
use redline::store::JobState;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

struct Instance {
    name: String,
    port: u16,
    _process: Child,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

/// A site folder with placeholder files: these tests talk to the API, not the pages, and run
/// before the site is built.
fn stub_site() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("stub-site");
    for file in ["pkg/redline.js", "pkg/redline.wasm", "pkg/redline.css"] {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("create the stub site");
        std::fs::write(&path, "").expect("write the stub site");
    }
    dir
}

async fn start(db: &TestDb, name: &str) -> Instance {
    let port = free_port();
    let log =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("instance-{name}-{port}.log"));
    let process = Command::new(env!("CARGO_BIN_EXE_redline"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .args(["--site-root", &stub_site().display().to_string()])
        .args([
            "--database",
            &db.url,
            "--instance",
            name,
            "--job-poll-ms",
            "20",
        ])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .kill_on_drop(true)
        .spawn()
        .expect("start redline serve");
    for _ in 0..300 {
        if let Ok((200, _)) = request(port, "GET", "/readyz", "", "none").await {
            return Instance {
                name: name.into(),
                port,
                _process: process,
            };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "instance {name} did not become ready; see {}",
        log.display()
    );
}

/// One HTTP/1.1 request over a fresh connection: (status, body).
async fn request(
    port: u16,
    method: &str,
    path: &str,
    body: &str,
    authorization: &str,
) -> std::io::Result<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Authorization: {authorization}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let text = String::from_utf8_lossy(&response);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

async fn json(port: u16, method: &str, path: &str, body: &str, authorization: &str) -> Value {
    let (status, text) = request(port, method, path, body, authorization)
        .await
        .expect("request");
    assert!(status < 300, "{method} {path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
}

#[tokio::test]
async fn two_instances_share_data_and_run_each_job_once() {
    let db = TestDb::new().await;
    let key = common::credentials(&db.store, "tester").await.authorization;
    let a = start(&db, "instance-a").await;
    let b = start(&db, "instance-b").await;

    // Ingested through A, listed and opened through B.
    let batch = json!([item("op_a", 1, "first"), item("op_a", 2, "second")]);
    let ingested = json(a.port, "POST", "/api/v1/calls", &batch.to_string(), &key).await;
    let id = ingested["results"][1]["id"]
        .as_str()
        .expect("an id")
        .to_string();
    let listed = json(b.port, "GET", "/api/v1/calls?operation=op_a", "", &key).await;
    let previews: Vec<&str> = listed["calls"]
        .as_array()
        .expect("calls")
        .iter()
        .filter_map(|c| c["output_preview"].as_str())
        .collect();
    assert_eq!(previews, ["second", "first"]);
    let call = json(b.port, "GET", &format!("/api/v1/calls/{id}"), "", &key).await;
    assert_eq!(call["output"], "second");

    // Jobs queued once are run once, by one instance or the other.
    let mut queued = HashSet::new();
    for _ in 0..40 {
        let id = db
            .store
            .enqueue_job("noop", r#"{"sleep_ms": 15}"#, Utc::now())
            .await
            .unwrap();
        queued.insert(id);
    }
    let mut jobs = Vec::new();
    for _ in 0..300 {
        jobs = db.store.list_jobs(100).await.unwrap();
        if jobs.iter().all(|job| job.state == JobState::Done) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(jobs.len(), 40);
    let mut runners = HashSet::new();
    for job in &jobs {
        assert!(queued.contains(&job.id));
        assert_eq!((job.state, job.attempts), (JobState::Done, 1), "{job:?}");
        runners.insert(job.claimed_by.clone().unwrap_or_default());
    }
    let names: HashSet<String> = [a.name.clone(), b.name.clone()].into();
    assert_eq!(
        runners, names,
        "both instances took jobs, and only they did"
    );
}

#[test]
fn serve_refuses_to_start_without_its_site_and_says_how_to_build_it() {
    let missing = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("no-site-here");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_redline"))
        .args(["serve", "--addr", "127.0.0.1:0", "--site-root"])
        .arg(&missing)
        .args(["--database", "sqlite://never-opened.db"])
        .output()
        .expect("run redline serve");
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("no-site-here")
            && said.contains("./scripts/build.sh")
            && said.contains("--site-root"),
        "{said}"
    );
    assert!(!std::path::Path::new("never-opened.db").exists());
}
