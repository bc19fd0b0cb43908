import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, get as httpGet, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { readFile } from 'node:fs/promises';
import { cp, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { LoggingMessageNotificationSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { events, fabricks, jsToml, repoRoot, testCertificates } from '../helpers.js';
import { lockedNodeModules } from '../example-deps.js';
import { requestLog, serveProject, type Served } from '../serve-helpers.js';

// Node's http and https (and undici) in the JavaScript runtime, through real packages pinned in
// test/fixtures/node-http's lock file and left unchanged: clients (node:http, node-fetch 2 and 3,
// axios, undici) against a real loopback server under [capabilities.network] connect, and
// servers (Express 4 and 5, @hono/node-server, the MCP SDK's Streamable HTTP transport on
// Express) served by `fabricks run` under [capabilities.network] listen.
const fixture = join(repoRoot, 'test', 'fixtures', 'node-http');
let modules: string;

/** A project of the fixture's `entry`, with node_modules from the lock file. */
async function app(entry: string, capabilities: string, name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `fabricks-node-http-${name}-`));
  await cp(join(fixture, entry), join(dir, entry));
  await writeFile(join(dir, 'fabricks.toml'), jsToml(entry, `\n[package]\nname = "${name}"\n\n${capabilities}\n`));
  await symlink(modules, join(dir, 'node_modules'));
  return dir;
}

const running: Served[] = [];
async function serve(dir: string, extra: string[] = []): Promise<Served> {
  const s = await serveProject([dir, '--listen', '127.0.0.1:0', ...extra]);
  running.push(s);
  return s;
}

// The upstream the clients call: it echoes what arrived, and redirects /redirect to /echo.
let upstream: Server;
let port = 0;
const seen: Array<{ method: string; url: string; body: string; test?: string; encoding?: string }> = [];

beforeAll(async () => {
  modules = await lockedNodeModules(fixture, 'node-http');
  upstream = createServer((req, res) => {
    if (req.url === '/slow') {
      setTimeout(() => res.end('late'), 2000);
      return;
    }
    if (req.url?.startsWith('/late-body')) {
      // the headers at once, the body later: a client reads it after its request has settled
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.flushHeaders();
      setTimeout(() => res.end(`late ${new URL(req.url!, 'http://x').searchParams.get('via')}`), 300);
      return;
    }
    if (req.url === '/redirect') {
      res.writeHead(302, { location: '/echo?via=redirect' });
      return res.end();
    }
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, body, test: req.headers['x-test'] as string | undefined, encoding: req.headers['accept-encoding'] });
      res.writeHead(200, { 'x-upstream': 'yes', 'content-type': 'text/plain' });
      res.end(`${req.method} ${req.url} ${body}`);
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  port = (upstream.address() as { port: number }).port;
});

afterAll(async () => {
  for (const s of running) if (s.child.exitCode === null) await s.stop('SIGKILL');
  await new Promise<void>((r) => upstream?.close(() => r()));
});

