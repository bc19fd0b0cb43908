"""fabricks run's engine: a component's wasi:cli/run on wasmtime (wasmtime-py), deny by default.

Started by src/engine/wasmtime.ts with the program's stdin, stdout and stderr, and a socket on
fd 3 that carries JSON lines:
  fabricks -> here:  the run ({"main", "source", "cache", "args", "env", "mounts"}), then one
                     answer per question below ({"allow": true} | {"deny": msg} | {"error": tag})
  here -> fabricks:  {"compiling": hex} / {"compiled": hex, "bytes": n, "ms": n},
                     {"connect": {"scheme": s, "authority": a}} (may this request go out?),
                     {"exit": {"status": n, "trap"?: text}} last.
fabricks decides outbound requests (src/engine/network-policy.ts), so the policy is written once.

What the guest gets: its arguments, the environment it is granted (plus, after a refusal, a
`FABRICKS_DENIED host:port` entry, where the JavaScript runtime finds why), stdio, the clocks and
randomness, the granted folders (wasmtime's preopens keep it inside them; read-only ones refuse
writes; it cannot make symlinks), outbound HTTP through the question above, and sockets that
cannot be made. A fabricks app runs as its runtime layer with fabricks:app/source answered from
its module layer, so the compiled runtime is shared by every app on it.
"""
import base64
import ctypes
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import sys
import time

# Ctrl-C reaches this process too (same process group): die at once, as the guest would.
signal.signal(signal.SIGINT, signal.SIG_DFL)
# and never outlive fabricks, even when it is killed outright (Linux)
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
except (OSError, AttributeError):
    pass

_chan = socket.socket(fileno=3)
_reader = _chan.makefile("rb")


def send(message):
    _chan.sendall(json.dumps(message).encode() + b"\n")


def receive():
    line = _reader.readline()
    if not line:
        os._exit(125)  # fabricks is gone
    return json.loads(line)


# Where the time goes, in ms, reported with the exit status (scripts/profile-run.mjs prints it).
PHASES = {}
_mark = time.perf_counter()


def phase(name):
    global _mark
    now = time.perf_counter()
    PHASES[name] = round((now - _mark) * 1000, 1)
    _mark = now


# fabricks starts this process before it knows what to run, so that this import (most of the
# start-up) overlaps its own work; the run comes next on the socket
import wasmtime  # noqa: E402
import wasmtime.component as C  # noqa: E402

ENGINE = wasmtime.Engine()
phase("import wasmtime")
config = receive()
phase("wait for the run")

HERE = os.path.dirname(os.path.abspath(__file__))
# the WASI 0.2 version wasmtime-py 50's add_wasip2 and add_wasi_http define their interfaces at
WASI_VERSION = "0.2.12"


def compiled(engine, entry):
    """The component at entry["path"], compiled once and kept as <cache>/<hex>/component.cwasm.

    A cached file is trusted only while it is the file that was written: its inode, size and
    mtime are recorded with its sha256, and a file that changed is hashed again (a damaged one is
    compiled afresh)."""
    folder = os.path.join(config["cache"], entry["hex"])
    cwasm = os.path.join(folder, "component.cwasm")
    meta_file = os.path.join(folder, "fabricks.json")
    try:
        with open(meta_file) as f:
            meta = json.load(f)
        st = os.stat(cwasm)
        stamp = [st.st_ino, st.st_size, st.st_mtime_ns]
        if meta.get("stamp") != stamp:
            with open(cwasm, "rb") as f:
                if hashlib.file_digest(f, "sha256").hexdigest() != meta.get("sha256"):
                    raise ValueError("damaged")
        component = C.Component.deserialize_file(engine, cwasm)
        os.utime(folder)  # its last use, for trimming
        return component
    except FileNotFoundError:
        pass
    except (OSError, ValueError, wasmtime.WasmtimeError):
        # damaged: compiled afresh below (a run still using the old file keeps its mapping)
        shutil.rmtree(folder, ignore_errors=True)
    if entry.get("announce"):
        send({"compiling": entry["hex"]})
    started = time.monotonic()
    component = C.Component.from_file(engine, entry["path"])
    data = component.serialize()
    tmp = f"{folder}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        os.makedirs(tmp)
        with open(os.path.join(tmp, "component.cwasm"), "wb") as f:
            f.write(data)
        st = os.stat(os.path.join(tmp, "component.cwasm"))
        meta = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "stamp": [st.st_ino, st.st_size, st.st_mtime_ns]}
        with open(os.path.join(tmp, "fabricks.json"), "w") as f:
            json.dump(meta, f)
        os.rename(tmp, folder)
    except OSError:
        pass  # another run compiled it first, or the cache cannot be written: never fail the run
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    send({"compiled": entry["hex"], "bytes": len(data), "ms": round((time.monotonic() - started) * 1000)})
    return component


def exported_func(store, instance, interface, name):
    iface = instance.get_export_index(store, interface)
    index = instance.get_export_index(store, name, iface) if iface is not None else None
    return instance.get_func(store, index) if index is not None else None


def call(store, func, *args):
    result = func(store, *args)
    func.post_return(store)
    return result


