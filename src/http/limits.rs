//! The limits every request passes before anything else runs: the declared size, a deadline
//! for receiving the body (read before a request slot is taken, so slow uploads cannot hold
//! the slots), uploads at once per client address and overall, requests in progress at once,
//! and the time a request may take.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use super::middleware::{client_address, limit_key};
use crate::error::AppError;

/// Limits every request shares (see `docs/decisions.md`, "Hardening").
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest request body anywhere (the ingest route allows 10 MB itself).
    pub max_body_bytes: usize,
    /// A request not answered in this time (after its body arrived) gets 408.
    pub request_timeout: Duration,
    /// Requests in progress at once; more are refused with 503 at once instead of queuing.
    pub max_in_flight: usize,
    /// A body not received in this time gets 408; while it arrives it holds no request slot.
    pub body_timeout: Duration,
    /// Bodies being received at once from one client address; more get 429.
    pub max_uploads_per_client: usize,
    /// Bodies being received at once from everyone; more get 503.
    pub max_uploads: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_body_bytes: 12 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            max_in_flight: 256,
            body_timeout: Duration::from_secs(30),
            max_uploads_per_client: 8,
            max_uploads: 128,
        }
    }
}

/// Largest body of a request that carries no credentials (no cookie, no API key).
pub const ANONYMOUS_MAX_BODY_BYTES: usize = 64 * 1024;

/// The limits in force for one router.
#[derive(Clone)]
pub struct Guard {
    limits: Limits,
    /// Requests in progress. `try_acquire` never waits: a full server answers 503 at once.
    permits: Arc<Semaphore>,
    uploads: Arc<Semaphore>,
    uploads_by_client: Arc<Mutex<HashMap<IpAddr, usize>>>,
    trusted_proxies: Arc<Vec<IpAddr>>,
}

impl Guard {
    pub fn new(limits: &Limits, trusted_proxies: &[IpAddr]) -> Guard {
        Guard {
            limits: limits.clone(),
            permits: Arc::new(Semaphore::new(limits.max_in_flight)),
            uploads: Arc::new(Semaphore::new(limits.max_uploads)),
            uploads_by_client: Arc::new(Mutex::new(HashMap::new())),
            trusted_proxies: Arc::new(trusted_proxies.to_vec()),
        }
    }

    pub async fn run(self, request: Request, next: Next) -> Response {
        let max = self.limits.max_body_bytes;
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        // Without credentials, a request has no business sending much: the sign-in form is
        // small, and everything else refuses it anyway. Anonymous clients cannot make the
        // server hold megabytes.
        let anonymous = !request.headers().contains_key(header::AUTHORIZATION)
            && !request.headers().contains_key(header::COOKIE);
        let max = if anonymous {
            max.min(ANONYMOUS_MAX_BODY_BYTES)
        } else {
            max
        };
        if declared.is_some_and(|len| len > max as u64) {
            return too_large(max);
        }
        let request = if has_body(&request, declared) {
            match self.receive(request, max).await {
                Ok(request) => request,
                Err(refused) => return refused,
            }
        } else {
            request
        };
        let Ok(_permit) = self.permits.try_acquire() else {
            return AppError::busy().into_response();
        };
        let timeout = self.limits.request_timeout;
        match tokio::time::timeout(timeout, next.run(request)).await {
            Ok(response) => response,
            Err(_) => AppError::TimedOut(format!(
                "the request took longer than {} s and was stopped",
                timeout.as_secs_f64()
            ))
            .into_response(),
        }
    }

    /// Reads the whole body within `body_timeout`, holding an upload slot (of the client's
    /// and of everyone's) but no request slot.
    async fn receive(&self, request: Request, max: usize) -> Result<Request, Response> {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip());
        let client = client_address(peer, request.headers(), &self.trusted_proxies).map(limit_key);
        let _client_slot = match client {
            Some(ip) => Some(self.client_upload(ip).ok_or_else(|| {
                AppError::TooManyRequests(format!(
                    "more than {} uploads at once from your address; wait for one to finish",
                    self.limits.max_uploads_per_client
                ))
                .into_response()
            })?),
            None => None,
        };
        let Ok(_upload) = self.uploads.try_acquire() else {
            return Err(AppError::Busy(
                "the server is receiving too many uploads; try again shortly".into(),
            )
            .into_response());
        };
        let (parts, body) = request.into_parts();
        let deadline = self.limits.body_timeout;
        match tokio::time::timeout(deadline, axum::body::to_bytes(body, max)).await {
            Ok(Ok(bytes)) => Ok(Request::from_parts(parts, Body::from(bytes))),
            Ok(Err(_)) => Err(too_large(max)),
            Err(_) => Err(AppError::TimedOut(format!(
                "the request body did not arrive within {} s",
                deadline.as_secs_f64()
            ))
            .into_response()),
        }
    }

    fn client_upload(&self, ip: IpAddr) -> Option<ClientUpload> {
        let mut map = self
            .uploads_by_client
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let count = map.entry(ip).or_insert(0);
        if *count >= self.limits.max_uploads_per_client {
            return None;
        }
        *count += 1;
        Some(ClientUpload {
            ip,
            map: self.uploads_by_client.clone(),
        })
    }
}

/// One upload of a client in progress; gives its place back when dropped (finished, refused
/// or abandoned by a closed connection).
struct ClientUpload {
    ip: IpAddr,
    map: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Drop for ClientUpload {
    fn drop(&mut self) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = map.get_mut(&self.ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

/// Whether a request carries a body to receive: a declared length over zero, or a chunked
/// one on a method that sends bodies.
fn has_body(request: &Request, declared: Option<u64>) -> bool {
    match declared {
        Some(len) => len > 0,
        None => {
            request.headers().contains_key(header::TRANSFER_ENCODING)
                || !matches!(
                    *request.method(),
                    Method::GET | Method::HEAD | Method::OPTIONS | Method::DELETE
                )
        }
    }
}

fn too_large(max: usize) -> Response {
    let limit = if max >= 1024 * 1024 {
        format!("{} MB", max / (1024 * 1024))
    } else {
        format!("{} KB", max / 1024)
    };
    AppError::TooLarge(format!("the request body is larger than {limit}")).into_response()
}
