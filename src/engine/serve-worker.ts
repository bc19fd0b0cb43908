/**
 * One serving worker thread: preview2-shim's HTTPServer on an ephemeral loopback port (only the
 * fabricks listener in the main thread talks to it), answering one request at a time. A fabricks
 * app keeps its instance from request to request (`reuse`), as a server process would; a
 * component fabricks did not build gets a fresh one per request, made while the worker waits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import * as http from '@bytecodealliance/preview2-shim/http';
import { ExitSignal, importsFor, type Grants } from './host.js';
import type { Instantiate } from './run.js';
import { REPEATED } from './serve-headers.js';

/** What the main thread hands a worker. */
export interface WorkerData {
  dir: string;
  imports: string[];
  modules: Record<string, unknown>;
  grants: Grants;
  /** Keep the instance for the next request (Python); else a fresh one per request (JavaScript). */
  reuse: boolean;
}

/** What a worker tells the main thread. */
export type WorkerMessage =
  | { type: 'ready'; port: number }
  | { type: 'failed'; code: string; message: string; hint?: string }
  | { type: 'no-handler'; exports: string[] } | { type: 'trap'; message: string };

/**
 * A response without a body (StarlingMonkey's for `new Response(null, ...)` or a 204: it never
 * asks for the body) traps in preview2-shim's server, which reads the body's stream
 * unconditionally. Such a response is given an empty, finished body before it is handed over.
 */
function answerBodilessResponses(): void {
  type Res = { body(): unknown; headers(): { entries(): Array<[string, Uint8Array]> } };
  const t = http.types as unknown as {
    OutgoingResponse: { prototype: Res };
    OutgoingBody: { finish(body: unknown, trailers: undefined): void };
    ResponseOutparam: { set(param: unknown, response: { tag: string; val: Res }): void };
  };
  const bodied = new WeakSet<object>();
  const body = t.OutgoingResponse.prototype.body;
  t.OutgoingResponse.prototype.body = function (this: Res) {
    bodied.add(this);
    return body.call(this);
  };
  const set = t.ResponseOutparam.set.bind(t.ResponseOutparam);
  t.ResponseOutparam.set = (param, response) => {
    if (response.tag === 'ok' && !bodied.has(response.val)) t.OutgoingBody.finish(response.val.body(), undefined);
    if (response.tag === 'ok') keepRepeatedHeaders(response.val);
    set(param, response);
  };
}
answerBodilessResponses();

/**
 * preview2-shim's server writes a response's headers through an object, so of two `Set-Cookie`
 * only the last would arrive. A repeated name is renamed here (REPEATED + its position + the
 * name), and fabricks' listener (serve.ts) gives each its name back, in order.
 */
function keepRepeatedHeaders(response: { headers(): { entries(): Array<[string, Uint8Array]> } }): void {
  const entries = response.headers().entries();
  const seen = new Set<string>();
  let repeated = false;
  const renamed = entries.map(([name, value], i): [string, Uint8Array] => {
    const lower = name.toLowerCase();
    if (!seen.has(lower)) {
      seen.add(lower);
      return [name, value];
    }
    repeated = true;
    return [`${REPEATED}${i}-${lower}`, value];
  });
  if (repeated) response.headers = () => ({ entries: () => renamed });
}

const data = workerData as WorkerData;
const post = (m: WorkerMessage) => parentPort!.postMessage(m);
const { instantiate } = (await import(pathToFileURL(join(data.dir, 'component.js')).href)) as { instantiate: Instantiate };

type Handler = { handle(request: unknown, out: unknown): void };
const fresh = (): Record<string, unknown> => instantiate((name) => data.modules[name], importsFor(data.imports, data.grants));
const handlerOf = (instance: Record<string, unknown>): Handler | undefined => {
  const key = Object.keys(instance).find((k) => k.startsWith('wasi:http/incoming-handler@')) ?? 'incomingHandler';
  return instance[key] as Handler | undefined;
};

let next: Record<string, unknown> | undefined;
try {
  next = fresh();
} catch (e) {
  const err = e as { code?: string; message?: string; hint?: string };
  post({ type: 'failed', code: typeof err?.code === 'string' ? err.code : 'RUN_FAILED', message: err?.message ?? String(e), ...(err?.hint ? { hint: err.hint } : {}) });
}
const first = next && handlerOf(next);
if (!next) {
  /* reported */
} else if (!first?.handle) {
  post({ type: 'no-handler', exports: Object.keys(next) });
} else {
  const HTTPServer = (http as unknown as { HTTPServer: new (h: Handler) => { listen(port: number, host: string): void; address(): { port: number } } }).HTTPServer;
  const server = new HTTPServer({
    handle(request, out) {
      const instance = next ?? fresh();
      next = data.reuse ? instance : undefined;
      try {
        handlerOf(instance)!.handle(request, out);
      } catch (e) {
        // A trap leaves this request unanswered here; the main thread answers it and replaces
        // this worker (its HTTPServer would wait for the response forever).
        post({ type: 'trap', message: e instanceof ExitSignal ? `the service exited (status ${e.code}) while handling a request` : `the service trapped: ${(e as Error)?.message ?? String(e)}` });
        return;
      }
      setImmediate(() => {
        next ??= fresh();
      });
    },
  });
  server.listen(0, '127.0.0.1');
  post({ type: 'ready', port: server.address().port });
}
