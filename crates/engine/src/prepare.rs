//! Pre-initialized apps (docs/architecture.md, "Pre-initialized apps"): a runtime layer
//! snapshotted, with `wasmtime-wizer`, after its `prepare` export has done for one app what every
//! start would do again (the JavaScript runtime reads and compiles the app's bundle). The snapshot
//! still imports `fabricks:app/source`, so it runs with the app's module layer as the runtime
//! does, and it is compiled and kept in the cache under a key fabricks chose (the runtime's and
//! the module's digests, this engine's source, the protocol's version).
//!
//! Nothing that differs per run may be frozen into it. `prepare` runs with no arguments,
//! variables, folders or stdin; once the runtime asks for the app's entrypoint, any clock,
//! random number or variable the guest asks for (the monotonic clock: the guest watches its own
//! uses), a look at its folders, a host resource still held at the end, and anything it writes,
//! refuses the snapshot
//! (a refusal is kept too, so it is not tried again), and the app starts as it did before.
//! The JavaScript runtime first tries more (evaluating the bundle's dependencies ahead, stage
//! B): what refuses that attempt, or a trap in it, makes a fresh instance take the compile-only
//! stage A, which is refused as above.

use crate::channel::Channel;
use crate::compiled::{self, hex};
use crate::host::{Host, Shared, Stdio};
use crate::job::{ComponentFile, Job};
use crate::limits;
use crate::link;
use crate::source::{Layer, Source};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use wasmtime::component::{Instance, Lift, WasmList};
use wasmtime::{Engine, Result, Store, StoreContextMut, format_err};
use wasmtime_wasi::I32Exit;
use wasmtime_wasi::p2::bindings::CommandPre;
use wasmtime_wasi::p2::bindings::clocks::wall_clock::Datetime;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wizer::{ComponentInstanceState, Wizer};

/// The WASI version the overrides below are defined at (as link.rs).
const WASI: &str = "0.2.12";
/// How long `prepare` may take before the snapshot is given up.
const PREPARE_LIMIT: Duration = Duration::from_secs(60);

/// What the guest asked of the host while preparing, once it reached the app's code.
#[derive(Default)]
pub struct Watch {
    armed: AtomicBool,
    asked: Mutex<Vec<String>>,
}

