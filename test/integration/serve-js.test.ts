import { afterAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { copyExample, events, jsToml, project, repoRoot } from '../helpers.js';
import { requestLog, serveProject, type Served } from '../serve-helpers.js';

const listenToml = (name: string) => jsToml('main.js', `\n[package]\nname = "${name}"\n\n[capabilities.network]\nlisten = [8080]\n`);

const plainHandler = `
let served = 0;
export default {
  async fetch(request, env) {
    served++;
    const url = new URL(request.url);
    if (url.pathname === '/throw') throw new Error('the handler failed on purpose');
    if (url.pathname === '/exit') process.exit(3);
    if (url.pathname === '/echo') {
      const body = await request.text();
      return new Response(body, { headers: { 'x-length': String(body.length), 'x-method': request.method } });
    }
    if (url.pathname === '/stream') {
      // the second chunk waits until the client has seen the first: only a streamed response lets it
      const enc = new TextEncoder();
      let n = 0;
      return new Response(new ReadableStream({
        async pull(c) {
          n++;
          if (n === 1) c.enqueue(enc.encode('first\\n'));
          else if (n === 2) { await new Promise((r) => setTimeout(r, 1500)); c.enqueue(enc.encode('second\\n')); }
          else c.close();
        },
      }));
    }
    if (url.pathname === '/spin') for (;;);
    if (url.pathname === '/hog') {
      const kept = [];
      for (;;) kept.push(new Uint8Array(1 << 20).fill(1));
    }
    if (url.pathname === '/slow') {
      await new Promise((r) => setTimeout(r, 20));
      return new Response(url.searchParams.get('n'));
    }
    return new Response(\`hello \${request.method} \${url.pathname}\${url.search} served=\${served} mode=\${env.MODE}\`, { status: 200, headers: { 'x-app': 'plain' } });
  },
};
`;

const running: Served[] = [];
async function serve(args: string[]): Promise<Served> {
  const s = await serveProject(args);
  running.push(s);
  return s;
}
afterAll(async () => {
  for (const s of running) if (s.child.exitCode === null) await s.stop('SIGKILL');
});

describe('fabricks run serves wasi:http (JavaScript)', () => {
  it('serves export default { fetch } request after request on one instance: env, headers, POST bodies, a request log', async () => {
    const dir = await project({ 'fabricks.toml': listenToml('serve-plain') + '\n[capabilities.env]\nset = { MODE = "test" }\n', 'main.js': plainHandler });
    // one at a time: every request reaches the same instance
    const s = await serveProject([dir, '--listen', '127.0.0.1:0', '--concurrency', '1']);
    running.push(s);
    const r = await fetch(`${s.url}/hi?x=1`);
    expect(r.status).toBe(200);
    expect(r.headers.get('x-app')).toBe('plain');
    expect(await r.text()).toBe('hello GET /hi?x=1 served=1 mode=test');
    // module state carries over: the instance that answered the first request answers the second
    expect(await (await fetch(`${s.url}/again`)).text()).toBe('hello GET /again served=2 mode=test');
    const big = 'x'.repeat(300_000) + 'end';
    const echoed = await fetch(`${s.url}/echo`, { method: 'POST', body: big });
    expect(echoed.headers.get('x-length')).toBe(String(big.length));
    expect(await echoed.text()).toBe(big);
    const log = await requestLog(s, 3);
    expect(log).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ event: 'request', method: 'GET', path: '/hi?x=1', status: 200 }),
        expect.objectContaining({ event: 'request', method: 'POST', path: '/echo', status: 200 }),
      ]),
    );
    expect(await s.stop()).toBe(130);
  });

  it('streams a response body: the first chunk arrives before the handler writes the second', async () => {
    const dir = await project({ 'fabricks.toml': listenToml('serve-stream'), 'main.js': plainHandler });
    const s = await serve([dir, '--listen', '127.0.0.1:0']);
    const r = await fetch(`${s.url}/stream`);
    const reader = r.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('first\n');
    let rest = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    expect(rest).toBe('second\n');
    await s.stop();
  });

  it('answers 20 concurrent requests, each with its own answer', async () => {
    const dir = await project({ 'fabricks.toml': listenToml('serve-concurrent'), 'main.js': plainHandler });
    const s = await serve([dir, '--listen', '127.0.0.1:0']);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => fetch(`${s.url}/slow?n=${i}`).then(async (r) => [r.status, await r.text()])));
    expect(answers).toEqual(Array.from({ length: 20 }, (_, i) => [200, String(i)]));
    expect(await requestLog(s, 20)).toHaveLength(20);
    await s.stop();
  });

  it("answers 500 to a handler's exception, logs it, and keeps serving", async () => {
    const dir = await project({ 'fabricks.toml': listenToml('serve-throws'), 'main.js': plainHandler });
    const s = await serve([dir, '--listen', '127.0.0.1:0']);
    const failed = await fetch(`${s.url}/throw`);
    expect(failed.status).toBe(500);
    expect(await failed.text()).toBe('Internal Server Error\n');
    const ok = await fetch(`${s.url}/after`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('hello GET /after');
    expect(s.stderr()).toContain('Error: the handler failed on purpose');
    expect(s.stderr()).toContain('main.js:');
    expect((await requestLog(s, 2)).map((e) => e.status)).toEqual([500, 200]);
    await s.stop();
  });

  it('answers 500 when the service exits or traps mid-request, replaces that instance, and keeps serving', async () => {
    const dir = await project({ 'fabricks.toml': listenToml('serve-exits'), 'main.js': plainHandler });
    // one at a time: the request after the failure must be served by a new instance
    const s = await serveProject([dir, '--listen', '127.0.0.1:0', '--concurrency', '1']);
    running.push(s);
    const failed = await fetch(`${s.url}/exit`);
    expect(failed.status).toBe(500);
    for (const path of ['/a', '/b']) expect(await (await fetch(`${s.url}${path}`)).text()).toContain(`hello GET ${path}`);
    const log = await requestLog(s, 3);
    expect(log[0]).toMatchObject({ path: '/exit', status: 500, error: 'the service exited (status 1) while handling a request' });
    expect(events(s.stderr())).toContainEqual(expect.objectContaining({ event: 'serving', workers: 1 }));
    await s.stop();
  });

  it('answers 504 to a request past --request-timeout and 500 to one past --memory, and keeps serving the others', async () => {
    const dir = await project({ 'fabricks.toml': listenToml('serve-limits'), 'main.js': plainHandler });
    const s = await serveProject([dir, '--listen', '127.0.0.1:0', '--concurrency', '2', '--request-timeout', '2s', '--memory', '128MiB']);
    running.push(s);
    const started = Date.now();
    const [spun, ok] = await Promise.all([fetch(`${s.url}/spin`), fetch(`${s.url}/slow?n=1`)]);
    expect(await ok.text()).toBe('1');
    expect(spun.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect((await fetch(`${s.url}/hog`)).status).toBe(500);
    // both instances that failed are gone; new ones serve
    for (const n of ['2', '3', '4']) expect(await (await fetch(`${s.url}/slow?n=${n}`)).text()).toBe(n);
    const log = await requestLog(s, 6);
    expect(log.find((e) => e.path === '/spin')).toMatchObject({ status: 504, error: 'the request took longer than its limit (2s)' });
    expect(log.find((e) => e.path === '/hog')).toMatchObject({ status: 500, error: expect.stringContaining('memory limit') });
    expect(await s.stop()).toBe(130);
  });

  it('keeps repeated response headers (two Set-Cookie) apart and in order', async () => {
    const code = "export default {\n  fetch() {\n    const h = new Headers({ 'content-type': 'text/plain' });\n    h.append('set-cookie', 'a=1; Path=/');\n    h.append('set-cookie', 'b=2; Path=/');\n    return new Response('cookies', { headers: h });\n  },\n};\n";
    const dir = await project({ 'fabricks.toml': listenToml('serve-cookies'), 'main.js': code });
    const s = await serve([dir, '--listen', '127.0.0.1:0']);
    const r = await fetch(s.url);
    expect(r.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(r.headers.get('content-type')).toBe('text/plain');
    expect([...r.headers.keys()].some((k) => k.startsWith('x-fabricks'))).toBe(false);
    await s.stop();
  });

  it("serves addEventListener('fetch', e => e.respondWith(...))", async () => {
    const code = "addEventListener('fetch', (event) => {\n  event.respondWith(event.request.text().then((t) => new Response(`listener ${event.request.method} ${t}`, { status: 201 })));\n});\n";
    const dir = await project({ 'fabricks.toml': listenToml('serve-listener'), 'main.js': code });
    const s = await serve([dir, '--listen', '127.0.0.1:0']);
    const r = await fetch(s.url, { method: 'PUT', body: 'payload' });
    expect(r.status).toBe(201);
    expect(await r.text()).toBe('listener PUT payload');
    await s.stop();
  });

  it('serves the Hono example (examples/http-js: export default app)', async () => {
    const dir = await copyExample('http-js', 'http-js-test');
    // hono, pinned in the example's package.json, is also a devDependency here
    await symlink(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
    const s = await serve([dir, '--listen', '127.0.0.1:0']);
    expect(await (await fetch(`${s.url}/`)).text()).toBe('Hello from Hono in a WebAssembly component\n');
    expect(await (await fetch(`${s.url}/hello/world`)).json()).toEqual({ hello: 'world' });
    expect(await (await fetch(`${s.url}/echo`, { method: 'POST', body: 'abc' })).json()).toEqual({ length: 3, body: 'abc' });
    expect(await (await fetch(`${s.url}/stream`)).text()).toBe('line 1\nline 2\nline 3\n');
    expect((await fetch(`${s.url}/nowhere`)).status).toBe(404);
    await s.stop();
  });

  it('stops on Ctrl-C (exit 130) and frees the port; the human log has a line per request', async () => {
    const dir = await project({ 'fabricks.toml': listenToml('serve-stop'), 'main.js': plainHandler });
    const s = await serve([dir, '--listen', '127.0.0.1:0']);
    await (await fetch(`${s.url}/one`)).text();
    expect(await s.stop('SIGINT')).toBe(130);
    // the port is free again: a server of our own can listen on it
    await new Promise<void>((resolve, reject) => {
      const probe = createServer();
      probe.once('error', reject);
      probe.listen(s.port, '127.0.0.1', () => probe.close(() => resolve()));
    });
    await expect(fetch(`${s.url}/one`)).rejects.toThrow();
    const human = await serve([dir, '--listen', '127.0.0.1:0', '--progress', 'human']);
    await (await fetch(`${human.url}/two?q=1`)).text();
    // a request under way when the stop comes ends whole (its second chunk is 1.5 s away), and
    // both requests are logged: the log line follows the response, and once came too late
    const streaming = await fetch(`${human.url}/stream`);
    const reader = streaming.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('first\n');
    const stopped = human.stop('SIGTERM');
    let rest = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += new TextDecoder().decode(chunk.value);
    expect(rest).toBe('second\n');
    expect(await stopped).toBe(143);
    expect(human.stderr()).toMatch(/serving serve-stop on http:\/\/127\.0\.0\.1:\d+ \(\d+ workers; Ctrl-C stops it\)/);
    expect(human.stderr()).toMatch(/^ {2}GET \/two\?q=1 200 \d+ ms$/m);
    expect(human.stderr()).toMatch(/^ {2}GET \/stream 200 [\d.]+ m?s$/m);
  });
});

// Listening as a capability (declared, --listen refused without it, --allow-listen) is the
// capability conformance suite's (test/conformance), for both runtimes.
