import { appData, joinFor, type McpClient } from './client.js';

/**
 * Claude Desktop: `claude_desktop_config.json` in its application-data folder (macOS
 * ~/Library/Application Support/Claude, Windows %APPDATA%\Claude, Linux ~/.config/Claude),
 * `{"mcpServers": {"name": {"command", "args", "env"}}}`. It reads plain JSON: a comment or a
 * trailing comma makes it ignore the whole file, so fabricks refuses them too.
 */
export const claudeDesktop: McpClient = {
  id: 'claude-desktop',
  title: 'Claude Desktop',
  serversKey: 'mcpServers',
  comments: false,
  defaultScope: 'user',
  file: (scope, where) => (scope === 'user' ? joinFor(where, appData(where), 'Claude', 'claude_desktop_config.json') : undefined),
  entry: (command, args) => ({ command, args }),
};
