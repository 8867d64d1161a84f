//! Posting an alert to a webhook without letting a lead make the server call its own network:
//! the URL must be http or https; its host is resolved once, every address it resolves to
//! must be public (not loopback, private, link-local, shared, multicast or reserved) unless
//! an admin allowed the host (`serve --webhook-allow-hosts`), and the request goes to the
//! address that was checked, so a second DNS answer cannot change where it goes. Redirects
//! are not followed. Every step has a deadline.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

/// How long one delivery may take, from DNS to the answer's status.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// Hosts an admin allowed to resolve to non-public addresses, as written in their URLs
/// (`127.0.0.1`, `hooks.internal`), compared without case.
#[derive(Clone, Debug, Default)]
pub struct AllowHosts(Vec<String>);

impl AllowHosts {
    pub fn new(hosts: impl IntoIterator<Item = String>) -> AllowHosts {
        AllowHosts(
            hosts
                .into_iter()
                .map(|h| h.trim().trim_matches(['[', ']']).to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
        )
    }

    fn allows(&self, host: &str) -> bool {
        let host = host.trim_matches(['[', ']']).to_ascii_lowercase();
        self.0.iter().any(|h| *h == host)
    }
}

/// Why an address may not be called, or `None` for a public one.
pub fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if v6.is_multicast() {
                Some("multicast")
            } else if first & 0xfe00 == 0xfc00 {
                Some("private (unique local)")
            } else if first & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if first == 0x2001 && v6.segments()[1] == 0x0db8 {
                Some("reserved for documentation")
            } else if first == 0x0064 && v6.segments()[1] == 0xff9b {
                // NAT64 maps IPv4 into here: judge the address it carries.
                let [.., a, b] = v6.segments();
                forbidden_v4(Ipv4Addr::from(((a as u32) << 16) | b as u32))
            } else {
                None
            }
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if ip.is_unspecified() || a == 0 {
        Some("unspecified")
    } else if a == 100 && (64..128).contains(&b) {
        Some("shared (carrier-grade NAT)")
    } else if ip.is_multicast() || ip.is_broadcast() || a >= 240 {
        Some("multicast or reserved")
    } else if ip.is_documentation()
        || (a == 198 && (b == 18 || b == 19))
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
    {
        Some("reserved")
    } else {
        None
    }
}

/// Posts `body` as JSON to `url`; `Ok` on a 2xx answer, otherwise what went wrong in words.
pub async fn post(url: &str, body: Vec<u8>, allow: &AllowHosts) -> Result<(), String> {
    match tokio::time::timeout(DELIVERY_TIMEOUT, post_inner(url, body, allow)).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {} s", DELIVERY_TIMEOUT.as_secs())),
    }
}

async fn post_inner(url: &str, body: Vec<u8>, allow: &AllowHosts) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    let https = match parsed.scheme() {
        "https" => true,
        "http" => false,
        other => return Err(format!("{other}: only http and https webhooks are called")),
    };
    let host = parsed
        .host_str()
        .ok_or("the URL names no host")?
        .to_string();
    let port = parsed
        .port_or_known_default()
        .unwrap_or(if https { 443 } else { 80 });
    let address = resolve(&host, port, allow).await?;

    let stream = tokio::net::TcpStream::connect(address)
        .await
        .map_err(|e| format!("cannot connect to {address}: {e}"))?;
    let _ = stream.set_nodelay(true);
    let mut path = parsed.path().to_string();
    if let Some(query) = parsed.query() {
        path.push('?');
        path.push_str(query);
    }
    let host_header = match parsed.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.clone(),
    };
    if https {
        let tls = tls_connector()?
            .connect(server_name(&host)?, stream)
            .await
            .map_err(|e| format!("TLS with {host} failed: {e}"))?;
        send(tls, &path, &host_header, body).await
    } else {
        send(stream, &path, &host_header, body).await
    }
}

