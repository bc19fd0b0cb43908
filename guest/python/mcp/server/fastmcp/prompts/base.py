from fabricks_mcp.prompts import AssistantMessage, Message, Prompt, UserMessage

__all__ = ["Message", "UserMessage", "AssistantMessage", "Prompt"]
