//! The checks every request passes, in one middleware around the whole router: who is
//! calling (session cookie or API key), whether the route allows them (`policy`), whether a
//! state-changing browser request comes from Redline's own pages, and the security headers
//! on every response.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Json;
use chrono::Utc;

use crate::auth::policy::{self, Access};
use crate::auth::{secrets, Caller, ClientAddress, Https, Person};
use crate::error::AppError;
use crate::http::state::AppState;
use crate::model::auth::Capability;
use crate::store::StoreError;

/// The nonce of this response's Content-Security-Policy; the page's own scripts carry it.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

/// Last-seen and last-used times are written at most this often per session or key.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// The outermost layer: a fresh CSP nonce for the request, and the security headers on its
/// response, whichever layer produced it (a refusal for load or size included).
pub async fn secure(mut request: Request, next: Next) -> Response {
    let nonce = secrets::random_hex(16).unwrap_or_default();
    request.extensions_mut().insert(CspNonce(nonce.clone()));
    let response = next.run(request).await;
    with_security_headers(response, &nonce)
}

pub async fn authorize(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip());
    let config = state.auth.config();
    let address = ClientAddress(
        client_address(peer, request.headers(), &config.trusted_proxies).map(|ip| ip.to_string()),
    );
    let https = Https(
        config.secure_cookies
            || (peer.is_some_and(|p| is_trusted_proxy(p, &config.trusted_proxies))
                && request
                    .headers()
                    .get("x-forwarded-proto")
                    .is_some_and(|p| p.as_bytes().eq_ignore_ascii_case(b"https"))),
    );
    let path = request.uri().path().to_string();
    if !policy::is_canonical(&path) {
        // Nothing behind the router ever sees a path that could name another route than
        // the one checked here.
        return AppError::bad_request(
            "this path has dot segments, encoded separators or empty segments; ask for the page by its plain path",
        )
        .into_response();
    }
    let method = request.method().clone();
    let access = policy::access(&method, &path);
    // OTLP exporters post to /v1/traces with an API key, as the REST API is called.
    let is_api =
        path == "/api/v1" || path.starts_with("/api/v1/") || path == crate::otlp::TRACES_PATH;

    // Static files are public and never look at the caller: no session lookup per asset.
    let identified = if policy::is_static(&path) {
        Ok(Caller::Anonymous)
    } else {
        identify(&state, request.headers(), is_api, https).await
    };
    let response = match identified {
        Err(error) => AppError::from(error).into_response(),
        Ok(caller) => {
            if !is_api && !is_safe(&method) && !same_origin(request.headers()) {
                AppError::Forbidden(
                    "cross-site request refused: state-changing requests must come from Redline's own pages".into(),
                )
                .into_response()
            } else if let Some(denial) = check(access, &caller, &method, &path, request.uri()) {
                denial
            } else {
                let extensions = request.extensions_mut();
                extensions.insert(caller);
                extensions.insert(address);
                extensions.insert(https);
                next.run(request).await
            }
        }
    };
    response
}

/// Finds the caller: an API key on `/api/v1` (sessions do not work there), a session cookie
/// elsewhere. Unknown, revoked or expired credentials make an anonymous caller.
async fn identify(
    state: &AppState,
    headers: &HeaderMap,
    is_api: bool,
    https: Https,
) -> Result<Caller, StoreError> {
    let now = Utc::now();
    if is_api {
        let Some(key) = bearer(headers) else {
            return Ok(Caller::Anonymous);
        };
        let Some(owner) = state.store.key_owner(&secrets::token_hash(key)).await? else {
            return Ok(Caller::Anonymous);
        };
        let stale = owner
            .last_used_at
            .is_none_or(|t| (now - t).to_std().unwrap_or_default() >= TOUCH_EVERY);
        if stale {
            state.store.touch_key(owner.key_id, now).await?;
        }
        return Ok(Caller::Key(owner));
    }
    let Some(token) = session_cookie(headers, https) else {
        return Ok(Caller::Anonymous);
    };
    let hash = secrets::token_hash(token);
    let Some(user) = state.store.session_user(&hash).await? else {
        return Ok(Caller::Anonymous);
    };
    let config = state.auth.config();
    let idle = (now - user.last_seen_at).to_std().unwrap_or_default();
    let age = (now - user.created_at).to_std().unwrap_or_default();
    if idle >= config.idle || age >= config.absolute {
        state.store.delete_session(&hash).await?;
        return Ok(Caller::Anonymous);
    }
    if idle >= TOUCH_EVERY {
        state.store.touch_session(&hash, now).await?;
    }
    Ok(Caller::Person(Person {
        user_id: user.user_id,
        name: user.name,
        role: user.role,
        session: hash,
        must_change_password: user.must_change_password,
    }))
}

