import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { toolsDir } from '../src/util/paths.js';

/** Where scripts/install-tools puts the go-built tools (the folder names all three versions). */
export const goBin = join(toolsDir(), 'go-tools-distribution-v3.1.2-oras-v1.3.6-crane-v0.22.1');
export const tools = {
  distribution: join(goBin, 'registry'),
  oras: join(goBin, 'oras'),
  crane: join(goBin, 'crane'),
  dockerRegistry: '/usr/bin/docker-registry',
  htpasswd: 'htpasswd',
};

export const USER = 'fabricks-user';
export const PASSWORD = 'correct-horse-battery-staple';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url: string, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`registry exited (${child.exitCode}): ${log()}`);
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`registry did not answer at ${url}: ${log()}`);
}

export type RegistryKind = 'distribution' | 'docker-registry';
export type RegistryAuth = 'none' | 'basic' | 'bearer';

/** A real registry on a loopback port, with its storage in a temporary folder. */
export interface RegistryServer {
  host: string;
  kind: RegistryKind;
  auth: RegistryAuth;
  start(): Promise<void>;
  /** SIGKILL: the registry dies as in a crash, mid-request if one is running. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the distribution registry (v3, go install) or Debian's docker-registry 2.8, without
 * authentication, with htpasswd (Basic), or with token auth (Bearer, tokens from `tokenServer`).
 */
export async function startRegistry(kind: RegistryKind, auth: RegistryAuth = 'none'): Promise<RegistryServer & { token?: TokenServer }> {
  const dir = await mkdtemp(join(tmpdir(), `fabricks-registry-${kind}-`));
  const port = await freePort();
  let authYaml = '';
  let token: TokenServer | undefined;
  if (auth === 'basic') {
    const { stdout } = await promisify(execFile)(tools.htpasswd, ['-Bbn', USER, PASSWORD]);
    await writeFile(join(dir, 'htpasswd'), stdout);
    authYaml = `auth:\n  htpasswd:\n    realm: fabricks-test\n    path: ${join(dir, 'htpasswd')}\n`;
  } else if (auth === 'bearer') {
    if (kind !== 'distribution') throw new Error('token auth is set up for the distribution registry (jwks) only');
    token = await startTokenServer();
    await writeFile(join(dir, 'jwks.json'), JSON.stringify({ keys: [token.jwk] }));
    authYaml = `auth:\n  token:\n    realm: ${token.realm}\n    service: ${token.service}\n    issuer: ${token.issuer}\n    jwks: ${join(dir, 'jwks.json')}\n`;
  }
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    `version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${authYaml}`,
  );
  let child: ChildProcess | undefined;
  let log = '';
  const server = {
    host: `127.0.0.1:${port}`,
    kind,
    auth,
    ...(token ? { token } : {}),
    async start() {
      log = '';
      const bin = kind === 'distribution' ? tools.distribution : tools.dockerRegistry;
      child = spawn(bin, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
      await waitForHttp(`http://127.0.0.1:${port}/v2/`, child, () => log.slice(-2000));
    },
    async kill() {
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      await server.kill();
      await token?.stop();
    },
  };
  await server.start();
  return server;
}

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  jwk: Record<string, string>;
  /** Token requests seen, with the scopes asked for and whether credentials were right. */
  requests: Array<{ scopes: string[]; user: string | undefined; granted: boolean }>;
  stop(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/**
 * The token service of the Docker token flow: checks Basic credentials and signs an ES256 JWT
 * granting the scopes asked for (anonymous callers get no rights). The registry verifies it.
 */
export async function startTokenServer(): Promise<TokenServer> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = randomBytes(8).toString('hex');
  const jwk = { ...(publicKey.export({ format: 'jwk' }) as Record<string, string>), kid, alg: 'ES256', use: 'sig' };
  const service = 'fabricks-test-registry';
  const issuer = 'fabricks-test-issuer';
  const requests: TokenServer['requests'] = [];
  const server = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const scopes = url.searchParams.getAll('scope');
    const header = req.headers.authorization ?? '';
    const [user, pass] = header.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64').toString().split(':') : [];
    if (user !== undefined && (user !== USER || pass !== PASSWORD)) {
      requests.push({ scopes, user, granted: false });
      res.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }));
      return;
    }
    const granted = user !== undefined;
    requests.push({ scopes, user, granted });
    const access = granted
      ? scopes.map((s) => {
          const [type, ...rest] = s.split(':');
          const actions = rest.pop()!.split(',');
          return { type, name: rest.join(':'), actions };
        })
      : [];
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: issuer, sub: user ?? '', aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
    const signingInput = `${b64url(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid }))}.${b64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(signingInput), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token: `${signingInput}.${b64url(signature)}`, expires_in: 300 }));
  });
  const port = await listen(server);
  return { realm: `http://127.0.0.1:${port}/token`, service, issuer, jwk, requests, stop: () => close(server) };
}

