import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { readFile } from 'node:fs/promises';
import { fabricks, jsToml, project, testCertificates } from '../helpers.js';

/**
 * fetch and [capabilities.network] connect, past what both runtimes do alike as a run and served
 * (granted and refused hosts, ports, names resolving inside, IPv6 literals, a redirect refused at
 * its hop, --allow-connect: the capability conformance suite, test/conformance): the Fetch
 * standard's redirect modes, a host rule's default ports, a bad --allow-connect, HTTPS.
 */

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
    // /to/<url>: a redirect there (307 keeps the method and body, the others become a GET)
    const to = /^\/to(\d{3})\/(.+)$/.exec(req.url ?? '');
    if (to) {
      res.writeHead(Number(to[1]), { location: decodeURIComponent(to[2]!) });
      return res.end();
    }
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => res.end(`upstream saw ${req.method} ${req.url}${body ? ` ${body}` : ''}`));
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
  it('follows redirects as the Fetch standard says, each hop judged against the rules', async () => {
    const here = (path: string) => `http://127.0.0.1:${port}${path}`;
    const granted = here(`/to302/${encodeURIComponent(here('/landed'))}`);
    const outside = here(`/to302/${encodeURIComponent(`http://127.0.0.1:${port + 1}/no`)}`);
    const main = `
for (const [url, init] of [[${JSON.stringify(granted)}, {}], [${JSON.stringify(here(`/to307/${encodeURIComponent(here('/kept'))}`))}, { method: 'POST', body: 'payload' }], [${JSON.stringify(here(`/to303/${encodeURIComponent(here('/seen'))}`))}, { method: 'POST', body: 'dropped' }], [${JSON.stringify(granted)}, { redirect: 'manual' }], [${JSON.stringify(granted)}, { redirect: 'error' }], [${JSON.stringify(outside)}, {}]]) {
  try {
    const r = await fetch(url, init);
    console.log(JSON.stringify({ status: r.status, redirected: r.redirected, url: r.url, body: await r.text() }));
  } catch (e) {
    console.log(JSON.stringify({ error: e.constructor.name, message: e.message }));
  }
}
`;
    const dir = await project({ 'fabricks.toml': jsToml('main.js', `\n[package]\nname = "net-redirects"\n\n[capabilities.network]\nconnect = ["127.0.0.1:${port}"]\n`), 'main.js': main });
    const r = await fabricks(['run', '-q', dir]);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toEqual({ status: 200, redirected: true, url: here('/landed'), body: 'upstream saw GET /landed' });
    expect(lines[1]).toMatchObject({ status: 200, body: 'upstream saw POST /kept payload' });
    expect(lines[2]).toMatchObject({ status: 200, body: 'upstream saw GET /seen' });
    expect(lines[3]).toMatchObject({ status: 302, body: '' });
    expect(lines[4]).toMatchObject({ error: 'TypeError', message: expect.stringContaining('redirect mode is "error"') });
    // the second hop goes where no rule reaches: refused, naming the rule to add
    expect(lines[5]).toEqual({ error: 'TypeError', message: `network access to 127.0.0.1:${port + 1} is not granted; add "127.0.0.1:${port + 1}" (or a rule that covers it) to [capabilities.network] connect in fabricks.toml` });
  });

  it("refuses a port outside an allowed host's ports", async () => {
    // "localhost" without a port means the web's ports, 80 and 443
    const url = `http://localhost:${port}/`;
    const { results, reached } = await fetchFrom(['localhost', `127.0.0.1:${port + 1}`], [url]);
    expect(results[0]).toMatchObject({ error: 'TypeError', message: expect.stringContaining(`network access to localhost:${port} is not granted;`) });
    expect(reached).toBe(0);
  });

  it('a request with a body that fails before it is sent (refused, or nothing listening) rejects, and the program goes on', async () => {
    // the engine reads such a body to its end: a write to a body nobody reads aborted the whole program
    const main = `
const places = ['http://refused.example/upload', 'http://127.0.0.1:${port + 1}/upload'];
for (let i = 0; i < 10; i++) {
  for (const url of places) {
    try {
      await fetch(url, { method: 'POST', body: 'x'.repeat(100000) });
      console.log('answered');
    } catch (e) {
      if (i === 0) console.log(e.constructor.name, e.message.split(';')[0]);
    }
  }
}
console.log('went on');
`;
    const dir = await project({ 'fabricks.toml': jsToml('main.js', `\n[package]\nname = "net-body"\n\n[capabilities.network]\nconnect = ["127.0.0.1:${port + 1}"]\n`), 'main.js': main });
    const r = await fabricks(['run', '-q', dir]);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual(['TypeError network access to refused.example:80 is not granted', expect.stringMatching(/^TypeError /), 'went on', '']);
    expect(r.status).toBe(0);
  });

  it('--allow-connect refuses a rule that is not one (a URL)', async () => {
    const dir = await project({ 'fabricks.toml': jsToml('main.js', '\n[package]\nname = "net-bad-flag"\n'), 'main.js': fetcher });
    const bad = await fabricks(['run', '-q', dir, '--allow-connect', 'http://x.example/']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--allow-connect http://x.example/: the rule is a URL or path');
  });

  it('does HTTPS in the host (a real TLS server on 127.0.0.1 with a certificate the host trusts)', async () => {
    const { ca, key, cert } = await testCertificates();
    const tls = createTlsServer({ key: await readFile(key), cert: await readFile(cert) }, (req, res) => res.end(`tls saw ${req.url}`));
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    const tlsPort = (tls.address() as { port: number }).port;
    try {
      const url = `https://127.0.0.1:${tlsPort}/secure`;
      const { results } = await fetchFrom([`127.0.0.1:${tlsPort}`], [url], [], { NODE_EXTRA_CA_CERTS: ca });
      expect(results[0]).toEqual({ url, status: 200, body: 'tls saw /secure' });
      const denied = await fetchFrom([`127.0.0.1:${port}`], [url], [], { NODE_EXTRA_CA_CERTS: ca });
      expect(denied.results[0]).toMatchObject({ error: 'TypeError', message: expect.stringContaining(`network access to 127.0.0.1:${tlsPort} is not granted;`) });
    } finally {
      await new Promise<void>((r) => tls.close(() => r()));
    }
  });
});