/// The one address the request goes to: every address `host` resolves to must be public,
/// unless the host is allowed.
async fn resolve(host: &str, port: u16, allow: &AllowHosts) -> Result<SocketAddr, String> {
    let bare = host.trim_matches(['[', ']']);
    let addresses: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((bare, port))
            .await
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
            .collect(),
    };
    let first = *addresses
        .first()
        .ok_or_else(|| format!("{host} resolves to no address"))?;
    if !allow.allows(host) {
        for address in &addresses {
            if let Some(kind) = forbidden(address.ip()) {
                return Err(format!(
                    "{host} resolves to {}, a {kind} address: webhooks may only call public addresses unless an admin allows the host (serve --webhook-allow-hosts)",
                    address.ip()
                ));
            }
        }
    }
    Ok(first)
}

fn tls_connector() -> Result<tokio_rustls::TlsConnector, String> {
    use tokio_rustls::rustls;
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS is not available: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

fn server_name(host: &str) -> Result<tokio_rustls::rustls::pki_types::ServerName<'static>, String> {
    tokio_rustls::rustls::pki_types::ServerName::try_from(host.trim_matches(['[', ']']).to_string())
        .map_err(|_| format!("{host} is not a name TLS can check"))
}

async fn send<S>(stream: S, path: &str, host: &str, body: Vec<u8>) -> Result<(), String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP handshake failed: {e}"))?;
    tokio::spawn(connection);
    let request = hyper::Request::post(if path.is_empty() { "/" } else { path })
        .header("host", host)
        .header("content-type", "application/json")
        .header("user-agent", concat!("Redline/", env!("CARGO_PKG_VERSION")))
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("cannot build the request: {e}"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("the request failed: {e}"))?;
    let status = response.status();
    // Read (and drop) a little of the answer so the connection ends cleanly.
    let _ = http_body_util::Limited::new(response.into_body(), 64 * 1024)
        .collect()
        .await;
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("the webhook answered {}", status.as_u16()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_may_be_called() {
        for (ip, public) in [
            ("8.8.8.8", true),
            ("1.1.1.1", true),
            ("2606:4700::1111", true),
            ("127.0.0.1", false),
            ("127.8.9.10", false),
            ("10.1.2.3", false),
            ("172.16.0.1", false),
            ("192.168.1.1", false),
            ("169.254.169.254", false),
            ("100.64.0.1", false),
            ("0.0.0.0", false),
            ("255.255.255.255", false),
            ("224.0.0.1", false),
            ("::1", false),
            ("::", false),
            ("fe80::1", false),
            ("fd00::1", false),
            ("::ffff:127.0.0.1", false),
            ("::ffff:10.0.0.1", false),
            ("64:ff9b::a9fe:a9fe", false),
            ("64:ff9b::808:808", true),
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(forbidden(ip).is_none(), public, "{ip}");
        }
    }

    #[tokio::test]
    async fn a_loopback_webhook_is_refused_before_any_connection_unless_allowed() {
        let refused = resolve("127.0.0.1", 9, &AllowHosts::default())
            .await
            .unwrap_err();
        assert!(refused.contains("loopback"), "{refused}");
        let refused = resolve("[::1]", 9, &AllowHosts::default())
            .await
            .unwrap_err();
        assert!(refused.contains("loopback"), "{refused}");
        let refused = resolve("localhost", 9, &AllowHosts::default())
            .await
            .unwrap_err();
        assert!(refused.contains("loopback"), "{refused}");
        let allowed = AllowHosts::new(["127.0.0.1".to_string()]);
        assert!(resolve("127.0.0.1", 9, &allowed).await.is_ok());
        // Allowing one host allows no other.
        assert!(resolve("localhost", 9, &allowed).await.is_err());
    }

    #[tokio::test]
    async fn other_schemes_are_never_called() {
        let refused = post("file:///etc/passwd", vec![], &AllowHosts::default())
            .await
            .unwrap_err();
        assert!(refused.contains("only http and https"), "{refused}");
    }
}
