"""Packages the runtime provides beyond the standard library (the `mcp` shim over fabricks_mcp),
imported into the snapshot at build time, and given way to at run time when the service's own
source has a package or module of the same name (the user's code wins, as on a normal
sys.path where the script's folder comes first)."""

import importlib
import pkgutil
import sys

PROVIDED = ("fabricks_mcp", "mcp")
# Top-level names a service's source may take over (fabricks_mcp stays: fabricks.mcp is it).
YIELDING = ("mcp",)


def preimport() -> None:
    for name in PROVIDED:
        module = importlib.import_module(name)
        for info in pkgutil.walk_packages(module.__path__, name + "."):
            importlib.import_module(info.name)
    import fabricks
    import fabricks_mcp

    # `from fabricks.mcp import FastMCP`: fabricks is a module, so its submodule is a sys.modules entry
    fabricks.mcp = fabricks_mcp
    sys.modules["fabricks.mcp"] = fabricks_mcp


def yield_to_source(files, root: str) -> None:
    """Forgets the provided packages the module layer shadows: a module or a regular package under
    root (a folder without __init__.py would only be a namespace portion, which a regular package
    elsewhere on the path wins over, as in CPython)."""
    prefix = root + "/" if root else ""
    for name in YIELDING:
        if prefix + name + ".py" in files or prefix + name + "/__init__.py" in files:
            for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
                del sys.modules[key]
