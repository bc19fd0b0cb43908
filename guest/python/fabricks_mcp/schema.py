"""JSON Schema from Python type hints, shaped as pydantic 2 writes it (what the official FastMCP
publishes), for the subset of types tool arguments and results use."""

import dataclasses
import datetime
import enum
import inspect
import types
import typing
import uuid

_NONE = type(None)
_SIMPLE = {str: {"type": "string"}, int: {"type": "integer"}, float: {"type": "number"}, bool: {"type": "boolean"}, _NONE: {"type": "null"}}
_FORMATS = {
    bytes: {"format": "binary", "type": "string"},
    datetime.datetime: {"format": "date-time", "type": "string"},
    datetime.date: {"format": "date", "type": "string"},
    datetime.time: {"format": "time", "type": "string"},
    uuid.UUID: {"format": "uuid", "type": "string"},
}
_LISTS = (list, typing.List, set, frozenset, typing.Set, typing.FrozenSet, tuple, typing.Tuple)
try:
    import collections.abc as _abc

    _LISTS = _LISTS + (_abc.Sequence, _abc.Iterable, _abc.Set)
    _DICTS = (dict, typing.Dict, _abc.Mapping)
except ImportError:  # pragma: no cover
    _DICTS = (dict, typing.Dict)


def title(name: str) -> str:
    # pydantic's default field title
    return name.title().replace("_", " ")


def is_union(tp) -> bool:
    origin = typing.get_origin(tp)
    return origin is typing.Union or (hasattr(types, "UnionType") and origin is types.UnionType)


def is_typeddict(tp) -> bool:
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__required_keys__")


def description_of(metadata) -> typing.Optional[str]:
    """A description from Annotated[...] metadata: pydantic-style Field(description=...) objects
    or a plain string."""
    for m in metadata:
        d = getattr(m, "description", None)
        if isinstance(d, str):
            return d
        if isinstance(m, str):
            return m
    return None


def jsonable(value):
    """A value as JSON data (what pydantic's to_json does for the types tools return)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(jsonable(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    dump = getattr(value, "model_dump", None)  # pydantic-like objects, when a user brings one
    if callable(dump):
        return jsonable(dump())
    return str(value)


class SchemaBuilder:
    """Builds schemas for one tool, collecting named types (Enum, TypedDict, dataclass) in $defs."""

    def __init__(self, globalns=None) -> None:
        self.defs: dict = {}
        self.globalns = globalns

    def hints(self, obj) -> dict:
        try:
            return typing.get_type_hints(obj, globalns=self.globalns, include_extras=True)
        except Exception:  # noqa: BLE001 - unresolvable forward references: leave them untyped
            return dict(getattr(obj, "__annotations__", {}))

    def schema(self, tp) -> dict:
        if tp is inspect.Parameter.empty or tp is typing.Any or tp is object:
            return {}
        if isinstance(tp, str):  # an unresolved forward reference
            return {}
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin is typing.Annotated:
            s = dict(self.schema(args[0]))
            d = description_of(args[1:])
            if d is not None:
                s["description"] = d
            return s
        if tp is None or tp is _NONE:
            return {"type": "null"}
        if tp in _SIMPLE:
            return dict(_SIMPLE[tp])
        if tp in _FORMATS:
            return dict(_FORMATS[tp])
        if is_union(tp):
            return {"anyOf": [self.schema(a) for a in args]}
        if origin is typing.Literal:
            values = [jsonable(a) for a in args]
            kinds = {type(v) for v in values}
            s: dict = {"const": values[0]} if len(values) == 1 else {"enum": values}
            if len(kinds) == 1 and next(iter(kinds)) in _SIMPLE:
                s["type"] = _SIMPLE[next(iter(kinds))]["type"]
            return s
        if tp in _LISTS or origin in _LISTS:
            base = origin or tp
            if base in (tuple, typing.Tuple) and args and not (len(args) == 2 and args[1] is Ellipsis):
                items = [self.schema(a) for a in args]
                return {"maxItems": len(items), "minItems": len(items), "prefixItems": items, "type": "array"}
            s = {"items": self.schema(args[0]) if args else {}, "type": "array"}
            if base in (set, frozenset, typing.Set, typing.FrozenSet) or getattr(base, "__name__", "") == "Set":
                s["uniqueItems"] = True
            return s
        if tp in _DICTS or origin in _DICTS:
            if len(args) == 2:
                return {"additionalProperties": self.schema(args[1]), "type": "object"}
            return {"additionalProperties": True, "type": "object"}
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return self._named(tp, self._enum)
        if is_typeddict(tp) or (isinstance(tp, type) and dataclasses.is_dataclass(tp)):
            return self._named(tp, self._object)
        return {}

    def _named(self, tp, build) -> dict:
        name = tp.__name__
        if name not in self.defs:
            self.defs[name] = {}  # placeholder: recursive types refer to themselves
            self.defs[name] = build(tp)
        return {"$ref": f"#/$defs/{name}"}

    def _enum(self, tp) -> dict:
        values = [jsonable(m.value) for m in tp]
        s: dict = {"enum": values, "title": tp.__name__}
        kinds = {type(v) for v in values}
        if len(kinds) == 1 and next(iter(kinds)) in _SIMPLE:
            s["type"] = _SIMPLE[next(iter(kinds))]["type"]
        return s

    def _object(self, tp) -> dict:
        fields = []  # (name, annotation, default or empty)
        hints = self.hints(tp)
        if is_typeddict(tp):
            required = set(getattr(tp, "__required_keys__", hints))
            for name, hint in hints.items():
                fields.append((name, hint, inspect.Parameter.empty, name in required))
        else:
            for f in dataclasses.fields(tp):
                if f.default is not dataclasses.MISSING:
                    default = f.default
                elif f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
                    default = f.default_factory()  # type: ignore[misc]
                else:
                    default = inspect.Parameter.empty
                fields.append((f.name, hints.get(f.name, f.type), default, default is inspect.Parameter.empty))
        s = self.object_schema(fields, tp.__name__)
        doc = inspect.getdoc(tp)
        if doc and not is_typeddict(tp) and not dataclasses.is_dataclass(tp):
            s["description"] = doc
        return s

    def property(self, name: str, hint, default, description=None) -> dict:
        s = self.schema(hint)
        prop = dict(s)
        if default is not inspect.Parameter.empty:
            prop["default"] = jsonable(default)
        if description and "description" not in prop:
            prop["description"] = description
        refers = "$ref" in s or any("$ref" in a for a in s.get("anyOf", ()))
        if not refers:
            prop["title"] = title(name)
        return dict(sorted(prop.items()))

    def object_schema(self, fields, name: str, descriptions=None) -> dict:
        props = {}
        required = []
        for field in fields:
            fname, hint, default, needed = field
            props[fname] = self.property(fname, hint, default, (descriptions or {}).get(fname))
            if needed:
                required.append(fname)
        s: dict = {"properties": props}
        if required:
            s["required"] = required
        s["title"] = name
        s["type"] = "object"
        return s

    def finish(self, s: dict) -> dict:
        """The schema with the $defs it refers to."""
        if self.defs:
            return {"$defs": dict(sorted(self.defs.items())), **s}
        return s
