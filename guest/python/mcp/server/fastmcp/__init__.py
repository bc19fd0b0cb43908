from fabricks_mcp import Context, FastMCP, Image

__all__ = ["FastMCP", "Context", "Image"]
