// Timers that keep the program alive, with Node's Timeout object (ref/unref/hasRef).
//
// StarlingMonkey runs every expired timer in one turn without running promise jobs in between,
// so `await sleep(10)` could resume after a 30 ms timer. Node runs promise jobs after each timer
// callback; to get that order, timers wait in a queue here and one native timer at a time fires
// the earliest of them.

import { nativeClearTimeout, nativeSetTimeout } from './natives.js';
import { guard, ref, unref } from './liveness.js';
import { trip } from './prepare-guard.js';

const timerQueue = []; // sorted by due time, then creation order
let timerSeq = 0;
let nativeTimer;
let nativeDue = Infinity;
let firingTimer = false;

function scheduleTimers() {
  if (firingTimer) return; // fireTimer schedules the next one once promise jobs have run
  const next = timerQueue[0];
  if (nativeTimer !== undefined && (!next || nativeDue > next.due)) {
    nativeClearTimeout(nativeTimer);
    nativeTimer = undefined;
    nativeDue = Infinity;
  }
  if (!next || nativeTimer !== undefined) return;
  nativeDue = next.due;
  nativeTimer = nativeSetTimeout(fireTimer, Math.max(0, next.due - performance.now()));
}

function fireTimer() {
  nativeTimer = undefined;
  nativeDue = Infinity;
  const t = timerQueue[0];
  if (t && t.due <= performance.now() + 1) {
    timerQueue.shift();
    firingTimer = true;
    try {
      t._fire();
    } finally {
      firingTimer = false;
    }
  }
  // A native timer made now would run in this same pass, before the promise jobs the callback
  // queued; a promise job of our own, queued after theirs, makes it instead.
  Promise.resolve().then(scheduleTimers);
}

function enqueueTimer(t) {
  let i = timerQueue.length;
  while (i > 0 && timerQueue[i - 1].due > t.due) i--;
  timerQueue.splice(i, 0, t);
  scheduleTimers();
}

function dequeueTimer(t) {
  const i = timerQueue.indexOf(t);
  if (i >= 0) timerQueue.splice(i, 1);
  scheduleTimers();
}

export class Timeout {
  constructor(repeat, fn, ms, args) {
    trip('set a timer');
    this._repeat = repeat;
    this._ms = Math.max(1, Number(ms) || 0);
    this._fn = fn;
    this._args = args;
    this._ref = true;
    this._live = true;
    this._id = ++timerSeq;
    ref();
    this.due = performance.now() + this._ms;
    enqueueTimer(this);
  }
  _fire() {
    if (!this._live) return;
    if (this._repeat) {
      this.due = performance.now() + this._ms;
      enqueueTimer(this);
    } else this._close();
    guard(() => this._fn(...this._args));
  }
  _close() {
    if (!this._live) return;
    this._live = false;
    dequeueTimer(this);
    if (this._ref) unref();
  }
  ref() {
    if (!this._ref && this._live) ref();
    this._ref = true;
    return this;
  }
  unref() {
    if (this._ref && this._live) unref();
    this._ref = false;
    return this;
  }
  hasRef() {
    return this._ref;
  }
  refresh() {
    if (this._live) {
      dequeueTimer(this);
      this.due = performance.now() + this._ms;
      enqueueTimer(this);
    }
    return this;
  }
  close() {
    this._close();
    return this;
  }
  [Symbol.toPrimitive]() {
    return this._id;
  }
}

export function clearTimer(t) {
  if (t instanceof Timeout) t._close();
}

// Serving: an instance runs only while the host is calling it. A native timer armed during one
// request does not fire once that call has returned, not even in the next call, so the queue
// would wait on it for ever; each call arms it again (a stale one that does fire finds nothing
// due and does no harm).
export function rearmTimers() {
  nativeTimer = undefined;
  nativeDue = Infinity;
  scheduleTimers();
}

/**
 * Before a request's call returns: the timers already due (setImmediate, setTimeout 0: a
 * framework's deferred logging and clean-up) run now rather than at some later request.
 * Bounded, so that a zero-delay setInterval cannot hold the call.
 */
export async function runDueTimers(rounds = 20) {
  for (let i = 0; i < rounds && timerQueue.length > 0 && timerQueue[0].due <= performance.now() + 1; i++) {
    await new Promise((resolve) => nativeSetTimeout(resolve, 1));
  }
}
