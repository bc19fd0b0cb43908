import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { Gateway } from './gateway.js';

/**
 * The MCP server one client speaks to: the SDK's low-level Server, every request answered by the
 * gateway. One per connection (stdio has one; Streamable HTTP one per session), all sharing the
 * gateway and its servers. Lists are whole (no pages).
 */
export function gatewayServer(gateway: Gateway): Server {
  const server = new Server(
    { name: 'fabricks-mcp-gateway', version: '0.1.0' },
    {
      capabilities: { tools: { listChanged: true }, prompts: { listChanged: true }, resources: { listChanged: true } },
      instructions: `The tools and prompts of ${gateway.upstreams.length} MCP servers (${gateway.upstreams.map((u) => u.name).join(', ')}), each named <server>__<name>.`,
    },
  );
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: await gateway.listTools() }));
  server.setRequestHandler(CallToolRequestSchema, (req, extra) => gateway.callTool(req.params.name, req.params.arguments, extra));
  server.setRequestHandler(ListPromptsRequestSchema, async () => ({ prompts: await gateway.listPrompts() }));
  server.setRequestHandler(GetPromptRequestSchema, (req, extra) => gateway.getPrompt(req.params.name, req.params.arguments, extra));
  server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: await gateway.listResources() }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({ resourceTemplates: await gateway.listResourceTemplates() }));
  server.setRequestHandler(ReadResourceRequestSchema, (req, extra) => gateway.readResource(req.params.uri, extra));
  gateway.attach(server);
  return server;
}
