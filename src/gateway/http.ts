import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { FabricksError } from '../util/errors.js';
import type { Gateway } from './gateway.js';
import { gatewayServer } from './server.js';

/** `--listen [HOST:]PORT`: loopback unless a host is named. */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:]+\]|[^:]+):)?(\d+)$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new FabricksError('USAGE', `--listen ${value}: expected [HOST:]PORT`, { hint: 'e.g. --listen 8000 (127.0.0.1:8000) or --listen 0.0.0.0:8000' });
  }
  return { host: (m[1] ?? '127.0.0.1').replace(/^\[|\]$/g, ''), port };
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

function reply(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

/**
 * The gateway over Streamable HTTP at /mcp, with sessions: each session its own SDK Server and
 * transport (so list_changed reaches a client's GET stream), all sharing the gateway's servers.
 * Served on loopback, a request whose Host or Origin names another host is refused (a web page
 * must not reach it through DNS rebinding).
 */
export async function serveHttp(gateway: Gateway, at: { host: string; port: number }): Promise<{ url: string; close(): Promise<void> }> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const loopback = LOOPBACK.has(at.host);
  const hostOk = (value: string | undefined) => {
    if (!loopback) return true;
    return value !== undefined && LOOPBACK.has(value.replace(/:\d+$/, '').replace(/^\[|\]$/g, ''));
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path !== '/mcp') return reply(res, 404, 'not found: the MCP endpoint is /mcp');
    const origin = req.headers.origin;
    if (!hostOk(req.headers.host) || (origin !== undefined && !hostOk(safeHost(origin)))) return reply(res, 403, 'forbidden: this gateway serves loopback clients only');
    const id = req.headers['mcp-session-id'];
    let transport = typeof id === 'string' ? sessions.get(id) : undefined;
    if (typeof id === 'string' && !transport) return reply(res, 404, 'session not found: initialize again');
    if (!transport) {
      const fresh = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (sid) => void sessions.set(sid, fresh),
      });
      const server = gatewayServer(gateway);
      // the Server chains this on connect, and closes itself with its transport (DELETE, shutdown)
      fresh.onclose = () => {
        if (fresh.sessionId) sessions.delete(fresh.sessionId);
      };
      await server.connect(fresh);
      transport = fresh;
      await transport.handleRequest(req, res);
      // a first request that did not make a session (not an initialize) leaves nothing behind
      if (!fresh.sessionId) await server.close();
      return;
    }
    await transport.handleRequest(req, res);
  };
  const http = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) reply(res, 500, `internal error: ${e instanceof Error ? e.message : String(e)}`);
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', (e: NodeJS.ErrnoException) => reject(new FabricksError('USAGE', `--listen ${at.host}:${at.port}: cannot listen there (${e.code ?? e.message})`, { hint: 'pick a free port, or 0 for any', cause: e })));
    http.listen(at.port, at.host, () => resolve());
  });
  const address = http.address() as { address: string; port: number };
  const hostText = address.address.includes(':') ? `[${address.address}]` : address.address;
  return {
    url: `http://${hostText}:${address.port}/mcp`,
    close: async () => {
      await Promise.all([...sessions.values()].map((t) => t.close().catch(() => undefined)));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

function safeHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}
