import { joinFor, type McpClient } from './client.js';

/**
 * Cursor: `~/.cursor/mcp.json` (user scope, for every project) or `.cursor/mcp.json` in a
 * project, `{"mcpServers": {"name": {"command", "args", "env"}}}`. Cursor is built on VS Code, whose
 * settings files are JSONC: comments and trailing commas in the file are accepted and kept.
 */
export const cursor: McpClient = {
  id: 'cursor',
  title: 'Cursor',
  serversKey: 'mcpServers',
  comments: true,
  defaultScope: 'user',
  file: (scope, where) => (scope === 'user' ? joinFor(where, where.home, '.cursor', 'mcp.json') : joinFor(where, where.cwd, '.cursor', 'mcp.json')),
  entry: (command, args) => ({ command, args }),
};
