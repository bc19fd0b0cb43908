//! The accept loop. A Node HTTP server is one process: it handles its requests concurrently on
//! one event loop and keeps state between them (an MCP session, an SSE stream held open while
//! other requests come and go). Served one `wasi:http` `handle` call per request, an instance is
//! busy until its response has ended, and a session's next request may land on another instance.
//! So a runtime that asks for it (the JavaScript one, for a server that listens) gets one
//! long-lived instance that takes every request through this bridge, in the same call that
//! started it: outgoing HTTP to a reserved authority that no network has (`.invalid`, RFC 6761),
//! answered here and never judged by the connect policy, and only for that instance.
//!
//! - `GET /next` waits for a request: its head in the `fabricks-request` header (base64 of JSON:
//!   id, method, path, headers), its body streamed as the response's body. `503` once serving
//!   stops: the guest then lets the requests under way end and returns.
//! - `POST /respond/<id>` gives the response's head (`fabricks-response`: base64 of JSON: status,
//!   headers) and its first bytes; `POST /body/<id>` more bytes; `fabricks-end: 1` on either ends
//!   the body, `POST /abort/<id>` cuts it. `410` when the client has gone (the guest stops writing).
//! - `GET /gone` waits until clients leave responses still being written, and lists them (JSON
//!   ids): the guest hears it at once, as a Node server hears its socket close, not at its next
//!   write (an SSE stream may be quiet for minutes).
//!
//! A component on another host never hears of this (nothing sends it `/start`) and serves one
//! request per call, as the standard says.

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full};
use serde_json::json;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::sync::{mpsc, oneshot, watch};
use wasmtime_wasi_http::{Error, WasiBody};

pub const AUTHORITY: &str = "fabricks-serve.invalid";

type Body = UnsyncBoxBody<Bytes, Error>;

/// How requests are being served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The first instance is loading the app; requests wait to learn which of the two it is.
    Starting,
    /// One instance takes every request through the bridge.
    Loop,
    /// One request per `handle` call, on a pool of instances.
    Pool,
}

enum Reply {
    /// Waiting for the response's head; `true` once the guest has taken the request.
    Head(oneshot::Sender<hyper::Response<Body>>, bool),
    /// The head has gone; the body's bytes follow.
    Body(mpsc::Sender<Chunk>),
}

enum Chunk {
    Data(Bytes),
    End,
}

/// Responses whose clients left before their end.
#[derive(Default)]
struct Gone {
    ids: Mutex<Vec<u64>>,
    notify: tokio::sync::Notify,
}

struct Queued {
    id: u64,
    request: hyper::Request<hyper::body::Incoming>,
}

pub struct Bridge {
    mode: watch::Sender<Mode>,
    queue_tx: mpsc::UnboundedSender<Queued>,
    queue_rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<Queued>>,
    replies: Mutex<HashMap<u64, Reply>>,
    next_id: AtomicU64,
    stop: watch::Receiver<bool>,
    /// When the loop instance last called the bridge (see `probe`).
    last_seen: Mutex<Instant>,
    /// `/gone` answers at once (an empty list) when set.
    ping: AtomicBool,
    killed: AtomicBool,
    gone: Arc<Gone>,
}

impl Bridge {
    pub fn new(stop: watch::Receiver<bool>) -> Bridge {
        let (queue_tx, queue_rx) = mpsc::unbounded_channel();
        Bridge {
            mode: watch::Sender::new(Mode::Starting),
            queue_tx,
            queue_rx: tokio::sync::Mutex::new(queue_rx),
            replies: Mutex::default(),
            next_id: AtomicU64::new(1),
            stop,
            last_seen: Mutex::new(Instant::now()),
            ping: AtomicBool::new(false),
            killed: AtomicBool::new(false),
            gone: Arc::default(),
        }
    }

    /// Serving one request per call from now on fails what still waits for a loop (500 at once,
    /// not a 504 at its limit).
    pub fn set_mode(&self, mode: Mode) {
        if mode == Mode::Pool {
            self.replies.lock().unwrap_or_else(|e| e.into_inner()).clear();
        }
        self.mode.send_replace(mode);
    }

    /// The mode once the loop has started, or has been found not to.
    pub async fn settled(&self) -> Mode {
        let mut rx = self.mode.subscribe();
        match rx.wait_for(|m| *m != Mode::Starting).await {
            Ok(m) => *m,
            Err(_) => Mode::Pool,
        }
    }