impl Watch {
    pub fn arm(&self) {
        self.armed.store(true, Ordering::SeqCst);
    }
    pub fn note(&self, what: &str) {
        self.note_from(what, || None);
    }
    /// `what`, the first time, with where in the guest it came from when `whence` can tell.
    fn note_from(&self, what: &str, whence: impl FnOnce() -> Option<String>) {
        if self.armed.load(Ordering::SeqCst) {
            let mut asked = self.asked.lock().unwrap_or_else(|e| e.into_inner());
            if !asked.iter().any(|a| a == what || a.starts_with(&format!("{what} ("))) {
                asked.push(match whence() {
                    Some(w) => format!("{what} ({w})"),
                    None => what.to_string(),
                });
            }
        }
    }
    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

fn watch(store: &StoreContextMut<'_, Host>, what: &str) {
    if let Some(w) = &store.data().watch {
        w.note_from(what, || guest_caller(store));
    }
}

/// The guest's own functions that made a host call, innermost first, past the runtime's WASI
/// plumbing (libc, the preview1 adapter, Rust's std): which dependency drew a random number,
/// for the refusal a user reads. None when the component carries no names.
fn guest_caller(store: &StoreContextMut<'_, Host>) -> Option<String> {
    // libc's, the adapter's and Rust's standard library's own frames name no dependency
    const PLUMBING: [&str; 7] = ["wasi", "random_get", "getentropy", "getrandom", "std::", "core::", "alloc::"];
    let trace = wasmtime::WasmBacktrace::capture(store);
    let mut names: Vec<String> = Vec::new();
    for frame in trace.frames() {
        let Some(name) = frame.func_name() else { continue };
        let name = format!("{:#}", rustc_demangle::demangle(name));
        let plain = name.trim_start_matches(['<', '_']).to_lowercase();
        if PLUMBING.iter().any(|p| plain.starts_with(p) || (p.len() > 6 && plain.contains(p))) || names.contains(&name) {
            continue;
        }
        names.push(name);
        if names.len() == 3 {
            break;
        }
    }
    (!names.is_empty()).then(|| format!("in {}", names.join(" < ")))
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    let mut filled = 0;
    while filled < n {
        let r = unsafe { libc::getrandom(b[filled..].as_mut_ptr().cast(), n - filled, 0) };
        if r <= 0 {
            break;
        }
        filled += r as usize;
    }
    b
}

/// The clocks and random numbers, answered as wasmtime-wasi would, and watched.
fn watched_linker(linker: &mut wasmtime::component::Linker<Host>) -> Result<()> {
    let started = Instant::now();
    let mut wall = linker.instance(&format!("wasi:clocks/wall-clock@{WASI}"))?;
    wall.func_wrap("now", |store: StoreContextMut<'_, Host>, (): ()| {
        watch(&store, "read the wall clock");
        let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        Ok((Datetime { seconds: d.as_secs(), nanoseconds: d.subsec_nanos() },))
    })?;
    let mut mono = linker.instance(&format!("wasi:clocks/monotonic-clock@{WASI}"))?;
    // not watched here: SpiderMonkey reads it for its own timings while it compiles; the guest
    // watches what a program reads of it (performance.now, timers)
    mono.func_wrap("now", move |_store: StoreContextMut<'_, Host>, (): ()| Ok((started.elapsed().as_nanos() as u64,)))?;
    let mut random = linker.instance(&format!("wasi:random/random@{WASI}"))?;
    random.func_wrap("get-random-bytes", |store: StoreContextMut<'_, Host>, (n,): (u64,)| {
        watch(&store, "drew random numbers");
        Ok((random_bytes(n.min(1 << 20) as usize),))
    })?;
    random.func_wrap("get-random-u64", |store: StoreContextMut<'_, Host>, (): ()| {
        watch(&store, "drew random numbers");
        Ok((u64::from_le_bytes(random_bytes(8).try_into().unwrap_or_default()),))
    })?;
    let mut insecure = linker.instance(&format!("wasi:random/insecure@{WASI}"))?;
    insecure.func_wrap("get-insecure-random-bytes", |store: StoreContextMut<'_, Host>, (n,): (u64,)| {
        watch(&store, "drew random numbers");
        Ok((random_bytes(n.min(1 << 20) as usize),))
    })?;
    insecure.func_wrap("get-insecure-random-u64", |store: StoreContextMut<'_, Host>, (): ()| {
        watch(&store, "drew random numbers");
        Ok((u64::from_le_bytes(random_bytes(8).try_into().unwrap_or_default()),))
    })?;
    // wasi-libc lists the folders it was given once, on its first path: found empty here, a run's
    // mounts would stay unseen in every instance made from the snapshot
    let mut preopens = linker.instance(&format!("wasi:filesystem/preopens@{WASI}"))?;
    preopens.func_wrap("get-directories", |store: StoreContextMut<'_, Host>, (): ()| {
        watch(&store, "looked at the filesystem");
        Ok((Vec::<(wasmtime::component::Resource<wasmtime_wasi::filesystem::Descriptor>, String)>::new(),))
    })?;
    let mut seed = linker.instance(&format!("wasi:random/insecure-seed@{WASI}"))?;
    seed.func_wrap("insecure-seed", |store: StoreContextMut<'_, Host>, (): ()| {
        watch(&store, "drew random numbers");
        let b = random_bytes(16);
        Ok(((u64::from_le_bytes(b[..8].try_into().unwrap_or_default()), u64::from_le_bytes(b[8..].try_into().unwrap_or_default())),))
    })?;
    Ok(())
}

/// What the cache holds under a key: a refusal recorded earlier (its reason), or the form itself.
fn recorded(folder: &Path) -> Option<Result<(), String>> {
    let meta: Value = serde_json::from_slice(&fs::read(folder.join("fabricks.json")).ok()?).ok()?;
    if let Some(reason) = meta.get("refused").and_then(Value::as_str) {
        return Some(Err(reason.to_string()));
    }
    folder.join("component.cwasm").exists().then_some(Ok(()))
}

/// Keeps a refusal under the key, so that the next build or pull does not try again.
fn record_refusal(cache: &Path, key: &str, reason: &str) {
    let tmp = cache.join(format!("{key}.tmp-{}-refused", std::process::id()));
    let written = fs::create_dir_all(&tmp)
        .and_then(|_| fs::write(tmp.join("fabricks.json"), json!({ "refused": reason, "bytes": 0 }).to_string()))
        .and_then(|_| fs::rename(&tmp, cache.join(key)));
    if written.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
}

