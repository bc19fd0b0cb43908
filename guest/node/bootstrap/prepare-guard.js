// Stage B's tripwires (prepare.js): while the bundle's dependencies run ahead, in the snapshot,
// what differs per run must not be read, or the value read would be frozen into every start.
// What the host answers (the wall clock, random bytes, variables, output) the engine watches;
// what never reaches the host is watched here. A tripwire does not stop the code: it marks the
// attempt, which is then thrown away with its instance (the engine starts over, compile only).

import { formatError } from './error-format.js';

let preparing = false;
const tripped = [];
const looked = new Set();
// the environment process.env stands for: none while preparing, the run's from its first call
let liveEnv = {};

export const isPreparing = () => preparing;

export function startPreparing() {
  preparing = true;
}

/** The run has come: what the snapshot's code reads from now on is this run's. */
export function stopPreparing() {
  preparing = false;
}

/** Something that differs per run was read (or done) while preparing: what, and where in the app's files first. */
export function trip(what) {
  if (!preparing || tripped.some((t) => t.startsWith(what))) return;
  const e = new Error(what);
  // the app's file and line; else the first frame outside the runtime (code a dependency made with eval)
  const file = (line) => /@(.*?):\d+:\d+$/.exec(line)?.[1];
  const frames = String(e.stack).split('\n');
  const at = /\n\s+at (.*)/.exec(formatError(e))?.[1] ?? frames.find((l) => file(l) && file(l) !== file(frames[0]));
  tripped.push(at ? `${what} (at ${at})` : what);
}

export const trippedSoFar = () => tripped.slice();

/** The variables read while preparing (all absent then); a run that sets one starts without the snapshot. */
export const environLooked = () => [...looked];

/** The run's variables, seen through the process.env that dependencies may have kept. */
export function setLiveEnv(env) {
  liveEnv = env;
}

/**
 * process.env while preparing: every name looked up is recorded (none is set), listing the names
 * or changing one trips. After the run's first call it forwards to the run's own object, for
 * code that kept this one (`const env = process.env` at a dependency's top level).
 */
export const preparingEnv = new Proxy(
  {},
  {
    get(_t, key) {
      if (preparing && typeof key === 'string' && !(key in Object.prototype)) looked.add(key);
      return Reflect.get(liveEnv, key);
    },
    has(_t, key) {
      if (preparing && typeof key === 'string') looked.add(key);
      return Reflect.has(liveEnv, key);
    },
    getOwnPropertyDescriptor(_t, key) {
      if (preparing && typeof key === 'string') looked.add(key);
      const d = Reflect.getOwnPropertyDescriptor(liveEnv, key);
      // a proxy may not report a property its target lacks as non-configurable
      if (d) d.configurable = true;
      return d;
    },
    ownKeys() {
      trip('listed process.env');
      return Reflect.ownKeys(liveEnv);
    },
    set(_t, key, value) {
      trip('changed process.env');
      return Reflect.set(liveEnv, key, value);
    },
    defineProperty(_t, key, d) {
      trip('changed process.env');
      return Reflect.defineProperty(liveEnv, key, d);
    },
    deleteProperty(_t, key) {
      trip('changed process.env');
      return Reflect.deleteProperty(liveEnv, key);
    },
  },
);