/** Bytes without end, as fast as the client takes them; bounded (60 s, 8 GiB) so a test that forgets it ends. */
function endless(res: ServerResponse, seen: SeenRequest): void {
  const piece = Buffer.alloc(64 * 1024, 0x7b);
  const until = Date.now() + 60_000;
  const pump = () => {
    while (!res.destroyed && Date.now() < until && seen.bodyBytes < 8 * 1024 ** 3) {
      seen.bodyBytes += piece.length;
      if (!res.write(piece)) return;
    }
    if (!res.destroyed) res.end();
  };
  res.on('drain', pump);
  pump();
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

/**
 * status: answer for the registry; drop: close before forwarding; drop-response: forward, then
 * close instead of answering; corrupt: flip a byte of the body.
 * hang: accept the request and never answer; stall-body: send `after` bytes of the body, then
 * nothing (the connection stays open); cut-after: send `after` bytes of the body, then close;
 * endless-body: answer 200 with this Content-Type and bytes without end (no Content-Length);
 * stall-upload: stop reading the request body after `after` bytes and never answer; cut-upload:
 * close once `after` bytes of the request body arrived; no-range: forward without the Range
 * header (a registry that ignores it).
 */
export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string }
  | { kind: 'drop' }
  | { kind: 'drop-response' }
  | { kind: 'corrupt' }
  | { kind: 'hang' }
  | { kind: 'stall-body'; after: number }
  | { kind: 'cut-after'; after: number }
  | { kind: 'endless-body'; contentType: string; status?: number }
  | { kind: 'stall-upload'; after: number }
  | { kind: 'cut-upload'; after: number }
  | { kind: 'no-range' };

/** A request as the proxy saw it, with the bytes that crossed its client-side socket. */
export interface SeenRequest {
  method: string;
  path: string;
  status?: number;
  /** The Range header the client sent, if any. */
  range?: string;
  /** Response body bytes the proxy passed to the client. */
  bodyBytes: number;
  /** Request body bytes the client sent. */
  uploadBytes: number;
}

/**
 * A byte-counting reverse proxy in front of a registry: what fabricks sends and receives is
 * counted on the sockets (headers included), not taken from fabricks' own report. A fault
 * hook can answer a request itself, drop the connection, or corrupt a response body.
 */
export interface CountingProxy {
  host: string;
  /** Bytes received from clients (uploads) and sent to them (downloads) since the last reset. */
  counts(): { sent: number; received: number };
  reset(): void;
  requests: SeenRequest[];
  fault: ((req: IncomingMessage) => Fault | undefined) | undefined;
  /** Called as upload bytes arrive; lets a test kill the registry mid-push. */
  onUploadBytes: ((total: number) => void) | undefined;
  /**
   * Holds the requests `match` picks until `count` of them wait (or 5 s passed), then lets them
   * all through: a client that sends them one at a time is never seen with two in flight.
   */
  gate: { match(req: IncomingMessage): boolean; count: number } | undefined;
  /** The most requests picked by `gate` that were in flight at once. */
  peak: number;
  stop(): Promise<void>;
}

