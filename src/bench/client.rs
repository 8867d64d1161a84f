//! The harness's side of the wire: fresh databases per measurement, the server started as a
//! process of its own, a bench user's key and session, and one HTTP request at a time.

use std::process::Stdio;
use std::time::Duration;

use chrono::Utc;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

use super::{AnyError, BenchArgs};
use crate::store::{describe_server, reset_schema, Store};

/// A fresh database for one measurement: a file in `--dir`, or with `--postgres` a schema
/// `bench_<name>` (dropped and created again).
pub(super) async fn db_url(args: &BenchArgs, name: &str) -> Result<String, AnyError> {
    match &args.postgres {
        None => Ok(format!(
            "sqlite://{}",
            args.dir.join(format!("{name}.db")).display()
        )),
        Some(url) => {
            reset_schema(url, &format!("bench_{name}"), true).await?;
            let separator = if url.contains('?') { '&' } else { '?' };
            Ok(format!("{url}{separator}options[search_path]=bench_{name}"))
        }
    }
}

pub(super) async fn drop_db(args: &BenchArgs, name: &str) -> Result<(), AnyError> {
    match &args.postgres {
        None => {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(args.dir.join(format!("{name}.db{suffix}")));
            }
        }
        Some(url) => reset_schema(url, &format!("bench_{name}"), false).await?,
    }
    Ok(())
}

pub(super) async fn postgres_version(url: &str) -> Result<String, AnyError> {
    let (version, shared_buffers) = describe_server(url).await?;
    Ok(format!(
        "PostgreSQL {version} on the same machine (shared_buffers {shared_buffers}, default settings otherwise)"
    ))
}

pub(super) async fn start_server(
    args: &BenchArgs,
    url: &str,
) -> Result<tokio::process::Child, AnyError> {
    let exe = std::env::current_exe()?;
    let child = tokio::process::Command::new(exe)
        .args([
            "serve",
            "--addr",
            &format!("127.0.0.1:{}", args.port),
            "--database",
            url,
            "--job-poll-ms",
            "50",
            "--export-dir",
        ])
        .arg(args.dir.join("exports"))
        .env("REDLINE_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let addr = format!("127.0.0.1:{}", args.port);
    for _ in 0..100 {
        if let Ok((200, _)) = request(&addr, "GET", "/readyz", None, &Creds::default()).await {
            return Ok(child);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("the server did not start within 10 s".into())
}

pub(super) async fn stop_server(server: &mut tokio::process::Child) {
    if let Some(pid) = server.id() {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
    }
    let _ = tokio::time::timeout(Duration::from_secs(20), server.wait()).await;
}

pub(super) async fn connect(
    addr: &str,
) -> Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>, AnyError> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// A bench user's API key (every scope) and signed-in session, made in the database the
/// server uses, as a service and a reviewer would hold them.
#[derive(Clone, Debug, Default)]
pub(super) struct Creds {
    pub(super) authorization: String,
    pub(super) cookie: String,
}

pub(super) async fn bench_credentials(url: &str) -> Result<Creds, AnyError> {
    use crate::auth::manage::{self, Actor};
    use crate::auth::secrets;
    use crate::model::auth::{Role, Scope};
    let store = Store::open(url).await?;
    let name = "bench";
    if store.find_user(name).await?.is_none() {
        // A password of its own (a generated one must be replaced before any page opens).
        let password = secrets::random_hex(16)?;
        manage::add_user(&store, &Actor::cli(), name, Role::Engineer, Some(password)).await?;
    }
    // Every scope but `configure`, which only admins' keys may hold (the bench defines no
    // operations).
    let scopes: Vec<Scope> = Scope::ALL
        .into_iter()
        .filter(|scope| *scope != Scope::Configure)
        .collect();
    let (key, _) = manage::create_key(&store, &Actor::cli(), name, "bench", &scopes).await?;
    let user = store
        .find_user(name)
        .await?
        .ok_or("the bench user vanished")?;
    let token = secrets::random_hex(32)?;
    store
        .create_session(&secrets::token_hash(&token), user.id, None, Utc::now())
        .await?;
    store.close().await;
    Ok(Creds {
        authorization: format!("Bearer {key}"),
        cookie: format!("redline_session={token}"),
    })
}

pub(super) async fn request(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<Bytes>,
    creds: &Creds,
) -> Result<(u16, Bytes), AnyError> {
    let mut sender = connect(addr).await?;
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr);
    if !creds.authorization.is_empty() {
        req = req
            .header("authorization", &creds.authorization)
            .header("cookie", &creds.cookie);
    }
    let req = req.body(Full::new(body.unwrap_or_default()))?;
    let res = sender.send_request(req).await?;
    let status = res.status().as_u16();
    Ok((status, res.into_body().collect().await?.to_bytes()))
}
