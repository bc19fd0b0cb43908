import { joinFor, type McpClient } from './client.js';

/**
 * Claude Code: user scope in `~/.claude.json` (top-level `mcpServers`; the rest of that file is
 * Claude Code's own state, left as it is), project scope in `.mcp.json` at the project's root.
 * Entries as `claude mcp add` writes them: `{"type": "stdio", "command", "args", "env": {}}`.
 * (Its local scope, `projects["<folder>"].mcpServers` in ~/.claude.json, is not written.)
 */
export const claudeCode: McpClient = {
  id: 'claude-code',
  title: 'Claude Code',
  serversKey: 'mcpServers',
  comments: false,
  defaultScope: 'user',
  file: (scope, where) => (scope === 'user' ? joinFor(where, where.home, '.claude.json') : joinFor(where, where.cwd, '.mcp.json')),
  entry: (command, args) => ({ type: 'stdio', command, args }),
  newEntryExtras: { env: {} },
};
