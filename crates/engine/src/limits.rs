//! Time limits. An epoch ticker advances the engine every few milliseconds; at each tick a
//! running instance yields to the executor (so a spinning guest never starves the server) and is
//! stopped once its deadline has passed. A guest waiting on the host rather than running code is
//! bounded by the caller's own timeout around the call.

use crate::host::{Host, LimitHit};
use std::time::{Duration, Instant};
use wasmtime::{Engine, Store, UpdateDeadline, format_err};

pub const TICK: Duration = Duration::from_millis(10);

/// Advances `engine`'s epoch every TICK for as long as the process lives.
pub fn start_ticker(engine: &Engine) {
    let engine = engine.weak();
    std::thread::Builder::new()
        .name("epoch".into())
        .spawn(move || {
            while let Some(e) = engine.upgrade() {
                e.increment_epoch();
                drop(e);
                std::thread::sleep(TICK);
            }
        })
        .expect("a thread starts");
}

/// Makes `store` yield at every tick and trap once its deadline (if any) has passed.
pub fn watch(store: &mut Store<Host>) {
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(|mut ctx| {
        // the accept loop's instance has no deadline of its own; it is stopped when found stuck
        if ctx.data().outgoing.bridge.as_ref().is_some_and(|b| b.killed()) {
            ctx.data_mut().hit = Some(LimitHit::Timeout);
            return Err(format_err!("the service stopped answering: it ran its own code for longer than a request may take"));
        }
        if let Some(deadline) = ctx.data().deadline {
            if Instant::now() >= deadline {
                ctx.data_mut().hit = Some(LimitHit::Timeout);
                return Err(format_err!("the time limit was reached"));
            }
        }
        Ok(UpdateDeadline::Yield(1))
    });
}
