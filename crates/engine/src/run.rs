//! A run: the component's `wasi:cli/run` with the program's stdio, bounded by `[limits]`.

use crate::host::{Host, LimitHit, Shared, Stdio};
use crate::job::Job;
use crate::limits;
use base64::Engine as _;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use wasmtime::component::InstancePre;
use wasmtime::{Engine, Store};
use wasmtime_wasi::I32Exit;
use wasmtime_wasi::p2::bindings::CommandPre;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

/// The most a captured stdout may hold (a syntax check's report).
const CAPTURE: usize = 64 << 20;

fn limit_name(hit: LimitHit) -> &'static str {
    match hit {
        LimitHit::Memory => "memory",
        LimitHit::Timeout => "timeout",
    }
}

/// Runs `pre` to its end and returns the outcome (docs/host-protocol.md, "exit").
pub async fn run(job: &Job, engine: &Engine, pre: &InstancePre<Host>, shared: &Shared) -> Value {
    let command = match CommandPre::new(pre.clone()) {
        Ok(c) => c,
        Err(_) => return json!({ "status": 1, "trap": "the component does not export wasi:cli/run" }),
    };
    let captured = job.capture_stdout.then(|| MemoryOutputPipe::new(CAPTURE));
    let stdio = match &captured {
        Some(pipe) => Stdio::Capture(pipe.clone()),
        None => Stdio::Inherit,
    };
    let mut host = match Host::new(job, shared, stdio) {
        Ok(h) => h,
        Err(e) => return json!({ "status": 1, "failed": format!("{e:#}") }),
    };
    let timeout = job.limits.timeout_ms.map(Duration::from_millis);
    host.deadline = timeout.map(|t| Instant::now() + t);
    let mut store = Store::new(engine, host);
    store.limiter(|h| &mut h.memory);
    limits::watch(&mut store);

    let call = async {
        let instance = command.instantiate_async(&mut store).await?;
        instance.wasi_cli_run().call_run(&mut store).await
    };
    // a guest blocked on the host (stdin, a timer) runs no code for the epoch to stop
    let result = match timeout {
        Some(t) => tokio::time::timeout(t + limits::TICK * 5, call).await.unwrap_or_else(|_| {
            Err(wasmtime::format_err!("the time limit was reached"))
        }),
        None => call.await,
    };
    let timed_out = timeout.is_some() && result.as_ref().is_err_and(|e| e.to_string().contains("the time limit was reached"));
    let mut outcome = match result {
        Ok(Ok(())) => json!({ "status": 0 }),
        Ok(Err(())) => json!({ "status": 1 }),
        Err(e) => match e.downcast_ref::<I32Exit>() {
            Some(exit) => json!({ "status": exit.0 }),
            None => json!({ "status": 1, "trap": format!("{e:?}") }),
        },
    };
    let hit = if timed_out { Some(LimitHit::Timeout) } else { store.data().limit_hit() };
    if let Some(hit) = hit {
        // a run that reached a limit failed because of it, whatever it did next
        if outcome["status"] != 0 || hit == LimitHit::Timeout {
            outcome["limit"] = json!(limit_name(hit));
            if outcome["status"] == 0 {
                outcome["status"] = json!(1);
            }
        }
    }
    if let Some(pipe) = captured {
        outcome["stdout"] = json!(base64::engine::general_purpose::STANDARD.encode(pipe.contents()));
    }
    outcome
}
