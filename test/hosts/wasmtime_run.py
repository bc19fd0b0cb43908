"""Runs a component's wasi:cli/run export on wasmtime (wasmtime-py), an independent WASI 0.2 host.

Usage: wasmtime_run.py COMPONENT [ARGS...]. Grants stdio and arguments only. Exits with the
component's exit status (0 for Ok, 1 for Err, the code of a wasi:cli/exit call).
"""
import sys

import wasmtime
import wasmtime.component as component

engine = wasmtime.Engine()
store = wasmtime.Store(engine)
wasi = wasmtime.WasiConfig()
wasi.argv = ["app"] + sys.argv[2:]
wasi.inherit_stdin()
wasi.inherit_stdout()
wasi.inherit_stderr()
store.set_wasi(wasi)
linker = component.Linker(engine)
linker.add_wasip2()
linker.add_wasi_http()
instance = linker.instantiate(store, component.Component.from_file(engine, sys.argv[1]))
exports = [n for n in ("wasi:cli/run@0.2.10", "wasi:cli/run@0.2.12") if instance.get_export_index(store, n)]
if not exports:
    sys.exit("the component does not export wasi:cli/run")
run = instance.get_func(store, instance.get_export_index(store, "run", instance.get_export_index(store, exports[0])))
try:
    result = run(store)
except wasmtime.ExitTrap as e:
    sys.exit(e.code)
sys.exit(0 if getattr(result, "tag", "ok") == "ok" else 1)
