import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { fabricks, project, pyToml } from '../helpers.js';

/** Tries each outbound path and prints one line per attempt: what Python code would see. */
const probe = `
import http.client, socket, sys, urllib.error, urllib.request

port = int(sys.argv[1])
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/secret", timeout=5) as r:
        print("urllib reached", r.status)
except urllib.error.URLError as e:
    print("URLError", isinstance(e.reason, PermissionError), e.reason.strerror)
try:
    c = http.client.HTTPSConnection("api.example.com", timeout=5)
    c.request("GET", "/")
    print("http.client reached", c.getresponse().status)
except PermissionError as e:
    print("PermissionError", e.strerror)
try:
    s = socket.socket()
    s.connect(("127.0.0.1", port))
    print("socket connected")
except OSError as e:
    print(type(e).__name__, e.strerror)
`;

describe('outbound HTTP from a Python service under fabricks run', () => {
  let server: Server;
  let port = 0;
  let reached = 0;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      reached += 1;
      res.end('secret');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = server.address();
    port = typeof address === 'object' && address ? address.port : 0;
  });
  afterAll(() => server.close());

  it('refuses an undeclared host and port with an exception the code expects, naming the capability to add; raw sockets are refused too', async () => {
    const dir = await project({ 'fabricks.toml': pyToml('main.py'), 'main.py': probe });
    const r = await fabricks(['run', '-q', dir, '--', String(port)]);
    expect(r.status, r.stderr).toBe(0);
    const [viaUrllib, viaClient, viaSocket] = r.stdout.trim().split('\n');
    expect(viaUrllib).toMatch(new RegExp(`^URLError True network access to 127\\.0\\.0\\.1:${port} is not granted; .*\\[capabilities\\.network\\] connect in fabricks\\.toml$`));
    expect(viaClient).toMatch(/^PermissionError network access to api\.example\.com:443 is not granted; .*\[capabilities\.network\] connect in fabricks\.toml$/);
    expect(viaSocket).toBe(
      'PermissionError raw sockets are not granted to a fabricks service; HTTP clients (urllib.request, http.client) reach the hosts in [capabilities.network] connect in fabricks.toml',
    );
    // nothing reached the real server listening there
    expect(reached).toBe(0);
  });

  it('honours urlopen timeout= through the host, and a name that does not resolve is a gaierror', async () => {
    const slow = createServer((_req, res) => setTimeout(() => res.end('late'), 8000));
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const address = slow.address();
    const slowPort = typeof address === 'object' && address ? address.port : 0;
    const main = [
      'import sys, urllib.request, urllib.error',
      'for url, timeout in ((f"http://127.0.0.1:{sys.argv[1]}/slow", 1), ("http://no-such-host.invalid/", 5)):',
      '    try:',
      '        urllib.request.urlopen(url, timeout=timeout)',
      '        print("answered")',
      '    except urllib.error.URLError as e:',
      '        print(type(e.reason).__name__, e.reason.strerror)',
      '',
    ].join('\n');
    try {
      const dir = await project({ 'fabricks.toml': pyToml('main.py', `\n[capabilities.network]\nconnect = ["127.0.0.1:${slowPort}", "no-such-host.invalid"]\n`), 'main.py': main });
      const r = await fabricks(['run', '-q', dir, '--', String(slowPort)]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.trim().split('\n')).toEqual([`TimeoutError 127.0.0.1:${slowPort}: timed out`, expect.stringMatching(/^gaierror cannot resolve no-such-host\.invalid/)]);
    } finally {
      slow.closeAllConnections();
      slow.close();
    }
  });
});
