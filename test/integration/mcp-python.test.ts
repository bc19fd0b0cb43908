import { beforeAll, describe, expect, inject, it } from 'vitest';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { LoggingMessageNotificationSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { fabricks, project, pyToml, repoRoot } from '../helpers.js';
import { copyFixture, mcpPythonJson } from '../mcp-tools.js';

/**
 * FastMCP servers (the official Python SDK's API) in the fabricks Python runtime, driven over
 * stdio by the official clients: the TypeScript SDK's Client and the Python SDK's (mcp 1.30.0).
 */
describe('MCP servers in Python (FastMCP)', () => {
  let dir: string;
  const runArgs = () => [join(repoRoot, 'bin', 'fabricks.js'), 'run', '-q', dir];

  beforeAll(async () => {
    dir = await copyFixture('mcp-python');
    const built = await fabricks(['build', '-q', dir]);
    expect(built.status, built.stderr).toBe(0);
  });

  async function connect(): Promise<Client> {
    const client = new Client({ name: 'fabricks-test', version: '1.0.0' });
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: runArgs(),
      env: { ...(process.env as Record<string, string>), FABRICKS_HOME: inject('fabricksHome') },
      stderr: 'pipe',
    });
    await client.connect(transport);
    return client;
  }

  it('lists tools with JSON Schemas derived from type hints (the TypeScript SDK client)', async () => {
    const client = await connect();
    try {
      expect(client.getServerVersion()?.name).toBe('catalog');
      expect(client.getInstructions()).toBe('Shapes and sums, for the tests.');
      const { tools } = await client.listTools();
      const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
      expect(Object.keys(byName)).toEqual(['add', 'kinds', 'point', 'make_box', 'greet', 'shout', 'fail']);
      expect(byName.add!.description).toBe('Adds two integers.');
      expect(byName.add!.inputSchema).toEqual({
        type: 'object',
        title: 'addArguments',
        properties: { a: { title: 'A', type: 'integer' }, b: { default: 2, title: 'B', type: 'integer' } },
        required: ['a'],
      });
      expect(byName.add!.outputSchema).toEqual({ type: 'object', title: 'addOutput', properties: { result: { title: 'Result', type: 'integer' } }, required: ['result'] });
      const kinds = byName.kinds!.inputSchema as any;
      expect(kinds.required).toEqual(['s', 'f', 'flag', 'xs', 'm']);
      const p = kinds.properties;
      expect(p.s.type).toBe('string');
      expect(p.f.type).toBe('number');
      expect(p.flag.type).toBe('boolean');
      expect(p.xs).toMatchObject({ type: 'array', items: { type: 'integer' } });
      expect(p.m).toMatchObject({ type: 'object', additionalProperties: { type: 'number' } });
      expect(p.o).toMatchObject({ anyOf: [{ type: 'string' }, { type: 'null' }], default: null });
      expect(p.u).toMatchObject({ anyOf: [{ type: 'integer' }, { type: 'string' }], default: 1 });
      expect(p.lit).toMatchObject({ enum: ['a', 'b'], type: 'string', default: 'a' });
      expect(p.c).toEqual({ $ref: '#/$defs/Color', default: 'red' });
      expect(p.p).toEqual({ anyOf: [{ $ref: '#/$defs/Point' }, { type: 'null' }], default: null });
      expect(p.ann).toMatchObject({ type: 'string', description: 'described' });
      expect(p.names).toMatchObject({ type: 'array', items: { type: 'string' }, default: [] });
      expect(kinds.$defs.Color).toEqual({ enum: ['red', 'green'], title: 'Color', type: 'string' });
      expect(kinds.$defs.Point).toMatchObject({ type: 'object', required: ['x', 'y'], properties: { x: { type: 'integer' } } });
      expect(kinds.$defs.Box).toMatchObject({ type: 'object', required: ['w'], properties: { h: { default: 1, type: 'number' } } });
      expect(byName.make_box!.description).toBe('Makes a box.');
      expect(byName.make_box!.outputSchema).toMatchObject({ title: 'Box', required: ['w'] });
      expect(byName.shout!.outputSchema).toBeUndefined();
      expect(byName.greet!.inputSchema.properties).not.toHaveProperty('ctx');
    } finally {
      await client.close();
    }
  });

  it('calls tools: structured and text results, converted arguments, tool errors, log messages, protocol errors', async () => {
    const client = await connect();
    try {
      const add = await client.callTool({ name: 'add', arguments: { a: 40, b: '2' } });
      expect(add).toEqual({ content: [{ type: 'text', text: '42' }], structuredContent: { result: 42 }, isError: false });
      const point = await client.callTool({ name: 'point', arguments: { x: 1, y: 2 } });
      expect(point.structuredContent).toEqual({ x: 1, y: 2 });
      expect(JSON.parse((point.content as any)[0].text)).toEqual({ x: 1, y: 2 });
      const box = await client.callTool({ name: 'make_box', arguments: { w: 3 } });
      expect(box.structuredContent).toEqual({ w: 3, h: 1, label: null });
      const kinds = await client.callTool({
        name: 'kinds',
        arguments: { s: 'x', f: 2, flag: true, xs: [1, 2], m: { k: 1.5 }, c: 'green', box: { w: 2 }, p: { x: 1, y: 2 }, u: 'seven' },
      });
      expect(kinds.structuredContent).toBeUndefined();
      expect(JSON.parse((kinds.content as any)[0].text)).toMatchObject({ f: 2, c: 'green', box: { w: 2, h: 1, label: null }, p: { x: 1, y: 2 }, u: 'seven', lit: 'a', o: null });
      const shout = await client.callTool({ name: 'shout', arguments: { text: 'hi' } });
      expect(shout).toEqual({ content: [{ type: 'text', text: 'HI' }], isError: false });

      const fail = await client.callTool({ name: 'fail', arguments: { reason: 'testing' } });
      expect(fail).toEqual({ content: [{ type: 'text', text: 'Error executing tool fail: failed on purpose: testing' }], isError: true });
      const bad = await client.callTool({ name: 'add', arguments: { a: 'many' } });
      expect(bad.isError).toBe(true);
      expect((bad.content as any)[0].text).toMatch(/^Error executing tool add: a: expected an integer, got 'many'/);
      const missing = await client.callTool({ name: 'add', arguments: {} });
      expect((missing.content as any)[0].text).toContain('missing required argument a');

      const logs: string[] = [];
      client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(String(n.params.data)));
      await client.setLoggingLevel('info');
      // Progress is checked as it arrives: the SDK drops a progress notification that comes in
      // the same chunk as the response (its response handler runs first and forgets the token).
      const transport = client.transport!;
      const seen: any[] = [];
      const deliver = transport.onmessage!;
      transport.onmessage = (m, extra) => {
        seen.push(m);
        deliver(m, extra);
      };
      const greet = await client.callTool({ name: 'greet', arguments: { name: 'Ada' } }, undefined, { onprogress: () => undefined });
      expect(greet.structuredContent).toEqual({ result: 'Hello, Ada!' });
      expect(logs).toEqual(['greeting Ada']);
      const progress = seen.filter((m) => m.method === 'notifications/progress');
      expect(progress).toHaveLength(1);
      expect(progress[0].params).toMatchObject({ progress: 1, total: 2, message: 'halfway' });
      expect(typeof progress[0].params.progressToken).toBe('number');

      const unknown = await client.callTool({ name: 'no_such_tool', arguments: {} }).catch((e: unknown) => e);
      expect(unknown).toBeInstanceOf(McpError);
      expect((unknown as McpError).code).toBe(-32602);
      const method = await client.request({ method: 'completion/complete', params: { ref: { type: 'ref/prompt', name: 'review' }, argument: { name: 'code', value: '' } } }, LoggingMessageNotificationSchema).catch((e: unknown) => e);
      expect((method as McpError).code).toBe(-32601);
      expect(await client.ping()).toEqual({});
    } finally {
      await client.close();
    }
  });

  it('reads fixed and templated resources and gets prompts with arguments', async () => {
    const client = await connect();
    try {
      expect((await client.listResources()).resources).toEqual([{ uri: 'config://app', name: 'config', mimeType: 'application/json' }]);
      expect((await client.listResourceTemplates()).resourceTemplates).toEqual([
        { uriTemplate: 'shapes://{name}/area', name: 'area', description: 'The area of a named shape.', mimeType: 'text/plain' },
      ]);
      expect((await client.readResource({ uri: 'shapes://square/area' })).contents).toEqual([{ uri: 'shapes://square/area', mimeType: 'text/plain', text: 'square: 60 square units' }]);
      const config = (await client.readResource({ uri: 'config://app' })).contents[0] as { text: string; mimeType: string };
      expect(config.mimeType).toBe('application/json');
      expect(JSON.parse(config.text)).toEqual({ unit: 'cm' });
      const notFound = await client.readResource({ uri: 'shapes://square' }).catch((e: unknown) => e);
      expect((notFound as McpError).code).toBe(-32002);

      const { prompts } = await client.listPrompts();
      expect(prompts).toEqual([
        { name: 'review', description: 'Asks for a code review.', arguments: [{ name: 'code', required: true }, { name: 'language', required: false }] },
      ]);
      const prompt = await client.getPrompt({ name: 'review', arguments: { code: 'x = 1', language: 'ruby' } });
      expect(prompt.messages).toEqual([{ role: 'user', content: { type: 'text', text: 'Review this ruby code:\nx = 1' } }]);
      const noArgs = await client.getPrompt({ name: 'review', arguments: {} }).catch((e: unknown) => e);
      expect((noArgs as McpError).code).toBe(-32602);
    } finally {
      await client.close();
    }
  });

  it('keeps stdout to protocol messages: print() in a tool goes to stderr; bad JSON and unknown methods get JSON-RPC errors', async () => {
    const server = await project({
      'fabricks.toml': pyToml('server.py'),
      'server.py': [
        'from fabricks.mcp import FastMCP',
        'mcp = FastMCP("printer")',
        '@mcp.tool()',
        'def noisy() -> str:',
        '    print("a print from the tool")',
        '    return "done"',
        'mcp.run()',
        '',
      ].join('\n'),
    });
    const lines = [
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'noisy', arguments: {} } },
      'this is not json',
      { jsonrpc: '2.0', id: 3, method: 'no/such/method' },
      { jsonrpc: '2.0', id: 4, method: 'tools/call', params: 'not an object' },
      { jsonrpc: '2.0', id: 5, method: 'initialize', params: { protocolVersion: '1999-01-01', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } },
    ].map((l) => (typeof l === 'string' ? l : JSON.stringify(l)) + '\n');
    const r = await fabricks(['run', '-q', server], { input: lines.join('') });
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(out).toHaveLength(6);
    expect(out[0].result.protocolVersion).toBe('2025-03-26');
    expect(out[1]).toEqual({ jsonrpc: '2.0', id: 2, result: { content: [{ type: 'text', text: 'done' }], structuredContent: { result: 'done' }, isError: false } });
    expect(out[2]).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
    expect(out[3]).toEqual({ jsonrpc: '2.0', id: 3, error: { code: -32601, message: 'Method not found: no/such/method' } });
    expect(out[4]).toMatchObject({ id: 4, error: { code: -32602 } });
    expect(out[5].result.protocolVersion).toBe('2025-11-25');
    expect(r.stderr).toContain('a print from the tool');
  });

  it('serves the official Python SDK client over stdio, and publishes the schemas the official FastMCP does', async () => {
    const theirs = await mcpPythonJson('mcp_official_schemas.py', [dir, 'catalog']);
    const ours = await mcpPythonJson('mcp_client.py', ['fixture', 'stdio', process.execPath, ...runArgs()], { FABRICKS_HOME: inject('fabricksHome') });
    expect(ours.initialize.serverInfo.name).toBe('catalog');
    expect(ours.add.structuredContent).toEqual({ result: 42 });
    expect(ours.point).toEqual({ content: [{ type: 'text', text: '{\n  "x": 1,\n  "y": 2\n}' }], structuredContent: { x: 1, y: 2 }, isError: false });
    expect(ours.greet.structuredContent).toEqual({ result: 'Hello, Ada!' });
    expect(ours.fail).toEqual({ content: [{ type: 'text', text: 'Error executing tool fail: failed on purpose: testing' }], isError: true });
    expect(ours.resource.contents[0].text).toBe('square: 60 square units');
    expect(ours.templates[0].uriTemplate).toBe('shapes://{name}/area');
    expect(ours.prompt.messages[0].content.text).toBe('Review this python code:\nx = 1');
    expect(ours.unknown.code).toBe(-32602);
    // The same functions, the same schemas: names, descriptions, input and output schemas.
    const essentials = (t: any) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema, outputSchema: t.outputSchema });
    expect(ours.tools.map(essentials)).toEqual(theirs.tools.map(essentials));
  });

  it('answers a tool result over 64 KiB whole, and the call after it (the official Python SDK client)', async () => {
    const server = await project({
      'fabricks.toml': pyToml('server.py'),
      'server.py': [
        'from mcp.server.fastmcp import FastMCP',
        'mcp = FastMCP("large")',
        '@mcp.tool()',
        'def blob(size: int) -> str:',
        '    return "".join(f"{i:07d}\\n" for i in range(size // 8 + 1))[:size]',
        '@mcp.tool()',
        'def add(a: int, b: int) -> int:',
        '    return a + b',
        'mcp.run()',
        '',
      ].join('\n'),
    });
    const built = await fabricks(['build', '-q', server]);
    expect(built.status, built.stderr).toBe(0);
    const out = await mcpPythonJson('mcp_client.py', ['large', 'stdio', process.execPath, join(repoRoot, 'bin', 'fabricks.js'), 'run', '-q', server], { FABRICKS_HOME: inject('fabricksHome') });
    let text = '';
    for (let i = 0; text.length < 300_000; i++) text += String(i).padStart(7, '0') + '\n';
    text = text.slice(0, 300_000);
    expect(out.blob.isError).toBe(false);
    expect(out.blob.content[0].text.length).toBe(text.length);
    expect(out.blob.content[0].text === text).toBe(true);
    expect(out.blob.structuredContent.result === text).toBe(true);
    expect(out.after.structuredContent).toEqual({ result: 42 });
  });

  it('gives a service its own mcp package when its source has one (not a bare mcp folder); fabricks.mcp stays available', async () => {
    const own = await project({
      'fabricks.toml': pyToml('main.py'),
      'main.py': 'import mcp\nfrom mcp.server import fastmcp\nfrom fabricks.mcp import FastMCP\nprint(mcp.OWN, fastmcp.OWN, FastMCP.__module__)\n',
      'mcp/__init__.py': 'OWN = "own mcp"\n',
      'mcp/server/__init__.py': '',
      'mcp/server/fastmcp.py': 'OWN = "own fastmcp"\n',
    });
    const r1 = await fabricks(['run', '-q', own]);
    expect(r1.status, r1.stderr).toBe(0);
    expect(r1.stdout).toBe('own mcp own fastmcp fabricks_mcp.server\n');
    const provided = await project({
      'fabricks.toml': pyToml('main.py'),
      'main.py': 'from mcp.server.fastmcp import FastMCP, Context\nimport mcp.types\nprint(FastMCP.__module__, mcp.types.TextContent(text="t").to_dict())\n',
      // a folder without __init__.py is no regular package: the provided mcp still wins, as in CPython
      'mcp/notes.txt': 'data, not code\n',
    });
    const r2 = await fabricks(['run', '-q', provided]);
    expect(r2.status, r2.stderr).toBe(0);
    expect(r2.stdout).toBe("fabricks_mcp.server {'type': 'text', 'text': 't'}\n");
  });
});