/// A component written for a moment to be compiled into the cache under `hex` (with `extra` files beside it).
fn compile_bytes(engine: &Engine, cache: &Path, hex: &str, bytes: &[u8], channel: &Channel, extra: &[(&str, &[u8])]) -> Result<wasmtime::component::Component> {
    let folder = cache.join(hex);
    if folder.join("component.cwasm").exists() {
        let file = ComponentFile { path: String::new(), hex: hex.to_string(), announce: false, cached_only: true };
        if let Ok(c) = compiled::compiled(engine, cache, &file, channel) {
            return Ok(c);
        }
    }
    fs::create_dir_all(cache)?;
    let tmp = cache.join(format!("{hex}.tmp-{}.wasm", std::process::id()));
    fs::write(&tmp, bytes)?;
    let file = ComponentFile { path: tmp.to_string_lossy().into_owned(), hex: hex.to_string(), announce: false, cached_only: false };
    let out = compiled::compiled_with(engine, cache, &file, channel, extra);
    let _ = fs::remove_file(&tmp);
    out
}

pub async fn prepare(job: &Job, engine: &Engine, shared: &Shared, channel: &Channel) -> Result<Value> {
    let key = job.prepared.as_deref().ok_or_else(|| format_err!("a prepare job names no key"))?;
    let cache = Path::new(&job.cache);
    match recorded(&cache.join(key)) {
        Some(Ok(())) => {
            let report: Value = fs::read(cache.join(key).join("prepared.json")).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or(Value::Null);
            return Ok(json!({ "status": 0, "prepared": true, "cached": true, "stage": report.get("prepared"), "ahead_refused": report.get("ahead_refused") }));
        }
        Some(Err(reason)) => return Ok(json!({ "status": 0, "prepared": false, "refused": reason, "cached": true })),
        None => {}
    }
    let started = Instant::now();
    let wizer = {
        let mut w = Wizer::new();
        w.init_func("prepare");
        // the snapshot still lifts the export: a run checks it was prepared, not that it exists
        w.keep_init_func(true);
        w
    };
    let wasm = fs::read(&job.main.path)?;
    let (cx, instrumented) = wizer.instrument_component(&wasm)?;
    // the instrumented runtime is the same for every app on it: compiled once
    let instrumented_hex = hex(&Sha256::digest(format!("fabricks-wizer-instrumented\0{}", job.main.hex)));
    channel.send(&json!({ "preparing": key }));
    let component = compile_bytes(engine, cache, &instrumented_hex, &instrumented, channel, &[])?;
    let source: Arc<dyn Source> = match &job.source {
        Some(layer) => Arc::new(Layer::new(engine, &compiled::compiled(engine, cache, layer, channel)?)?),
        None => return Err(format_err!("a prepare job names no module layer")),
    };
    let mut linker = link::linker(engine, &component, Some(source))?;
    watched_linker(&mut linker)?;

    // Both runtimes first run the app's dependencies ahead (JavaScript: the bundle's, stage B;
    // Python: the entrypoint's imports); when that is refused, the instance may have changed
    // globals, so a fresh one takes the compile-only stage A, told by FABRICKS_PREPARE=compile
    // (read before the watch begins): the bundle compiled, or every module of the layer.
    let mut tried = attempt(job, engine, shared, &linker, &component, &[]).await;
    let mut ahead_refused = None;
    let retry = match &tried {
        Ok(t) => t.report.get("retry").and_then(Value::as_str).map(str::to_string).or_else(|| matches!(t.report.get("prepared").and_then(Value::as_str), Some("ahead" | "imported")).then(|| t.refusal.clone()).flatten()),
        // a trap while evaluating ahead (a Python runtime that traps here traps again)
        Err(e) => Some(format!("the runtime trapped: {}", e.root_cause())),
    };
    if let Some(why) = retry {
        ahead_refused = Some(why);
        tried = attempt(job, engine, shared, &linker, &component, &[("FABRICKS_PREPARE".to_string(), "compile".to_string())]).await;
    }
    let tried = tried?;
    let (mut report, mut form) = match snapshot_of(&wizer, &cx, cache, key, engine, channel, tried, ahead_refused).await? {
        Ok(made) => made,
        Err(reason) => return Ok(refused(cache, key, &reason, started)),
    };
    if report.get("prepared").and_then(Value::as_str) == Some("ahead") {
        if let Err(why) = starts(job, engine, shared, &linker, &form.1).await {
            // thrown away for the compile-only form (docs/architecture.md: a snapshot instance that traps)
            let _ = fs::remove_dir_all(cache.join(key));
            let again = attempt(job, engine, shared, &linker, &component, &[("FABRICKS_PREPARE".to_string(), "compile".to_string())]).await?;
            (report, form) = match snapshot_of(&wizer, &cx, cache, key, engine, channel, again, Some(format!("its snapshot did not start: {why}"))).await? {
                Ok(made) => made,
                Err(reason) => return Ok(refused(cache, key, &reason, started)),
            };
        }
    }
    Ok(json!({ "status": 0, "prepared": true, "bytes": form.0, "ms": started.elapsed().as_millis() as u64, "stage": report.get("prepared"), "ahead_refused": report.get("ahead_refused"), "report": report }))
}

