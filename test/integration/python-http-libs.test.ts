import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { fabricks, project, pyToml } from '../helpers.js';

/** A real HTTP server on a loopback port: JSON on GET (gzip when asked), the body echoed on POST. */
async function server(name: string): Promise<{ server: Server; port: number }> {
  const s = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.stringify({ server: name, method: req.method, path: req.url, received: Buffer.concat(chunks).toString() });
      if (String(req.headers['accept-encoding'] ?? '').includes('gzip')) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        res.end(gzipSync(body));
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
      }
    });
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return { server: s, port: (s.address() as AddressInfo).port };
}

// What Python services call HTTP APIs with, packed from the package index as dependencies and
// sent through the host's wasi:http under [capabilities.network] connect.
describe('httpx and requests in a Python service', () => {
  let allowed: Awaited<ReturnType<typeof server>>;
  let other: Awaited<ReturnType<typeof server>>;
  beforeAll(async () => {
    allowed = await server('allowed');
    other = await server('other');
  });
  afterAll(() => {
    allowed.server.close();
    other.server.close();
  });

  it('reach an allowed host (sync, async, POST, gzip) and get the same clear denial as urllib for any other', async () => {
    const ok = `http://127.0.0.1:${allowed.port}`;
    const no = `http://127.0.0.1:${other.port}`;
    const dir = await project({
      'fabricks.toml': pyToml('main.py', `\n[capabilities.network]\nconnect = ["127.0.0.1:${allowed.port}"]\n`),
      'requirements.txt': 'httpx==0.28.1\nrequests==2.32.5\n',
      'main.py': `
import asyncio, httpx, requests
ok, no = ${JSON.stringify(ok)}, ${JSON.stringify(no)}
r = httpx.get(ok + "/a", params={"q": "1"})
print("httpx get", r.json()["path"], r.headers["content-encoding"])
print("httpx post", httpx.post(ok + "/p", content=b"hello").json()["received"])
async def main():
    async with httpx.AsyncClient() as c:
        print("httpx async", (await c.post(ok + "/ap", json={"k": 1})).json()["received"])
        try:
            await c.get(no)
            print("httpx async reached the other server")
        except httpx.ConnectError as e:
            print("httpx async denied:", e)
asyncio.run(main())
try:
    httpx.get(no)
    print("httpx reached the other server")
except httpx.ConnectError as e:
    print("httpx denied:", e)
r = requests.get(ok + "/r")
print("requests get", r.json()["path"], r.headers["content-encoding"])
print("requests post", requests.post(ok + "/rp", data="form=1").json()["received"])
try:
    requests.get(no)
    print("requests reached the other server")
except requests.ConnectionError as e:
    print("requests denied:", e)
`,
    });
    const r = await fabricks(['run', '-q', dir]);
    expect(r.status, r.stderr).toBe(0);
    const denial = `network access to 127.0.0.1:${other.port} is not granted; add "127.0.0.1:${other.port}"`;
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('httpx get /a?q=1 gzip');
    expect(lines[1]).toBe('httpx post hello');
    expect(lines[2]).toBe('httpx async {"k":1}');
    expect(lines[3]).toContain(`httpx async denied: [Errno 2] ${denial}`);
    expect(lines[4]).toContain(`httpx denied: [Errno 2] ${denial}`);
    expect(lines[5]).toBe('requests get /r gzip');
    expect(lines[6]).toBe('requests post form=1');
    expect(lines[7]).toContain(`requests denied: [Errno 2] ${denial}`);
    expect(lines[7]).toContain('[capabilities.network] connect in fabricks.toml');
  });
});
