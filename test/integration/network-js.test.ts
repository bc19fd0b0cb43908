import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { events, fabricks, jsToml, project } from '../helpers.js';
import { serveProject } from '../serve-helpers.js';

/** Fetches each URL given after -- and prints one JSON line per URL: its answer or its error. */
const fetcher = `
for (const url of process.argv.slice(2)) {
  try {
    const r = await fetch(url);
    console.log(JSON.stringify({ url, status: r.status, body: await r.text() }));
  } catch (e) {
    console.log(JSON.stringify({ url, error: e?.constructor?.name, message: e?.message }));
  }
}
console.log(JSON.stringify({ env: Object.keys(process.env) }));
`;

// A real server on loopback, counting the requests that reach it.
let upstream: Server;
let port = 0;
let hits = 0;
beforeAll(async () => {
  upstream = createServer((req, res) => {
    hits++;
    res.end(`upstream saw ${req.method} ${req.url}`);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  port = (upstream.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((r) => upstream.close(() => r())));

async function fetchFrom(connect: string[], urls: string[], flags: string[] = [], env: Record<string, string> = {}) {
  const toml = jsToml('main.js', `\n[package]\nname = "net-${connect.length}-${flags.length}"\n\n[capabilities.network]\nconnect = ${JSON.stringify(connect)}\n`);
  const dir = await project({ 'fabricks.toml': toml, 'main.js': fetcher });
  const before = hits;
  const r = await fabricks(['run', '--progress', 'json', dir, ...flags, '--', ...urls], { env });
  expect(r.status, r.stderr).toBe(0);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { url?: string; status?: number; body?: string; error?: string; message?: string; env?: string[] });
  return { results: lines.slice(0, -1), env: lines.at(-1)!.env!, reached: hits - before, stderr: r.stderr };
}

describe('[capabilities.network] connect (JavaScript fetch)', () => {
  it('reaches an allowed address and port (a real server on 127.0.0.1)', async () => {
    const { results, reached } = await fetchFrom([`127.0.0.1:${port}`], [`http://127.0.0.1:${port}/ok?x=1`]);
    expect(results).toEqual([{ url: `http://127.0.0.1:${port}/ok?x=1`, status: 200, body: 'upstream saw GET /ok?x=1' }]);
    expect(reached).toBe(1);
  });

  it('refuses an undeclared host with a TypeError naming the capability; the server never sees the request', async () => {
    const url = `http://127.0.0.1:${port}/secret`;
    const { results, reached, env } = await fetchFrom(['api.example.com'], [url]);
    expect(results).toEqual([
      { url, error: 'TypeError', message: `network access to 127.0.0.1:${port} is not granted; add "127.0.0.1:${port}" (or a rule that covers it) to [capabilities.network] connect in fabricks.toml` },
    ]);
    expect(reached).toBe(0);
    // the runtime's own channel for the reason never shows in process.env
    expect(env).toEqual([]);
  });

  it("refuses a port outside an allowed host's ports", async () => {
    // "localhost" without a port means the web's ports, 80 and 443
    const url = `http://localhost:${port}/`;
    const { results, reached } = await fetchFrom(['localhost', `127.0.0.1:${port + 1}`], [url]);
    expect(results[0]).toMatchObject({ error: 'TypeError', message: expect.stringContaining(`network access to localhost:${port} is not granted;`) });
    expect(reached).toBe(0);
  });

  it('refuses a granted name that resolves into a denied block (localhost -> loopback, no address rule)', async () => {
    const url = `http://localhost:${port}/`;
    const { results, reached } = await fetchFrom([`localhost:${port}`], [url]);
    expect(results[0]).toMatchObject({ error: 'TypeError', message: expect.stringMatching(new RegExp(`^network access to localhost:${port} is not granted: it resolves to (127\\.0\\.0\\.1|::1), an internal address; add `)) });
    expect(reached).toBe(0);
    // with the address granted too, the same name goes through
    const granted = await fetchFrom([`localhost:${port}`, '127.0.0.0/8', '::1'], [url]);
    expect(granted.results[0]).toMatchObject({ status: 200, body: 'upstream saw GET /' });
  });

  it('--allow-connect widens the allow-list for one run, and says so', async () => {
    const url = `http://127.0.0.1:${port}/widened`;
    const { results, stderr } = await fetchFrom([], [url], ['--allow-connect', `127.0.0.1:${port}`]);
    expect(results[0]).toMatchObject({ status: 200, body: 'upstream saw GET /widened' });
    expect(events(stderr)).toContainEqual(expect.objectContaining({ event: 'note', code: 'widened', subject: `connect 127.0.0.1:${port}` }));
    const dir = await project({ 'fabricks.toml': jsToml('main.js', '\n[package]\nname = "net-bad-flag"\n'), 'main.js': fetcher });
    const bad = await fabricks(['run', '-q', dir, '--allow-connect', 'http://x.example/']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--allow-connect http://x.example/: the rule is a URL or path');
  });

  it('applies to a served handler too: allowed upstream answers, a denied one is a TypeError the handler catches', async () => {
    const handler = `export default {\n  async fetch(request) {\n    const target = new URL(request.url).searchParams.get('to');\n    try {\n      const r = await fetch(target);\n      return new Response('proxied: ' + (await r.text()));\n    } catch (e) {\n      return new Response(e.constructor.name + ': ' + e.message, { status: 502 });\n    }\n  },\n};\n`;
    const toml = jsToml('main.js', `\n[package]\nname = "net-served"\n\n[capabilities.network]\nlisten = [8080]\nconnect = ["127.0.0.1:${port}"]\n`);
    const dir = await project({ 'fabricks.toml': toml, 'main.js': handler });
    const s = await serveProject([dir, '--listen', '127.0.0.1:0']);
    try {
      const ok = await fetch(`${s.url}/?to=${encodeURIComponent(`http://127.0.0.1:${port}/via`)}`);
      expect(await ok.text()).toBe('proxied: upstream saw GET /via');
      const denied = await fetch(`${s.url}/?to=${encodeURIComponent(`http://127.0.0.1:${port + 1}/no`)}`);
      expect(denied.status).toBe(502);
      expect(await denied.text()).toBe(`TypeError: network access to 127.0.0.1:${port + 1} is not granted; add "127.0.0.1:${port + 1}" (or a rule that covers it) to [capabilities.network] connect in fabricks.toml`);
    } finally {
      await s.stop();
    }
  });

  it('does HTTPS in the host (a real TLS server on 127.0.0.1 with a certificate the host trusts)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fabricks-tls-'));
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
    const tls = createTlsServer({ key: await readFile(key), cert: await readFile(cert) }, (req, res) => res.end(`tls saw ${req.url}`));
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    const tlsPort = (tls.address() as { port: number }).port;
    try {
      const url = `https://127.0.0.1:${tlsPort}/secure`;
      const { results } = await fetchFrom([`127.0.0.1:${tlsPort}`], [url], [], { NODE_EXTRA_CA_CERTS: cert });
      expect(results[0]).toEqual({ url, status: 200, body: 'tls saw /secure' });
      const denied = await fetchFrom([`127.0.0.1:${port}`], [url], [], { NODE_EXTRA_CA_CERTS: cert });
      expect(denied.results[0]).toMatchObject({ error: 'TypeError', message: expect.stringContaining(`network access to 127.0.0.1:${tlsPort} is not granted;`) });
    } finally {
      await new Promise<void>((r) => tls.close(() => r()));
    }
  });
});
