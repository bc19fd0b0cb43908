"""Runs a composed component's wasi:cli/run with wasmtime-py (bench-run.mjs's comparison):
`python wasmtime-py-run.py component.wasm cache-dir [args...]`. The compiled component is kept
in cache-dir (Component.serialize, keyed by the component's sha256), as wasmtime's own CLI does."""
import hashlib
import os
import sys

import wasmtime
import wasmtime.component as component

path, cache_dir, *args = sys.argv[1:]
with open(path, "rb") as f:
    data = f.read()
engine = wasmtime.Engine()
cached = os.path.join(cache_dir, hashlib.sha256(data).hexdigest() + ".cwasm")
if os.path.exists(cached):
    comp = component.Component.deserialize_file(engine, cached)
else:
    comp = component.Component(engine, data)
    os.makedirs(cache_dir, exist_ok=True)
    with open(cached + ".tmp", "wb") as f:
        f.write(comp.serialize())
    os.replace(cached + ".tmp", cached)
linker = component.Linker(engine)
linker.add_wasip2()
# the runtimes import wasi:http (outgoing requests), as fabricks run grants it
linker.add_wasi_http()
store = wasmtime.Store(engine)
wasi = wasmtime.WasiConfig()
wasi.argv = [os.path.basename(path), *args]
wasi.inherit_stdout()
wasi.inherit_stderr()
store.set_wasi(wasi)
instance = linker.instantiate(store, comp)
run_iface = next(n for n in ("wasi:cli/run@0.2.10", "wasi:cli/run@0.2.12", "wasi:cli/run@0.2.9", "wasi:cli/run@0.2.6", "wasi:cli/run@0.2.3", "wasi:cli/run@0.2.0") if instance.get_export_index(store, n) is not None)
idx = instance.get_export_index(store, "run", instance.get_export_index(store, run_iface))
run = instance.get_func(store, idx)
result = run(store)
run.post_return(store) if hasattr(run, "post_return") else None
sys.exit(0)
