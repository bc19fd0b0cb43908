"""The exceptions handlers raise (the official FastMCP's names) and JSON-RPC errors."""


class FastMCPError(Exception):
    pass


class ValidationError(FastMCPError):
    pass


class ResourceError(FastMCPError):
    pass


class ToolError(FastMCPError):
    """Raised by a tool: its message is the tool error's text, as is."""


class InvalidSignature(FastMCPError):
    pass


PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
RESOURCE_NOT_FOUND = -32002


class McpError(Exception):
    """Answered as a JSON-RPC error with this code."""

    def __init__(self, code: int, message: str, data=None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_dict(self) -> dict:
        out = {"code": self.code, "message": self.message}
        if self.data is not None:
            out["data"] = self.data
        return out
