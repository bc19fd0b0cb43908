from fabricks_mcp import FastMCP

__all__ = ["FastMCP"]
