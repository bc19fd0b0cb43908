//! `wasi:http/outgoing-handler` behind the connect policy. The name is judged as written; it is
//! then looked up once, every address is judged, and the connection goes to an address that was
//! checked: a name that resolves differently the second time cannot slip past (no second
//! lookup). A failed lookup is a DNS error, never a pass. A refusal fails the request with
//! `internal-error` carrying the structured denial, which each runtime turns into its
//! language's error (docs/host-protocol.md).

use crate::accept::{AUTHORITY, Bridge};
use crate::policy::{Denial, Policy, normalize_host};
use http::uri::Scheme;
use http_body_util::BodyExt;
use hyper::body::Body as _;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpStream;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

/// Denials of this instance, by `host:port`: the JavaScript runtime reads them back through
/// the environment (its fetch loses the error's text).
pub type Denials = Arc<Mutex<Vec<(String, String)>>>;

pub struct Outgoing {
    pub policy: Arc<Policy>,
    pub tls: Arc<rustls::ClientConfig>,
    pub denials: Denials,
    /// The accept loop's bridge, for the one instance that serves through it (accept.rs).
    pub bridge: Option<Arc<Bridge>>,
}

/// The TLS configuration: the built-in roots, and those of `extra` PEM files.
pub fn tls_config(extra: &[String]) -> Result<rustls::ClientConfig, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.into() };
    for file in extra {
        let certs = CertificateDer::pem_file_iter(file).map_err(|e| format!("{file}: {e}"))?;
        for cert in certs {
            let cert = cert.map_err(|e| format!("{file}: {e}"))?;
            roots.add(cert).map_err(|e| format!("{file}: {e}"))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Numbers each denial, so that a runtime that reads them back through the environment takes
/// each one once (a later failure of an allowed request to the same place is not a denial).
static SEQUENCE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn refuse(denials: &Denials, d: Denial) -> Error {
    let mut json = d.to_json();
    json["denied"]["seq"] = SEQUENCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed).into();
    let text = json.to_string();
    let mut all = denials.lock().unwrap_or_else(|e| e.into_inner());
    let key = format!("FABRICKS_DENIED {}", d.target);
    all.retain(|(k, _)| *k != key);
    all.push((key, text.clone()));
    Error::InternalError(Some(text))
}

type ResponseFuture = Box<dyn Future<Output = Result<(), Error>> + Send>;

impl WasiHttpHooks for Outgoing {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: ResponseFuture,
    ) -> Box<dyn Future<Output = Result<(http::Response<WasiBody>, ResponseFuture), Error>> + Send> {
        if let Some(bridge) = self.bridge.clone().filter(|_| request.uri().host() == Some(AUTHORITY)) {
            return Box::new(async move {
                let response = bridge.call(request).await?;
                let done: ResponseFuture = Box::new(async { Ok(()) });
                Ok((response, done))
            });
        }
        let policy = self.policy.clone();
        let tls = self.tls.clone();
        let denials = self.denials.clone();
        let request = request.map(|body| KeepReading(Some(body)).boxed_unsync());
        Box::new(async move {
            let uri = request.uri();
            let https = uri.scheme() == Some(&Scheme::HTTPS);
            let host = uri.host().ok_or(Error::HttpRequestUriInvalid)?;
            let host = normalize_host(host);
            let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
            let lookup = |host: String| async move {
                tokio::time::timeout(Duration::from_secs(30), tokio::net::lookup_host((host.as_str(), 0)))
                    .await
                    .map_err(|_| Error::DnsTimeout)?
                    .map(|found| found.map(|a| a.ip()).collect())
                    .map_err(|_| Error::DnsError { rcode: Some("address not available".into()), info_code: Some(0) })
            };
            let addresses = checked_addresses(&policy, &host, port, lookup).await.map_err(|r| match r {
                Refusal::Denied(d) => refuse(&denials, d),
                Refusal::Failed(e) => e,
            })?;
            let connect_timeout = options.as_ref().and_then(|o| o.connect_timeout).unwrap_or(Duration::from_secs(600));
            let first_byte_timeout = options.as_ref().and_then(|o| o.first_byte_timeout).unwrap_or(Duration::from_secs(600));
            let mut last = None;
            let mut stream = None;
            for a in &addresses {
                match tokio::time::timeout(connect_timeout, TcpStream::connect(SocketAddr::new(*a, port))).await {
                    Ok(Ok(s)) => {
                        stream = Some(s);
                        break;
                    }
                    Ok(Err(e)) => last = Some(Error::Connect(e)),
                    Err(_) => last = Some(Error::ConnectionTimeout),
                }
            }
            let Some(stream) = stream else { return Err(last.unwrap_or(Error::ConnectionRefused)) };
            send(request, stream, https, &host, tls, connect_timeout, first_byte_timeout).await
        })
    }
}

/// A request body that is read to its end even when the request fails before it is sent (a
/// refusal, a connection or TLS failure): the guest may still be writing it, and a write to a
/// body nobody reads fails the guest's stream (StarlingMonkey then aborts the whole program,
/// "event loop error, but no exception is pending", instead of rejecting the fetch).
struct KeepReading(Option<WasiBody>);

impl hyper::body::Body for KeepReading {
    type Data = bytes::Bytes;
    type Error = Error;

