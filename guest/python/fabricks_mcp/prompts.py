"""Prompts: functions returning a string or a list of messages for prompts/get."""

import inspect

from .content import _Block
from .docstrings import parameter_descriptions
from .schema import jsonable
from .tools import FuncInfo


class Message:
    """A prompt message: Message("text", role="user") or with a content block."""

    def __init__(self, content, role: str = "user") -> None:
        if isinstance(content, str):
            content = {"type": "text", "text": content}
        self.role = role
        self.content = content

    def to_dict(self) -> dict:
        c = self.content
        return {"role": self.role, "content": c.to_dict() if isinstance(c, _Block) else jsonable(c)}


class UserMessage(Message):
    def __init__(self, content, role: str = "user") -> None:
        super().__init__(content, role)


class AssistantMessage(Message):
    def __init__(self, content, role: str = "assistant") -> None:
        super().__init__(content, role)


def to_messages(result) -> list:
    items = result if isinstance(result, (list, tuple)) else [result]
    out = []
    for item in items:
        if isinstance(item, Message):
            out.append(item.to_dict())
        elif isinstance(item, str):
            out.append(UserMessage(item).to_dict())
        elif isinstance(item, dict) and "role" in item:
            out.append(Message(item.get("content", ""), item["role"]).to_dict())
        elif isinstance(item, _Block):
            out.append({"role": "user", "content": item.to_dict()})
        else:
            raise ValueError(f"a prompt returns str, Message or a list of them, not {type(item).__name__}")
    return out


class Prompt:
    def __init__(self, fn, name=None, title=None, description=None, meta=None) -> None:
        self.fn = fn
        self.name = name or fn.__name__
        self.title = title
        self.description = description if description is not None else (fn.__doc__ or "")
        self.meta = meta
        self.info = FuncInfo(fn, self.name)
        docs = parameter_descriptions(fn.__doc__)
        self.arguments = []
        for n, hint, default in self.info.params:
            arg: dict = {"name": n}
            d = docs.get(n) or self.info.builder.schema(hint).get("description")
            if d:
                arg["description"] = d
            arg["required"] = default is inspect.Parameter.empty
            self.arguments.append(arg)

    def to_dict(self) -> dict:
        out: dict = {"name": self.name}
        if self.title:
            out["title"] = self.title
        out["description"] = self.description
        out["arguments"] = self.arguments
        if self.meta:
            out["_meta"] = self.meta
        return out

    async def render(self, arguments: dict, context) -> dict:
        result = await self.info.call(arguments or {}, context)
        out: dict = {}
        if self.description:
            out["description"] = self.description
        out["messages"] = to_messages(result)
        return out