describe('HTTP clients over the runtime fetch, under [capabilities.network] connect', () => {
  it('node:http, node-fetch 2 and 3, axios (its Node adapter, a timeout), got and undici reach a granted server; a place not granted is refused naming connect', async () => {
    const dir = await app('client.js', `[capabilities.network]\nconnect = ["127.0.0.1:${port}"]`, 'node-http-clients');
    const denied = `http://127.0.0.1:${port + 1}/nope`;
    const r = await fabricks(['run', '-q', dir, '--', `http://127.0.0.1:${port}`, denied]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = new Map(r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { name: string } & Record<string, unknown>).map((l) => [l.name, l]));
    expect(lines.get('http')).toEqual({ name: 'http', status: 200, message: 'OK', body: 'POST /echo?via=http part one, part two', header: 'yes', raw: true });
    expect(lines.get('node-fetch2')).toEqual({ name: 'node-fetch2', status: 200, body: 'POST /echo?via=node-fetch2 two', header: 'yes' });
    expect(lines.get('node-fetch3')).toEqual({ name: 'node-fetch3', status: 200, body: 'POST /echo?via=node-fetch3 three', header: 'yes' });
    expect(lines.get('axios')).toEqual({ name: 'axios', status: 200, body: 'POST /echo?via=axios {"n":1}', header: 'yes', request: 'ClientRequest' });
    expect(lines.get('axios-timeout')).toEqual({ name: 'axios-timeout', error: 'timeout of 200ms exceeded', code: 'ECONNABORTED', early: true });
    expect(lines.get('axios-redirect')).toEqual({ name: 'axios-redirect', status: 200, body: 'GET /echo?via=redirect ' });
    expect(lines.get('got')).toEqual({ name: 'got', status: 200, body: 'POST /echo?via=got {"n":2}', header: 'yes' });
    expect(lines.get('got-redirect')).toEqual({ name: 'got-redirect', body: 'GET /echo?via=redirect ' });
    expect(lines.get('undici')).toEqual({ name: 'undici', status: 200, body: 'POST /echo?via=undici four', header: 'yes' });
    expect(lines.get('undici-fetch')).toEqual({ name: 'undici-fetch', status: 200, body: 'GET /echo?via=undici-fetch ' });
    // the server saw each client's own header, and no request asked for a compressed answer
    for (const name of ['node-http', 'node-fetch2', 'node-fetch3', 'axios', 'got', 'undici']) expect(seen.find((s) => s.test === name), name).toBeDefined();
    // (got asks for one, and decompresses it itself, as on Node)
    expect(seen.filter((s) => s.encoding !== undefined && s.test !== 'got')).toEqual([]);
    // every client's refusal carries the capability message
    const rule = `network access to 127.0.0.1:${port + 1} is not granted; add "127.0.0.1:${port + 1}" (or a rule that covers it) to [capabilities.network] connect`;
    for (const name of ['http-denied', 'node-fetch2-denied', 'node-fetch3-denied', 'axios-denied', 'got-denied', 'undici-denied']) {
      expect(lines.get(name), name).toMatchObject({ error: expect.stringContaining(rule) });
    }
    expect(lines.get('http-denied')).toMatchObject({ code: 'EACCES' });
    expect(lines.get('fetch-abort')).toEqual({ name: 'fetch-abort', error: 'AbortError', early: true });
    expect(lines.get('http2')).toEqual({ name: 'http2', code: 'ERR_FABRICKS_UNAVAILABLE', error: expect.stringContaining('node:http2 connect() is not available inside a fabricks sandbox') });
  });
});

describe('HTTP clients in a program waiting on stdin', () => {
  it('read a body that comes after its headers as a stream, from a stdin handler with stdin still open (the program does not block on stdin meanwhile)', async () => {
    const dir = await app('stdin-client.js', `[capabilities.network]\nconnect = ["127.0.0.1:${port}"]`, 'node-http-stdin');
    expect((await fabricks(['build', '-q', dir])).status).toBe(0);
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'fabricks.js'), 'run', '-q', dir, '--', `http://127.0.0.1:${port}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    // one line, and stdin kept open, as an MCP client keeps it
    child.stdin.write('go\n');
    const status = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(null);
      }, 20_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
    child.stdin.destroy();
    expect(status, `${out}\n${err}`).toBe(0);
    expect(JSON.parse(out)).toEqual(['late http', 'late node-fetch', 'late reader', 'late for-await']);
  }, 60_000);
});

describe('HTTPS clients', () => {
  it('node:https and axios reach a TLS server on loopback, the host doing TLS', async () => {
    const { ca, key, cert } = await testCertificates();
    const tls = createTlsServer({ key: await readFile(key), cert: await readFile(cert) }, (req, res) => res.end(`secure ${req.method} ${req.url}`));
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    try {
      const tlsPort = (tls.address() as { port: number }).port;
      const dir = await app('https-client.js', `[capabilities.network]\nconnect = ["127.0.0.1:${tlsPort}"]`, 'node-http-https');
      const r = await fabricks(['run', '-q', dir, '--', `https://127.0.0.1:${tlsPort}/s?x=1`], { env: { NODE_EXTRA_CA_CERTS: ca } });
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toEqual({ https: '200 secure GET /s?x=1', axios: 'secure GET /s?x=1' });
    } finally {
      await new Promise<void>((r) => tls.close(() => r()));
    }
  });
});

