"""The fabricks Python runtime's bootstrap (the app componentize-py builds into the runtime layer).

Top level runs once, at build time, while componentize-py pre-initializes the interpreter: it
imports the standard library set in preimport.txt, because nothing else can be imported later
(the component keeps no filesystem). `Run.run` runs each time the component runs: it serves
imports from the module layer (fabricks:app/source) through a sys.meta_path finder and runs the
entrypoint as __main__, as `python <entrypoint>` would. `IncomingHandler.handle` serves one HTTP
request: the first one imports the entrypoint as a module and finds its WSGI or ASGI `app`.
"""

import importlib
import os
import sys

import fabricks_stdio

# First: whatever is imported below and keeps sys.stdout or sys.stderr keeps streams that write
# everything (the ones componentize-py leaves cut long output).
fabricks_stdio.install()

_HERE = os.path.dirname(os.path.abspath(__file__))


# Submodules never imported ahead: scripts (running them has effects), test suites, and the
# Windows- or process-only parts of packages, which cannot work in a component.
_SKIPPED_SUBMODULES = ("__main__", "test", "tests", "idle_test")


def _preimport() -> tuple:
    names = []
    with open(os.path.join(_HERE, "preimport.txt"), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                names.append(line)
    unavailable = []
    for name in names:
        # A listed module that fails here fails the runtime build: the documented set is true.
        module = importlib.import_module(name)
        # Packages import their own submodules lazily (importlib.resources._adapters,
        # email.mime.text, encodings.latin_1...): import them all now, while there are files.
        if hasattr(module, "__path__"):
            import pkgutil

            for info in pkgutil.walk_packages(module.__path__, name + ".", onerror=lambda _: None):
                if info.name.rpartition(".")[2] in _SKIPPED_SUBMODULES:
                    continue
                try:
                    importlib.import_module(info.name)
                except Exception:  # noqa: BLE001 - e.g. encodings.mbcs needs Windows
                    unavailable.append(info.name)
    return tuple(names), tuple(unavailable)


PREIMPORTED, UNAVAILABLE_SUBMODULES = _preimport()


def _native_extensions() -> dict:
    """A runtime variant for an app with compiled dependencies (fabricks builds them from source)
    holds their extension modules under native/, which componentize-py links into the component
    as libraries that dlopen finds by their build-time path (/<index of the -p folder>/<path>).
    Their packages' Python files are in the module layer; an extension loads when first imported,
    so a package's imports of its other dependencies resolve at run time as the app's do."""
    folder = os.path.join(_HERE, "native")
    found = {}
    if not os.path.isdir(folder):
        return found
    suffix = ".cpython-%d%d-wasm32-wasi.so" % sys.version_info[:2]
    for parent, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(suffix):
                rel = os.path.relpath(os.path.join(parent, name), folder)
                found[rel[: -len(suffix)].replace(os.sep, ".")] = os.path.join(parent, name)
    return found


NATIVE_EXTENSIONS = _native_extensions()


import io  # noqa: E402
import linecache  # noqa: E402
import posixpath  # noqa: E402
import traceback  # noqa: E402
import types  # noqa: E402
import importlib.abc  # noqa: E402
import importlib.util  # noqa: E402
import importlib.machinery  # noqa: E402
import importlib.resources.abc  # noqa: E402

from componentize_py_types import Err  # noqa: E402
import wit_world  # noqa: E402
from wit_world import exports  # noqa: E402
from wit_world.imports import environment  # noqa: E402
from wit_world.imports import exit as wasi_exit  # noqa: E402
from wit_world.imports import source  # noqa: E402

import fabricks  # noqa: E402  (the helper module user code imports)
import fabricks_environ  # noqa: E402
import fabricks_folders  # noqa: E402
import fabricks_sqlite  # noqa: E402
import fabricks_packages  # noqa: E402
import fabricks_http_client  # noqa: E402
import fabricks_http_libs  # noqa: E402
import fabricks_threads  # noqa: E402
import fabricks_http_server  # noqa: E402
import fabricks_provided  # noqa: E402

# http.client and urllib.request over wasi:http, raw sockets explained: patched once, here.
fabricks_http_client.install()
fabricks_provided.preimport()  # the mcp package (FastMCP), which a service's own mcp replaces

# `import ssl` works (names, constants, a context that takes any configuration; the host does
# TLS): only now, so that the modules above that test for ssl at import went on without it.
import fabricks_ssl  # noqa: E402

sys.modules["ssl"] = fabricks_ssl

# `import fcntl` works (names; what WASI cannot do raises OSError, which its importers handle)
import fabricks_fcntl  # noqa: E402

sys.modules["fcntl"] = fabricks_fcntl

# `import pwd` works: the sandbox's one user, home / (os.path.expanduser("~") without HOME)
import fabricks_pwd  # noqa: E402

sys.modules["pwd"] = fabricks_pwd

import fabricks_posix  # noqa: E402
import fabricks_prepare  # noqa: E402

fabricks_posix.install()

def _asyncio_without_sockets() -> None:
    """asyncio's event loop wakes itself through a socket pair, and a component has no sockets
    (fabricks denies them). There is one thread and no signals here, so the loop needs no
    self-pipe, and an executor's work runs on the loop's thread: this loop class does both and
    becomes the default."""
    import asyncio
    import asyncio.unix_events as unix_events

    class WasiEventLoop(unix_events._UnixSelectorEventLoop):
        def _make_self_pipe(self) -> None:
            self._ssock = self._csock = None

        def _close_self_pipe(self) -> None:
            pass

        def _write_to_self(self) -> None:
            pass

        # Nor threads: work given to an executor (asyncio.to_thread, run_in_executor,
        # getaddrinfo) runs here and now, and its future is done when it returns.
        def run_in_executor(self, executor, func, *args):
            self._check_closed()
            future = self.create_future()
            try:
                future.set_result(func(*args))
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as e:  # noqa: BLE001 - the caller awaits it, as from a thread
                future.set_exception(e)
            return future

        async def shutdown_default_executor(self, timeout=None) -> None:
            pass

    unix_events._UnixDefaultEventLoopPolicy._loop_factory = WasiEventLoop
    unix_events.SelectorEventLoop = WasiEventLoop
    asyncio.SelectorEventLoop = WasiEventLoop
    if hasattr(asyncio, "EventLoop"):
        asyncio.EventLoop = WasiEventLoop
        unix_events.EventLoop = WasiEventLoop


_asyncio_without_sockets()

RUNTIME = "python:%d.%d" % sys.version_info[:2]
DOCS = "the \"Standard library\" section of fabricks' docs/python.md"
# The module layer's entrypoint is never this (a path cannot hold NUL): it asks for a syntax
# check of every .py file instead of a run (used by `fabricks build`).
CHECK = "\0check"


class Layer:
    """The module layer's files: paths are '/'-separated, relative to [source] path."""

    def __init__(self) -> None:
        self.files = frozenset(source.list())
        self._dirs = None

    def read(self, path: str):
        return source.read(path) if path in self.files else None

    def dirs(self) -> frozenset:
        if self._dirs is None:
            dirs = {""}
            for f in self.files:
                parts = f.split("/")[:-1]
                for i in range(1, len(parts) + 1):
                    dirs.add("/".join(parts[:i]))
            self._dirs = frozenset(dirs)
        return self._dirs


def _join(base: str, name: str) -> str:
    return f"{base}/{name}" if base else name


class LayerPath(importlib.resources.abc.Traversable):
    """A file or folder of the module layer, for importlib.resources and fabricks.path()."""

    def __init__(self, layer: Layer, path: str) -> None:
        self._layer = layer
        self._path = path

    @property
    def name(self) -> str:
        return posixpath.basename(self._path)

    def is_file(self) -> bool:
        return self._path in self._layer.files

    def is_dir(self) -> bool:
        return self._path in self._layer.dirs()

    def iterdir(self):
        if not self.is_dir():
            raise NotADirectoryError(self._path)
        prefix = self._path + "/" if self._path else ""
        names = set()
        for f in self._layer.files:
            if f.startswith(prefix):
                names.add(f[len(prefix):].split("/", 1)[0])
        return (LayerPath(self._layer, prefix + n) for n in sorted(names))

    def joinpath(self, *descendants):
        path = posixpath.normpath(posixpath.join(self._path or ".", *descendants))
        return LayerPath(self._layer, "" if path == "." else path)

    def open(self, mode="r", *args, **kwargs):
        if mode not in ("r", "rb"):
            raise PermissionError(f"{self._path}: the module layer is read-only")
        data = self._layer.read(self._path)
        if data is None:
            raise FileNotFoundError(2, "No such file in the module layer", self._path)
        stream = io.BytesIO(data)
        return stream if mode == "rb" else io.TextIOWrapper(stream, *args, **kwargs)

    def __str__(self) -> str:
        return self._path

    def __repr__(self) -> str:
        return f"LayerPath({self._path!r})"


class ResourceReader(importlib.resources.abc.TraversableResources):
    def __init__(self, root: LayerPath) -> None:
        self._root = root

    def files(self):
        return self._root


class LayerLoader(importlib.abc.Loader):
    """Loads a module from a .py file in the module layer."""

    def __init__(self, layer: Layer, path: str, package_dir) -> None:
        self.layer = layer
        self.path = path
        self.package_dir = package_dir

    def create_module(self, spec):
        return None

    def exec_module(self, module) -> None:
        code = compile_file(self.layer, self.path)
        exec(code, module.__dict__)

    def get_source(self, fullname):
        data = self.layer.read(self.path)
        return importlib.util.decode_source(data) if data is not None else None

    def get_filename(self, fullname=None) -> str:
        return self.path

    def is_package(self, fullname) -> bool:
        return self.package_dir is not None

    def get_data(self, path):
        data = self.layer.read(posixpath.normpath(path))
        if data is None:
            raise FileNotFoundError(2, "No such file in the module layer", path)
        return data

    def get_resource_reader(self, fullname):
        folder = self.package_dir if self.package_dir is not None else posixpath.dirname(self.path)
        return ResourceReader(LayerPath(self.layer, folder))


# Code objects compiled by `prepare` when the app's imports could not be made ahead (their
# loading drew a random number, say): a start from the snapshot still skips compiling them.
_compiled = {}


def compile_file(layer: Layer, path: str):
    data = layer.read(path)
    if data is None:
        raise ImportError(f"{path} is not in the module layer", path=path)
    code = _compiled.pop(path, None) or compile(data, path, "exec", dont_inherit=True)
    # Tracebacks show the user's source lines; mtime None keeps linecache from checking disk.
    text = importlib.util.decode_source(data)
    linecache.cache[path] = (len(text), None, text.splitlines(True), path)
    return code


class LayerFinder(importlib.abc.MetaPathFinder):
    """Finds modules and packages in the module layer, under the entrypoint's folder."""

    def __init__(self, layer: Layer, root: str) -> None:
        self.layer = layer
        self.root = root

    def find_spec(self, fullname, path=None, target=None):
        tail = fullname.rpartition(".")[2]
        if path is None:
            bases = [self.root]
        else:
            bases = [p for p in path if isinstance(p, str) and p.startswith(LOCATION)]
            bases = [p[len(LOCATION):] for p in bases]
        for base in bases:
            pkg = _join(base, tail)
            init = pkg + "/__init__.py"
            if init in self.layer.files:
                spec = importlib.machinery.ModuleSpec(fullname, LayerLoader(self.layer, init, pkg), origin=init, is_package=True)
                spec.submodule_search_locations = [LOCATION + pkg]
                spec.has_location = True
                return spec
            mod = pkg + ".py"
            if mod in self.layer.files:
                spec = importlib.machinery.ModuleSpec(fullname, LayerLoader(self.layer, mod, None), origin=mod)
                spec.has_location = True
                return spec
            if pkg in self.layer.dirs():
                # A folder without __init__.py: a namespace package, as on disk.
                spec = importlib.machinery.ModuleSpec(fullname, None, is_package=True)
                spec.submodule_search_locations = [LOCATION + pkg]
                return spec
        return None

    def invalidate_caches(self) -> None:
        pass


class NativeFinder(importlib.abc.MetaPathFinder):
    """Finds the extension modules linked into this runtime variant, by their full names."""

    def find_spec(self, fullname, path=None, target=None):
        location = NATIVE_EXTENSIONS.get(fullname)
        if location is None:
            return None
        loader = importlib.machinery.ExtensionFileLoader(fullname, location)
        return importlib.util.spec_from_file_location(fullname, location, loader=loader)

    def invalidate_caches(self) -> None:
        pass


# Package __path__ entries name module-layer folders with this prefix, so that no other finder
# mistakes them for folders on disk.
LOCATION = "fabricks:"


class NotIncludedFinder(importlib.abc.MetaPathFinder):
    """Last on sys.meta_path: explains why a module cannot be imported here."""

    # the packages with compiled code that the build left out (only an optional feature needs them)
    left_out = {}

    def find_spec(self, fullname, path=None, target=None):
        top = fullname.partition(".")[0]
        if top in self.left_out:
            raise ModuleNotFoundError(f"No module named '{fullname}': {self.left_out[top]}", name=fullname)
        if top in sys.stdlib_module_names:
            raise ModuleNotFoundError(
                f"No module named '{fullname}': the fabricks runtime {RUNTIME} does not include this "
                f"standard library module (the modules it includes are listed in {DOCS})",
                name=fullname,
            )
        if path is None:
            raise ModuleNotFoundError(
                f"No module named '{fullname}': fabricks imports modules from the files under "
                f"[source] path (next to the entrypoint) and from the runtime's standard library",
                name=fullname,
            )
        return None


_NOT_INCLUDED = NotIncludedFinder()


def _install(layer: Layer, entrypoint: str) -> None:
    root = posixpath.dirname(entrypoint)
    builtin = [f for f in sys.meta_path if f in (importlib.machinery.BuiltinImporter, importlib.machinery.FrozenImporter)]
    # There is no filesystem at run time: the path-based finder has nothing left to find.
    # the project's own modules first, then its dependencies (fabricks_packages)
    packages = [LayerFinder(layer, fabricks_packages.ROOT), fabricks_packages.DistributionFinder(layer)]
    # an extension module wins over a folder of the same name beside it (of type stubs), as on disk
    sys.meta_path[:] = builtin + [NativeFinder(), LayerFinder(layer, root), *packages, _NOT_INCLUDED]
    sys.path[:] = [LOCATION + root, LOCATION + fabricks_packages.ROOT]
    sys.path_importer_cache.clear()
    # httpx and requests, when the service depends on them, go through wasi:http too
    fabricks_http_libs.install()
    # anyio's worker threads (the official MCP SDK's stdio) run on the one thread there is
    fabricks_threads.install()
    fabricks_provided.yield_to_source(layer.files, root)
    fabricks_provided.yield_to_source(layer.files, fabricks_packages.ROOT)
    _NOT_INCLUDED.left_out = fabricks_packages.left_out(layer)
    fabricks._attach(layer, LayerPath)


def _run_main(layer: Layer, entrypoint: str) -> int:
    if entrypoint not in layer.files:
        sys.stderr.write(f"fabricks: the entrypoint {entrypoint} is not in the module layer\n")
        return 1
    loader = LayerLoader(layer, entrypoint, None)
    spec = importlib.machinery.ModuleSpec("__main__", loader, origin=entrypoint)
    spec.has_location = True
    main = types.ModuleType("__main__")
    main.__file__ = entrypoint
    main.__loader__ = loader
    main.__spec__ = spec
    main.__builtins__ = __builtins__
    sys.modules["__main__"] = main
    sys.argv[0] = entrypoint
    try:
        code = compile_file(layer, entrypoint)
        exec(code, main.__dict__)
        return 0
    except SystemExit as e:
        return _exit_status(e)
    except BaseException as e:  # noqa: BLE001 - everything the program raises ends here
        _print_uncaught(e)
        return 1


def _exit_status(e: SystemExit) -> int:
    code = e.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    # sys.exit("message"): the message goes to stderr and the status is 1, as in CPython.
    try:
        sys.stderr.write(f"{code}\n")
    except Exception:  # noqa: BLE001
        pass
    return 1


def _print_uncaught(e: BaseException) -> None:
    try:
        report = traceback.TracebackException.from_exception(e)
        _drop_runtime_frames(report, set())
        sys.stderr.write("".join(report.format()))
    except Exception:  # noqa: BLE001
        sys.stderr.write(f"{type(e).__name__}: {e}\n")


def _drop_runtime_frames(report, seen: set) -> None:
    """Keeps the user's frames only: no bootstrap or import machinery, as CPython shows it."""
    if report is None or id(report) in seen:
        return
    seen.add(id(report))
    kept = [f for f in report.stack if f.filename not in _RUNTIME_FILES and not f.filename.startswith("<frozen importlib")]
    report.stack = traceback.StackSummary.from_list(kept)
    _drop_runtime_frames(report.__cause__, seen)
    _drop_runtime_frames(report.__context__, seen)
    for group in report.exceptions or ():
        _drop_runtime_frames(group, seen)


_RUNTIME_FILES = frozenset({__file__, fabricks_http_server.__file__, fabricks_http_client.__file__})
# A failing app's traceback on stderr shows the user's frames only, as for a command.
fabricks_http_server.report = _print_uncaught


def _finish() -> None:
    import atexit

    atexit._run_exitfuncs()
    fabricks_stdio.flush()


def _check(layer: Layer) -> None:
    """Compiles every .py file and writes the syntax errors to stdout as JSON (the engine gives
    that output to fabricks; docs/host-protocol.md)."""
    import json

    problems = []
    for path in sorted(layer.files):
        if not path.endswith(".py"):
            continue
        try:
            compile(layer.read(path), path, "exec", dont_inherit=True)
        except SyntaxError as e:
            problems.append({"file": path, "line": e.lineno, "column": e.offset, "message": e.msg, "text": (e.text or "").rstrip("\n")})
        except ValueError as e:  # e.g. a NUL byte in the source
            problems.append({"file": path, "line": None, "column": None, "message": str(e), "text": ""})
    report = json.dumps(problems).encode()
    while report:  # a write to a stream may take part of what it is given
        report = report[os.write(1, report):]


_started = False
# The entrypoint whose imports `prepare` made ahead (this instance was made from a snapshot).
_prepared = None


def _start(layer: Layer, entrypoint: str) -> None:
    global _started
    if _started:
        return
    _started = True
    if _prepared == entrypoint:
        _resume()
    else:
        _install(layer, entrypoint)
    # Denials that name the capability to add: environment variables and granted folders.
    fabricks_environ.install()
    fabricks_folders.install()
    fabricks_sqlite.install()
    # The snapshot holds the generator state seeded at build time: seed it from the host.
    import random

    random.seed()


def _resume() -> None:
    """An instance made from a snapshot: componentize-py filled os.environ and sys.argv on its
    first call, which was `prepare`'s, with nothing granted; this run's come from the host."""
    environ = dict(environment.get_environment())
    os.environ.clear()
    os.environ.update(environ)
    sys.argv[:] = environment.get_arguments()


def _compile_ahead(layer: Layer) -> int:
    """Compiles every .py file of the module layer, runs none: what a start of the snapshot
    imports is compiled already (a file that does not compile raises where it is imported)."""
    for path in layer.files:
        if path.endswith(".py"):
            try:
                _compiled[path] = compile(layer.read(path), path, "exec", dont_inherit=True)
            except (SyntaxError, ValueError):
                pass
    return len(_compiled)


def _prepare() -> str:
    """Installs the module layer's finders and imports the entrypoint's top-level imports, with
    nothing granted (crates/engine/src/prepare.rs); a JSON report, `{"prepared": ...}`,
    `{"retry": why}` (the engine then starts over in a fresh instance with
    FABRICKS_PREPARE=compile, and this compiles the layer's modules instead of importing them)
    or `{"refused": why}`. The entrypoint itself runs at start, as __main__ or as the served app."""
    import json

    global _prepared
    entrypoint = source.entrypoint()
    if entrypoint == CHECK:
        return json.dumps({"refused": "a syntax check is not an app"})
    layer = Layer()
    if entrypoint not in layer.files:
        return json.dumps({"refused": f"the module layer has no entrypoint {entrypoint}"})
    _install(layer, entrypoint)
    if os.environ.get("FABRICKS_PREPARE") == "compile":
        compiled = _compile_ahead(layer)
        _prepared = entrypoint
        return json.dumps({"prepared": "compiled", "files": compiled})
    imported = []
    with fabricks_prepare.tripwires() as watch:
        for module, names in fabricks_prepare.top_level_imports(layer.read(entrypoint), entrypoint):
            try:
                parent = importlib.import_module(module)
                for name in names:
                    if not hasattr(parent, name):
                        try:
                            importlib.import_module(f"{module}.{name}")
                        except ModuleNotFoundError as e:
                            if e.name != f"{module}.{name}":
                                raise
            except BaseException as e:  # noqa: BLE001 - the run raises it again, where it belongs
                return json.dumps({"retry": f"importing {module} failed: {type(e).__name__}: {e}"})
            imported.append(module)
    if watch.touched:
        return json.dumps({"retry": f"the app's imports read {', '.join(watch.touched)} while they loaded"})
    _prepared = entrypoint
    # the variables looked up (all absent here): a run that sets one starts without the snapshot
    return json.dumps({"prepared": "imported", "modules": imported, "environ": watch.environ})


class WitWorld(wit_world.WitWorld):
    def prepare(self) -> str:
        return _prepare()


class Run(exports.Run):
    def run(self) -> None:
        entrypoint = source.entrypoint()
        layer = Layer()
        if entrypoint == CHECK:
            _check(layer)
            return
        _start(layer, entrypoint)
        status = _run_main(layer, entrypoint)
        try:
            _finish()
        except SystemExit as e:
            status = status or _exit_status(e)
        except BaseException as e:  # noqa: BLE001
            _print_uncaught(e)
            status = status or 1
        if status != 0:
            # WASI 0.2's exit carries success or failure only: any non-zero status ends as 1.
            wasi_exit.exit(Err(None))


def _import_entrypoint(layer: Layer, entrypoint: str):
    """The entrypoint as a module named after its file (not __main__: a `__name__ == "__main__"`
    block stays for command-line runs), as a WSGI or ASGI server would import it."""
    if entrypoint not in layer.files:
        raise ImportError(f"the entrypoint {entrypoint} is not in the module layer")
    name = posixpath.basename(entrypoint).removesuffix(".py")
    if name in sys.modules or not name.isidentifier():
        name = "__fabricks_app__"
    loader = LayerLoader(layer, entrypoint, None)
    spec = importlib.machinery.ModuleSpec(name, loader, origin=entrypoint)
    spec.has_location = True
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


# What serves requests, made on the first one and kept: the instance serves them one by one.
_serve = None


def _load_app():
    entrypoint = source.entrypoint()
    layer = Layer()
    _start(layer, entrypoint)
    app = fabricks_http_server.find_app(_import_entrypoint(layer, entrypoint))
    if fabricks_http_server.is_asgi(app):
        return fabricks_http_server.Asgi(app).serve
    return lambda request, response_out: fabricks_http_server.serve_wsgi(app, request, response_out)


class IncomingHandler(exports.IncomingHandler):
    def handle(self, request, response_out) -> None:
        global _serve
        try:
            if _serve is None:
                _serve = _load_app()
        except BaseException as e:  # noqa: BLE001 - a broken app answers 500 and says why on stderr
            fabricks_http_server.fail(fabricks_http_server.Responder(response_out), e)
            fabricks_stdio.flush()
            return
        _serve(request, response_out)
        fabricks_stdio.flush()
