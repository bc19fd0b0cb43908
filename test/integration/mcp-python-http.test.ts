import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { writeFile, appendFile } from 'node:fs/promises';
import { fabricks, project, pyToml, repoRoot } from '../helpers.js';
import { fabricksServe } from '../hosts/fabricks-run-serve.js';
import type { Served } from '../hosts/wasmtime-serve.js';
import { copyFixture, mcpPython, mcpPythonJson } from '../mcp-tools.js';

/**
 * fabricks' FastMCP Streamable HTTP transport (the ASGI app mcp.streamable_http_app() returns),
 * served by `fabricks run --listen` and by uvicorn on this host's Python, driven by the official
 * TypeScript and Python clients.
 */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function startServer(mode: 'sse' | 'json'): Promise<{ url: string; child: ChildProcess; log: () => string }> {
  const port = await freePort();
  const child = spawn(mcpPython, [join(repoRoot, 'test', 'hosts', 'mcp_http_host.py'), join(repoRoot, 'guest', 'python'), join(repoRoot, 'test', 'fixtures', 'mcp-python'), 'catalog', String(port), ...(mode === 'json' ? ['json'] : [])], {
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const url = `http://127.0.0.1:${port}/mcp`;
  // ready when it answers (any status): a readiness wait, not a timing assertion
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited: ${log}`);
    const ok = await fetch(url).then(
      () => true,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, child, log: () => log };
}

describe('MCP servers in Python (FastMCP) over Streamable HTTP, as an ASGI app', () => {
  const servers: ChildProcess[] = [];
  let sse: string;
  let json: string;

  beforeAll(async () => {
    const a = await startServer('sse');
    const b = await startServer('json');
    servers.push(a.child, b.child);
    sse = a.url;
    json = b.url;
  });

  afterAll(() => {
    for (const s of servers) s.kill();
  });

  for (const mode of ['sse', 'json'] as const) {
    it(`serves the official TypeScript client (answers as ${mode === 'sse' ? 'event streams' : 'JSON bodies'})`, async () => {
      const client = new Client({ name: 'fabricks-test', version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL(mode === 'sse' ? sse : json));
      await client.connect(transport);
      try {
        expect(transport.sessionId).toMatch(/^[0-9a-f]{32}$/);
        expect(client.getServerVersion()?.name).toBe('catalog');
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name)).toContain('make_box');
        expect(await client.callTool({ name: 'add', arguments: { a: 1, b: 2 } })).toEqual({ content: [{ type: 'text', text: '3' }], structuredContent: { result: 3 }, isError: false });
        expect((await client.callTool({ name: 'fail', arguments: { reason: 'http' } })).isError).toBe(true);
        expect((await client.readResource({ uri: 'shapes://circle/area' })).contents[0]).toMatchObject({ text: 'circle: 60 square units' });
        expect((await client.getPrompt({ name: 'review', arguments: { code: 'y' } })).messages[0]!.content).toEqual({ type: 'text', text: 'Review this python code:\ny' });
        const logs: string[] = [];
        client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(String(n.params.data)));
        await client.setLoggingLevel('info');
        await client.callTool({ name: 'greet', arguments: { name: 'Ada' } });
        // an event stream carries the tool's log message before the result; a JSON body cannot
        expect(logs).toEqual(mode === 'sse' ? ['greeting Ada'] : []);
        await transport.terminateSession();
      } finally {
        await client.close();
      }
    });
  }

  it('serves the official Python client', async () => {
    const out = await mcpPythonJson('mcp_client.py', ['fixture', 'http', sse]);
    expect(out.add.structuredContent).toEqual({ result: 42 });
    expect(out.point.structuredContent).toEqual({ x: 1, y: 2 });
    expect(out.fail.isError).toBe(true);
    expect(out.resource.contents[0].text).toBe('square: 60 square units');
    expect(out.unknown.code).toBe(-32602);
  });

  it('answers GET with 405, and requests without a live session with 400 or 404', async () => {
    const get = await fetch(sse, { headers: { accept: 'text/event-stream' } });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST, DELETE');
    const post = (headers: Record<string, string>) =>
      fetch(sse, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
    const missing = await post({});
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toMatch(/Missing session ID/);
    expect((await post({ 'mcp-session-id': 'gone' })).status).toBe(404);
    const other = await fetch(new URL('/elsewhere', sse), { method: 'POST' });
    expect(other.status).toBe(404);
  });
});

describe('MCP servers in Python (FastMCP) over Streamable HTTP, served by fabricks run', () => {
  let served: Served;

  beforeAll(async () => {
    // The fixture as the official SDK's docs write an HTTP server: run() in the main block.
    const dir = await copyFixture('mcp-python');
    await writeFile(join(dir, 'server.py'), 'from catalog import mcp\n\nif __name__ == "__main__":\n    mcp.run(transport="streamable-http")\n');
    await appendFile(join(dir, 'fabricks.toml'), '\n[capabilities.network]\nlisten = [8080]\n');
    served = await fabricksServe(dir);
  });
  afterAll(async () => {
    await served?.stop();
  });

  it('serves the official TypeScript client (sessions across the serving workers)', async () => {
    const client = new Client({ name: 'fabricks-test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${served.url}/mcp`));
    await client.connect(transport);
    try {
      expect(transport.sessionId).toMatch(/^[0-9a-f]{32}$/);
      expect(client.getServerVersion()?.name).toBe('catalog');
      // several calls, so that more than one worker instance answers for the session
      for (let a = 0; a < 4; a++) {
        expect((await client.callTool({ name: 'add', arguments: { a } })).structuredContent).toEqual({ result: a + 2 });
      }
      expect((await client.callTool({ name: 'point', arguments: { x: 3, y: 4 } })).structuredContent).toEqual({ x: 3, y: 4 });
      const fail = await client.callTool({ name: 'fail', arguments: { reason: 'served' } });
      expect(fail).toEqual({ content: [{ type: 'text', text: 'Error executing tool fail: failed on purpose: served' }], isError: true });
      expect((await client.readResource({ uri: 'shapes://hexagon/area' })).contents[0]).toMatchObject({ text: 'hexagon: 70 square units' });
      expect((await client.getPrompt({ name: 'review', arguments: { code: 'z' } })).messages).toHaveLength(1);
    } finally {
      await client.close();
    }
    expect((await fetch(`${served.url}/mcp`)).status).toBe(405);
  });

  // Three times: the client drops its GET on the 405 without reading the body, which once kept the
  // serving worker busy for good (two sessions used up both workers).
  it('serves the official Python client, session after session', async () => {
    for (let i = 0; i < 3; i++) {
      const out = await mcpPythonJson('mcp_client.py', ['fixture', 'http', `${served.url}/mcp`]);
      expect(out.add.structuredContent).toEqual({ result: 42 });
      expect(out.greet.structuredContent).toEqual({ result: 'Hello, Ada!' });
      expect(out.fail.isError).toBe(true);
      expect(out.prompt.messages[0].content.text).toBe('Review this python code:\nx = 1');
      expect(out.unknown.code).toBe(-32602);
    }
  });

  it('run(transport="streamable-http") in a service run as a command says to grant listen', async () => {
    const dir = await project({
      'fabricks.toml': pyToml('server.py'),
      'server.py': 'from mcp.server.fastmcp import FastMCP\nmcp = FastMCP("x")\nif __name__ == "__main__":\n    mcp.run(transport="streamable-http")\n',
    });
    const r = await fabricks(['run', '-q', dir]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('add listen = [<port>] to fabricks.toml');
    expect(r.stdout).toBe('');
  });
});
