import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { project, pyToml } from '../helpers.js';
import { fabricksServe } from '../hosts/fabricks-run-serve.js';
import type { Served } from '../hosts/wasmtime-serve.js';
import { asgiApp, upstream, wsgiApp } from '../python-http-apps.js';

type Upstream = Awaited<ReturnType<typeof upstream>>;

describe('fabricks run serving a Python service ([capabilities.network] listen)', () => {
  let allowed: Upstream; // granted as 127.0.0.1:<port>
  let byName: Upstream; // granted as localhost:<port> only, which resolves to an internal address
  let wsgi: Served;
  let asgi: Served;

  beforeAll(async () => {
    [allowed, byName] = await Promise.all([upstream(), upstream()]);
    const network = `\n[capabilities.network]\nlisten = [8080]\nconnect = ["127.0.0.1:${allowed.port}", "localhost:${byName.port}"]\n`;
    const [w, a] = await Promise.all([
      project({ 'fabricks.toml': pyToml('app.py', network), 'app.py': wsgiApp }),
      project({ 'fabricks.toml': pyToml('main.py', '\n[capabilities.network]\nlisten = [8080]\n'), 'main.py': asgiApp }),
    ]);
    wsgi = await fabricksServe(w);
    asgi = await fabricksServe(a);
  });
  afterAll(async () => {
    await Promise.all([wsgi?.stop(), asgi?.stop()]);
    allowed?.server.close();
    byName?.server.close();
  });

  it('WSGI: echoes a POST body, streams a generator, 404s', async () => {
    const echo = await fetch(`${wsgi.url}/echo`, { method: 'POST', body: 'y'.repeat(70_000), headers: { 'content-type': 'text/x-post' } });
    expect(echo.status).toBe(200);
    expect(echo.headers.get('content-type')).toBe('text/x-post');
    expect(echo.headers.get('x-method')).toBe('POST');
    expect(await echo.text()).toBe('y'.repeat(70_000));
    expect(await (await fetch(`${wsgi.url}/stream`)).text()).toBe('chunk 0\nchunk 1\nchunk 2\n');
    expect((await fetch(`${wsgi.url}/missing`)).status).toBe(404);
  });

  it('WSGI: an exception in the app is a 500 with the traceback on stderr, and the server keeps serving', async () => {
    const failed = await fetch(`${wsgi.url}/boom`);
    expect(failed.status).toBe(500);
    expect(await failed.text()).toBe('Internal Server Error\n');
    expect(wsgi.stderr()).toContain('ValueError: the app failed on purpose');
    expect(wsgi.stderr()).toMatch(/File "app\.py", line \d+, in app/);
    expect(await (await fetch(`${wsgi.url}/echo`, { method: 'POST', body: 'still serving' })).text()).toBe('still serving');
  });

  // preview2-shim's server keeps one value a header name; the serving worker renames repeats and
  // fabricks' listener restores them (src/engine/serve-headers.ts)
  it('WSGI and ASGI: both Set-Cookie headers reach the client, in order', async () => {
    expect((await fetch(`${wsgi.url}/cookies`)).headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect((await fetch(`${asgi.url}/cookies`)).headers.getSetCookie()).toEqual(['a=1', 'b=2']);
  });

  it('WSGI and ASGI: ten concurrent requests each get their own answer', async () => {
    const bodies = Array.from({ length: 10 }, (_, i) => `request ${i} `.repeat(i + 1));
    const viaWsgi = await Promise.all(bodies.map((b) => fetch(`${wsgi.url}/echo`, { method: 'POST', body: b }).then((r) => r.text())));
    expect(viaWsgi).toEqual(bodies);
    const viaAsgi = await Promise.all(bodies.map((b, i) => fetch(`${asgi.url}/p${i}`, { method: 'POST', body: b }).then((r) => r.text())));
    expect(viaAsgi).toEqual(bodies.map((b, i) => `POST /p${i} ${b} lifespan=yes`));
  });

  it('ASGI 3: lifespan, a POST echo in two body messages, 500 on an exception and serving on', async () => {
    const echo = await fetch(`${asgi.url}/a/b`, { method: 'POST', body: 'payload', headers: { 'content-type': 'text/x-asgi' } });
    expect(echo.status).toBe(201);
    expect(echo.headers.get('content-type')).toBe('text/x-asgi');
    expect(await echo.text()).toBe('POST /a/b payload lifespan=yes');
    const failed = await fetch(`${asgi.url}/boom`);
    expect(failed.status).toBe(500);
    expect(asgi.stderr()).toContain('RuntimeError: the ASGI app failed on purpose');
    expect(await (await fetch(`${asgi.url}/again`, { method: 'POST', body: 'ok' })).text()).toBe('POST /again ok lifespan=yes');
  });

  it('urllib.request and http.client reach a granted address and port', async () => {
    const viaUrllib = await (await fetch(`${wsgi.url}/fetch?url=${encodeURIComponent(`http://127.0.0.1:${allowed.port}/granted?q=1`)}`)).text();
    expect(viaUrllib).toBe('200 upstream saw POST /granted?q=1');
    expect(allowed.seen.at(-1)).toMatchObject({ url: '/granted?q=1', body: 'from the guest' });
    const viaClient = await (await fetch(`${wsgi.url}/client?host=127.0.0.1&port=${allowed.port}`)).text();
    expect(viaClient).toBe('200 upstream saw GET /via-http-client');
  });

  it('refuses a port the service does not declare with a URLError naming the capability to add', async () => {
    const text = await (await fetch(`${wsgi.url}/fetch?url=${encodeURIComponent(`http://127.0.0.1:${byName.port}/undeclared`)}`)).text();
    expect(text).toMatch(new RegExp(`^URLError: \\[Errno \\d+\\] network access to 127\\.0\\.0\\.1:${byName.port} is not granted; add .*\\[capabilities\\.network\\] connect in fabricks\\.toml$`));
    const viaClient = await (await fetch(`${wsgi.url}/client?host=127.0.0.1&port=${byName.port}`)).text();
    expect(viaClient).toMatch(new RegExp(`^PermissionError: \\[Errno \\d+\\] network access to 127\\.0\\.0\\.1:${byName.port} is not granted`));
    expect(byName.seen).toEqual([]);
  });

  it('refuses a name granted by name only when it resolves into an internal address', async () => {
    const text = await (await fetch(`${wsgi.url}/fetch?url=${encodeURIComponent(`http://localhost:${byName.port}/by-name`)}`)).text();
    expect(text).toMatch(new RegExp(`^URLError: \\[Errno \\d+\\] network access to localhost:${byName.port} is not granted: it resolves to .*, an internal address; add .*\\[capabilities\\.network\\] connect in fabricks\\.toml$`));
    expect(byName.seen).toEqual([]);
  });

  it('refuses a raw socket with a message that points at [capabilities.network] connect', async () => {
    const text = await (await fetch(`${wsgi.url}/socket?port=${allowed.port}`)).text();
    expect(text).toBe(
      'PermissionError: [Errno 2] raw sockets are not granted to a fabricks service; HTTP clients (urllib.request, http.client) reach the hosts in [capabilities.network] connect in fabricks.toml',
    );
  });
});
