import { appData, joinFor, type McpClient } from './client.js';

/**
 * VS Code: the workspace's `.vscode/mcp.json` (project scope, the default), or `mcp.json` in the
 * default profile's folder (user scope: Code/User in the application-data folder).
 * `{"servers": {"name": {"type": "stdio", "command", "args"}}, "inputs": [...]}`, read as JSONC:
 * comments and trailing commas are allowed and kept.
 */
export const vscode: McpClient = {
  id: 'vscode',
  title: 'VS Code',
  serversKey: 'servers',
  comments: true,
  defaultScope: 'project',
  file: (scope, where) => (scope === 'user' ? joinFor(where, appData(where), 'Code', 'User', 'mcp.json') : joinFor(where, where.cwd, '.vscode', 'mcp.json')),
  entry: (command, args) => ({ type: 'stdio', command, args }),
};
