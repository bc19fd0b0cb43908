import { describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFile } from 'node:fs/promises';
import { fabricks, project, pyToml, testCertificates } from '../helpers.js';

/**
 * What both runtimes do alike (urllib to granted and refused hosts, names resolving inside, IPv6
 * literals, redirects hop by hop, raw sockets), as a run and served, is the capability
 * conformance suite's (test/conformance); here, http.client on its own, urlopen's timeout, a name
 * that does not resolve, and HTTPS.
 */

/** http.client to a host no rule grants: what Python code would see. */
const probe = `
import http.client
try:
    c = http.client.HTTPSConnection("api.example.com", timeout=5)
    c.request("GET", "/")
    print("http.client reached", c.getresponse().status)
except PermissionError as e:
    print("PermissionError", e.strerror)
`;

describe('outbound HTTP from a Python service under fabricks run', () => {
  it('refuses an undeclared host through http.client with a PermissionError naming the capability to add', async () => {
    const dir = await project({ 'fabricks.toml': pyToml('main.py'), 'main.py': probe });
    const r = await fabricks(['run', '-q', dir]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^PermissionError network access to api\.example\.com:443 is not granted; .*\[capabilities\.network\] connect in fabricks\.toml$/);
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
    // a certificate for 127.0.0.1 whose authority only the first run trusts (NODE_EXTRA_CA_CERTS)
    const { ca, key, cert } = await testCertificates();
    const tls = createHttpsServer({ key: await readFile(key), cert: await readFile(cert) }, (req, res) => res.end(`secure ${req.url}`));
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
      const trusted = await fabricks(['run', '-q', app, '--', String(tlsPort)], { env: { NODE_EXTRA_CA_CERTS: ca } });
      expect(trusted.status, trusted.stderr).toBe(0);
      expect(trusted.stdout).toBe('200 secure /via-urllib\n200 secure /via-http-client\n');
      const untrusted = await fabricks(['run', '-q', app, '--', String(tlsPort)]);
      expect(untrusted.stdout).toBe('URLError ConnectionError\nConnectionError\n');
    } finally {
      tls.close();
    }
  });
});