    /// Hands a request to the loop; its response arrives on `reply`.
    pub fn enqueue(&self, request: hyper::Request<hyper::body::Incoming>, reply: oneshot::Sender<hyper::Response<Body>>) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.replies.lock().unwrap_or_else(|e| e.into_inner()).insert(id, Reply::Head(reply, false));
        let _ = self.queue_tx.send(Queued { id, request });
        id
    }

    /// A request whose client no longer waits: the guest's answer to it gets 410.
    pub fn forget(&self, id: u64) {
        self.replies.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
    }

    /// The loop instance has ended: responses it owed fail (a head never comes: 500; a body
    /// under way is cut). Requests still queued wait for the next loop.
    pub fn fail_replies(&self) {
        self.replies.lock().unwrap_or_else(|e| e.into_inner()).retain(|_, r| matches!(r, Reply::Head(_, false)));
    }

    /// Whether the loop instance's event loop still turns: `/gone` answers at once, and a guest
    /// that is not stuck in its own code asks again within `grace`; one that does not is stopped.
    /// (A request that waits out its limit says nothing by itself: it may wait on an API, while
    /// others are served.)
    pub async fn probe(&self, grace: std::time::Duration) {
        let sent = Instant::now();
        self.ping.store(true, Ordering::SeqCst);
        self.gone.notify.notify_one();
        tokio::time::sleep(grace).await;
        if *self.last_seen.lock().unwrap_or_else(|e| e.into_inner()) < sent {
            self.kill();
        }
    }

    /// Stops the loop instance at its next epoch tick (it is spinning in its own code).
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
    }

    pub fn killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }

    pub fn revive(&self) {
        self.killed.store(false, Ordering::SeqCst);
        *self.last_seen.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    /// One call of the guest's to the bridge.
    pub async fn call(&self, request: http::Request<WasiBody>) -> Result<http::Response<WasiBody>, Error> {
        *self.last_seen.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        let method = request.method().clone();
        let path = request.uri().path().to_string();
        let mut parts = path.trim_start_matches('/').splitn(2, '/');
        let (verb, id) = (parts.next().unwrap_or(""), parts.next().and_then(|i| i.parse::<u64>().ok()));
        let end = request.headers().contains_key("fabricks-end");
        match (method.as_str(), verb, id) {
            ("GET", "next", None) => Ok(self.next().await),
            ("GET", "gone", None) => Ok(self.left().await),
            ("POST", "respond", Some(id)) => {
                let head = request.headers().get("fabricks-response").and_then(|v| decode(v.as_bytes())).ok_or(Error::HttpProtocolError)?;
                let bytes = request.into_body().collect().await?.to_bytes();
                Ok(self.respond(id, &head, bytes, end))
            }
            ("POST", "body", Some(id)) => {
                let bytes = request.into_body().collect().await?.to_bytes();
                Ok(self.body(id, bytes, end).await)
            }
            ("POST", "abort", Some(id)) => {
                self.forget(id);
                Ok(status(200))
            }
            _ => Ok(status(404)),
        }
    }

    async fn next(&self) -> http::Response<WasiBody> {
        let mut stop = self.stop.clone();
        let mut queue = self.queue_rx.lock().await;
        loop {
            let queued = tokio::select! {
                _ = stop.wait_for(|s| *s) => return status(503),
                q = queue.recv() => match q {
                    Some(q) => q,
                    None => return status(503),
                },
            };
            // a request whose client gave up while it waited is not handed out
            match self.replies.lock().unwrap_or_else(|e| e.into_inner()).get_mut(&queued.id) {
                Some(Reply::Head(_, taken)) => *taken = true,
                _ => continue,
            }
            let (parts, body) = queued.request.into_parts();
            let headers: Vec<(String, String)> = parts.headers.iter().map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned())).collect();
            let path = parts.uri.path_and_query().map(|p| p.to_string()).unwrap_or_else(|| "/".into());
            let head = json!({ "id": queued.id, "method": parts.method.as_str(), "path": path, "headers": headers });
            let encoded = base64::engine::general_purpose::STANDARD.encode(head.to_string());
            return http::Response::builder()
                .status(200)
                .header("fabricks-request", encoded)
                .body(body.map_err(Error::from).boxed_unsync())
                .expect("a valid response");
        }
    }

    async fn left(&self) -> http::Response<WasiBody> {
        let mut stop = self.stop.clone();
        loop {
            let ids: Vec<u64> = std::mem::take(&mut *self.gone.ids.lock().unwrap_or_else(|e| e.into_inner()));
            if !ids.is_empty() || self.ping.swap(false, Ordering::SeqCst) {
                let body = Full::new(Bytes::from(json!(ids).to_string())).map_err(|e: Infallible| match e {}).boxed_unsync();
                return http::Response::builder().status(200).header("content-type", "application/json").body(body).expect("a valid response");
            }
            tokio::select! {
                _ = stop.wait_for(|s| *s) => return status(503),
                _ = self.gone.notify.notified() => {}
            }
        }
    }

    fn respond(&self, id: u64, head: &serde_json::Value, first: Bytes, end: bool) -> http::Response<WasiBody> {
        let Some(Reply::Head(reply, _)) = self.replies.lock().unwrap_or_else(|e| e.into_inner()).remove(&id) else { return status(410) };
        let mut response = hyper::Response::builder().status(head["status"].as_u64().and_then(|s| u16::try_from(s).ok()).unwrap_or(200));
        for pair in head["headers"].as_array().into_iter().flatten() {
            if let (Some(k), Some(v)) = (pair[0].as_str(), pair[1].as_str()) {
                response = response.header(k, v);
            }
        }
        let (tx, rx) = mpsc::channel(8);
        let left = response.headers_ref().and_then(|h| h.get(hyper::header::CONTENT_LENGTH)).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        let streamed = Streamed { rx, ended: left == Some(0), left, id, gone: self.gone.clone() };
        let Ok(response) = response.body(streamed.boxed_unsync()) else { return status(400) };
        if !first.is_empty() {
            let _ = tx.try_send(Chunk::Data(first));
        }
        if end {
            let _ = tx.try_send(Chunk::End);
        }
        if reply.send(response).is_err() {
            return status(410);
        }
        if !end {
            self.replies.lock().unwrap_or_else(|e| e.into_inner()).insert(id, Reply::Body(tx));
        }
        status(200)
    }

    async fn body(&self, id: u64, bytes: Bytes, end: bool) -> http::Response<WasiBody> {
        let tx = match self.replies.lock().unwrap_or_else(|e| e.into_inner()).get(&id) {
            Some(Reply::Body(tx)) => tx.clone(),
            _ => return status(410),
        };
        // waits while the client reads slowly: the guest's writes are held back, not buffered
        if (!bytes.is_empty() && tx.send(Chunk::Data(bytes)).await.is_err()) || (end && tx.send(Chunk::End).await.is_err()) {
            self.forget(id);
            return status(410);
        }
        if end {
            self.forget(id);
        }
        status(200)
    }
}

