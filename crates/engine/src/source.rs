//! `fabricks:app/source`, the app's files as the runtime layer asks for them: answered by the
//! app's module layer (instantiated once per job in a store of its own, shared by every
//! instance), or by files fabricks sent with the job (a build's syntax check).

use base64::Engine as _;
use std::collections::BTreeMap;
use std::sync::Mutex;
use wasmtime::component::{Component, Linker, TypedFunc};
use wasmtime::{Engine, Result, Store, UpdateDeadline, format_err};

pub trait Source: Send + Sync {
    fn entrypoint(&self) -> Result<String>;
    fn list(&self) -> Result<Vec<String>>;
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>>;
}

struct LayerFuncs {
    entrypoint: TypedFunc<(), (String,)>,
    list: TypedFunc<(), (Vec<String>,)>,
    read: TypedFunc<(String,), (Option<Vec<u8>>,)>,
}

/// A module layer: a component that imports nothing and exports `fabricks:app/source`.
pub struct Layer {
    store: Mutex<(Store<()>, LayerFuncs)>,
}

impl Layer {
    pub fn new(engine: &Engine, component: &Component) -> Result<Layer> {
        let mut store = Store::new(engine, ());
        // its calls are short lookups, never stopped by the epoch that bounds the app
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|_| Ok(UpdateDeadline::Continue(1)));
        let instance = Linker::new(engine).instantiate(&mut store, component)?;
        let name = component
            .component_type()
            .exports(engine)
            .map(|(n, _)| n.to_string())
            .find(|n| n.split('@').next() == Some("fabricks:app/source"))
            .ok_or_else(|| format_err!("the module layer does not export fabricks:app/source"))?;
        let iface = instance.get_export_index(&mut store, None, &name).ok_or_else(|| format_err!("no {name}"))?;
        let func = |store: &mut Store<()>, f: &str| instance.get_export_index(&mut *store, Some(&iface), f).ok_or_else(|| format_err!("{name} has no {f}"));
        let e = func(&mut store, "entrypoint")?;
        let l = func(&mut store, "list")?;
        let r = func(&mut store, "read")?;
        let funcs = LayerFuncs {
            entrypoint: instance.get_typed_func(&mut store, &e)?,
            list: instance.get_typed_func(&mut store, &l)?,
            read: instance.get_typed_func(&mut store, &r)?,
        };
        Ok(Layer { store: Mutex::new((store, funcs)) })
    }
}

impl Source for Layer {
    fn entrypoint(&self) -> Result<String> {
        let (store, f) = &mut *self.store.lock().unwrap_or_else(|e| e.into_inner());
        Ok(f.entrypoint.call(store, ())?.0)
    }
    fn list(&self) -> Result<Vec<String>> {
        let (store, f) = &mut *self.store.lock().unwrap_or_else(|e| e.into_inner());
        Ok(f.list.call(store, ())?.0)
    }
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let (store, f) = &mut *self.store.lock().unwrap_or_else(|e| e.into_inner());
        Ok(f.read.call(store, (path.to_string(),))?.0)
    }
}

/// Files sent with the job: `{ "entrypoint": path, "files": { path: base64 } }`.
pub struct Files {
    entrypoint: String,
    files: BTreeMap<String, Vec<u8>>,
}

impl Files {
    pub fn from_json(value: &serde_json::Value) -> Result<Files> {
        let entrypoint = value["entrypoint"].as_str().ok_or_else(|| format_err!("files: no entrypoint"))?.to_string();
        let mut files = BTreeMap::new();
        for (path, data) in value["files"].as_object().ok_or_else(|| format_err!("files: no files"))? {
            let data = base64::engine::general_purpose::STANDARD.decode(data.as_str().unwrap_or("")).map_err(|e| format_err!("files: {path}: {e}"))?;
            files.insert(path.clone(), data);
        }
        Ok(Files { entrypoint, files })
    }
}

impl Source for Files {
    fn entrypoint(&self) -> Result<String> {
        Ok(self.entrypoint.clone())
    }
    fn list(&self) -> Result<Vec<String>> {
        Ok(self.files.keys().cloned().collect())
    }
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.files.get(path).cloned())
    }
}
