"""A tool: a function, the schemas derived from its hints, and running it for tools/call."""

import dataclasses
import inspect
import typing

from .content import to_content
from .context import is_context
from .convert import ArgumentError, convert
from .docstrings import parameter_descriptions
from .schema import SchemaBuilder, is_typeddict, is_union, jsonable


def _signature(fn):
    return inspect.signature(fn)


def _globals(fn) -> dict:
    return getattr(inspect.unwrap(fn), "__globals__", None) or {}


def _is_field(obj) -> bool:
    # fabricks_mcp.Field, or pydantic's FieldInfo when a user brings a pure-Python look-alike
    return type(obj).__name__ in ("Field", "FieldInfo") and hasattr(obj, "description")


def _field_default(field):
    d = getattr(field, "default", inspect.Parameter.empty)
    if d is Ellipsis or type(d).__name__ == "PydanticUndefinedType" or d is _REQUIRED:
        return inspect.Parameter.empty
    return d


_REQUIRED = object()


class FuncInfo:
    """A function's parameters (without the Context one) with their resolved hints."""

    def __init__(self, fn, name: str) -> None:
        self.fn = fn
        self.builder = SchemaBuilder(_globals(fn))
        hints = self.builder.hints(fn)
        self.context_param = None
        self.params = []  # (name, hint, default)
        self.descriptions = {}  # from a Field(description=...) default
        for p in _signature(fn).parameters.values():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            hint = hints.get(p.name, p.annotation)
            if is_context(hint):
                self.context_param = p.name
                continue
            if p.name.startswith("_"):
                raise ValueError(f"{name}: parameter {p.name} starts with '_', which tool arguments cannot")
            default = p.default
            if _is_field(default):
                if isinstance(getattr(default, "description", None), str):
                    self.descriptions[p.name] = default.description
                default = _field_default(default)
            self.params.append((p.name, hint, default))
        self.return_hint = hints.get("return", _signature(fn).return_annotation)

    def input_schema(self, title: str, descriptions: dict) -> dict:
        descriptions = {**descriptions, **self.descriptions}
        fields = [(n, h, d, d is inspect.Parameter.empty) for n, h, d in self.params]
        return self.builder.finish(self.builder.object_schema(fields, title, descriptions))

    def arguments(self, given: dict) -> dict:
        if not isinstance(given, dict):
            raise ArgumentError("arguments must be an object")
        out = {}
        missing = []
        for name, hint, default in self.params:
            if name in given:
                out[name] = convert(given[name], hint, name, self.builder.hints)
            elif default is inspect.Parameter.empty:
                missing.append(name)
        if missing:
            raise ArgumentError("missing required argument" + ("s " if len(missing) > 1 else " ") + ", ".join(missing))
        return out

    async def call(self, arguments: dict, context):
        kwargs = self.arguments(arguments)
        if self.context_param is not None:
            kwargs[self.context_param] = context
        result = self.fn(**kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result


def _output_schema(info: FuncInfo, name: str):
    """(schema, wrapped): the official FastMCP's rules — objects (TypedDict, dataclass,
    dict[str, T]) as they are; other types wrapped as {"result": ...}; no return hint, a bare
    dict or Any: none."""
    hint = info.return_hint
    if hint is inspect.Parameter.empty or hint is typing.Any:
        return None, False
    base = typing.get_args(hint)[0] if typing.get_origin(hint) is typing.Annotated else hint
    b = SchemaBuilder(info.builder.globalns)
    if is_typeddict(base) or (isinstance(base, type) and dataclasses.is_dataclass(base)):
        b.schema(base)
        s = dict(b.defs.pop(base.__name__))
        return b.finish(s), False
    origin = typing.get_origin(base)
    if base is dict or base is typing.Dict:
        return None, False
    if origin in (dict, typing.Dict) and typing.get_args(base)[:1] == (str,):
        s = b.schema(base)
        s["title"] = f"{name}DictOutput"
        return b.finish(dict(sorted(s.items()))), False
    if isinstance(base, type) and not (base in (str, int, float, bool, list, tuple, set) or base is type(None)) and origin is None and not is_union(base):
        import enum

        if not issubclass(base, enum.Enum):
            return None, False  # an arbitrary class: no schema (the official SDK needs a pydantic type)
    s = b.object_schema([("result", hint, inspect.Parameter.empty, True)], f"{name}Output")
    return b.finish(s), True


class Tool:
    def __init__(self, fn, name=None, title=None, description=None, annotations=None, meta=None, structured_output=None) -> None:
        self.fn = fn
        self.name = name or fn.__name__
        if self.name == "<lambda>":
            raise ValueError("a lambda needs a name: mcp.tool(name=...)")
        self.title = title
        self.description = description if description is not None else (fn.__doc__ or "")
        self.annotations = annotations
        self.meta = meta
        self.is_async = inspect.iscoroutinefunction(fn)
        self.info = FuncInfo(fn, self.name)
        # titles follow the function, not the tool name, as pydantic models in the official SDK do
        fname = getattr(fn, "__name__", self.name)
        self.input_schema = self.info.input_schema(f"{fname}Arguments", parameter_descriptions(fn.__doc__))
        if structured_output is False:
            self.output_schema, self.wrapped = None, False
        else:
            self.output_schema, self.wrapped = _output_schema(self.info, fname)
            if structured_output is True and self.output_schema is None:
                raise ValueError(f"{self.name}: structured_output=True needs a return type hint that has a schema")

    def to_dict(self) -> dict:
        out: dict = {"name": self.name}
        if self.title:
            out["title"] = self.title
        out["description"] = self.description
        out["inputSchema"] = self.input_schema
        if self.output_schema is not None:
            out["outputSchema"] = self.output_schema
        if self.annotations is not None:
            a = self.annotations
            out["annotations"] = {k: v for k, v in jsonable(a if isinstance(a, dict) else vars(a)).items() if v is not None}
        if self.meta:
            out["_meta"] = self.meta
        return out

    async def run(self, arguments: dict, context) -> dict:
        """A CallToolResult: anything the tool raises (bad arguments included) is a tool error."""
        try:
            result = await self.info.call(arguments or {}, context)
        except Exception as e:  # noqa: BLE001 - tool errors are results, not protocol errors
            message = f"Error executing tool {self.name}: {e}"
            return {"content": [{"type": "text", "text": message}], "isError": True}
        out: dict = {"content": to_content(result)}
        if self.output_schema is not None:
            out["structuredContent"] = {"result": jsonable(result)} if self.wrapped else jsonable(result)
        out["isError"] = False
        return out