fn decode(value: &[u8]) -> Option<serde_json::Value> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(value).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn status(code: u16) -> http::Response<WasiBody> {
    http::Response::builder().status(code).body(Empty::<Bytes>::new().map_err(|e: Infallible| match e {}).boxed_unsync()).expect("a valid response")
}

/// A response body written by the guest through the bridge. Its senders gone without an end (the
/// loop instance ended, the guest aborted) cut the response instead of ending it cleanly.
struct Streamed {
    rx: mpsc::Receiver<Chunk>,
    ended: bool,
    /// What a declared content-length leaves to come: hyper stops reading once it has all of it,
    /// and such a response has ended, though its end marker was never read.
    left: Option<u64>,
    id: u64,
    gone: Arc<Gone>,
}

impl Drop for Streamed {
    fn drop(&mut self) {
        if !self.ended {
            // notify_one keeps the wake-up for a guest not yet waiting on /gone
            self.gone.ids.lock().unwrap_or_else(|e| e.into_inner()).push(self.id);
            self.gone.notify.notify_one();
        }
    }
}

impl hyper::body::Body for Streamed {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<hyper::body::Frame<Bytes>, Error>>> {
        if self.ended {
            return Poll::Ready(None);
        }
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(Chunk::Data(b))) => {
                if let Some(left) = self.left.as_mut() {
                    *left = left.saturating_sub(b.len() as u64);
                    if *left == 0 {
                        self.ended = true;
                    }
                }
                Poll::Ready(Some(Ok(hyper::body::Frame::data(b))))
            }
            Poll::Ready(Some(Chunk::End)) => {
                self.ended = true;
                Poll::Ready(None)
            }
            Poll::Ready(None) => {
                self.ended = true;
                Poll::Ready(Some(Err(Error::ConnectionTerminated)))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ended
    }
}
