// process, and how the program ends: when nothing is left to do (finish), by process.exit, or by
// an uncaught error (fatal).

import { wasiExit } from './host.js';
import { encoder } from './natives.js';
import { EventEmitter } from './event-emitter.js';
import { setEnding, guard, refs } from './liveness.js';
import { stderrStream, stdoutStream, Writable, writeAll } from './output.js';
import { Stdin } from './stdin.js';
import { formatError } from './error-format.js';
import { OUT_OF_MEMORY, sayLastWords } from './out-of-memory.js';
import { trip } from './prepare-guard.js';

let finished = false;
let finishRun = () => {};

/** A run starts: `resolve` ends it with success. */
export function beginRun(resolve) {
  finishRun = resolve;
}

function finish() {
  if (finished) return;
  emitProcess('beforeExit', process.exitCode ?? 0);
  if (refs > 0) return; // a beforeExit listener scheduled more work
  exitWith(process.exitCode ?? 0);
}

let endedWell = false;

export function exitWith(code) {
  code = Number(code) || 0;
  if (endedWell) return; // the run has ended with success; code still running cannot change that
  if (!finished) {
    finished = true;
    process.exitCode = code;
    emitProcess('exit', code);
  }
  if (code === 0) {
    endedWell = true;
    finishRun();
    return;
  }
  // WASI 0.2's exit carries success or failure only: any non-zero code ends as status 1.
  wasiExit({ tag: 'err' });
  throw new ProcessExit(code); // only reached on a host whose exit returns
}

export class ProcessExit extends Error {
  constructor(code) {
    super(`process.exit(${code}) was called`);
    this.name = 'ProcessExit';
  }
}

export function fatal(e) {
  if (e instanceof ProcessExit) {
    if (finished) return; // what process.exit() threw to stop the code after it
    throw e;
  }
  try {
    if (e === OUT_OF_MEMORY) sayLastWords();
    else writeAll(stderrStream(), encoder.encode(formatError(e) + '\n'));
  } catch {
    // stderr is gone, or memory: the exit status still says that the program failed
  }
  exitWith(1);
}

const processEvents = new EventEmitter();
function emitProcess(name, ...args) {
  try {
    processEvents.emit(name, ...args);
  } catch (e) {
    if (e instanceof ProcessExit) throw e;
  }
}

export const process = {
  argv: [],
  argv0: 'fabricks',
  env: {},
  exitCode: undefined,
  platform: 'wasi',
  arch: 'wasm32',
  pid: 1,
  // the Node API the runtime gives: packages read these to choose their Node code paths
  version: 'v20.0.0',
  versions: { node: '20.0.0', fabricks: '0.1' },
  release: { name: 'node', lts: 'Iron' },
  features: { inspector: false, ipv6: true, tls: false, typescript: false },
  config: { variables: {} },
  execArgv: [],
  title: 'fabricks',
  stdout: new Writable(stdoutStream, 1),
  stderr: new Writable(stderrStream, 2),
  stdin: new Stdin(),
  exit(code) {
    code = code ?? process.exitCode ?? 0;
    exitWith(code);
    // as Node's, process.exit() does not return: the code after it must not run
    throw new ProcessExit(code);
  },
  cwd: () => '/',
  chdir() {
    throw new Error('process.chdir() is not supported in the fabricks runtime');
  },
  nextTick(fn, ...args) {
    // ahead, it would run before the app's own top level instead of after it
    trip('called process.nextTick');
    queueMicrotask(() => guard(() => fn(...args)));
  },
  hrtime: Object.assign(
    (prev) => {
      const ns = BigInt(Math.round(performance.now() * 1e6));
      const t = [Number(ns / 1000000000n), Number(ns % 1000000000n)];
      if (!prev) return t;
      let s = t[0] - prev[0];
      let n = t[1] - prev[1];
      if (n < 0) {
        s--;
        n += 1e9;
      }
      return [s, n];
    },
    { bigint: () => BigInt(Math.round(performance.now() * 1e6)) },
  ),
  uptime: () => performance.now() / 1000,
  memoryUsage: Object.assign(() => ({ rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 }), { rss: () => 0 }),
  emitWarning(warning, type, code) {
    const w = warningOf(warning, type, code);
    if (w.name === 'DeprecationWarning' && process.noDeprecation) return;
    // as Node: listeners see it, and it is printed either way
    queueMicrotask(() => {
      emitProcess('warning', w);
      process.stderr.write(`(fabricks:${process.pid}) ${w.code ? `[${w.code}] ` : ''}${w.name}: ${w.message}${w.detail ? `\n${w.detail}` : ''}\n`);
    });
  },
  umask: () => 0o22,
  cpuUsage: (prev) => {
    const micros = Math.round(performance.now() * 1000);
    return { user: micros - (prev?.user ?? 0), system: 0 - (prev?.system ?? 0) };
  },
  resourceUsage: () => ({ userCPUTime: Math.round(performance.now() * 1000), systemCPUTime: 0, maxRSS: 0 }),
  kill() {
    throw new Error('process.kill() is not available inside a fabricks sandbox: the program cannot signal processes');
  },
  on(name, fn) {
    processEvents.on(name, fn);
    return process;
  },
  once(name, fn) {
    processEvents.once(name, fn);
    return process;
  },
  off(name, fn) {
    processEvents.off(name, fn);
    return process;
  },
  addListener(name, fn) {
    return process.on(name, fn);
  },
  removeListener(name, fn) {
    return process.off(name, fn);
  },
  removeAllListeners(name) {
    processEvents.removeAllListeners(name);
    return process;
  },
  emit: (name, ...args) => processEvents.emit(name, ...args),
  listenerCount: (name) => processEvents.listenerCount(name),
  listeners: (name) => processEvents.listeners(name),
  prependListener(name, fn) {
    processEvents.prependListener(name, fn);
    return process;
  },
  setMaxListeners() {
    return process;
  },
  getMaxListeners: () => 10,
  // `Object.prototype.toString.call(process) === '[object process]'` is how many packages tell Node
  [Symbol.toStringTag]: 'process',
};

/** emitWarning's arguments, as Node takes them: (warning, type, code) or (warning, { type, code, detail }). */
function warningOf(warning, type, code) {
  let detail;
  if (type !== null && typeof type === 'object') ({ type, code, detail } = type);
  if (warning instanceof Error) return warning;
  const w = new Error(String(warning));
  w.name = typeof type === 'string' && type ? type : 'Warning';
  if (code !== undefined) w.code = code;
  if (detail !== undefined) w.detail = detail;
  return w;
}

setEnding(finish, fatal);