/// `None` when the caller may go on; otherwise the response that refuses them.
fn check(
    access: Access,
    caller: &Caller,
    method: &Method,
    path: &str,
    uri: &axum::http::Uri,
) -> Option<Response> {
    match access {
        Access::Public => None,
        Access::Key(scope) => caller
            .clone()
            .key_with(scope)
            .err()
            .map(IntoResponse::into_response),
        Access::Person(capability) => {
            // The keys and users pages' plain form posts (`http::forms`) are refused as their
            // pages are: a browser without JavaScript shows what it gets.
            let form_page = policy::form_page(method, path);
            let is_page = form_page.is_some()
                || ((method == Method::GET || method == Method::HEAD)
                    && !path.starts_with("/api/"));
            if let Caller::Person(person) = caller {
                if person.must_change_password && !policy::PASSWORD_CHANGE_PATHS.contains(&path) {
                    return Some(if is_page {
                        Redirect::to(policy::PASSWORD_PAGE).into_response()
                    } else {
                        server_fn_refusal(AppError::Forbidden(
                            "choose your own password first, on /account/password".into(),
                        ))
                    });
                }
            }
            match caller {
                Caller::Person(person) if person.role.can(capability) => None,
                Caller::Person(person) if is_page => Some(forbidden_page(person, capability)),
                Caller::Person(person) => {
                    Some(server_fn_refusal(AppError::role_may_not(person.role)))
                }
                _ if is_page => {
                    let next = form_page.unwrap_or_else(|| {
                        uri.path_and_query()
                            .map(|pq| pq.as_str())
                            .unwrap_or("/calls")
                    });
                    let target = format!(
                        "/login?{}",
                        crate::model::encode_query(&[("next", next.to_string())])
                    );
                    Some(Redirect::to(&target).into_response())
                }
                _ => Some(server_fn_refusal(AppError::sign_in_first())),
            }
        }
    }
}

/// A refused server function call, in the encoding its caller in the browser reads.
fn server_fn_refusal(error: AppError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::FORBIDDEN);
    (status, Json(error)).into_response()
}

/// The page a signed-in person sees for a page their role may not open.
fn forbidden_page(person: &Person, capability: Capability) -> Response {
    use leptos::tachys::view::RenderHtml;
    let page = crate::pages::forbidden::ForbiddenDocument(
        crate::pages::forbidden::ForbiddenDocumentProps {
            name: person.name.clone(),
            role: person.role,
            capability,
        },
    );
    (StatusCode::FORBIDDEN, Html(page.to_html())).into_response()
}

/// The client's address: the TCP peer, unless the peer is a trusted proxy, then the nearest
/// address in `X-Forwarded-For` that is not one (proxies append, so the right end is the
/// one a trusted proxy wrote; anything left of it the client could have made up).
pub fn client_address(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let peer = peer?.to_canonical();
    if !is_trusted_proxy(peer, trusted) {
        return Some(peer);
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in forwarded.iter().rev() {
        // A hop may carry a port (`1.2.3.4:5678`, `[2001:db8::1]:443`).
        let parsed = hop
            .parse::<IpAddr>()
            .or_else(|_| hop.parse::<SocketAddr>().map(|a| a.ip()));
        match parsed.map(|ip| ip.to_canonical()) {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return Some(ip),
            // A malformed hop: nothing left of it can be believed.
            Err(_) => return Some(peer),
        }
    }
    Some(peer)
}

/// Whether `peer` is one of the configured proxies. An IPv4 peer of a server listening on
/// `[::]` arrives as `::ffff:a.b.c.d`: compared in its plain form.
pub fn is_trusted_proxy(peer: IpAddr, trusted: &[IpAddr]) -> bool {
    trusted.contains(&peer.to_canonical())
}

/// The address a limit counts against: an IPv6 client by its /64 (one host is given a whole
/// /64 and can pick any address in it), an IPv4 client by its address.
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let mut octets = v6.octets();
            octets[8..].fill(0);
            IpAddr::V6(std::net::Ipv6Addr::from(octets))
        }
        v4 => v4,
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A state-changing request with cookies must come from Redline's own pages. Browsers say
/// where a request comes from in `Sec-Fetch-Site` (all current ones) or `Origin`; a request
/// with neither is not from a browser page (curl, scripts), which cannot ride on a user's
/// cookies.
fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return true;
    };
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    origin_host == Some(host)
}

pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The session token, from the cookie of the request's kind: over HTTPS only the `__Host-`
/// cookie counts (a plain one could have been planted by a sibling subdomain).
pub fn session_cookie(headers: &HeaderMap, https: Https) -> Option<&str> {
    let name = https.cookie_name();
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(found, _)| *found == name)
        .map(|(_, value)| value)
        .filter(|v| !v.is_empty())
}

/// The policy: the page's own scripts (with this response's nonce) and the WebAssembly they
/// compile, styles and images from Redline itself, no framing, no plugins, forms and
/// requests to Redline only.
fn with_security_headers(mut response: Response, nonce: &str) -> Response {
    let csp = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn cross_site_requests_are_recognised() {
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(same_origin(&headers(&[
            ("origin", "http://redline.local:3000"),
            ("host", "redline.local:3000")
        ])));
        assert!(!same_origin(&headers(&[
            ("origin", "http://evil.example"),
            ("host", "redline.local:3000")
        ])));
        assert!(same_origin(&headers(&[])), "not a browser page");
    }

    #[test]
    fn forwarded_addresses_are_believed_from_trusted_proxies_only() {
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        let h = headers(&[("x-forwarded-for", "198.51.100.1, 203.0.113.7")]);
        assert_eq!(client_address(Some(proxy), &h, &[proxy]), Some(client));
        assert_eq!(
            client_address(Some(proxy), &h, &[]),
            Some(proxy),
            "an untrusted peer's header is ignored"
        );
        let spoofed = headers(&[("x-forwarded-for", "garbage, 203.0.113.7")]);
        assert_eq!(
            client_address(Some(proxy), &spoofed, &[proxy]),
            Some(client)
        );
        let bad = headers(&[("x-forwarded-for", "203.0.113.7, not-an-ip")]);
        assert_eq!(client_address(Some(proxy), &bad, &[proxy]), Some(proxy));
        assert_eq!(
            client_address(Some(proxy), &headers(&[]), &[proxy]),
            Some(proxy)
        );
        let mapped: IpAddr = "::ffff:10.0.0.5".parse().unwrap();
        assert_eq!(
            client_address(Some(mapped), &h, &[proxy]),
            Some(client),
            "IPv4 on a [::] listener"
        );
        let ported = headers(&[("x-forwarded-for", "203.0.113.7:5678")]);
        assert_eq!(client_address(Some(proxy), &ported, &[proxy]), Some(client));
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(limit_key(a), limit_key(b), "one /64 is one client");
        assert_eq!(limit_key(client), client);
    }

    #[test]
    fn credentials_are_read_from_their_headers() {
        let h = headers(&[("cookie", "a=1; redline_session=abc; b=2")]);
        assert_eq!(session_cookie(&h, Https(false)), Some("abc"));
        assert_eq!(
            session_cookie(&h, Https(true)),
            None,
            "over HTTPS only __Host- counts"
        );
        let h = headers(&[(
            "cookie",
            "redline_session=planted; __Host-redline_session=real",
        )]);
        assert_eq!(session_cookie(&h, Https(true)), Some("real"));
        assert_eq!(
            session_cookie(&headers(&[("cookie", "redline_session=")]), Https(false)),
            None
        );
        let h = headers(&[("authorization", "Bearer rl_123")]);
        assert_eq!(bearer(&h), Some("rl_123"));
        assert_eq!(bearer(&headers(&[("authorization", "Basic xyz")])), None);
    }
}
