/**
 * Timers already due, answered on the main thread. A JavaScript program's event loop
 * (StarlingMonkey's setTimeout(0), runtimes/node's liveness check) subscribes to an instant
 * that has already passed and polls it; preview2-shim sends both to its I/O worker, so even a
 * program that does no I/O waits for that thread to start. Such a pollable is ready by
 * definition: it is made here (an object of the shim's Pollable class, as jco checks), and a
 * poll that includes one answers at once with the ready ones (wasi:io/poll allows any non-empty
 * subset of the ready pollables). Every other subscription and poll goes to the shim.
 */
import * as clocks from '@bytecodealliance/preview2-shim/clocks';
import * as io from '@bytecodealliance/preview2-shim/io';

interface Clock {
  now(): bigint;
  resolution(): bigint;
  subscribeInstant(when: bigint): unknown;
  subscribeDuration(d: bigint): unknown;
}
const shimClock = clocks.monotonicClock as unknown as Clock;
const shimPoll = io.poll as unknown as { Pollable: { prototype: object }; poll(list: unknown[]): Uint32Array };

const due = new WeakSet<object>();
// jco files a host resource under its `cabiRep` when it has one; these stay clear of the
// worker's pollable ids (small, counting up) and of jco's own counter.
let nextRep = 2 ** 30 - 1;
const disposeKeys = [...new Set([Symbol.dispose, Symbol.for('dispose')].filter(Boolean))];

function duePollable(): unknown {
  const p = Object.create(shimPoll.Pollable.prototype) as Record<string | symbol, unknown>;
  p[Symbol.for('cabiRep')] = nextRep--;
  p.ready = () => true;
  p.block = () => undefined;
  for (const k of disposeKeys) p[k] = () => undefined;
  due.add(p);
  return p;
}

export const monotonicClock: Clock = {
  now: () => shimClock.now(),
  resolution: () => shimClock.resolution(),
  subscribeInstant: (when) => (BigInt(when) <= shimClock.now() ? duePollable() : shimClock.subscribeInstant(when)),
  subscribeDuration: (d) => (BigInt(d) === 0n ? duePollable() : shimClock.subscribeDuration(d)),
};

export const poll = {
  Pollable: shimPoll.Pollable,
  poll(list: unknown[]): Uint32Array {
    const ready: number[] = [];
    list.forEach((p, i) => {
      if (typeof p === 'object' && p !== null && due.has(p)) ready.push(i);
    });
    return ready.length ? Uint32Array.from(ready) : shimPoll.poll(list);
  },
};