/// A refusal, kept under the key so that the next build or pull does not try again.
fn refused(cache: &Path, key: &str, reason: &str, started: Instant) -> Value {
    record_refusal(cache, key, reason);
    json!({ "status": 0, "prepared": false, "refused": reason, "ms": started.elapsed().as_millis() as u64 })
}

/// The attempt's instance snapshotted and compiled into the cache under `key`, with the guest's
/// report beside it (and why stage B was given up, if it was); or why it may not be.
#[allow(clippy::too_many_arguments)]
async fn snapshot_of(wizer: &Wizer, cx: &wasmtime_wizer::ComponentContext<'_>, cache: &Path, key: &str, engine: &Engine, channel: &Channel, tried: Attempt, ahead_refused: Option<String>) -> Result<Result<(Value, (usize, wasmtime::component::Component)), String>> {
    let Attempt { mut store, instance, mut report, refusal } = tried;
    if let Some(reason) = refusal.or_else(|| report.get("retry").and_then(Value::as_str).map(str::to_string)) {
        return Ok(Err(reason));
    }
    if let (Some(why), Some(obj)) = (ahead_refused, report.as_object_mut()) {
        // kept beside the form: why its dependencies were not evaluated ahead
        obj.insert("ahead_refused".to_string(), Value::String(why));
    }
    // wizer reads each memory whole through one accessor's return value, which a heap grown past
    // wasmtime's default bound on one call's data (128 MiB) would exceed
    store.set_hostcall_fuel(usize::MAX);
    let snapshot = wizer.snapshot_component(cx, &mut Snapshotted { store: &mut store, instance }).await?;
    // the guest's report beside it: what this run must not differ in for the form to be used
    // (the variables the runtime's imports looked up, all absent while preparing)
    let report_bytes = serde_json::to_vec(&report).expect("serializes");
    let form = compile_bytes(engine, cache, key, &snapshot, channel, &[("prepared.json", &report_bytes)])?;
    Ok(Ok((report, (snapshot.len(), form))))
}

/// How long a snapshot's start is tried before it counts as started.
const START_CHECK: Duration = Duration::from_secs(5);

/// A stage B snapshot's start, tried once with nothing granted and stdin at its end. An instance
/// made from some snapshots traps (`unreachable`) before the program's first output, and serving
/// from one traps at its first request (docs/architecture.md); neither is understood, and which
/// snapshots do depends on the heap's layout (about one app's bundle in ten, measured). The app's
/// own top level runs here, in a sandbox that grants nothing; what it writes is thrown away.
async fn starts(job: &Job, engine: &Engine, shared: &Shared, linker: &wasmtime::component::Linker<Host>, form: &wasmtime::component::Component) -> Result<(), String> {
    let command = linker.instantiate_pre(form).and_then(CommandPre::new).map_err(|e| format!("{e}"))?;
    let (out, err) = (MemoryOutputPipe::new(1 << 20), MemoryOutputPipe::new(1 << 20));
    let bare = Job { args: vec![], env: vec![], mounts: vec![], ..job.clone() };
    let mut host = Host::new(&bare, shared, Stdio::Prepare(out, err)).map_err(|e| format!("{e}"))?;
    host.deadline = Some(Instant::now() + START_CHECK);
    let mut store = Store::new(engine, host);
    store.limiter(|h| &mut h.memory);
    limits::watch(&mut store);
    let call = async {
        let instance = command.instantiate_async(&mut store).await?;
        instance.wasi_cli_run().call_run(&mut store).await
    };
    match tokio::time::timeout(START_CHECK + limits::TICK * 5, call).await {
        // still waiting on the host, or ended: it started
        Err(_) | Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) if e.downcast_ref::<I32Exit>().is_some() || store.data().limit_hit().is_some() => Ok(()),
        Ok(Err(e)) => Err(e.root_cause().to_string()),
    }
}

