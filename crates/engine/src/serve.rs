//! Serving `wasi:http/incoming-handler` on the granted port. Requests are handled by a bounded
//! pool of instances (`[limits] concurrency` at once), all made from one pre-linked component:
//! fabricks' own runtimes keep an instance from request to request, other components get a
//! fresh one each. A request that traps, outlives `request-timeout` or reaches the memory limit
//! is answered 500 or 504 and its instance dropped; the others keep being served. A client
//! that goes away never takes an instance with it: the guest's call runs to its end (or its
//! deadline) on its own task. Asked to stop, it stops accepting and lets the requests under
//! way end and be logged, for at most `DRAIN`.

use crate::accept::{self, Bridge, Mode};
use crate::channel::Channel;
use crate::host::{Host, LimitHit, Shared, Stdio};
use crate::job::Job;
use crate::limits;
use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use serde_json::json;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore, oneshot};
use wasmtime::component::InstancePre;
use wasmtime::{Engine, Result, Store};
use wasmtime_wasi::I32Exit;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::{Proxy, ProxyPre};

type Body = UnsyncBoxBody<Bytes, wasmtime_wasi_http::Error>;

/// How long a stopping server waits for the requests under way (a supervisor's SIGTERM gives
/// about ten seconds before it kills; a stream that never ends must not hold the stop longer).
const DRAIN: Duration = Duration::from_secs(5);

/// The requests under way, from their arrival until their log line is sent.
#[derive(Default)]
struct InFlight {
    count: AtomicUsize,
    idle: Notify,
}

struct Request(Arc<InFlight>);

impl InFlight {
    fn enter(self: &Arc<Self>) -> Request {
        self.count.fetch_add(1, Ordering::SeqCst);
        Request(self.clone())
    }

