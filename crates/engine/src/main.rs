//! fabricks-engine: fabricks' one engine. It runs or serves one WASI 0.2 component on wasmtime
//! with exactly the grants fabricks sends it, and nothing else (docs/host-protocol.md).
//!
//! fabricks starts it with the program's stdio and a socket on fd 3; the job comes as the first
//! JSON line there, and the outcome goes back the same way. Every grant is enforced here, in one
//! place: folders (wasmtime-wasi's preopens, beneath which nothing is opened through a link or
//! `..`), outbound HTTP (policy.rs, outgoing.rs), variables, no sockets, no new links, and the
//! limits of memory and time.

mod accept;
mod channel;
mod compiled;
mod host;
mod job;
mod limits;
mod link;
mod outgoing;
mod policy;
mod prepare;
mod run;
mod serve;
mod source;
mod stdio;

use channel::Channel;
use host::Shared;
use job::{Job, Mode};
use serde_json::{Value, json};
use source::Source;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use wasmtime::{Config, Engine};

/// Where the time goes, reported with the outcome (scripts/profile-run.mjs prints it).
struct Phases {
    mark: Instant,
    all: serde_json::Map<String, Value>,
}

impl Phases {
    fn new() -> Phases {
        Phases { mark: Instant::now(), all: Default::default() }
    }
    fn done(&mut self, name: &str) {
        let now = Instant::now();
        self.all.insert(name.into(), json!(((now - self.mark).as_secs_f64() * 10000.0).round() / 10.0));
        self.mark = now;
    }
}

fn engine() -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    // time limits, and yielding so that one spinning guest never holds up the others
    config.epoch_interruption(true);
    Engine::new(&config)
}

fn execute(channel: &Arc<Channel>, phases: &mut Phases) -> wasmtime::Result<Value> {
    let engine = engine()?;
    limits::start_ticker(&engine);
    phases.done("engine");
    let Some(message) = channel.receive() else { std::process::exit(125) };
    let job: Job = serde_json::from_value(message).map_err(|e| wasmtime::format_err!("the job is malformed: {e}"))?;
    // the build that ran while the engine waited for its job may have left stdio non-blocking
    blocking_stdio();
    phases.done("wait for the job");
    if job.mode == Mode::Prepare {
        // the runtime is instrumented and compiled there, not compiled as it is
        let shared = Shared { policy: Arc::new(policy::Policy::new(&[])), tls: Arc::new(outgoing::tls_config(&[]).map_err(|e| wasmtime::format_err!("{e}"))?) };
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        return runtime.block_on(prepare::prepare(&job, &engine, &shared, channel));
    }
    let cache = Path::new(&job.cache);
    let main = compiled::compiled(&engine, cache, &job.main, channel)?;
    let source: Option<Arc<dyn Source>> = match (&job.source, &job.files) {
        (Some(layer), _) => Some(Arc::new(source::Layer::new(&engine, &compiled::compiled(&engine, cache, layer, channel)?)?)),
        (None, Some(files)) => Some(Arc::new(source::Files::from_json(files)?)),
        (None, None) => None,
    };
    phases.done("load compiled components");
    if job.mode == Mode::Compile {
        return Ok(json!({ "status": 0 }));
    }
    let tls = outgoing::tls_config(&job.extra_roots).map_err(|e| wasmtime::format_err!("the extra certificate roots cannot be read: {e}"))?;
    let shared = Shared { policy: Arc::new(policy::Policy::new(&job.connect)), tls: Arc::new(tls) };

    let pre = match link::prepare(&engine, &main, source) {
        Ok(p) => p,
        // an import this engine does not provide, not a trap of the guest's
        Err(e) => return Ok(json!({ "status": 1, "unlinked": format!("{e}").lines().next().unwrap_or_default() })),
    };
    phases.done("link");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let outcome = match job.mode {
        Mode::Run => runtime.block_on(run::run(&job, &engine, &pre, &shared)),
        Mode::Serve => runtime.block_on(serve::serve(job.clone(), engine.clone(), pre, shared, channel.clone()))?,
        Mode::Compile | Mode::Prepare => unreachable!("compile and prepare jobs end above"),
    };
    phases.done("the guest's run");
    Ok(outcome)
}

fn main() {
    // never outlive fabricks, even when it is killed outright (Linux)
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        // Ctrl-C reaches this process too (same process group): end at once, as the guest would
        libc::signal(libc::SIGINT, libc::SIG_DFL);
    }
    if std::env::args().nth(1).as_deref() == Some("--version") {
        println!("fabricks-engine {} (wasmtime {})", env!("CARGO_PKG_VERSION"), WASMTIME_VERSION);
        return;
    }
    blocking_stdio();
    let mut phases = Phases::new();
    let channel = match Channel::open() {
        Ok(c) => Arc::new(c),
        Err(e) => {
            eprintln!("fabricks-engine: no channel on fd 3 ({e}); it is started by fabricks");
            std::process::exit(2);
        }
    };
    let mut outcome = execute(&channel, &mut phases).unwrap_or_else(|e| json!({ "status": 1, "trap": format!("{e:?}"), "failed": true }));
    outcome["phases"] = Value::Object(std::mem::take(&mut phases.all));
    let status = outcome["status"].as_i64().unwrap_or(1);
    channel.send(&json!({ "exit": outcome }));
    std::process::exit(if (0..256).contains(&status) { status as i32 } else { 1 });
}

/// stdio is shared with fabricks (and with what ran before it, such as a build's tools): an
/// inherited O_NONBLOCK would make a write to a full pipe fail, or a read of stdin end early
/// (wasmtime's stdin reader takes EAGAIN for the end, and the guest's input is lost).
fn blocking_stdio() {
    for fd in 0..3 {
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFL);
            if flags >= 0 && flags & libc::O_NONBLOCK != 0 {
                libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
            }
        }
    }
}

/// The wasmtime this engine is built on; compiled components are kept per engine version.
const WASMTIME_VERSION: &str = "48.0.8";
