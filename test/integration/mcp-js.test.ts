import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { cp, mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { fabricks, repoRoot } from '../helpers.js';
import { lockedNodeModules } from '../example-deps.js';

// A stdio MCP server written with the official TypeScript SDK and zod, unchanged, driven by the
// SDK's own client through `fabricks run`. Its dependencies come from the registry with npm ci,
// pinned by the fixture's lock file, once per lock file (kept in the temp folder between runs).
const fixture = join(repoRoot, 'test', 'fixtures', 'mcp-stdio-js');

let dir: string;
let client: Client;

beforeAll(async () => {
  const modules = await lockedNodeModules(fixture, 'mcp-stdio-js');
  dir = await mkdtemp(join(tmpdir(), 'fabricks-mcp-js-'));
  for (const f of ['server.js', 'fabricks.toml', 'package.json']) await cp(join(fixture, f), join(dir, f));
  await symlink(modules, join(dir, 'node_modules'));
  const built = await fabricks(['build', dir]);
  expect(built.stderr).not.toMatch(/error/);
  expect(built.status).toBe(0);
  client = new Client({ name: 'fabricks-test', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [join(repoRoot, 'bin', 'fabricks.js'), 'run', dir],
      env: { ...(process.env as Record<string, string>), FABRICKS_HOME: inject('fabricksHome') },
      stderr: 'pipe',
    }),
  );
});

afterAll(async () => {
  await client?.close();
});

describe('an MCP server written with the official TypeScript SDK, over stdio', () => {
  it('initializes', () => {
    expect(client.getServerVersion()).toEqual({ name: 'demo', version: '1.0.0' });
    expect(client.getServerCapabilities()?.tools).toBeDefined();
  });

  it('lists its tools with the JSON Schemas zod gives', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['add', 'fail']);
    expect(tools[0]!.inputSchema).toMatchObject({ type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] });
  });

  it('calls a tool', async () => {
    const result = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
    expect(result).toEqual({ content: [{ type: 'text', text: '5' }] });
  });

  it('returns an error the tool throws as a tool error', async () => {
    const result = await client.callTool({ name: 'fail', arguments: { why: 'on purpose' } });
    expect(result.isError).toBe(true);
    expect(result.content).toEqual([{ type: 'text', text: 'failed: on purpose' }]);
  });

  it('rejects arguments zod finds invalid', async () => {
    const result = await client.callTool({ name: 'add', arguments: { a: 'two', b: 3 } });
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toMatch(/expected number/i);
  });

  it('answers a tool call whose request line is 9 MiB (and whose answer is as long)', async () => {
    // the SDK gathers a line with Buffer.concat and indexOf('\n') on every stdin chunk: done
    // byte by byte in JavaScript (the buffer polyfill), a 3 MB line took 41 s and 10 MB minutes;
    // the SDK's own limit for a line is 10 MiB
    const why = 'w'.repeat(9 * 1024 * 1024);
    const result = await client.callTool({ name: 'fail', arguments: { why } }, undefined, { timeout: 60_000 });
    expect(result.isError).toBe(true);
    const [content] = result.content as Array<{ type: string; text: string }>;
    expect(content!.text.length).toBe('failed: '.length + why.length);
    expect(content!.text.startsWith('failed: www')).toBe(true);
  });

  it('writes nothing but protocol messages to stdout', async () => {
    const requests = [
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'add', arguments: { a: 1, b: 1 } } },
    ];
    const r = await fabricks(['run', dir], { input: requests.map((m) => JSON.stringify(m)).join('\n') + '\n' });
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(2);
    const replies = lines.map((l) => JSON.parse(l) as { jsonrpc: string; id: number; result: unknown });
    expect(replies.map((m) => [m.jsonrpc, m.id])).toEqual([['2.0', 1], ['2.0', 2]]);
    expect(replies[1]!.result).toEqual({ content: [{ type: 'text', text: '2' }] });
  });
});
