// node:events for bundles: the `events` package (Node's EventEmitter and once()), with what Node
// added since that packages call: on() as an async iterator, the static setMaxListeners and
// getMaxListeners, getEventListeners, addAbortListener, errorMonitor, and once() with a signal.
// CommonJS on purpose: readable-stream and others take `require('events')` as the class itself.
const EventEmitter = require('events/events.js');

const packageOnce = EventEmitter.once;
const errorMonitor = Symbol('events.errorMonitor');
const dispose = Symbol.dispose ?? Symbol.for('nodejs.dispose');

const { abortError } = require('./abort-error.js');

// `errorMonitor` listeners see an 'error' before the ordinary ones, and do not count as handling it
const packageEmit = EventEmitter.prototype.emit;
EventEmitter.prototype.emit = function emit(type, ...args) {
  if (type === 'error' && this._events && this._events[errorMonitor] !== undefined) packageEmit.call(this, errorMonitor, ...args);
  return packageEmit.call(this, type, ...args);
};

function addAbortListener(signal, listener) {
  if (signal === undefined) throw new TypeError('The "signal" argument must be an instance of AbortSignal. Received undefined');
  let remove;
  if (signal.aborted) queueMicrotask(() => listener());
  else {
    signal.addEventListener('abort', listener, { once: true });
    remove = () => signal.removeEventListener('abort', listener);
  }
  return { [dispose]: () => remove?.() };
}

function once(emitter, name, options = {}) {
  const signal = options?.signal;
  if (!signal) return packageOnce(emitter, name);
  if (signal.aborted) return Promise.reject(abortError(signal.reason));
  if (typeof emitter.once !== 'function' && typeof emitter.addEventListener === 'function') {
    // an EventTarget: its event, or the abort
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        emitter.removeEventListener(name, onEvent);
        reject(abortError(signal.reason));
      };
      const onEvent = (event) => {
        signal.removeEventListener('abort', onAbort);
        resolve([event]);
      };
      emitter.addEventListener(name, onEvent, { once: true });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      emitter.removeListener?.(name, onEvent);
      emitter.removeListener?.('error', onError);
      reject(abortError(signal.reason));
    };
    const onEvent = (...args) => {
      emitter.removeListener?.('error', onError);
      signal.removeEventListener('abort', onAbort);
      resolve(args);
    };
    const onError = (err) => {
      emitter.removeListener?.(name, onEvent);
      signal.removeEventListener('abort', onAbort);
      reject(err);
    };
    emitter.once(name, onEvent);
    if (name !== 'error') emitter.once('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Node's events.on(): each emission, as an array of its arguments, from an async iterator. */
function on(emitter, event, options = {}) {
  const signal = options.signal;
  if (signal?.aborted) throw abortError(signal.reason);
  const unread = [];
  const waiting = [];
  let failure = null;
  let finished = false;
  const listen = (name, fn) => (emitter.on ? emitter.on(name, fn) : emitter.addEventListener(name, fn));
  const unlisten = (name, fn) => (emitter.removeListener ? emitter.removeListener(name, fn) : emitter.removeEventListener(name, fn));
  const onEvent = (...args) => {
    const w = waiting.shift();
    if (w) w.resolve({ value: args, done: false });
    else unread.push(args);
  };
  const onError = (err) => {
    const w = waiting.shift();
    if (w) w.reject(err);
    else failure = err;
    close();
  };
  const onAbort = () => onError(abortError(signal.reason));
  const close = () => {
    if (finished) return;
    finished = true;
    unlisten(event, onEvent);
    if (event !== 'error' && emitter.on) unlisten('error', onError);
    for (const name of options.close ?? []) unlisten(name, close);
    signal?.removeEventListener('abort', onAbort);
    while (waiting.length) waiting.shift().resolve({ value: undefined, done: true });
  };
  listen(event, onEvent);
  if (event !== 'error' && emitter.on) listen('error', onError);
  for (const name of options.close ?? []) listen(name, close);
  signal?.addEventListener('abort', onAbort, { once: true });
  return {
    next() {
      if (unread.length) return Promise.resolve({ value: unread.shift(), done: false });
      if (failure) {
        const e = failure;
        failure = null;
        return Promise.reject(e);
      }
      if (finished) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    return() {
      close();
      return Promise.resolve({ value: undefined, done: true });
    },
    throw(err) {
      onError(err);
      return Promise.reject(err);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

function setMaxListeners(n = EventEmitter.defaultMaxListeners, ...targets) {
  if (targets.length === 0) EventEmitter.defaultMaxListeners = n;
  for (const t of targets) t.setMaxListeners?.(n);
}

const getMaxListeners = (emitter) => emitter.getMaxListeners?.() ?? EventEmitter.defaultMaxListeners;
const getEventListeners = (emitter, name) => (typeof emitter.listeners === 'function' ? emitter.listeners(name) : []);

Object.assign(EventEmitter, { once, on, addAbortListener, setMaxListeners, getMaxListeners, getEventListeners, errorMonitor, captureRejectionSymbol: Symbol.for('nodejs.rejection'), usingDomains: false });
EventEmitter.default = EventEmitter;
module.exports = EventEmitter;
