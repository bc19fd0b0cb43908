// The environment the user's bundle runs in: Node's globals (process, timers, fetch, ...), the
// `fabricks` global, and the Node modules the bundle imports by name (`__fabricksNode`).

import { nativeAddEventListener, nativeFetch } from './natives.js';
import { ref, unref } from './liveness.js';
import { clearTimer, Timeout } from './timers.js';
import { process } from './process.js';
import { fabricksApi } from './fabricks-api.js';
import { nodeModules } from './node-modules.js';
import { fetchFollowing, keepAliveWhileRead } from './fetch.js';
import { entryName } from './entry.js';
import { listen, unlisten } from './node-listen.js';
import { tagWebClasses } from './web-tags.js';
import { installCallSites } from './call-sites.js';

// the user's fetch listeners, which serve.js dispatches requests to
export const fetchListeners = [];

export function install(args, env) {
  process.argv = [args[0] ?? 'fabricks', `/${entryName}`, ...args.slice(1)];
  process.argv0 = process.argv[0];
  process.env = env;
  globalThis.process = process;
  globalThis.fabricks = fabricksApi;
  globalThis.__fabricksNode = nodeModules;
  // for Node HTTP servers (polyfills/node/http-server.js)
  globalThis.__fabricksListen = { listen, unlisten };
  globalThis.global = globalThis;
  tagWebClasses();
  installCallSites();
  globalThis.setTimeout = (fn, ms, ...a) => new Timeout(false, fn, ms, a);
  globalThis.setInterval = (fn, ms, ...a) => new Timeout(true, fn, ms, a);
  globalThis.setImmediate = (fn, ...a) => new Timeout(false, fn, 0, a);
  globalThis.clearTimeout = clearTimer;
  globalThis.clearInterval = clearTimer;
  globalThis.clearImmediate = clearTimer;
  // StarlingMonkey's AbortSignal.abort() demands a reason; Node's (the standard's) makes it optional
  const abortSignal = globalThis.AbortSignal?.abort;
  if (abortSignal) AbortSignal.abort = (...reason) => abortSignal.call(AbortSignal, reason.length ? reason[0] : undefined);
  if (nativeFetch) {
    globalThis.fetch = (input, init) => {
      ref();
      return fetchFollowing(input, init).then(keepAliveWhileRead).finally(unref);
    };
  }
  // the user's fetch listeners are dispatched by this runtime's incoming-handler
  globalThis.addEventListener = (type, listener, options) => {
    if (type === 'fetch') fetchListeners.push(listener);
    else nativeAddEventListener?.(type, listener, options);
  };
}
