// Pre-initialized apps (crates/engine/src/prepare.rs): the engine calls `prepare` once for an
// app and snapshots the instance, so every start skips what it did. It reads the app's bundle and
// compiles it (the bundle's own top level still runs at start, in the run). A snapshot's first
// call is not componentize-js's first call, which seeds Math.random and sets performance's time
// origin: `resumed` does both again, once, for each instance made from a snapshot.

import { entryName, readEntry, WRAPPER } from './entry.js';

let ahead;
// this instance was made from a snapshot, and its first call has not come yet
let fromSnapshot = false;

/** The `prepare` export: a JSON report, `{ prepared }` or `{ refused: why }`. */
export function prepare() {
  const code = readEntry();
  if (code === undefined) return JSON.stringify({ refused: `the module layer has no entrypoint "${entryName}"` });
  // the engine watches the wall clock, random numbers and variables; the monotonic clock is
  // watched here, as SpiderMonkey reads it for itself
  const native = performance.now;
  let timed = false;
  performance.now = function now() {
    timed = true;
    return native.call(performance);
  };
  try {
    // the same text the run evaluates (main-script.js), without the call
    ahead = (0, eval)(`${WRAPPER}${new TextDecoder().decode(code)}\n})\n//# sourceURL=${entryName}`);
  } catch (e) {
    // reported at start, from the run's own evaluation, as without a snapshot
    ahead = undefined;
    return JSON.stringify({ refused: `the bundle does not compile: ${String(e)}` });
  } finally {
    delete performance.now;
    if (performance.now !== native) performance.now = native;
  }
  if (timed) {
    ahead = undefined;
    return JSON.stringify({ refused: "the app's code read the monotonic clock while it loaded" });
  }
  fromSnapshot = true;
  return JSON.stringify({ prepared: 'compiled' });
}

/** The bundle compiled ahead (a function that starts it), once; undefined without a snapshot. */
export function takePrepared() {
  const main = ahead;
  ahead = undefined;
  return main;
}

/** At an instance's first call: undo what the snapshot froze of componentize-js's first call. */
export function resume() {
  if (!fromSnapshot) return;
  fromSnapshot = false;
  reseedRandom();
  restartClock();
}

function rotl(x, k) {
  return (x << k) | (x >>> (32 - k));
}

/** Math.random as xoshiro128** seeded for this instance (53 bits from two draws). */
function reseedRandom() {
  const s = new Uint32Array(4);
  do crypto.getRandomValues(s);
  while ((s[0] | s[1] | s[2] | s[3]) === 0);
  let [a, b, c, d] = s;
  const next = () => {
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return r;
  };
  Object.defineProperty(Math, 'random', {
    value: function random() {
      return ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
    },
    writable: true,
    configurable: true,
  });
}

/** performance.now() counted from this instance's start, as from a first call. */
function restartClock() {
  const native = performance.now.bind(performance);
  const base = native();
  const origin = performance.timeOrigin + base;
  Object.defineProperty(performance, 'now', {
    value: function now() {
      return native() - base;
    },
    writable: true,
    configurable: true,
    enumerable: true,
  });
  Object.defineProperty(performance, 'timeOrigin', { get: () => origin, configurable: true, enumerable: true });
}
