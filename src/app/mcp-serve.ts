import type { Context } from '../home/context.js';
import { AuditLog } from '../gateway/audit.js';
import { toolFilter } from '../gateway/filters.js';
import { Gateway } from '../gateway/gateway.js';
import { parseListen, serveHttp } from '../gateway/http.js';
import { fabricksLauncher } from '../gateway/launcher.js';
import { checkUniqueNames, readGatewayFile, serverFromArgument, type ServerSpec } from '../gateway/servers.js';

export interface McpServeOptions {
  /** Folders, name:version or registry references, each named after itself. */
  refs: string[];
  /** NAME=REF. */
  servers: string[];
  /** A gateway.toml: [servers.NAME] with their grants. */
  config?: string;
  /** [HOST:]PORT: Streamable HTTP instead of stdio. */
  listen?: string;
  allowTool: string[];
  denyTool: string[];
  audit?: string;
  auditArguments?: boolean;
  /** No progress from the servers' own `fabricks run` (their errors still show). */
  quiet?: boolean;
}

export interface McpServeResult {
  servers: string[];
  calls: number;
  /** The signal that stopped it (SIGINT, SIGTERM), if one did. */
  stoppedBy?: string;
}

/** Every server the options name: the config file's first, then --server, then plain references. */
export async function gatewayServers(options: Pick<McpServeOptions, 'refs' | 'servers' | 'config'>): Promise<{ servers: ServerSpec[]; allowTool: string[]; denyTool: string[] }> {
  const file = options.config ? await readGatewayFile(options.config) : { servers: [], allowTool: [], denyTool: [] };
  const servers = [
    ...file.servers,
    ...(await Promise.all(options.servers.map((s) => serverFromArgument(s, '--server')))),
    ...(await Promise.all(options.refs.map((r) => serverFromArgument(r, 'argument')))),
  ];
  checkUniqueNames(servers);
  return { servers, allowTool: file.allowTool, denyTool: file.denyTool };
}

/**
 * `fabricks mcp serve`: one MCP server in front of many, each a `fabricks run` of its own with
 * its own grants. Over stdio it serves until the client closes stdin; over Streamable HTTP
 * until interrupted. Returns what it served.
 */
export async function mcpServe(options: McpServeOptions, ctx: Context): Promise<McpServeResult> {
  const { servers, allowTool, denyTool } = await gatewayServers(options);
  const filter = toolFilter([...allowTool, ...options.allowTool], [...denyTool, ...options.denyTool]);
  const at = options.listen !== undefined ? parseListen(options.listen) : undefined;
  const audit = options.audit ? await AuditLog.open(options.audit, Boolean(options.auditArguments)) : undefined;
  const gateway = new Gateway(servers, fabricksLauncher({ quiet: Boolean(options.quiet) }), filter, audit, ctx.reporter);
  const stopping = () => gateway.stopping();
  ctx.signal?.addEventListener('abort', stopping, { once: true });
  try {
    // the servers start while the client connects; lists wait for their first start
    void gateway.start();
    await (at ? serveOverHttp(gateway, at, ctx) : serveOverStdio(gateway, ctx));
  } finally {
    ctx.signal?.removeEventListener('abort', stopping);
    await gateway.close();
  }
  const stoppedBy = ctx.signal?.aborted ? String(ctx.signal.reason) : undefined;
  return { servers: servers.map((s) => s.name), calls: gateway.calls, ...(stoppedBy ? { stoppedBy } : {}) };
}

async function serveOverStdio(gateway: Gateway, ctx: Context): Promise<void> {
  const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
  const { gatewayServer } = await import('../gateway/server.js');
  const server = gatewayServer(gateway);
  const transport = new StdioServerTransport();
  const ended = new Promise<void>((resolve) => {
    // the client closing stdin (or the pipe breaking) is the end of the session
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
    transport.onclose = () => resolve();
    ctx.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  await server.connect(transport);
  await ended;
  await server.close().catch(() => undefined);
}

async function serveOverHttp(gateway: Gateway, at: { host: string; port: number }, ctx: Context): Promise<void> {
  const served = await serveHttp(gateway, at);
  ctx.reporter({ event: 'mcp-gateway', url: served.url, servers: gateway.upstreams.length });
  await new Promise<void>((resolve) => {
    if (ctx.signal?.aborted) return resolve();
    ctx.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  await served.close();
}
