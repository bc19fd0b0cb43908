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
import { preparingEnv, setLiveEnv, trip } from './prepare-guard.js';

// the user's fetch listeners, which serve.js dispatches requests to
export const fetchListeners = [];

let installed = false;

/** This run's arguments and variables, and Node's globals (once: a snapshot made in stage B has them). */
export function install(args, env) {
  if (!installed) installGlobals();
  Object.defineProperty(process, 'argv', { value: [args[0] ?? 'fabricks', `/${entryName}`, ...args.slice(1)], writable: true, configurable: true, enumerable: true });
  process.argv0 = process.argv[0];
  setLiveEnv(env);
  process.env = env;
}

/**
 * The globals without a run (stage B, prepare.js): the dependencies that run ahead find process
 * as a run gives it, but its arguments are a tripwire and its variables are read through
 * preparingEnv (all absent). install() puts the run's in their place.
 */
export function installPreparing() {
  installGlobals();
  const argv = ['fabricks', `/${entryName}`];
  Object.defineProperty(process, 'argv', {
    get() {
      trip('read process.argv');
      return argv;
    },
    set(v) {
      trip('changed process.argv');
      Object.defineProperty(process, 'argv', { value: v, writable: true, configurable: true, enumerable: true });
    },
    configurable: true,
    enumerable: true,
  });
  process.env = preparingEnv;
}

function installGlobals() {
  installed = true;
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
      trip('called fetch');
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
