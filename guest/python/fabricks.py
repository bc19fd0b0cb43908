"""Read the files packed next to your code (the module layer) from a fabricks Python service.

    import fabricks
    config = fabricks.read_text("config/defaults.toml")
    for path in fabricks.files():
        ...

Paths are relative to [source] path in fabricks.toml and use '/'. The same files are also
reachable through importlib.resources (files("mypackage") / "data.json").
"""

_layer = None
_path_type = None


def _attach(layer, path_type) -> None:
    # Called by the runtime before the entrypoint runs.
    global _layer, _path_type
    _layer, _path_type = layer, path_type


def _files():
    if _layer is None:
        raise RuntimeError("fabricks: the module layer is only available while the service runs")
    return _layer


def _normalize(path: str) -> str:
    import posixpath

    if not isinstance(path, str):
        raise TypeError(f"path must be a str, not {type(path).__name__}")
    norm = posixpath.normpath(path.lstrip("/"))
    return "" if norm == "." else norm


def files() -> list:
    """Every packed path, sorted."""
    return sorted(_files().files)


def exists(path: str) -> bool:
    """Whether a file is packed at this path."""
    return _normalize(path) in _files().files


def read_bytes(path: str) -> bytes:
    """The bytes of a packed file; FileNotFoundError if there is none."""
    layer = _files()
    data = layer.read(_normalize(path))
    if data is None:
        raise FileNotFoundError(2, "No such file in the module layer (is it under [source] path and not excluded?)", path)
    return data


def read_text(path: str, encoding: str = "utf-8", errors: str = "strict") -> str:
    """A packed file decoded as text (UTF-8 unless told otherwise)."""
    return read_bytes(path).decode(encoding, errors)


def path(p: str = ""):
    """A read-only importlib.resources Traversable for a packed file or folder."""
    return _path_type(_files(), _normalize(p))
