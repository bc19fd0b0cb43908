"""Checks and converts JSON arguments to the types a function's hints name (a lax subset of what
pydantic does for the official FastMCP: "5" becomes 5 for an int, a dict becomes a dataclass)."""

import dataclasses
import enum
import inspect
import typing

from .schema import is_typeddict, is_union, _LISTS, _DICTS, _NONE


class ArgumentError(ValueError):
    pass


def _fail(where: str, expected: str, value) -> "typing.NoReturn":
    raise ArgumentError(f"{where}: expected {expected}, got {value!r}")


def convert(value, tp, where: str, hints_of=None):
    if tp is inspect.Parameter.empty or tp is typing.Any or tp is object or isinstance(tp, str):
        return value
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        return convert(value, args[0], where, hints_of)
    if tp is None or tp is _NONE:
        if value is not None:
            _fail(where, "null", value)
        return None
    if is_union(tp):
        # an exact match first (1 stays an int in int | str), then the first that converts
        for a in args:
            if a in (str, int, float, bool, _NONE) and type(value) is (a if a is not None else _NONE):
                return value
        errors = []
        for a in args:
            try:
                return convert(value, a, where, hints_of)
            except ArgumentError as e:
                errors.append(str(e))
        raise ArgumentError(f"{where}: {value!r} matches none of the allowed types ({'; '.join(errors)})")
    if tp is str:
        if not isinstance(value, str):
            _fail(where, "a string", value)
        return value
    if tp is bool:
        if isinstance(value, bool):
            return value
        if value in (0, 1) and not isinstance(value, float):
            return bool(value)
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0", "on", "off"):
            return value.lower() in ("true", "yes", "1", "on")
        _fail(where, "a boolean", value)
    if tp is int:
        if isinstance(value, bool):
            _fail(where, "an integer", value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        _fail(where, "an integer", value)
    if tp is float:
        if isinstance(value, bool):
            _fail(where, "a number", value)
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                pass
        _fail(where, "a number", value)
    if origin is typing.Literal:
        if value in args:
            return value
        _fail(where, "one of " + ", ".join(repr(a) for a in args), value)
    if tp in _LISTS or origin in _LISTS:
        if not isinstance(value, (list, tuple)):
            _fail(where, "an array", value)
        base = origin or tp
        if base in (tuple, typing.Tuple) and args and not (len(args) == 2 and args[1] is Ellipsis):
            if len(value) != len(args):
                _fail(where, f"an array of {len(args)} items", value)
            return tuple(convert(v, a, f"{where}[{i}]", hints_of) for i, (v, a) in enumerate(zip(value, args)))
        item = args[0] if args else typing.Any
        out = [convert(v, item, f"{where}[{i}]", hints_of) for i, v in enumerate(value)]
        if base in (set, typing.Set):
            return set(out)
        if base in (frozenset, typing.FrozenSet):
            return frozenset(out)
        if base in (tuple, typing.Tuple):
            return tuple(out)
        return out
    if tp in _DICTS or origin in _DICTS:
        if not isinstance(value, dict):
            _fail(where, "an object", value)
        if len(args) == 2:
            return {k: convert(v, args[1], f"{where}.{k}", hints_of) for k, v in value.items()}
        return value
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        if isinstance(value, tp):
            return value
        try:
            return tp(value)
        except ValueError:
            _fail(where, "one of " + ", ".join(repr(m.value) for m in tp), value)
    if is_typeddict(tp) or (isinstance(tp, type) and dataclasses.is_dataclass(tp)):
        if not is_typeddict(tp) and isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            _fail(where, f"an object ({tp.__name__})", value)
        hints = hints_of(tp) if hints_of else typing.get_type_hints(tp, include_extras=True)
        if is_typeddict(tp):
            for key in getattr(tp, "__required_keys__", ()):
                if key not in value:
                    raise ArgumentError(f"{where}.{key}: required")
            return {k: convert(v, hints.get(k, typing.Any), f"{where}.{k}", hints_of) for k, v in value.items()}
        names = {f.name: f for f in dataclasses.fields(tp) if f.init}
        kwargs = {}
        for k, v in value.items():
            if k in names:
                kwargs[k] = convert(v, hints.get(k, names[k].type), f"{where}.{k}", hints_of)
        for k, f in names.items():
            if k not in kwargs and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:  # type: ignore[misc]
                raise ArgumentError(f"{where}.{k}: required")
        return tp(**kwargs)
    return value
