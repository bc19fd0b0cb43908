import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  it('HTTPS: urllib and http.client.HTTPSConnection go through the host, which does TLS and checks the certificate', async () => {
    // a certificate for 127.0.0.1 that only the first run trusts (NODE_EXTRA_CA_CERTS)
    const dir = await mkdtemp(join(tmpdir(), 'fabricks-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const tls = createHttpsServer({ key: await readFile(join(dir, 'key.pem')), cert: await readFile(join(dir, 'cert.pem')) }, (req, res) => res.end(`secure ${req.url}`));
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    const address = tls.address();
    const tlsPort = typeof address === 'object' && address ? address.port : 0;
    const main = [
      'import sys, http.client, urllib.request, urllib.error',
      'port = int(sys.argv[1])',
      'try:',
      '    with urllib.request.urlopen(f"https://127.0.0.1:{port}/via-urllib", timeout=10) as r:',
      '        print(r.status, r.read().decode())',
      'except urllib.error.URLError as e:',
      '    print("URLError", type(e.reason).__name__)',
      'try:',
      '    c = http.client.HTTPSConnection("127.0.0.1", port, timeout=10)',
      '    c.request("GET", "/via-http-client")',
      '    r = c.getresponse()',
      '    print(r.status, r.read().decode())',
      'except OSError as e:',
      '    print(type(e).__name__)',
      '',
    ].join('\n');
    try {
      const app = await project({ 'fabricks.toml': pyToml('main.py', `\n[capabilities.network]\nconnect = ["127.0.0.1:${tlsPort}"]\n`), 'main.py': main });
      const trusted = await fabricks(['run', '-q', app, '--', String(tlsPort)], { env: { NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem') } });
      expect(trusted.status, trusted.stderr).toBe(0);
      expect(trusted.stdout).toBe('200 secure /via-urllib\n200 secure /via-http-client\n');
      const untrusted = await fabricks(['run', '-q', app, '--', String(tlsPort)]);
      expect(untrusted.stdout).toBe('URLError ConnectionError\nConnectionError\n');
    } finally {
      tls.close();
    }
  });
});
