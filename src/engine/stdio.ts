/**
 * stdin, stdout and stderr served on the main thread. preview2-shim answers check-write,
 * flush and get-stdin through its I/O worker thread (a synchronous call that first waits for
 * the worker to start: tens of ms per run, the first output of every program). For the
 * process's own stdio those answers are fixed (check-write: the shim reports its idle buffer,
 * 16 KiB; flush: nothing to do, Node writes stdio synchronously on POSIX), so these streams give
 * them here and leave the worker only what needs it (subscribe, splice, reading stdin).
 * They are objects of preview2-shim's own stream classes (jco checks `instanceof`).
 */
import * as io from '@bytecodealliance/preview2-shim/io';

type Stream = Record<string | symbol, unknown>;
const streams = (io as unknown as { streams: { OutputStream: { prototype: object }; InputStream: { prototype: object } } }).streams;

/** preview2-shim's own check-write answer for idle stdio (its worker-side buffer's high-water mark). */
const CHECK_WRITE = 16384n;

/** The shim's own stream, asked for on first use, and methods that call through to it. */
function lazyShim(shimStream: () => unknown) {
  let real: Stream | undefined;
  const shim = () => (real ??= shimStream() as Stream);
  const delegate =
    (name: string) =>
    (...args: unknown[]) =>
      (shim()[name] as (...a: unknown[]) => unknown).apply(shim(), args);
  return { delegate, created: () => real };
}

/** An OutputStream writing to `target` here; what needs a pollable goes to the shim's own stream. */
export function mainThreadOutput(shimStream: () => unknown, target: NodeJS.WriteStream): unknown {
  const { delegate } = lazyShim(shimStream);
  const write = (buf: Uint8Array) => void target.write(buf);
  return Object.assign(Object.create(streams.OutputStream.prototype) as object, {
    checkWrite: () => CHECK_WRITE,
    write,
    blockingWriteAndFlush: write,
    flush: () => undefined,
    blockingFlush: () => undefined,
    writeZeroes: (len: bigint) => write(new Uint8Array(Number(len))),
    blockingWriteZeroesAndFlush: (len: bigint) => write(new Uint8Array(Number(len))),
    splice: delegate('splice'),
    blockingSplice: delegate('blockingSplice'),
    subscribe: delegate('subscribe'),
    // the process's stdio outlives the instance: dropping the handle closes nothing (as in the shim)
    [Symbol.dispose]: () => undefined,
  });
}

/** An InputStream that asks the shim for stdin only when the program uses it. */
export function lazyInput(shimStream: () => unknown): unknown {
  const { delegate, created } = lazyShim(shimStream);
  return Object.assign(Object.create(streams.InputStream.prototype) as object, {
    read: delegate('read'),
    blockingRead: delegate('blockingRead'),
    skip: delegate('skip'),
    blockingSkip: delegate('blockingSkip'),
    subscribe: delegate('subscribe'),
    [Symbol.dispose]: () => {
      const real = created();
      if (real) (real[Symbol.dispose] as () => void).call(real);
    },
  });
}
