//! The imports an instance gets: WASI 0.2 and wasi:http from wasmtime-wasi, with the few
//! functions where fabricks' grants differ from wasmtime's defaults replaced, and
//! `fabricks:app/source` answered from the app's files. Everything is linked once per job
//! (`InstancePre`), so an instance costs only its instantiation.

use crate::host::Host;
use crate::source::Source;
use std::sync::Arc;
use wasmtime::component::{Component, InstancePre, Linker, Resource};
use wasmtime_wasi::filesystem::Descriptor;
use wasmtime_wasi::p2::bindings::filesystem::types::ErrorCode;
use wasmtime::{Engine, Result, StoreContextMut};

/// The WASI 0.2 version wasmtime-wasi 48 defines its interfaces at; the linker gives any 0.2.x
/// import these definitions.
const WASI: &str = "0.2.12";

/// The exact name under which `component` imports `interface` (with its version), if it does.
pub fn imported(engine: &Engine, component: &Component, interface: &str) -> Option<String> {
    component.component_type().imports(engine).map(|(n, _)| n.to_string()).find(|n| n.split('@').next() == Some(interface))
}

pub fn linker(engine: &Engine, main: &Component, source: Option<Arc<dyn Source>>) -> Result<Linker<Host>> {
    let mut linker: Linker<Host> = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    linker.allow_shadowing(true);

    // The granted variables, then this instance's denials: the JavaScript runtime finds why a
    // request was refused there (`FABRICKS_DENIED host:port`; docs/host-protocol.md).
    linker.instance(&format!("wasi:cli/environment@{WASI}"))?.func_wrap("get-environment", |store: StoreContextMut<'_, Host>, (): ()| {
        let host = store.data();
        if let Some(w) = &host.watch {
            w.note("read the environment");
        }
        let mut env = host.env.clone();
        env.extend(host.denials.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned());
        Ok((env,))
    })?;

    // A link the guest made could later be moved to where it points outside a mount, or be
    // followed by a program on the host: the guest makes none.
    linker.instance(&format!("wasi:filesystem/types@{WASI}"))?.func_wrap(
        "[method]descriptor.symlink-at",
        |_store: StoreContextMut<'_, Host>, (_dir, _target, _link): (Resource<Descriptor>, String, String)| Ok((Err::<(), ErrorCode>(ErrorCode::NotPermitted),)),
    )?;

    if let (Some(source), Some(name)) = (source, imported(engine, main, "fabricks:app/source")) {
        let mut inst = linker.instance(&name)?;
        let s = source.clone();
        // the runtime asks for the entrypoint when it reaches the app's code: from then on,
        // preparing watches what the guest asks of the host (prepare.rs)
        inst.func_wrap("entrypoint", move |store: StoreContextMut<'_, Host>, (): ()| {
            if let Some(w) = &store.data().watch {
                w.arm();
            }
            Ok((s.entrypoint()?,))
        })?;
        let s = source.clone();
        inst.func_wrap("list", move |_store: StoreContextMut<'_, Host>, (): ()| Ok((s.list()?,)))?;
        let s = source;
        inst.func_wrap("read", move |_store: StoreContextMut<'_, Host>, (path,): (String,)| Ok((s.read(&path)?,)))?;
    }
    Ok(linker)
}

/// `main` linked once: what each instance is made from.
pub fn prepare(engine: &Engine, main: &Component, source: Option<Arc<dyn Source>>) -> Result<InstancePre<Host>> {
    linker(engine, main, source)?.instantiate_pre(main)
}
