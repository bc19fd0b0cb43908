/**
 * `fabricks run` for a component that serves wasi:http: fabricks owns the listener (node:http,
 * loopback unless asked otherwise) and hands each request to one of K worker threads, each with
 * its own engine, one request at a time (serve-worker.ts). Bodies stream both ways. A worker
 * whose guest traps or crashes answers 500 (502 when it vanished mid-response) and is replaced;
 * the server keeps serving until the signal.
 */
import { createServer, request as httpRequest, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import { Worker } from 'node:worker_threads';
import { FabricksError } from '../util/errors.js';
import type { Reporter } from '../util/progress.js';
import type { Grants } from './host.js';
import { loadComponent } from './run.js';
import type { Transpiled } from './transpile.js';
import type { WorkerData, WorkerMessage } from './serve-worker.js';
import { restoreRepeated } from './serve-headers.js';

export interface ServeOptions {
  name: string;
  host: string;
  port: number;
  workers: number;
  /** One instance serves a worker's requests one after another (else a fresh instance each). */
  reuseInstances?: boolean;
  reporter: Reporter;
  signal?: AbortSignal;
}

/** Headers about one connection, not the message: each hop sets its own. */
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization']);

function endToEnd(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (!HOP.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  return out;
}

interface Slot {
  worker: Worker;
  port: number;
  /** The response of the request it serves now, when it serves one. */
  busy?: { res: ServerResponse; fail(status: number, why: string): void };
}

/** Serves until `signal` aborts; resolves once the listener and the workers are closed. */
export async function serve(t: Transpiled, grants: Grants, opts: ServeOptions): Promise<void> {
  const { modules } = await loadComponent(t);
  const data: WorkerData = { dir: t.dir, imports: t.imports, modules: Object.fromEntries(modules), grants, reuse: Boolean(opts.reuseInstances) };
  const idle: Slot[] = [];
  const waiting: Array<(s: Slot | undefined) => void> = [];
  let closing = false;
  const live = new Set<Worker>();
  const replaced = new WeakSet<Slot>();

  const release = (s: Slot) => {
    s.busy = undefined;
    if (replaced.has(s)) return; // its worker is gone; a new slot takes its place
    const w = waiting.shift();
    if (w) w(s);
    else idle.push(s);
  };
  // Workers that are up, or being started in place of one that failed. None left means no
  // request can be answered: they get a 503 at once rather than waiting for ever.
  let healthy = 0;
  let lastFailure = '';
  const acquire = () =>
    new Promise<Slot | undefined>((resolve) => (idle.length > 0 ? resolve(idle.shift()!) : healthy === 0 ? resolve(undefined) : waiting.push(resolve)));

  const start = () =>
    new Promise<Slot>((resolve, reject) => {
      const worker = new Worker(new URL('./serve-worker.js', import.meta.url), { workerData: data });
      live.add(worker);
      let slot: Slot | undefined;
      worker.on('message', (m: WorkerMessage) => {
        if (m.type === 'ready') resolve((slot = { worker, port: m.port }));
        else if (m.type === 'no-handler') {
          reject(
            new FabricksError('RUN_FAILED', `${opts.name} asks to listen, and its component does not export wasi:http/incoming-handler`, {
              hint: 'a JavaScript service serves with `export default { fetch(request) { ... } }` or addEventListener("fetch", ...); or remove [capabilities.network] listen to run it as a command',
            }),
          );
          void worker.terminate();
        } else if (m.type === 'failed') {
          reject(new FabricksError(m.code as never, m.message, m.hint ? { hint: m.hint } : {}));
          void worker.terminate();
        } else if (m.type === 'trap' && slot) replace(slot, 500, m.message);
      });
      worker.once('error', (e) => (slot ? replace(slot, 502, `the worker failed: ${e.message}`) : reject(e)));
      worker.once('exit', (code) => {
        live.delete(worker);
        if (slot) replace(slot, 502, `the worker ended (status ${code})`);
        else reject(new FabricksError('RUN_FAILED', `a serving worker ended before it was ready (status ${code})`));
      });
    });

  const replace = (s: Slot, status: number, why: string) => {
    if (replaced.has(s)) return;
    replaced.add(s);
    const i = idle.indexOf(s);
    if (i >= 0) idle.splice(i, 1);
    s.busy?.fail(status, why);
    void s.worker.terminate();
    if (closing) return;
    healthy--;
    const again = (attempt: number) => {
      healthy++;
      start().then(release, (e: Error) => {
        healthy--;
        lastFailure = e.message;
        // with no worker left, those waiting get their 503 now; a new worker is tried a few more times
        if (healthy === 0) for (const w of waiting.splice(0)) w(undefined);
        if (!closing && attempt < 3) setTimeout(() => again(attempt + 1), 500 * 2 ** attempt).unref();
      });
    };
    again(0);
  };

  const slots = await Promise.all(Array.from({ length: Math.max(1, opts.workers) }, start)).catch(async (e) => {
    closing = true;
    await Promise.all([...live].map((w) => w.terminate()));
    throw e;
  });
  for (const s of slots) idle.push(s);
  healthy = slots.length;

  const agent = new Agent({ keepAlive: true });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    let error: string | undefined;
    res.once('close', () =>
      opts.reporter({ event: 'request', method: req.method ?? '', path: req.url ?? '', status: res.statusCode, ms: Math.round(performance.now() - started), ...(error ? { error } : {}) }),
    );
    void acquire().then((s) => {
      if (!s) {
        error = `no serving worker could be started: ${lastFailure}`;
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('Service Unavailable\n');
        return;
      }
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        release(s);
      };
      const up = httpRequest({ host: '127.0.0.1', port: s.port, method: req.method, path: req.url, headers: endToEnd(req.rawHeaders), agent }, (r) => {
        res.writeHead(r.statusCode ?? 502, restoreRepeated(endToEnd(r.rawHeaders)));
        r.pipe(res);
        r.once('end', finish);
        // a client gone before the whole answer was read unpipes it: drain it, or the worker
        // never counts as done (the official MCP Python client drops its GET on a 405 this way)
        res.once('close', () => r.resume());
      });
      s.busy = {
        res,
        fail(status, why) {
          done = true;
          error = why;
          up.destroy();
          if (!res.headersSent) {
            res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
            res.end(status === 500 ? 'Internal Server Error\n' : 'Bad Gateway\n');
          } else res.destroy();
        },
      };
      up.once('error', (e) => {
        if (done) return;
        s.busy?.fail(502, e.message);
        finish();
      });
      req.pipe(up);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(
        new FabricksError('RUN_FAILED', `cannot listen on ${opts.host}:${opts.port}: ${e.code === 'EADDRINUSE' ? 'the port is in use' : e.code === 'EACCES' ? 'permission denied' : e.message}`, {
          cause: e,
          hint: 'stop what uses it, or map the service to another port with --listen PORT',
        }),
      );
    });
    server.listen(opts.port, opts.host, resolve);
  }).catch(async (e) => {
    closing = true;
    await Promise.all([...live].map((w) => w.terminate()));
    throw e;
  });
  const address = server.address() as { address: string; port: number };
  opts.reporter({ event: 'serving', subject: opts.name, address: address.address, port: address.port, workers: slots.length });

  await new Promise<void>((resolve) => {
    if (opts.signal?.aborted) return resolve();
    opts.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  closing = true;
  server.close();
  server.closeAllConnections();
  agent.destroy();
  await Promise.all([...live].map((w) => w.terminate()));
}
