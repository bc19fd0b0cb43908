// Liveness: the program ends when its main script has settled and nothing that can call back
// into it is left (timers, stdin being read, requests in flight), like Node's event loop.

import { nativeSetTimeout } from './natives.js';

export let refs = 0;
let mainSettled = false;
let checkQueued = false;

// What ends the program, given by process.js (which is above this module, as everything that
// keeps the program alive is below it): finishing once nothing is left, and an uncaught error.
let whenDone = () => {};
let onUncaught = (e) => {
  throw e;
};

export function setEnding(done, uncaught) {
  whenDone = done;
  onUncaught = uncaught;
}

export function ref() {
  refs++;
}
export function unref() {
  refs--;
  queueCheck();
}
export function queueCheck() {
  if (checkQueued) return;
  checkQueued = true;
  // A macrotask, so that promise chains woken by the last callback run first.
  nativeSetTimeout(() => {
    checkQueued = false;
    if (mainSettled && refs === 0) whenDone();
  }, 0);
}

/** The main script has settled: the program ends once nothing is left to do. */
export function settleMain() {
  mainSettled = true;
  queueCheck();
}

/** Runs a callback into user code; what it throws ends the program, as an uncaught error. */
export function guard(fn) {
  try {
    fn();
  } catch (e) {
    onUncaught(e);
  }
}
