// node:timers/promises for bundles, over the runtime's timers (which keep the program alive
// unless `ref: false`): setTimeout and setImmediate as promises, setInterval as an async
// iterator, scheduler.wait/yield; each takes an AbortSignal and rejects with Node's AbortError.

import { abortError } from './abort-error.js';

function checkOptions(options) {
  if (options === null || typeof options !== 'object') throw Object.assign(new TypeError('The "options" argument must be of type object.'), { code: 'ERR_INVALID_ARG_TYPE' });
  const { signal, ref = true } = options;
  if (signal !== undefined && (signal === null || typeof signal.aborted !== 'boolean')) throw Object.assign(new TypeError('The "options.signal" property must be an instance of AbortSignal.'), { code: 'ERR_INVALID_ARG_TYPE' });
  return { signal, ref };
}

function later(schedule, value, options = {}) {
  let signal, ref;
  try {
    ({ signal, ref } = checkOptions(options));
  } catch (e) {
    return Promise.reject(e);
  }
  if (signal?.aborted) return Promise.reject(abortError(signal.reason));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal.reason));
    };
    const timer = schedule(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(value);
    });
    if (!ref) timer?.unref?.();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function setTimeout(delay, value, options) {
  return later((fn) => globalThis.setTimeout(fn, delay), value, options);
}

export function setImmediate(value, options) {
  return later((fn) => globalThis.setImmediate(fn), value, options);
}

/** Yields `value` each `delay` ms; ticks that pass while the consumer is busy are yielded at once after. */
export async function* setInterval(delay, value, options = {}) {
  const { signal, ref } = checkOptions(options);
  if (signal?.aborted) throw abortError(signal.reason);
  let ticks = 0;
  let wake;
  let aborted = false;
  const onAbort = () => {
    aborted = true;
    wake?.();
  };
  const timer = globalThis.setInterval(() => {
    ticks++;
    wake?.();
  }, delay);
  if (!ref) timer.unref?.();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    while (true) {
      if (ticks === 0 && !aborted) await new Promise((resolve) => (wake = resolve));
      wake = undefined;
      if (aborted) throw abortError(signal.reason);
      for (; ticks > 0; ticks--) yield value;
    }
  } finally {
    globalThis.clearInterval(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

export const scheduler = {
  wait: (delay, options) => setTimeout(delay, undefined, options),
  yield: () => setImmediate(),
};

export default { setTimeout, setImmediate, setInterval, scheduler };
