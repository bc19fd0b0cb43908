import { FabricksError } from '../util/errors.js';
import { claudeCode } from './claude-code.js';
import { claudeDesktop } from './claude-desktop.js';
import { cursor } from './cursor.js';
import type { McpClient } from './client.js';
import { vscode } from './vscode.js';

/** The MCP clients whose configuration fabricks writes, one line each. */
export const MCP_CLIENTS: readonly McpClient[] = [claudeDesktop, claudeCode, vscode, cursor];

export const clientIds = () => MCP_CLIENTS.map((c) => c.id);

export function mcpClient(id: string): McpClient {
  const client = MCP_CLIENTS.find((c) => c.id === id);
  if (!client) throw new FabricksError('USAGE', `--client ${id}: fabricks knows no MCP client by that name`, { hint: `use one of ${clientIds().join(', ')}` });
  return client;
}