describe('Node HTTP servers served through [capabilities.network] listen', () => {
  for (const version of ['5', '4']) {
    it(`an Express ${version} app: routes, JSON bodies, cookies, a streamed body, finish and close events, a route that throws, a client leaving a stream`, async () => {
      const dir = await app('express.js', `[capabilities.network]\nlisten = [3000]\n\n[capabilities.env]\nset = { EXPRESS = "${version}" }`, `node-http-express${version}`);
      const s = await serve(dir, ['--concurrency', '1']);
      const hello = await fetch(`${s.url}/hello/ada?q=1`);
      expect(hello.status).toBe(200);
      expect(hello.headers.get('x-app')).toBe(`express${version}`);
      expect(hello.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await hello.text()).toBe('hello ada q=1 host=127.0.0.1');
      const posted = await fetch(`${s.url}/json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: [1, 2] }) });
      expect(posted.status).toBe(201);
      expect(await posted.json()).toEqual({ got: { a: [1, 2] }, type: 'application/json' });
      const cookies = await fetch(`${s.url}/cookies`);
      expect(cookies.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
      // the first event arrives while the handler still waits to write the second
      const started = Date.now();
      const stream = await fetch(`${s.url}/stream`);
      expect(stream.headers.get('content-type')).toBe('text/event-stream');
      const reader = stream.body!.getReader();
      const first = await reader.read();
      expect(new TextDecoder().decode(first.value)).toBe('data: one\n\n');
      expect(Date.now() - started).toBeLessThan(900);
      let rest = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        rest += new TextDecoder().decode(value);
      }
      expect(rest).toBe('data: two\n\n');
      expect(await (await fetch(`${s.url}/closed`)).text()).toBe('ok');
      expect(await (await fetch(`${s.url}/counts`)).json()).toEqual({ finished: 1, closed: 1, gone: 0 });
      const missing = await fetch(`${s.url}/missing`);
      expect(missing.status).toBe(404);
      // a throwing route reaches the error middleware, whose setImmediate runs before the call ends
      const thrown = await fetch(`${s.url}/throw`);
      expect(thrown.status).toBe(500);
      expect(await thrown.text()).toBe('failed: the route failed on purpose');
      await requestLog(s, 8);
      expect(s.stderr()).toContain('logged after answering: the route failed on purpose');
      // one instance served them all, in order: module state carried over
      const last = await fetch(`${s.url}/hello/again`);
      expect(last.headers.get('x-served')).toBe('9');
      // (each line is sent when its request's call ends, so the order may differ)
      expect((await requestLog(s, 9)).map((e) => e.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 201, 404, 500]);
      // a client that leaves an endless stream: the response emits 'close' and the handler stops
      const leaving = new AbortController();
      const watch = await fetch(`${s.url}/watch`, { signal: leaving.signal });
      const watched = watch.body!.getReader();
      expect(new TextDecoder().decode((await watched.read()).value)).toBe('data: first\n\n');
      leaving.abort();
      let counts = { gone: 0 };
      for (let i = 0; i < 40 && counts.gone === 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        counts = (await (await fetch(`${s.url}/counts`)).json()) as { gone: number };
      }
      expect(counts).toMatchObject({ gone: 1 });
      expect(await s.stop()).toBe(130);
    });
  }

  it('a Hono app on @hono/node-server, served while its main script still awaits', async () => {
    const dir = await app('hono.js', `[capabilities.network]\nlisten = [3000]`, 'node-http-hono');
    const s = await serve(dir);
    const hello = await fetch(`${s.url}/hello/ada`);
    expect(hello.headers.get('x-app')).toBe('hono');
    expect(await hello.text()).toBe('hono says hello ada');
    const echoed = await fetch(`${s.url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"x":[1,"two"]}' });
    expect(await echoed.json()).toEqual({ echoed: { x: [1, 'two'] } });
    expect(s.stderr()).toContain('hono listening on 3000');
    await s.stop();
  });

  it("the MCP SDK's Streamable HTTP server on Express (stateless), driven by the SDK's client", async () => {
    const dir = await app('mcp-http.js', `[capabilities.network]\nlisten = [3000]`, 'node-http-mcp');
    const s = await serve(dir);
    const client = new Client({ name: 'fabricks-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${s.url}/mcp`)));
    try {
      expect(client.getServerVersion()).toEqual({ name: 'http-demo', version: '1.0.0' });
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(['add']);
      for (const [a, b] of [[2, 3], [40, 2]] as const) {
        expect(await client.callTool({ name: 'add', arguments: { a, b } })).toEqual({ content: [{ type: 'text', text: String(a + b) }] });
      }
    } finally {
      await client.close();
    }
    expect((await requestLog(s, 4)).filter((e) => e.path === '/mcp' && e.method === 'POST').every((e) => e.status === 200 || e.status === 202)).toBe(true);
    await s.stop();
  });

  it("the MCP SDK's stateful Streamable HTTP sessions and legacy SSE transport on Express: sessions keep their state, streams stay open beside other requests", async () => {
    const dir = await app('mcp-stateful.js', `[capabilities.network]\nlisten = [3000]`, 'node-http-mcp-stateful');
    // fewer request slots than the streams held open below: an open stream does not hold one
    const s = await serve(dir, ['--concurrency', '2']);
    const text = (r: unknown) => (r as { content: Array<{ text: string }> }).content[0]!.text;
    const connect = async (transport: StreamableHTTPClientTransport | SSEClientTransport) => {
      const client = new Client({ name: 'fabricks-test', version: '1.0.0' });
      const logged: string[] = [];
      let changed = 0;
      client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logged.push(String(n.params.data)));
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++);
      await client.connect(transport);
      return { client, transport, logged, changed: () => changed };
    };
    const a = await connect(new StreamableHTTPClientTransport(new URL(`${s.url}/mcp`)));
    const b = await connect(new StreamableHTTPClientTransport(new URL(`${s.url}/mcp`)));
    const c = await connect(new SSEClientTransport(new URL(`${s.url}/sse`)));
    try {
      expect(a.client.getServerVersion()).toEqual({ name: 'stateful-demo', version: '1.0.0' });
      // each session counts its own calls, whichever order they come in and however many at once
      for (let round = 1; round <= 3; round++) {
        const got = await Promise.all([a, b, c].map(({ client }) => client.callTool({ name: 'count', arguments: {} })));
        expect(got.map(text)).toEqual([String(round), String(round), String(round)]);
      }
      // notifications sent while a call works arrive before its result, on the call's own stream
      expect(text(await a.client.callTool({ name: 'progress', arguments: { steps: 2 } }))).toBe('done after 2');
      expect(a.logged).toEqual(['step 1 of 2', 'step 2 of 2']);
      expect(text(await c.client.callTool({ name: 'progress', arguments: { steps: 3 } }))).toBe('done after 3');
      expect(c.logged).toEqual(['step 1 of 3', 'step 2 of 3', 'step 3 of 3']);
      // a notification with no request to ride on goes out on the stream held open since initialize
      expect(text(await b.client.callTool({ name: 'grow', arguments: {} }))).toBe('grew');
      for (let i = 0; i < 50 && b.changed() === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(b.changed()).toBe(1);
      expect((await b.client.listTools()).tools.map((t) => t.name)).toContain('grown4');
      expect(await (await fetch(`${s.url}/sessions`)).json()).toEqual({ opened: 3, streamable: 2, sse: 1 });
      // a client ends its session with DELETE
      await (a.transport as StreamableHTTPClientTransport).terminateSession();
      await (b.transport as StreamableHTTPClientTransport).terminateSession();
    } finally {
      await Promise.all([a, b, c].map(({ client }) => client.close()));
    }
    // the Streamable HTTP sessions are gone; the SSE one ends when its stream closes
    let sessions = { streamable: -1, sse: -1 };
    for (let i = 0; i < 40 && (sessions.streamable !== 0 || sessions.sse !== 0); i++) {
      await new Promise((r) => setTimeout(r, 100));
      sessions = (await (await fetch(`${s.url}/sessions`)).json()) as typeof sessions;
    }
    expect(sessions).toMatchObject({ streamable: 0, sse: 0 });
    expect(s.stderr()).toContain('stateful MCP server listening on 3000');
    expect(await s.stop()).toBe(130);
    // every request was logged, the streams too once they ended, and none failed
    const log = events(s.stderr()).filter((e) => e.event === 'request') as unknown as Array<{ path: string; status: number }>;
    expect(log.filter((e) => e.status >= 500)).toEqual([]);
    expect(log.some((e) => e.path.startsWith('/sse'))).toBe(true);
  });

  it('a Node server past its limits: a request that never answers gets 504 and the instance keeps its state; one that spins or exits gets 504/500 and a new instance takes over', async () => {
    const dir = await app('faults.js', `[capabilities.network]\nlisten = [3000]`, 'node-http-faults');
    const s = await serve(dir, ['--request-timeout', '1500ms']);
    const get = async (path: string) => {
      const r = await fetch(`${s.url}${path}`);
      return `${r.status} ${await r.text()}`;
    };
    expect(await get('/count')).toBe('200 1');
    // requests are handled at once on the one instance: a slow one does not hold the next
    const slow = get('/slow');
    expect(await get('/count')).toBe('200 2');
    expect(await slow).toBe('200 slow');
    expect(await get('/hang')).toMatch(/^504 /);
    expect(await get('/count')).toBe('200 3');
    // a spinning handler stops the instance (its state goes with it); the next request gets a new one
    expect(await get('/spin')).toMatch(/^504 /);
    // (a request the stuck instance had already taken would fail with it, as on a Node process that dies)
    for (let i = 0; i < 50 && !s.stderr().includes('starting another'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(await get('/count')).toBe('200 1');
    expect(await get('/exit')).toMatch(/^500 /);
    expect(await get('/count')).toBe('200 1');
    // the engine's bridge is not reachable from outside
    const bridged = await new Promise<number | undefined>((resolve, reject) => {
      httpGet({ host: '127.0.0.1', port: s.port, path: '/next', headers: { host: 'fabricks-serve.invalid' } }, (r) => {
        r.resume();
        resolve(r.statusCode);
      }).on('error', reject);
    });
    expect(bridged).toBe(400);
    expect(s.stderr()).toContain('ran its own code for longer than a request may take');
    expect(s.stderr()).toContain('the service exited (status 1)');
    // a response that ended is logged without an error
    expect((await requestLog(s, 9)).filter((e) => e.path === '/count').every((e) => e.status === 200 && !e.error)).toBe(true);
    expect(await s.stop()).toBe(130);
  });

  it('listen() without [capabilities.network] listen is an EACCES error event naming the capability', async () => {
    const dir = await app('listen-denied.js', '', 'node-http-listen-denied');
    const r = await fabricks(['run', '-q', dir]);
    expect(r.status).toBe(0);
    const line = JSON.parse(r.stdout.trim()) as { code: string; syscall: string; message: string };
    expect(line).toEqual({ code: 'EACCES', syscall: 'listen', message: expect.stringContaining('add listen = [3000] to [capabilities.network] in fabricks.toml') });
  });
});
