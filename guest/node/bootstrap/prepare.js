// Pre-initialized apps (crates/engine/src/prepare.rs): the engine calls `prepare` once for an
// app and snapshots the instance, so every start skips what it did. Two stages:
//
// - B, evaluated ahead: the bundle waits (`await`, or `yield` where its async functions are
//   generators) at a gate where the entry module's own code begins (the bundler marks the place:
//   src/runtimes/node/bundle-ahead.ts), and it starts here: the dependencies' top level is done
//   in the snapshot, the app's own runs at start when the run opens the gate, in the same scope.
//   What differs per run is a tripwire (prepare-guard.js; the engine watches what reaches the
//   host), as is a dependency that throws: the attempt is then given up and its instance thrown
//   away, as its globals may have changed; the engine starts over in a fresh instance with
//   FABRICKS_PREPARE=compile, which takes stage A.
// - A, compiled ahead: the bundle is compiled (`(async () => { BUNDLE })` without the call).
//
// A snapshot's first call is not componentize-js's first call, which seeds Math.random and sets
// performance's time origin: `resume` does both again, once, for each instance made from a
// snapshot, and ends stage B's watch.

import { getEnvironment } from './host.js';
import { entryName, readEntry, WRAPPER } from './entry.js';
import { installPreparing } from './globals.js';
import { environLooked, startPreparing, stopPreparing, trip, trippedSoFar } from './prepare-guard.js';

// the bundle made ready: a function that starts it (stage A), or that opens its gate (B)
let ahead;
// this instance was made from a snapshot, and its first call has not come yet
let fromSnapshot = false;

// The bundler's mark (bundle-ahead.ts), the last line of the bundle: the offset (in UTF-16 code
// units of the bundle's text) where the entry's own code begins, and the word that waits there.
const MARK = /\n\/\/# fabricksAhead=(\d+) (await|yield)\n?$/;
// what the bundle calls at the mark (a global, as the bundle's code is its own script)
const GATE = '__fabricksAhead';

/** The `prepare` export: a JSON report, `{ prepared, environ? }`, `{ refused: why }` or `{ retry: why }` (stage B given up). */
export function prepare() {
  // read before the entrypoint: the engine watches the variables only from then on
  const compileOnly = getEnvironment().some(([k, v]) => k === 'FABRICKS_PREPARE' && v === 'compile');
  const code = readEntry();
  if (code === undefined) return JSON.stringify({ refused: `the module layer has no entrypoint "${entryName}"` });
  const text = new TextDecoder().decode(code);
  const mark = compileOnly ? null : MARK.exec(text);
  const at = mark ? Number(mark[1]) : -1;
  if (at < 0 || at > mark.index) return compileAhead(text);
  let start;
  try {
    // the same text the run evaluates (main-script.js) with the gate at the mark, on its line
    start = (0, eval)(`${WRAPPER}${text.slice(0, at)};${mark[2]} ${GATE}();${text.slice(at)}\n})\n//# sourceURL=${entryName}`);
  } catch {
    // nothing has run: this instance can still take stage A (which reports a bundle that does not compile)
    return compileAhead(text);
  }
  return evaluateAhead(start);
}

/** Stage A: the same text the run evaluates (main-script.js), compiled, without the call. */
function compileAhead(text) {
  // the engine watches the wall clock, random numbers and variables; the monotonic clock is
  // watched here, as SpiderMonkey reads it for itself
  const native = performance.now;
  let timed = false;
  performance.now = function now() {
    timed = true;
    return native.call(performance);
  };
  try {
    ahead = (0, eval)(`${WRAPPER}${text}\n})\n//# sourceURL=${entryName}`);
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

/**
 * Stage B: the bundle started with the tripwires set, up to its gate (a promise of the report;
 * componentize-js runs the event loop until it settles, so a dependency's top-level await works).
 */
async function evaluateAhead(start) {
  let reached;
  const atGate = new Promise((resolve) => (reached = resolve));
  let open;
  const gate = new Promise((resolve) => (open = resolve));
  globalThis[GATE] = () => {
    delete globalThis[GATE];
    reached('gate');
    return gate;
  };
  installPreparing();
  watchRandomAndClock();
  startPreparing();
  const main = start();
  const outcome = await Promise.race([atGate, main.then(() => 'ended', (e) => ({ threw: e }))]);
  // thrown again at start, from the run's own evaluation, as without a snapshot
  if (outcome.threw !== undefined) return JSON.stringify({ retry: `a dependency threw at its top level: ${String(outcome.threw)}` });
  if (outcome !== 'gate') return JSON.stringify({ retry: 'the bundle ended before the mark' });
  // what the dependencies queued to run after their top level runs here, still watched
  for (let i = 0; i < 8; i++) await null;
  const tripped = trippedSoFar();
  if (tripped.length > 0) return JSON.stringify({ retry: `the dependencies ${tripped.join(', ')} while they loaded` });
  ahead = () => {
    open();
    return main;
  };
  fromSnapshot = true;
  return JSON.stringify({ prepared: 'ahead', environ: environLooked() });
}

/**
 * The bundle made ready in the snapshot, once (undefined without one): a function, called after
 * the run has installed its arguments and variables, that starts it or runs the rest of it (a
 * promise of its end).
 */
export function takePrepared() {
  const main = ahead;
  ahead = undefined;
  return main;
}

/** At an instance's first call: undo what the snapshot froze of componentize-js's first call. */
export function resume() {
  if (!fromSnapshot) return;
  fromSnapshot = false;
  stopPreparing();
  reseedRandom();
  restartClock();
}

// Math.random and performance.now as the dependencies may have kept them (`const now =
// performance.now.bind(performance)` at a top level): tripwires while preparing, then this run's.
let randomNow = Math.random;
let nativeNow = performance.now;
let clockNow = () => nativeNow.call(performance);

function watchRandomAndClock() {
  nativeNow = performance.now;
  clockNow = () => nativeNow.call(performance);
  redefine(Math, 'random', function random() {
    trip('called Math.random');
    return randomNow();
  });
  redefine(performance, 'now', function now() {
    trip('read the monotonic clock');
    return clockNow();
  });
}

function redefine(obj, name, value) {
  Object.defineProperty(obj, name, { value, writable: true, configurable: true, enumerable: obj === performance });
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
  randomNow = function random() {
    return ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
  };
  redefine(Math, 'random', randomNow);
}

/** performance.now() counted from this instance's start, as from a first call. */
function restartClock() {
  const native = nativeNow.bind(performance);
  const base = native();
  const origin = performance.timeOrigin + base;
  clockNow = function now() {
    return native() - base;
  };
  redefine(performance, 'now', clockNow);
  Object.defineProperty(performance, 'timeOrigin', { get: () => origin, configurable: true, enumerable: true });
}
