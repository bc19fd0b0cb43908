// Serving: wasi:http/incoming-handler, implemented here over wasi:http/types (StarlingMonkey's
// own fetch event is off: it cannot serve a second request on an instance, upstream #247). One
// instance serves request after request; the user's module loads with the first.

import { encoder, nativeClearTimeout, nativeSetTimeout } from './natives.js';
import { stderrStream, writeAll } from './output.js';
import { process } from './process.js';
import { atLoadPosition, formatError } from './error-format.js';
import { entryName } from './entry.js';
import { fetchListeners } from './globals.js';
import { startMain } from './main-script.js';
import { resume } from './prepare.js';
import { drop } from './resources.js';
import { toRequest, writeResponse } from './http-messages.js';
import { listeningHandler, startServing, whenListening } from './node-listen.js';
import { rearmTimers, runDueTimers } from './timers.js';
import { BRIDGE_AUTHORITY, acceptLoop } from './accept-loop.js';
import { Fields, OutgoingBody, OutgoingResponse, ResponseOutparam } from './host.js';

// A handler that never settles would leave the event loop empty, which aborts the instance; a
// pending timer keeps it alive and answers 504 in the end.
const HANDLER_LIMIT_MS = 300_000;
let loaded;

function loadApp() {
  if (!loaded) {
    let main;
    startServing();
    try {
      main = startMain();
    } catch (e) {
      main = Promise.reject(atLoadPosition(e));
    }
    loaded = main ? main.then(() => globalThis.__fabricksModule?.default) : Promise.reject(new Error(`the module layer has no entrypoint "${entryName}"`));
  }
  return loaded;
}

function dispatchToListeners(request, waitUntil) {
  return new Promise((resolve, reject) => {
    let responded = false;
    const e = {
      type: 'fetch',
      request,
      respondWith(r) {
        if (responded) throw new Error('respondWith() was already called for this request');
        responded = true;
        Promise.resolve(r).then(resolve, reject);
      },
      waitUntil,
    };
    for (const listener of fetchListeners) {
      if (typeof listener === 'function') listener(e);
      else listener.handleEvent(e);
      if (responded) return;
    }
    resolve(new Response('no fetch listener called respondWith()\n', { status: 500 }));
  });
}

async function respond(request, waitUntil) {
  // a Node server is ready once it listens, though its main script may await more after that
  // (a program that awaits its server's 'close' never settles)
  const app = await Promise.race([loadApp(), whenListening()]);
  const ctx = { waitUntil, passThroughOnException() {} };
  let r;
  const nodeServer = listeningHandler();
  if (nodeServer) r = await nodeServer(request);
  else if (app && typeof app.fetch === 'function') r = await app.fetch(request, process.env, ctx);
  else if (fetchListeners.length > 0) r = await dispatchToListeners(request, waitUntil);
  else return new Response('the service has no fetch handler: export default { fetch(request) { ... } }, addEventListener("fetch", ...), or an http server that listens\n', { status: 500 });
  if (!(r instanceof Response)) throw new TypeError(`the fetch handler returned ${r === null ? 'null' : typeof r}, not a Response`);
  return r;
}

function answer(out, status, headers = []) {
  const res = new OutgoingResponse(Fields.fromList(headers));
  res.setStatusCode(status);
  const body = res.body();
  ResponseOutparam.set(out, { tag: 'ok', val: res });
  OutgoingBody.finish(body, undefined);
}

/**
 * The engine offers the accept loop (accept-loop.js): taken once the app's Node server listens,
 * declined (204) by an app that serves `export default { fetch }` or fails to load, which is
 * then served one request per call.
 */
async function start(out) {
  try {
    await Promise.race([loadApp(), whenListening()]);
  } catch (e) {
    writeAll(stderrStream(), encoder.encode(formatError(e) + '\n'));
  }
  if (!listeningHandler()) {
    answer(out, 204);
    await runDueTimers();
    return;
  }
  answer(out, 200, [['fabricks-accept', encoder.encode('1')]]);
  await acceptLoop(listeningHandler);
}

export const incomingHandler = {
  handle(incoming, out) {
    resume();
    if (incoming.authority() === BRIDGE_AUTHORITY && incoming.pathWithQuery() === '/start') {
      drop(incoming);
      rearmTimers();
      return start(out);
    }
    return (async () => {
      rearmTimers();
      const pending = [];
      const waitUntil = (p) => pending.push(Promise.resolve(p));
      let response;
      let timer;
      try {
        const request = toRequest(incoming);
        drop(incoming);
        const limit = new Promise((resolve) => {
          timer = nativeSetTimeout(() => resolve(new Response('the handler did not answer in time\n', { status: 504 })), HANDLER_LIMIT_MS);
        });
        response = await Promise.race([respond(request, waitUntil), limit]);
      } catch (e) {
        // the service's own error: logged like an uncaught one, answered as 500
        writeAll(stderrStream(), encoder.encode(formatError(e) + '\n'));
        response = new Response('Internal Server Error\n', { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' } });
      } finally {
        nativeClearTimeout(timer);
      }
      try {
        await writeResponse(response, out);
      } catch (e) {
        writeAll(stderrStream(), encoder.encode(formatError(e) + '\n'));
      }
      await Promise.allSettled(pending);
      await runDueTimers();
    })();
  },
};
