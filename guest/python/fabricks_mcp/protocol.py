"""MCP over JSON-RPC 2.0: one session's state and the dispatch of its messages to a server."""

import json
import sys
import traceback

from . import errors as E

# Newest first: the version a client asks for is answered with itself when listed here, and
# with the newest otherwise (the client then decides whether it can go on).
SUPPORTED_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "2024-10-07")
LATEST = SUPPORTED_VERSIONS[0]


class Session:
    def __init__(self, session_id=None) -> None:
        self.id = session_id
        self.protocol_version = None
        self.client_info = None
        self.client_capabilities = None
        self.initialized = False
        self.log_level = None


def error_response(id_, code: int, message: str, data=None) -> dict:
    return {"jsonrpc": "2.0", "id": id_, "error": E.McpError(code, message, data).to_dict()}


def parse(raw):
    """A decoded message or batch, or a parse-error response."""
    try:
        if isinstance(raw, (bytes, bytearray)):
            raw = raw.decode("utf-8")
        return json.loads(raw), None
    except (ValueError, UnicodeDecodeError) as e:
        return None, error_response(None, E.PARSE_ERROR, f"Parse error: {e}")


def dump(message) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


class Dispatcher:
    """Answers requests for a FastMCP server; notify(message) sends server notifications."""

    def __init__(self, server) -> None:
        self.server = server
        self.methods = {
            "initialize": self._initialize,
            "ping": self._ping,
            "logging/setLevel": self._set_level,
            "tools/list": lambda p, c: server._list_tools_result(),
            "tools/call": self._call_tool,
            "resources/list": lambda p, c: {"resources": [r.to_dict() for r in server._resources.values() if not r.is_template]},
            "resources/templates/list": lambda p, c: {"resourceTemplates": [r.to_dict() for r in server._resources.values() if r.is_template]},
            "resources/read": self._read_resource,
            "prompts/list": lambda p, c: {"prompts": [p_.to_dict() for p_ in server._prompts.values()]},
            "prompts/get": self._get_prompt,
        }

    async def handle(self, message, session: Session, notify=None):
        """The response to a message or batch (None for notifications and responses)."""
        if isinstance(message, list):
            if not message:
                return error_response(None, E.INVALID_REQUEST, "Invalid Request: empty batch")
            out = [r for r in [await self.handle(m, session, notify) for m in message] if r is not None]
            return out or None
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            return error_response(message.get("id") if isinstance(message, dict) else None, E.INVALID_REQUEST, "Invalid Request: not a JSON-RPC 2.0 message")
        method = message.get("method")
        if "id" not in message:
            if isinstance(method, str):
                self._notification(method, message.get("params") or {}, session)
            return None  # a notification, or a response to a request this server never sends
        id_ = message["id"]
        if not isinstance(method, str):
            if "result" in message or "error" in message:
                return None
            return error_response(id_, E.INVALID_REQUEST, "Invalid Request: no method")
        handler = self.methods.get(method)
        if handler is None:
            return error_response(id_, E.METHOD_NOT_FOUND, f"Method not found: {method}")
        params = message.get("params")
        if params is None:
            params = {}
        if not isinstance(params, dict):
            return error_response(id_, E.INVALID_PARAMS, "Invalid params: params must be an object")
        from .context import Context

        context = Context(self.server, session, id_, params.get("_meta") or {}, notify)
        try:
            result = handler(params, context)
            if hasattr(result, "__await__"):
                result = await result
            return {"jsonrpc": "2.0", "id": id_, "result": result}
        except E.McpError as e:
            return {"jsonrpc": "2.0", "id": id_, "error": e.to_dict()}
        except Exception as e:  # noqa: BLE001 - a server bug answers the request and is logged
            traceback.print_exc(file=sys.stderr)
            return error_response(id_, E.INTERNAL_ERROR, f"Internal error: {e}")

    def _notification(self, method: str, params: dict, session: Session) -> None:
        if method == "notifications/initialized":
            session.initialized = True

    def _initialize(self, params: dict, context) -> dict:
        session = context.session
        asked = params.get("protocolVersion")
        if not isinstance(asked, str):
            raise E.McpError(E.INVALID_PARAMS, "Invalid params: protocolVersion is required")
        session.protocol_version = asked if asked in SUPPORTED_VERSIONS else LATEST
        session.client_info = params.get("clientInfo")
        session.client_capabilities = params.get("capabilities")
        s = self.server
        result: dict = {
            "protocolVersion": session.protocol_version,
            "capabilities": {
                "experimental": {},
                "logging": {},
                "prompts": {"listChanged": False},
                "resources": {"subscribe": False, "listChanged": False},
                "tools": {"listChanged": False},
            },
            "serverInfo": {"name": s.name, "version": s.version},
        }
        if s.instructions:
            result["instructions"] = s.instructions
        return result

    def _ping(self, params, context) -> dict:
        return {}

    def _set_level(self, params: dict, context) -> dict:
        from .context import _LEVELS

        level = params.get("level")
        if level not in _LEVELS:
            raise E.McpError(E.INVALID_PARAMS, f"Invalid params: level must be one of {', '.join(_LEVELS)}")
        context.session.log_level = level
        return {}

    async def _call_tool(self, params: dict, context) -> dict:
        name = params.get("name")
        tool = self.server._tools.get(name) if isinstance(name, str) else None
        if tool is None:
            raise E.McpError(E.INVALID_PARAMS, f"Unknown tool: {name}")
        arguments = params.get("arguments")
        if arguments is not None and not isinstance(arguments, dict):
            raise E.McpError(E.INVALID_PARAMS, "Invalid params: arguments must be an object")
        return await tool.run(arguments or {}, context)

    async def _read_resource(self, params: dict, context) -> dict:
        uri = params.get("uri")
        if not isinstance(uri, str):
            raise E.McpError(E.INVALID_PARAMS, "Invalid params: uri is required")
        return {"contents": await self.server._read(uri, context)}

    async def _get_prompt(self, params: dict, context) -> dict:
        name = params.get("name")
        prompt = self.server._prompts.get(name) if isinstance(name, str) else None
        if prompt is None:
            raise E.McpError(E.INVALID_PARAMS, f"Unknown prompt: {name}")
        arguments = params.get("arguments") or {}
        missing = [a["name"] for a in prompt.arguments if a["required"] and a["name"] not in arguments]
        if missing:
            raise E.McpError(E.INVALID_PARAMS, f"Missing required arguments: {', '.join(missing)}")
        try:
            return await prompt.render(arguments, context)
        except Exception as e:  # noqa: BLE001
            raise E.McpError(E.INVALID_PARAMS, f"Error rendering prompt {name}: {e}") from e
