from fabricks_mcp.errors import FastMCPError, InvalidSignature, ResourceError, ToolError, ValidationError

__all__ = ["FastMCPError", "ValidationError", "ResourceError", "ToolError", "InvalidSignature"]