    fn poll_frame(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        match self.0.as_mut() {
            Some(body) => std::pin::Pin::new(body).poll_frame(cx),
            None => std::task::Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.0.as_ref().is_none_or(|b| b.is_end_stream())
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.0.as_ref().map(|b| b.size_hint()).unwrap_or_default()
    }
}

impl Drop for KeepReading {
    fn drop(&mut self) {
        let Some(mut body) = self.0.take() else { return };
        if body.is_end_stream() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            // what is read is dropped; the stream ends when the guest finishes or drops the body
            runtime.spawn(async move { while let Some(Ok(_)) = body.frame().await {} });
        }
    }
}

/// Why no connection is made: the policy refused it, or the name did not resolve.
pub enum Refusal {
    Denied(Denial),
    Failed(Error),
}

/**
 * The addresses a request to `host:port` may connect to: the name judged as written, then looked
 * up once through `lookup`, and every address it gave judged. The connection goes to these and
 * nothing else: no second lookup can answer differently. A lookup that fails, or finds nothing,
 * refuses the request.
 */
pub async fn checked_addresses<F, Fut>(policy: &Policy, host: &str, port: u16, lookup: F) -> Result<Vec<IpAddr>, Refusal>
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = Result<Vec<IpAddr>, Error>>,
{
    policy.check_name(host, port).map_err(Refusal::Denied)?;
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    let mut all = lookup(host.to_string()).await.map_err(Refusal::Failed)?;
    all.dedup();
    if all.is_empty() {
        return Err(Refusal::Failed(Error::DnsError { rcode: Some("address not available".into()), info_code: Some(0) }));
    }
    for a in &all {
        policy.check_address(host, *a, port).map_err(Refusal::Denied)?;
    }
    Ok(all)
}

trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static> Io for T {}

async fn send(
    mut request: http::Request<WasiBody>,
    stream: TcpStream,
    https: bool,
    host: &str,
    tls: Arc<rustls::ClientConfig>,
    connect_timeout: Duration,
    first_byte_timeout: Duration,
) -> Result<(http::Response<WasiBody>, ResponseFuture), Error> {
    let io: Box<dyn Io> = if https {
        let name = match host.parse::<IpAddr>() {
            Ok(ip) => rustls::pki_types::ServerName::from(ip),
            Err(_) => rustls::pki_types::ServerName::try_from(host.to_string())?,
        };
        let connector = tokio_rustls::TlsConnector::from(tls);
        Box::new(tokio::time::timeout(connect_timeout, connector.connect(name, stream)).await.map_err(|_| Error::ConnectionTimeout)?.map_err(Error::Tls)?)
    } else {
        Box::new(stream)
    };
    let (mut sender, conn) = tokio::time::timeout(connect_timeout, hyper::client::conn::http1::Builder::new().handshake(TokioIo::new(io)))
        .await
        .map_err(|_| Error::ConnectionTimeout)??;
    // the request line carries the path only; the authority travels in the Host header
    let path = request.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
    *request.uri_mut() = http::Uri::builder().path_and_query(path).build().map_err(|_| Error::HttpRequestUriInvalid)?;
    let conn = tokio::spawn(conn);
    let response = tokio::time::timeout(first_byte_timeout, sender.send_request(request)).await.map_err(|_| Error::ConnectionReadTimeout)??;
    let response = response.map(|b| b.map_err(Error::from).boxed_unsync());
    let done: ResponseFuture = Box::new(async move {
        match conn.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Error::from(e)),
            Err(_) => Err(Error::ConnectionTerminated),
        }
    });
    Ok((response, done))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::ConnectRule;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn policy() -> Policy {
        Policy::new(&serde_json::from_value::<Vec<ConnectRule>>(serde_json::json!([{ "kind": "host", "host": "api.example.com", "wildcard": false }])).unwrap())
    }

    fn run<T>(f: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    }

    #[test]
    fn a_name_is_looked_up_once_and_only_checked_addresses_come_back() {
        let calls = AtomicUsize::new(0);
        // a name that answers a public address the first time and loopback after (rebinding)
        let lookup = |_: String| {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move { Ok(vec![if n == 0 { "93.184.216.34".parse().unwrap() } else { "127.0.0.1".parse().unwrap() }]) }
        };
        let got = run(checked_addresses(&policy(), "api.example.com", 443, lookup)).ok().unwrap();
        assert_eq!(got, vec!["93.184.216.34".parse::<IpAddr>().unwrap()]);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_failed_or_empty_lookup_refuses_and_a_refused_name_is_never_looked_up() {
        let failed = run(checked_addresses(&policy(), "api.example.com", 443, |_| async { Err(Error::DnsTimeout) }));
        assert!(matches!(failed, Err(Refusal::Failed(Error::DnsTimeout))));
        let empty = run(checked_addresses(&policy(), "api.example.com", 443, |_| async { Ok(vec![]) }));
        assert!(matches!(empty, Err(Refusal::Failed(Error::DnsError { .. }))));
        let looked = AtomicUsize::new(0);
        let denied = run(checked_addresses(&policy(), "evil.example.com", 443, |_| {
            looked.fetch_add(1, Ordering::SeqCst);
            async { Ok(vec!["93.184.216.34".parse().unwrap()]) }
        }));
        assert!(matches!(denied, Err(Refusal::Denied(_))));
        assert_eq!(looked.load(Ordering::SeqCst), 0);
        // one internal address among public ones refuses the whole name
        let mixed = run(checked_addresses(&policy(), "api.example.com", 443, |_| async { Ok(vec!["93.184.216.34".parse().unwrap(), "10.0.0.1".parse().unwrap()]) }));
        assert!(matches!(mixed, Err(Refusal::Denied(d)) if d.rule == "10.0.0.1:443"));
    }
}
