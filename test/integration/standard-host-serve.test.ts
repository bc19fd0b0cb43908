import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { copyExample, fabricks, project, pyToml, repoRoot } from '../helpers.js';
import { wasmtimeServe, type Served } from '../hosts/wasmtime-serve.js';
import { asgiApp, upstream, wsgiApp } from '../python-http-apps.js';

async function built(dir: string): Promise<string> {
  const r = await fabricks(['build', '-q', dir, '--json']);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout).component.path;
}

describe('examples/http-js under wasmtime serve, a standard wasi:http host', () => {
  it('serves the Hono app: routes, a POST echo, a streamed response', async () => {
    const dir = await copyExample('http-js', 'http-js-standard-host');
    // hono, pinned in the example's package.json, is also a devDependency here
    await symlink(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
    const served = await wasmtimeServe(await built(dir));
    try {
      const home = await fetch(`${served.url}/`);
      expect(home.status).toBe(200);
      expect(await home.text()).toBe('Hello from Hono in a WebAssembly component\n');
      expect(await (await fetch(`${served.url}/hello/grace`)).json()).toEqual({ hello: 'grace' });
      expect(await (await fetch(`${served.url}/echo`, { method: 'POST', body: 'ping' })).json()).toEqual({ length: 4, body: 'ping' });
      expect(await (await fetch(`${served.url}/stream`)).text()).toBe('line 1\nline 2\nline 3\n');
    } finally {
      await served.stop();
    }
  });
});

describe('a Python service under wasmtime serve, a standard wasi:http host', () => {
  let wsgi: Served;
  let asgi: Served;

  beforeAll(async () => {
    const [w, a] = [await built(await project({ 'fabricks.toml': pyToml('app.py'), 'app.py': wsgiApp })), await built(await project({ 'fabricks.toml': pyToml('main.py'), 'main.py': asgiApp }))];
    [wsgi, asgi] = await Promise.all([wasmtimeServe(w), wasmtimeServe(a)]);
  });
  afterAll(async () => {
    await Promise.all([wsgi?.stop(), asgi?.stop()]);
  });

  it('serves examples/http-python (WSGI): routes, a POST echo, a 404', async () => {
    const served = await wasmtimeServe(await built(await copyExample('http-python')));
    try {
      const home = await fetch(`${served.url}/`);
      expect(home.status).toBe(200);
      expect(await home.text()).toMatch(/^Hello from a WebAssembly component! \(visit \d+\)\n$/);
      const echo = await fetch(`${served.url}/echo`, { method: 'POST', body: 'ping', headers: { 'content-type': 'text/x-test' } });
      expect(echo.headers.get('content-type')).toBe('text/x-test');
      expect(await echo.text()).toBe('ping');
      const json = await fetch(`${served.url}/json?q=1`, { headers: { 'user-agent': 'test-agent' } });
      expect(await json.json()).toEqual({ path: '/json', query: 'q=1', agent: 'test-agent' });
      const missing = await fetch(`${served.url}/nowhere`);
      expect(missing.status).toBe(404);
      expect(await missing.text()).toBe('no route for GET /nowhere\n');
    } finally {
      await served.stop();
    }
  });

  it('WSGI: echoes a POST body, keeps both Set-Cookie headers, streams a generator', async () => {
    const echo = await fetch(`${wsgi.url}/echo`, { method: 'PUT', body: 'x'.repeat(100_000), headers: { 'content-type': 'application/x-big' } });
    expect(echo.headers.get('x-method')).toBe('PUT');
    expect(echo.headers.get('content-type')).toBe('application/x-big');
    expect(await echo.text()).toBe('x'.repeat(100_000));
    const cookies = await fetch(`${wsgi.url}/cookies`);
    expect(cookies.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(await (await fetch(`${wsgi.url}/stream`)).text()).toBe('chunk 0\nchunk 1\nchunk 2\n');
  });

  it('WSGI: an exception in the app is a 500 with the traceback on stderr, and the server keeps serving', async () => {
    const failed = await fetch(`${wsgi.url}/boom`);
    expect(failed.status).toBe(500);
    expect(await failed.text()).toBe('Internal Server Error\n');
    expect(wsgi.stderr()).toContain('ValueError: the app failed on purpose');
    expect(wsgi.stderr()).toMatch(/File "app\.py", line \d+, in app/);
    const after = await fetch(`${wsgi.url}/echo`, { method: 'POST', body: 'still here' });
    expect(await after.text()).toBe('still here');
  });

  it('WSGI: ten concurrent requests each get their own answer', async () => {
    const bodies = Array.from({ length: 10 }, (_, i) => `request ${i} `.repeat(i + 1));
    const answers = await Promise.all(bodies.map((b) => fetch(`${wsgi.url}/echo`, { method: 'POST', body: b }).then((r) => r.text())));
    expect(answers).toEqual(bodies);
  });

  it('ASGI 3: runs the lifespan, echoes a POST in two body messages, keeps both Set-Cookie headers, answers 500 on an exception', async () => {
    const echo = await fetch(`${asgi.url}/some/path`, { method: 'POST', body: 'payload', headers: { 'content-type': 'text/x-asgi' } });
    expect(echo.status).toBe(201);
    expect(echo.headers.get('content-type')).toBe('text/x-asgi');
    expect(await echo.text()).toBe('POST /some/path payload lifespan=yes');
    expect((await fetch(`${asgi.url}/cookies`)).headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    const failed = await fetch(`${asgi.url}/boom`);
    expect(failed.status).toBe(500);
    expect(asgi.stderr()).toContain('RuntimeError: the ASGI app failed on purpose');
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => fetch(`${asgi.url}/n${i}`, { method: 'POST', body: `b${i}` }).then((r) => r.text())));
    expect(answers).toEqual(Array.from({ length: 10 }, (_, i) => `POST /n${i} b${i} lifespan=yes`));
  });

  it('urllib.request and http.client reach a real server through wasi:http/outgoing-handler', async () => {
    const up = await upstream();
    try {
      const viaUrllib = await (await fetch(`${wsgi.url}/fetch?url=${encodeURIComponent(`http://127.0.0.1:${up.port}/from-urllib?x=1`)}`)).text();
      expect(viaUrllib).toBe('200 upstream saw POST /from-urllib?x=1');
      expect(up.seen[0]).toMatchObject({ url: '/from-urllib?x=1', body: 'from the guest' });
      expect(up.seen[0]!.headers['x-guest']).toBe('yes');
      const viaClient = await (await fetch(`${wsgi.url}/client?host=127.0.0.1&port=${up.port}`)).text();
      expect(viaClient).toBe('200 upstream saw GET /via-http-client');
      // a port where nothing listens: the usual ConnectionRefusedError, inside URLError for urllib
      up.server.close();
      const refused = await (await fetch(`${wsgi.url}/fetch?url=${encodeURIComponent(`http://127.0.0.1:${up.port}/`)}`)).text();
      expect(refused, wsgi.stderr()).toMatch(/^URLError: \[Errno \d+\] connection to 127\.0\.0\.1:\d+ refused$/);
    } finally {
      up.server.close();
    }
  });

  it('a raw socket is refused with a message that points at [capabilities.network] connect', async () => {
    const up = await upstream();
    try {
      const text = await (await fetch(`${wsgi.url}/socket?port=${up.port}`)).text();
      expect(text).toBe(
        'PermissionError: [Errno 2] raw sockets are not granted to a fabricks service; HTTP clients (urllib.request, http.client) reach the hosts in [capabilities.network] connect in fabricks.toml',
      );
    } finally {
      up.server.close();
    }
  });
});