export async function startProxy(upstream: string): Promise<CountingProxy> {
  const [upHost, upPort] = upstream.split(':') as [string, string];
  const sockets = new Set<Socket>();
  let closedRead = 0;
  let closedWritten = 0;
  let base = { read: 0, written: 0 };
  const totals = () => {
    let read = closedRead;
    let written = closedWritten;
    for (const s of sockets) {
      read += s.bytesRead;
      written += s.bytesWritten;
    }
    return { read, written };
  };
  const proxy: CountingProxy = {
    host: '',
    requests: [],
    fault: undefined,
    onUploadBytes: undefined,
    gate: undefined,
    peak: 0,
    counts() {
      const t = totals();
      return { sent: t.read - base.read, received: t.written - base.written };
    },
    reset() {
      const t = totals();
      base = { read: t.read, written: t.written };
      proxy.requests.length = 0;
    },
    stop: () => close(server),
  };
  let uploaded = 0;
  let active = 0;
  let held: Array<() => void> = [];
  const releaseHeld = () => {
    const go = held;
    held = [];
    for (const f of go) f();
  };
  const server = createHttpServer((req, res) => {
    const gate = proxy.gate;
    if (!gate?.match(req)) return handle(req, res);
    active++;
    proxy.peak = Math.max(proxy.peak, active);
    res.on('close', () => active--);
    held.push(() => handle(req, res));
    if (held.length >= gate.count) releaseHeld();
    else setTimeout(releaseHeld, 5000).unref();
  });
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const seen: SeenRequest = { method: req.method ?? '', path: req.url ?? '', bodyBytes: 0, uploadBytes: 0, ...(req.headers.range ? { range: req.headers.range } : {}) };
    proxy.requests.push(seen);
    const fault = proxy.fault?.(req);
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'hang') {
      // read what comes, answer nothing; stop() closes the socket
      req.resume();
      return;
    }
    if (fault?.kind === 'status') {
      seen.status = fault.status;
      req.resume();
      req.on('end', () => res.writeHead(fault.status, { 'Content-Type': 'application/json', ...(fault.retryAfter ? { 'Retry-After': fault.retryAfter } : {}) }).end('{"errors":[{"code":"UNAVAILABLE","message":"injected by the test"}]}'));
      return;
    }
    if (fault?.kind === 'endless-body') {
      seen.status = fault.status ?? 200;
      req.resume();
      res.writeHead(seen.status, { 'Content-Type': fault.contentType });
      endless(res, seen);
      return;
    }
    const headers = { ...req.headers };
    if (fault?.kind === 'no-range') delete headers.range;
    const up = httpRequest({ host: upHost, port: Number(upPort), method: req.method, path: req.url, headers }, (upRes) => {
      seen.status = upRes.statusCode;
      if (fault?.kind === 'drop-response') {
        upRes.resume();
        req.socket.destroy();
        return;
      }
      if (fault?.kind === 'stall-upload' || fault?.kind === 'cut-upload') {
        upRes.resume();
        return;
      }
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      let flipped = false;
      upRes.on('data', (chunk: Buffer) => {
        if (fault?.kind === 'corrupt' && !flipped && chunk.length > 0) {
          chunk = Buffer.from(chunk);
          chunk[0] = chunk[0]! ^ 0xff;
          flipped = true;
        }
        if (fault?.kind === 'stall-body' || fault?.kind === 'cut-after') {
          const left = fault.after - seen.bodyBytes;
          if (left <= 0) return;
          if (chunk.length >= left) {
            seen.bodyBytes += left;
            // the rest never comes: the upstream answer is dropped, the client's socket stays (stall) or closes (cut)
            res.write(chunk.subarray(0, left), () => (fault.kind === 'cut-after' ? req.socket.destroy() : undefined));
            upRes.destroy();
            return;
          }
        }
        seen.bodyBytes += chunk.length;
        res.write(chunk);
      });
      upRes.on('end', () => res.end());
      upRes.on('error', () => {
        if (fault?.kind !== 'stall-body' && fault?.kind !== 'cut-after') res.destroy();
      });
    });
    up.on('error', () => {
      // the faults that cut the upstream request leave the client's side as they made it
      if (fault && ['stall-upload', 'cut-upload', 'stall-body', 'cut-after'].includes(fault.kind)) return;
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    req.on('data', (chunk: Buffer) => {
      seen.uploadBytes += chunk.length;
      uploaded += chunk.length;
      proxy.onUploadBytes?.(uploaded);
      if ((fault?.kind === 'stall-upload' || fault?.kind === 'cut-upload') && seen.uploadBytes >= fault.after) {
        // the registry gets a cut request; the client gets silence (stall) or a closed socket (cut)
        req.unpipe(up);
        up.destroy();
        if (fault.kind === 'stall-upload') req.pause();
        else req.socket.destroy();
      }
    });
    req.pipe(up);
  };
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => {
      closedRead += s.bytesRead;
      closedWritten += s.bytesWritten;
      sockets.delete(s);
    });
  });
  proxy.host = `127.0.0.1:${await listen(server)}`;
  return proxy;
}

/**
 * A port that never completes a connection: a listener (python3) that accepts nothing, its
 * one-place queue filled, so the kernel drops further SYNs and a connect waits until it times out.
 */
export async function startBlackhole(): Promise<{ host: string; stop(): Promise<void> }> {
  const script = [
    'import socket, time',
    "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)",
    'port = s.getsockname()[1]',
    'fill = []',
    'for _ in range(3):',
    "    c = socket.socket(); c.setblocking(False); c.connect_ex(('127.0.0.1', port)); fill.append(c)",
    'print(port, flush=True)',
    'time.sleep(600)',
  ].join('\n');
  const child = spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the blackhole listener exited (${code})`)));
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
  });
  return {
    host: `127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