/// One instance called `prepare`: what it reported, and why it may not be snapshotted.
struct Attempt {
    store: Store<Host>,
    instance: Instance,
    report: Value,
    refusal: Option<String>,
}

async fn attempt(job: &Job, engine: &Engine, shared: &Shared, linker: &wasmtime::component::Linker<Host>, component: &wasmtime::component::Component, env: &[(String, String)]) -> Result<Attempt> {
    let (out, err) = (MemoryOutputPipe::new(1 << 16), MemoryOutputPipe::new(1 << 16));
    // nothing per run: no arguments, variables (but the stage asked for), folders or stdin
    let bare = Job { args: vec![], env: env.to_vec(), mounts: vec![], ..job.clone() };
    let mut host = Host::new(&bare, shared, Stdio::Prepare(out.clone(), err.clone()))?;
    let w = Arc::new(Watch::default());
    host.watch = Some(w.clone());
    host.deadline = Some(Instant::now() + PREPARE_LIMIT);
    let mut store = Store::new(engine, host);
    store.limiter(|h| &mut h.memory);
    limits::watch(&mut store);
    let instance = linker.instantiate_async(&mut store, component).await?;
    let func = instance.get_typed_func::<(), (String,)>(&mut store, "prepare")?;
    let (report,) = func.call_async(&mut store, ()).await?;
    let report: Value = serde_json::from_str(&report).unwrap_or_else(|_| json!({ "refused": report }));

    let refusal = if let Some(r) = report.get("refused").and_then(Value::as_str) {
        Some(r.to_string())
    } else if let Some(asked) = Some(w.asked()).filter(|a| !a.is_empty()) {
        Some(format!("the app's code {} while it loaded", asked.join(", ")))
    } else if !out.contents().is_empty() || !err.contents().is_empty() {
        Some("the app's code wrote output while it loaded".to_string())
    } else if !store.data().table.is_empty() {
        // a handle lives in the instance's tables, not in its memory: it would not be there
        Some("the runtime held a host resource (a stream, a file or a request) after loading".to_string())
    } else {
        None
    };
    Ok(Attempt { store, instance, report, refusal })
}

/// What wizer reads the instance's state through (its `wasmtime` feature's own, which the
/// engine does not turn on: it would turn on wasmtime features that change compiled code).
struct Snapshotted<'a> {
    store: &'a mut Store<Host>,
    instance: Instance,
}

impl Snapshotted<'_> {
    async fn call<R: Lift + Send + Sync + 'static, R2>(&mut self, instance: &str, func: &str, use_ret: impl FnOnce(&mut Store<Host>, R) -> R2) -> R2 {
        let (_, iface) = self.instance.get_export(&mut *self.store, None, instance).expect("wizer's instrumentation exports its instance");
        let (_, f) = self.instance.get_export(&mut *self.store, Some(&iface), func).expect("wizer's instrumentation exports its function");
        let f = self.instance.get_typed_func::<(), (R,)>(&mut *self.store, f).expect("wizer's accessor has its type");
        let ret = f.call_async(&mut *self.store, ()).await.expect("wizer's accessor does not trap").0;
        use_ret(&mut *self.store, ret)
    }
}

impl ComponentInstanceState for Snapshotted<'_> {
    async fn call_func_ret_list_u8(&mut self, instance: &str, func: &str, contents: impl FnOnce(&[u8]) + Send) {
        self.call(instance, func, |store, list: WasmList<u8>| contents(list.as_le_slice(&*store))).await
    }
    async fn call_func_ret_s32(&mut self, instance: &str, func: &str) -> i32 {
        self.call(instance, func, |_, r| r).await
    }
    async fn call_func_ret_s64(&mut self, instance: &str, func: &str) -> i64 {
        self.call(instance, func, |_, r| r).await
    }
    async fn call_func_ret_f32(&mut self, instance: &str, func: &str) -> u32 {
        self.call(instance, func, |_, r: f32| r.to_bits()).await
    }
    async fn call_func_ret_f64(&mut self, instance: &str, func: &str) -> u64 {
        self.call(instance, func, |_, r: f64| r.to_bits()).await
    }
}