def main():
    engine = ENGINE
    main_component = compiled(engine, config["main"])
    source_component = compiled(engine, config["source"]) if config.get("source") else None
    phase("load compiled components")
    imports = list(main_component.type.imports(engine))

    def imported(interface):
        """The exact name (with version) under which the component imports an interface."""
        return next((n for n in imports if n.split("@")[0] == interface), None)

    linker = C.Linker(engine)
    linker.allow_shadowing = True
    linker.add_wasip2()
    linker.add_wasi_http()
    store = wasmtime.Store(engine)
    denials = {}

    def replace(interface, funcs):
        """Replaces functions of an interface. A WASI one is replaced where add_wasip2 defined it
        (the linker then matches any 0.2.x import to it); others are defined as imported."""
        name = f"{interface}@{WASI_VERSION}" if interface.startswith("wasi:") else imported(interface)
        if name is None:
            return
        with linker.root() as root:
            with root.add_instance(name) as inst:
                for func_name, func in funcs.items():
                    inst.add_func(func_name, func)

    env = [tuple(pair) for pair in config["env"]]
    replace("wasi:cli/environment", {"get-environment": lambda store: env + list(denials.items())})

    def no_symlinks(store, this, old_path, new_path):
        this.drop(store)
        return "not-permitted"

    replace("wasi:filesystem/types", {"[method]descriptor.symlink-at": no_symlinks})
    replace("wasi:sockets/tcp-create-socket", {"create-tcp-socket": lambda store, family: "access-denied"})
    replace("wasi:sockets/udp-create-socket", {"create-udp-socket": lambda store, family: "access-denied"})

    def no_lookup(store, network, name):
        network.drop(store)
        return "access-denied"

    replace("wasi:sockets/ip-name-lookup", {"resolve-addresses": no_lookup})

    helper = {}
    helper_component = None
    if imported("wasi:http/outgoing-handler"):
        with open(os.path.join(HERE, "outgoing-helper.wat")) as f:
            helper_component = C.Component(engine, wasmtime.wat2wasm(f.read()))

        def handle(store, request, options):
            scheme = call(store, helper["scheme"], request)
            authority = call(store, helper["authority"], request)
            send({"connect": {"scheme": None if scheme is None else scheme.tag if scheme.payload is None else scheme.payload, "authority": authority}})
            answer = receive()
            if answer.get("allow"):
                return call(store, helper["handle"], request, options)
            request.drop(store)
            if options is not None:
                options.drop(store)
            if "deny" in answer:
                denials[f"FABRICKS_DENIED {answer['target']}"] = answer["deny"]
                return C.Variant("internal-error", answer["deny"])
            return C.Variant(answer.get("error", "internal-error"), None)

        replace("wasi:http/outgoing-handler", {"handle": handle})

    if source_component is not None:
        source = {}
        source_name = imported("fabricks:app/source")
        replace("fabricks:app/source", {
            "entrypoint": lambda store: call(store, source["entrypoint"]),
            "list": lambda store: call(store, source["list"]),
            "read": lambda store, path: call(store, source["read"], path),
        })
    elif config.get("served_source"):
        # files fabricks holds in memory (a build's syntax check): asked for over the socket
        def ask(*question):
            send({"source": list(question)})
            return receive()["value"]

        def read(store, path):
            value = ask("read", path)
            return None if value is None else base64.b64decode(value)

        replace("fabricks:app/source", {
            "entrypoint": lambda store: ask("entrypoint"),
            "list": lambda store: ask("list"),
            "read": read,
        })

    # stdio is shared with fabricks (and with what fabricks ran before, such as a build's tools),
    # and an inherited O_NONBLOCK would make wasmtime's reads end early: the guest gets it blocking
    for fd in (0, 1, 2):
        try:
            os.set_blocking(fd, True)
        except OSError:
            pass
    wasi = wasmtime.WasiConfig()
    wasi.argv = config["args"]
    wasi.inherit_stdin()
    wasi.inherit_stdout()
    wasi.inherit_stderr()
    for mount in config["mounts"]:
        wasi.preopen_dir(mount["host"], mount["guest"], mount["mode"] == "rw")
    store.set_wasi(wasi)
    store.set_wasi_http()

    if helper_component is not None:
        helper_linker = C.Linker(engine)
        helper_linker.add_wasip2()
        helper_linker.add_wasi_http()
        h = helper_linker.instantiate(store, helper_component)
        for name in ("handle", "authority", "scheme"):
            helper[name] = h.get_func(store, h.get_export_index(store, name))
    if source_component is not None:
        s = C.Linker(engine).instantiate(store, source_component)
        for name in ("entrypoint", "list", "read"):
            source[name] = exported_func(store, s, source_name, name)

    phase("link")
    try:
        instance = linker.instantiate(store, main_component)
    except wasmtime.WasmtimeError as e:
        # an import this host does not provide, not a trap of the guest's
        return {"status": 1, "unlinked": str(e).split("\n")[0]}
    phase("instantiate")
    run_name = next((n for n in main_component.type.exports(engine) if n.split("@")[0] == "wasi:cli/run"), None)
    run = exported_func(store, instance, run_name, "run") if run_name else None
    if run is None:
        return {"status": 1, "trap": "the component does not export wasi:cli/run"}
    try:
        result = run(store)
    except wasmtime.ExitTrap as e:
        return {"status": e.code}
    except wasmtime.WasmtimeError as e:
        return {"status": 1, "trap": str(e)}
    finally:
        phase("the guest's run")
    # run returns result (no payloads), lifted as Variant("ok") or Variant("err")
    return {"status": 1 if getattr(result, "tag", "ok") == "err" else 0}


try:
    outcome = main()
except wasmtime.WasmtimeError as e:
    outcome = {"status": 1, "trap": str(e), "failed": True}
send({"exit": {**outcome, "phases": PHASES}})
_chan.close()
os._exit(outcome["status"] if 0 <= outcome["status"] < 256 else 1)
