import { afterAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { jsToml, project, pyToml } from '../helpers.js';
import { requestLog, serveProject, type Served } from '../serve-helpers.js';

/**
 * Faults a client or a handler can cause while a service is served (issue 17): a client that
 * goes away mid-upload or sends a bad chunk, a handler that never answers or spins. None may
 * take an instance for good: with one instance, the next request must still be answered.
 */

const JS = String.raw`
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/upload') return new Response('got ' + (await request.text()).length);
    if (url.pathname === '/never') return new Promise(() => {});
    if (url.pathname === '/spin') for (;;);
    return new Response('ok ' + url.pathname);
  },
};
`;

const PY = String.raw`
import time

def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/upload":
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        text = f"got {len(body)}"
    elif path == "/never":
        time.sleep(3600)
        text = "late"
    elif path == "/spin":
        while True:
            pass
    else:
        text = f"ok {path}"
    start_response("200 OK", [("content-type", "text/plain")])
    return [text.encode()]
`;

/** Sends raw bytes on a new connection and closes it after `waitMs`, returning what came back. */
function raw(port: number, bytes: string, waitMs: number): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    socket.on('data', (d) => (got += d.toString()));
    socket.on('error', () => undefined);
    setTimeout(() => {
      socket.destroy();
      resolve(got);
    }, waitMs);
  });
}

const running: Served[] = [];
afterAll(async () => {
  for (const s of running) if (s.child.exitCode === null) await s.stop('SIGKILL');
});

const listening = (toml: (entry: string, extra: string) => string, entry: string, name: string) => toml(entry, `\n[package]\nname = "${name}"\n\n[capabilities.network]\nlisten = [8080]\n`);

describe.each([
  ['JavaScript', () => project({ 'fabricks.toml': listening(jsToml, 'main.js', 'faults-js'), 'main.js': JS })],
  ['Python', () => project({ 'fabricks.toml': listening(pyToml, 'main.py', 'faults-py'), 'main.py': PY })],
] as const)('serving faults, %s', (_language, make) => {
  it('keeps its one instance when clients go away mid-upload or send a bad chunk', async () => {
    const s = await serveProject([await make(), '--listen', '127.0.0.1:0', '--concurrency', '1', '--request-timeout', '20s']);
    running.push(s);
    for (let i = 0; i < 2; i++) await raw(s.port, 'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc', 200);
    await raw(s.port, 'POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nabc\r\n', 500);
    const after = await fetch(`${s.url}/after`, { signal: AbortSignal.timeout(10_000) });
    expect(await after.text()).toBe('ok /after');
    const upload = await fetch(`${s.url}/upload`, { method: 'POST', body: 'x'.repeat(1000), signal: AbortSignal.timeout(10_000) });
    expect(await upload.text()).toBe('got 1000');
    await s.stop();
  });

  it('answers 504 to a handler that never answers and to one that spins, and serves the next request', async () => {
    const s = await serveProject([await make(), '--listen', '127.0.0.1:0', '--concurrency', '1', '--request-timeout', '1500ms']);
    running.push(s);
    for (const path of ['/never', '/spin']) {
      const started = Date.now();
      const r = await fetch(`${s.url}${path}`, { signal: AbortSignal.timeout(15_000) });
      expect(r.status, path).toBe(504);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(await (await fetch(`${s.url}/next`, { signal: AbortSignal.timeout(10_000) })).text()).toBe('ok /next');
    }
    const log = await requestLog(s, 4);
    expect(log.filter((e) => e.status === 504).map((e) => e.error)).toEqual(['the request took longer than its limit (1500ms)', 'the request took longer than its limit (1500ms)']);
    await s.stop();
  });
});

describe('serving an app that ends while it loads', () => {
  it('answers 500 at once and says why, rather than holding requests until the start limit', async () => {
    // the JavaScript runtime loads the app in a first call that offers the accept loop; an app
    // that exits there never answers that call (the engine waited up to 300 s for it)
    const dir = await project({
      'fabricks.toml': listening(jsToml, 'main.js', 'exits-loading'),
      'main.js': "console.error('loading');\nprocess.exit(3);\nexport default { fetch: () => new Response('never') };\n",
    });
    const s = await serveProject([dir, '--listen', '127.0.0.1:0']);
    running.push(s);
    const started = Date.now();
    const r = await fetch(`${s.url}/hello`, { signal: AbortSignal.timeout(30_000) });
    expect(r.status).toBe(500);
    expect(Date.now() - started).toBeLessThan(20_000);
    const log = await requestLog(s, 1);
    expect(log[0]!.error).toMatch(/the service exited/);
    expect(s.stderr()).toMatch(/the service did not load \(the service exited \(status 1\)[^)]*\); serving each request on an instance of its own/);
    await s.stop();
  });
});
