// Pre-initialized apps (crates/engine/src/prepare.rs): the engine calls `prepare` once for an
// app and snapshots the instance, so every start skips what it did. Two stages:
//
// - B, evaluated ahead: the bundle becomes an async generator that stops (`yield`) where the
//   entry module's own code begins (the bundler marks the place: src/runtimes/node/bundle-ahead.ts),
//   and its first step runs here: the dependencies' top level is done in the snapshot, the app's
//   own runs at start, in the same scope. What differs per run is a tripwire (prepare-guard.js;
//   the engine watches what reaches the host), as is a dependency that throws: the attempt is
//   then given up and its instance thrown away, as its globals may have changed; the engine
//   starts over in a fresh instance with FABRICKS_PREPARE=compile, which takes stage A.
// - A, compiled ahead: the bundle is compiled (`(async () => { BUNDLE })` without the call).
//
// A snapshot's first call is not componentize-js's first call, which seeds Math.random and sets
// performance's time origin: `resume` does both again, once, for each instance made from a
// snapshot, and ends stage B's watch.

import { getEnvironment } from './host.js';
import { AHEAD_WRAPPER, entryName, readEntry, setWrapper, WRAPPER } from './entry.js';
import { installPreparing } from './globals.js';
import { environLooked, startPreparing, stopPreparing, trip, trippedSoFar } from './prepare-guard.js';

// the bundle made ready: a function that starts it (stage A) or the generator past its first step (B)
let compiled;
let stepped;
// this instance was made from a snapshot, and its first call has not come yet
let fromSnapshot = false;

// The bundler's mark (bundle-ahead.ts): the last line of the bundle, the offset (in UTF-16 code
// units of the bundle's text) where the entry's own code begins.
const MARK = /\n\/\/# fabricksAhead=(\d+)\n?$/;

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
  let gen;
  try {
    gen = (0, eval)(`${AHEAD_WRAPPER}${text.slice(0, at)};yield;${text.slice(at)}\n})\n//# sourceURL=${entryName}`)();
  } catch {
    // nothing has run: this instance can still take stage A (which reports a bundle that does not compile)
    return compileAhead(text);
  }
  return evaluateAhead(gen);
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
    compiled = (0, eval)(`${WRAPPER}${text}\n})\n//# sourceURL=${entryName}`);
  } catch (e) {
    // reported at start, from the run's own evaluation, as without a snapshot
    compiled = undefined;
    return JSON.stringify({ refused: `the bundle does not compile: ${String(e)}` });
  } finally {
    delete performance.now;
    if (performance.now !== native) performance.now = native;
  }
  if (timed) {
    compiled = undefined;
    return JSON.stringify({ refused: "the app's code read the monotonic clock while it loaded" });
  }
  fromSnapshot = true;
  return JSON.stringify({ prepared: 'compiled' });
}

/** Stage B: the dependencies' top level, up to the mark, with the tripwires set (a promise of the report). */
async function evaluateAhead(gen) {
  setWrapper(AHEAD_WRAPPER);
  installPreparing();
  watchRandomAndClock();
  startPreparing();
  let step;
  try {
    step = await gen.next();
  } catch (e) {
    // thrown again at start, from the run's own evaluation, as without a snapshot
    return JSON.stringify({ retry: `a dependency threw at its top level: ${String(e)}` });
  }
  // what the dependencies queued to run after their top level runs here, still watched
  for (let i = 0; i < 8; i++) await null;
  const tripped = trippedSoFar();
  if (tripped.length > 0) return JSON.stringify({ retry: `the dependencies ${tripped.join(', ')} while they loaded` });
  if (step.done) return JSON.stringify({ retry: 'the bundle ended before the mark' });
  stepped = gen;
  fromSnapshot = true;
  return JSON.stringify({ prepared: 'ahead', environ: environLooked() });
}

/**
 * The bundle made ready in the snapshot, once (undefined without one): `start()` runs the rest
 * of it after the run has installed its arguments and variables (a promise of its end).
 */
export function takePrepared() {
  if (stepped) {
    const gen = stepped;
    stepped = undefined;
    return () => gen.next();
  }
  const main = compiled;
  compiled = undefined;
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
