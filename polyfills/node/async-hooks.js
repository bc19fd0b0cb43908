// node:async_hooks for bundles: AsyncLocalStorage and AsyncResource over one "current context"
// (a map from each storage to its store) that is carried by hand, as the engine has no hooks
// into its job queue:
// - run(), exit(), enterWith(), snapshot() and AsyncResource work as in Node;
// - callbacks given to setTimeout, setInterval, setImmediate, queueMicrotask, process.nextTick
//   and promise .then/.catch/.finally while a store is set run with that store (the globals are
//   wrapped when the first AsyncLocalStorage is made; node:timers calls through to them);
// - the code after an `await` too, because a bundle that imports this module has its async
//   functions lowered to generators driven by .then (src/runtimes/node/async-lowering.ts): the
//   engine resumes a native await itself, with no hook to restore the store.
// createHook() hooks are accepted and never called; async ids are counters, not Node's graph.

const EMPTY = new Map();
let current = EMPTY;

function runIn(context, fn, thisArg, args) {
  const previous = current;
  current = context;
  try {
    return fn.apply(thisArg, args);
  } finally {
    current = previous;
  }
}

/** Wraps a callback so that it runs in the context that is current now (or as it is, if none). */
function carry(fn) {
  if (current === EMPTY || typeof fn !== 'function') return fn;
  const context = current;
  return function (...args) {
    return runIn(context, fn, this, args);
  };
}

let wrapped = false;
function wrapScheduling() {
  if (wrapped) return;
  wrapped = true;
  for (const name of ['setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask']) {
    const original = globalThis[name];
    if (typeof original === 'function') globalThis[name] = (fn, ...rest) => original(carry(fn), ...rest);
  }
  const proc = globalThis.process;
  if (proc && typeof proc.nextTick === 'function') {
    const nextTick = proc.nextTick;
    proc.nextTick = (fn, ...args) => nextTick.call(proc, carry(fn), ...args);
  }
  const then = Promise.prototype.then;
  Promise.prototype.then = function (onFulfilled, onRejected) {
    return then.call(this, carry(onFulfilled), carry(onRejected));
  };
}

export class AsyncLocalStorage {
  constructor() {
    wrapScheduling();
    this._enabled = true;
  }
  static bind(fn) {
    return AsyncResource.bind(fn);
  }
  static snapshot() {
    const context = current;
    return (fn, ...args) => runIn(context, fn, undefined, args);
  }
  getStore() {
    return current.get(this);
  }
  run(store, fn, ...args) {
    return runIn(new Map(current).set(this, store), fn, undefined, args);
  }
  exit(fn, ...args) {
    const context = new Map(current);
    context.delete(this);
    return runIn(context.size ? context : EMPTY, fn, undefined, args);
  }
  /** Until the callback or task that called it ends, as near as the runtime can tell where that is. */
  enterWith(store) {
    current = new Map(current).set(this, store);
  }
  disable() {
    if (!current.has(this)) return;
    const context = new Map(current);
    context.delete(this);
    current = context.size ? context : EMPTY;
  }
}

let nextAsyncId = 2;

export class AsyncResource {
  constructor(type, options) {
    this.type = type;
    this._context = current;
    this._asyncId = nextAsyncId++;
    this._triggerAsyncId = typeof options === 'number' ? options : (options?.triggerAsyncId ?? 1);
  }
  static bind(fn, type, thisArg) {
    return new AsyncResource(type ?? fn.name ?? 'bound-anonymous-fn').bind(fn, thisArg);
  }
  runInAsyncScope(fn, thisArg, ...args) {
    return runIn(this._context, fn, thisArg, args);
  }
  bind(fn, thisArg) {
    const resource = this;
    const bound = function (...args) {
      return resource.runInAsyncScope(fn, thisArg === undefined ? this : thisArg, ...args);
    };
    Object.defineProperty(bound, 'length', { value: fn.length });
    bound.asyncResource = this;
    return bound;
  }
  emitDestroy() {
    return this;
  }
  asyncId() {
    return this._asyncId;
  }
  triggerAsyncId() {
    return this._triggerAsyncId;
  }
}

export const createHook = () => ({ enable() { return this; }, disable() { return this; } });
export const executionAsyncId = () => 1;
export const triggerAsyncId = () => 0;
export const executionAsyncResource = () => ({});
export const asyncWrapProviders = Object.freeze({ NONE: 0 });

export default { AsyncLocalStorage, AsyncResource, createHook, executionAsyncId, triggerAsyncId, executionAsyncResource, asyncWrapProviders };