    async fn drained(&self) {
        loop {
            let idle = self.idle.notified();
            if self.count.load(Ordering::SeqCst) == 0 {
                return;
            }
            idle.await;
        }
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// An instance ready for a request.
struct Slot {
    store: Store<Host>,
    proxy: Proxy,
}

struct Server {
    job: Job,
    engine: Engine,
    pre: ProxyPre<Host>,
    shared: Shared,
    channel: Arc<Channel>,
    idle: Mutex<Vec<Slot>>,
    permits: Arc<Semaphore>,
    request_timeout: Option<Duration>,
    in_flight: Arc<InFlight>,
    /// The accept loop's bridge, when the job offers it (accept.rs).
    bridge: Option<Arc<Bridge>>,
    stop: tokio::sync::watch::Receiver<bool>,
}

/// The requests handled at once when `[limits] concurrency` does not say: two per core, at
/// least four (a handler waiting on an outbound request holds its instance without using a core).
pub fn default_concurrency() -> usize {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    (cores * 2).max(4)
}

fn plain(status: u16, text: &str) -> hyper::Response<Body> {
    hyper::Response::builder()
        .status(status)
        .header("content-type", "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from(format!("{text}\n"))).map_err(|e: Infallible| match e {}).boxed_unsync())
        .expect("a valid response")
}

impl Server {
    /// What went wrong in a call to the guest, if anything.
    fn failure(&self, result: &Result<()>, hit: Option<LimitHit>) -> Option<String> {
        match (result, hit) {
            (_, Some(LimitHit::Timeout)) => Some(match result {
                Err(e) if self.bridge.as_ref().is_some_and(|b| b.killed()) => format!("{}", e.root_cause()),
                _ => format!("the request took longer than its limit ({})", fmt_ms(self.request_timeout)),
            }),
            (_, Some(LimitHit::Memory)) => Some(format!("the instance reached its memory limit ({} MiB)", self.job.limits.memory.unwrap_or(0) >> 20)),
            (Err(e), None) => Some(match e.downcast_ref::<I32Exit>() {
                Some(exit) => format!("the service exited (status {}) while handling a request", exit.0),
                None => format!("the service trapped: {}", e.root_cause()),
            }),
            (Ok(()), None) => None,
        }
    }

    async fn instance(&self) -> Result<Slot> {
        if let Some(slot) = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop() {
            return Ok(slot);
        }
        let mut store = Store::new(&self.engine, Host::new(&self.job, &self.shared, Stdio::Service)?);
        store.limiter(|h| &mut h.memory);
        limits::watch(&mut store);
        let proxy = self.pre.instantiate_async(&mut store).await?;
        Ok(Slot { store, proxy })
    }

    fn log(&self, method: &str, path: &str, status: u16, started: Instant, error: Option<String>) {
        let mut event = json!({ "method": method, "path": path, "status": status, "ms": started.elapsed().as_millis() as u64 });
        if let Some(e) = error {
            event["error"] = json!(e);
        }
        self.channel.send(&json!({ "request": event }));
    }

    async fn handle(self: Arc<Self>, request: hyper::Request<hyper::body::Incoming>) -> hyper::Response<Body> {
        let started = Instant::now();
        let under_way = self.in_flight.enter();
        let method = request.method().to_string();
        let path = request.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
        if names_bridge(&request) {
            self.log(&method, &path, 400, started, Some(format!("{} is reserved for the engine", accept::AUTHORITY)));
            return plain(400, "Bad Request");
        }
        if let Some(bridge) = self.bridge.clone() {
            if bridge.settled().await == Mode::Loop {
                return self.handle_in_loop(&bridge, request, started, under_way, method, path).await;
            }
        }
        let permit = match self.permits.clone().acquire_owned().await {
            Ok(p) => p,
            Err(_) => return plain(503, "Service Unavailable"),
        };
        let mut slot = match self.instance().await {
            Ok(s) => s,
            Err(e) => {
                let why = format!("no instance could be made: {e:#}");
                self.log(&method, &path, 503, started, Some(why));
                return plain(503, "Service Unavailable");
            }
        };
        let (tx, rx) = oneshot::channel();
        let prepared = (|| -> Result<_> {
            let mut http = slot.store.data_mut().http();
            let req = http.new_incoming_request(Scheme::Http, request.map(|b| b.map_err(wasmtime_wasi_http::Error::from)))?;
            let out = http.new_response_outparam(tx)?;
            Ok((req, out))
        })();
        let (req, out) = match prepared {
            Ok(x) => x,
            Err(e) => {
                self.log(&method, &path, 500, started, Some(format!("{e:#}")));
                return plain(500, "Internal Server Error");
            }
        };
        let deadline = self.request_timeout.map(|t| started + t);
        slot.store.data_mut().deadline = deadline;
        // the call runs on its own task: it ends (or reaches its deadline) even when the client
        // has gone, and gives its instance back or drops it
        let server = self.clone();
        let (done_tx, done_rx) = oneshot::channel::<Option<String>>();
        tokio::spawn(async move {
            let _permit = permit;
            let call = slot.proxy.wasi_http_incoming_handler().call_handle(&mut slot.store, req, out);
            let result = match deadline {
                // a guest waiting on the host runs no code for the epoch to stop
                Some(d) => match tokio::time::timeout_at((d + limits::TICK * 5).into(), call).await {
                    Ok(r) => r,
                    Err(_) => {
                        slot.store.data_mut().hit = Some(LimitHit::Timeout);
                        Err(wasmtime::format_err!("the time limit was reached"))
                    }
                },
                None => call.await,
            };
            let failure = server.failure(&result, slot.store.data().limit_hit());
            if failure.is_none() && server.job.reuse_instances {
                slot.store.data_mut().deadline = None;
                server.idle.lock().unwrap_or_else(|e| e.into_inner()).push(slot);
            }
            let _ = done_tx.send(failure);
        });
        let response = match deadline {
            Some(d) => tokio::time::timeout_at(d.into(), rx).await.ok(),
            None => Some(rx.await),
        };
        match response {
            Some(Ok(Ok(response))) => {
                let status = response.status().as_u16();
                let server = self.clone();
                tokio::spawn(async move {
                    let error = done_rx.await.unwrap_or(None);
                    server.log(&method, &path, status, started, error);
                    drop(under_way);
                });
                response.map(|b| b.boxed_unsync())
            }
            Some(Ok(Err(code))) => {
                let error = done_rx.await.unwrap_or(None).unwrap_or_else(|| format!("the handler answered with an error: {code:?}"));
                self.log(&method, &path, 500, started, Some(error));
                plain(500, "Internal Server Error")
            }
            Some(Err(_)) => {
                // the guest ended its call without setting a response
                let error = done_rx.await.unwrap_or(None);
                let (status, text) = if error.as_deref().is_some_and(|e| e.starts_with("the request took longer")) { (504, "Gateway Timeout") } else { (500, "Internal Server Error") };
                self.log(&method, &path, status, started, Some(error.unwrap_or_else(|| "the handler returned without a response".into())));
                plain(status, text)
            }
            None => {
                let why = format!("the request took longer than its limit ({})", fmt_ms(self.request_timeout));
                self.log(&method, &path, 504, started, Some(why));
                plain(504, "Gateway Timeout")
            }
        }
    }
}

impl Server {
    /// A request served by the accept loop: queued for the loop instance, answered when the guest
    /// gives its head. Its limit covers the wait for the head; a body (an SSE stream) then flows
    /// for as long as the guest writes it and the client reads it. A permit is held until then.
    async fn handle_in_loop(self: Arc<Self>, bridge: &Arc<Bridge>, request: hyper::Request<hyper::body::Incoming>, started: Instant, under_way: Request, method: String, path: String) -> hyper::Response<Body> {
        let permit = match self.permits.clone().acquire_owned().await {
            Ok(p) => p,
            Err(_) => return plain(503, "Service Unavailable"),
        };
        let (tx, rx) = oneshot::channel();
        let id = bridge.enqueue(request, tx);
        let answered = match self.request_timeout {
            Some(t) => tokio::time::timeout_at((started + t).into(), rx).await.ok(),
            None => Some(rx.await),
        };
        drop(permit);
        match answered {
            Some(Ok(response)) => {
                let status = response.status().as_u16();
                let server = self.clone();
                let done = Box::new(move |error: Option<String>| {
                    server.log(&method, &path, status, started, error);
                    drop(under_way);
                });
                response.map(|b| Logged { inner: b, done: Some(done) }.boxed_unsync())
            }
            Some(Err(_)) => {
                self.log(&method, &path, 500, started, Some("the service's instance ended before it answered".into()));
                plain(500, "Internal Server Error")
            }
            None => {
                bridge.forget(id);
                let probed = bridge.clone();
                tokio::spawn(async move { probed.probe(PROBE_GRACE).await });
                let why = format!("the request took longer than its limit ({})", fmt_ms(self.request_timeout));
                self.log(&method, &path, 504, started, Some(why));
                plain(504, "Gateway Timeout")
            }
        }
    }

    fn note(&self, text: String) {
        self.channel.send(&json!({ "note": text }));
    }
}

/// A request from outside that names the bridge's authority: never the guest's to see.
fn names_bridge<B>(request: &hyper::Request<B>) -> bool {
    let host = request.uri().host().map(str::to_string).or_else(|| request.headers().get(hyper::header::HOST).and_then(|h| h.to_str().ok()).map(|h| h.split(':').next().unwrap_or("").to_string()));
    host.is_some_and(|h| h.trim_end_matches('.').eq_ignore_ascii_case(accept::AUTHORITY))
}

/// A response body that reports its end: the request's log line is sent then.
struct Logged {
    inner: Body,
    done: Option<Box<dyn FnOnce(Option<String>) + Send>>,
}

impl Logged {
    fn finish(&mut self, error: Option<String>) {
        if let Some(done) = self.done.take() {
            done(error);
        }
    }
}

impl hyper::body::Body for Logged {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            std::task::Poll::Ready(None) => self.finish(None),
            std::task::Poll::Ready(Some(Err(e))) => {
                let why = format!("the response was cut: {e}");
                self.finish(Some(why));
            }
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        let error = if hyper::body::Body::is_end_stream(&self.inner) { None } else { Some("the client went away before the response ended".to_string()) };
        self.finish(error);
    }
}

/// How long the loop instance's event loop may take to answer a probe (accept.rs) before it is
/// taken for stuck in its own code and stopped.
const PROBE_GRACE: Duration = Duration::from_secs(1);

/// How often the loop instance may end (trap, exit, limit) before the service is served
/// request by request instead.
const LOOP_RESTARTS: u32 = 5;

/// Offers the accept loop to `first`'s instance with a `/start` request; while it serves, every
/// request goes through the bridge. When it ends while serving goes on, another instance is
/// offered it. An instance that declines (its app does not listen) joins the pool, app loaded.
async fn run_loop(server: Arc<Server>, bridge: Arc<Bridge>, first: Slot) {
    let mut next = Some(first);
    let mut ended = 0u32;
    loop {
        bridge.revive();
        let mut slot = match next.take() {
            Some(s) => s,
            None => match server.instance().await {
                Ok(s) => s,
                Err(e) => {
                    server.note(format!("no instance could be made for the service: {e:#}"));
                    bridge.set_mode(Mode::Pool);
                    return;
                }
            },
        };
        slot.store.data_mut().outgoing.bridge = Some(bridge.clone());
        let (tx, rx) = oneshot::channel();
        let prepared = (|| -> Result<_> {
            let mut http = slot.store.data_mut().http();
            let start = hyper::Request::builder()
                .method("GET")
                .uri(format!("http://{}/start", accept::AUTHORITY))
                .header(hyper::header::HOST, accept::AUTHORITY)
                .body(Empty::<Bytes>::new().map_err(|e: Infallible| -> wasmtime_wasi_http::Error { match e {} }))?;
            Ok((http.new_incoming_request(Scheme::Http, start)?, http.new_response_outparam(tx)?))
        })();
        let Ok((req, out)) = prepared else {
            bridge.set_mode(Mode::Pool);
            return;
        };
        let mut task = tokio::spawn(async move {
            let result = slot.proxy.wasi_http_incoming_handler().call_handle(&mut slot.store, req, out).await;
            (result, slot)
        });
        // loading the app is bounded like a request
        let startup = server.request_timeout.unwrap_or(Duration::from_secs(300));
        // a call that ends without answering (it trapped while loading the app) keeps its
        // outparam in its store, so the answer is not awaited past the call's end
        let mut rx = rx;
        let mut finished = None;
        let head = tokio::select! {
            biased;
            head = tokio::time::timeout(startup, &mut rx) => head,
            joined = &mut task => match rx.try_recv() {
                // answered in the same call that has now ended
                Ok(answer) => {
                    finished = Some(joined);
                    Ok(Ok(answer))
                }
                Err(_) => {
                    let why = match joined {
                        Ok((result, slot)) => server.failure(&result, slot.store.data().limit_hit()),
                        Err(e) => Some(format!("the service's task failed: {e}")),
                    };
                    server.note(format!("the service did not load ({}); serving each request on an instance of its own", why.unwrap_or_else(|| "its handler returned without answering".into())));
                    bridge.set_mode(Mode::Pool);
                    return;
                }
            },
        };
        let accepted = matches!(&head, Ok(Ok(Ok(r))) if r.status() == 200 && r.headers().contains_key("fabricks-accept"));
        if !accepted {
            bridge.set_mode(Mode::Pool);
            if head.is_err() {
                // no answer within the limit: the app never finished loading
                task.abort();
                return;
            }
            let task_abort = task.abort_handle();
            let joined = match finished.take() {
                Some(joined) => Ok(joined),
                None => tokio::time::timeout(startup, task).await,
            };
            match joined {
                Ok(Ok((Ok(()), mut slot))) if slot.store.data().limit_hit().is_none() && server.job.reuse_instances => {
                    slot.store.data_mut().outgoing.bridge = None;
                    server.idle.lock().unwrap_or_else(|e| e.into_inner()).push(slot);
                }
                Ok(_) => {}
                Err(_) => task_abort.abort(),
            }
            return;
        }
        bridge.set_mode(Mode::Loop);
        let joined = match finished.take() {
            Some(joined) => joined,
            None => task.await,
        };
        let why = match joined {
            Ok((result, slot)) => server.failure(&result, slot.store.data().limit_hit()),
            Err(e) => Some(format!("the service's task failed: {e}")),
        };
        bridge.set_mode(Mode::Starting);
        bridge.fail_replies();
        if *server.stop.borrow() {
            bridge.set_mode(Mode::Pool);
            return;
        }
        ended += 1;
        let why = why.unwrap_or_else(|| "the service's handler returned".into());
        if ended > LOOP_RESTARTS {
            server.note(format!("the service's instance ended {ended} times ({why}); serving each request on an instance of its own from now on"));
            bridge.set_mode(Mode::Pool);
            return;
        }
        server.note(format!("the service's instance ended ({why}); starting another"));
    }
}

fn fmt_ms(d: Option<Duration>) -> String {
    match d {
        Some(d) if d.as_millis() % 1000 == 0 => format!("{}s", d.as_secs()),
        Some(d) => format!("{}ms", d.as_millis()),
        None => "none".into(),
    }
}

/// Serves until fabricks closes the channel (or says stop).
pub async fn serve(job: Job, engine: Engine, pre: InstancePre<Host>, shared: Shared, channel: Arc<Channel>) -> Result<serde_json::Value> {
    let pre = match ProxyPre::new(pre) {
        Ok(p) => p,
        Err(_) => return Ok(json!({ "status": 1, "no_handler": true })),
    };
    let listen = job.listen.clone().ok_or_else(|| wasmtime::format_err!("serve: no listen address"))?;
    let listener = match TcpListener::bind((listen.host.as_str(), listen.port)).await {
        Ok(l) => l,
        Err(e) => return Ok(json!({ "status": 1, "listen_failed": e.kind().to_string(), "errno": e.raw_os_error() })),
    };
    let local = listener.local_addr()?;
    let concurrency = job.limits.concurrency.unwrap_or_else(default_concurrency).max(1);
    let request_timeout = job.limits.request_timeout_ms.map(Duration::from_millis);
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let bridge = (job.accept_loop && job.reuse_instances).then(|| Arc::new(Bridge::new(stop_rx.clone())));
    let server = Arc::new(Server {
        job,
        engine,
        pre,
        shared,
        channel: channel.clone(),
        idle: Mutex::new(Vec::new()),
        permits: Arc::new(Semaphore::new(concurrency)),
        request_timeout,
        in_flight: Arc::default(),
        bridge: bridge.clone(),
        stop: stop_rx.clone(),
    });
    // one instance made ahead, so the first request does not pay for it and a component that
    // cannot start is reported before anything is served
    match (server.instance().await, bridge) {
        (Ok(slot), Some(bridge)) => {
            tokio::spawn(run_loop(server.clone(), bridge, slot));
        }
        (Ok(slot), None) => server.idle.lock().unwrap_or_else(|e| e.into_inner()).push(slot),
        (Err(e), _) => return Ok(json!({ "status": 1, "trap": format!("{e:?}") })),
    }
    channel.send(&json!({ "serving": { "address": local.ip().to_string(), "port": local.port(), "concurrency": concurrency } }));

    let reader = channel.clone();
    std::thread::spawn(move || {
        // anything but a message (fabricks gone, or "stop") ends serving
        loop {
            match reader.receive() {
                Some(m) if m.get("stop").is_none() => continue,
                _ => break,
            }
        }
        let _ = stop_tx.send(true);
    });
    loop {
        let (stream, _) = tokio::select! {
            _ = stop_rx.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(_) => continue,
            },
        };
        let _ = stream.set_nodelay(true);
        let server = server.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            // the connection counts as under way until hyper has written its last byte: a response
            // whose log line is sent may still have its final chunk to flush
            let _open = server.in_flight.enter();
            let service = service_fn({
                let server = server.clone();
                move |req| {
                    let server = server.clone();
                    async move { Ok::<_, Infallible>(server.handle(req).await) }
                }
            });
            let conn = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stop.changed() => {
                    // on stop: finish the response under way, then close (an idle connection at once)
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(DRAIN, server.in_flight.drained()).await;
    Ok(json!({ "status": 0 }))
}
