from fabricks_mcp.prompts import Prompt

__all__ = ["Prompt"]
