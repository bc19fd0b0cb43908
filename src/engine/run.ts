import { readdirSync, readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { join } from 'node:path';
import { FabricksError } from '../util/errors.js';
import { ExitSignal, importsFor, type Grants } from './host.js';
import type { Transpiled } from './transpile.js';
import { loadComponentScript } from './component-script.js';

// CPython built by componentize-py uses extended constant expressions, which V8 ships from 11.4
// on (Node 21); Node 20's V8 11.3 has them behind a flag, set before anything is compiled.
const [v8Major = 0, v8Minor = 0] = process.versions.v8.split('.').map(Number);
if (v8Major < 11 || (v8Major === 11 && v8Minor < 4)) v8.setFlagsFromString('--experimental-wasm-extended-const');

/** Node's WebAssembly global (not in the ES library typings). */
const wasm = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<unknown> } }).WebAssembly;

/** jco's sync instantiate(), from the transpiled component.js. */
export type Instantiate = (getCore: (name: string) => unknown, imports: Record<string, unknown>) => Record<string, unknown>;

/** The transpiled component's instantiate() and its core modules, compiled once. */
export async function loadComponent(t: Transpiled): Promise<{ instantiate: Instantiate; modules: Map<string, unknown>; saveCache: () => void }> {
  const script = await loadComponentScript(t.dir);
  const names = readdirSync(t.dir).filter((n) => n.endsWith('.wasm'));
  // one synchronous read per file: the threadpool's chunked reads of 32 MB cost more than they overlap
  const modules = new Map(await Promise.all(names.map(async (n) => [n, await wasm.compile(readFileSync(join(t.dir, n)))] as const)));
  return { instantiate: script.exports.instantiate as Instantiate, modules, saveCache: script.saveCache };
}

/**
 * Runs the component's wasi:cli/run export in this process and returns its exit status.
 * `provided` implements non-WASI imports (a runtime layer run on its own gets its
 * fabricks:app/source from the host).
 */
export interface RunOutcome {
  status: number;
  /** Why the engine stopped the component, when it trapped (the CLI reports it). */
  trap?: string;
  /** The wasmtime host's own phases, in ms (scripts/profile-run.mjs shows them). */
  phases?: Record<string, number>;
}

export async function runComponent(t: Transpiled, grants: Grants, provided: Record<string, unknown> = {}): Promise<RunOutcome> {
  const { instantiate, modules, saveCache } = await loadComponent(t);
  const imports = { ...importsFor(t.imports.filter((i) => !(i.replace(/@.*$/, '') in provided)), grants), ...provided };
  const instance = instantiate((name) => modules.get(name), imports);
  saveCache();
  const runKey = Object.keys(instance).find((k) => k.startsWith('wasi:cli/run@')) ?? 'run';
  const run = instance[runKey] as { run?: () => unknown } | undefined;
  if (!run?.run) throw new FabricksError('RUN_FAILED', 'the component does not export wasi:cli/run');
  try {
    run.run();
    return { status: 0 };
  } catch (e) {
    if (e instanceof ExitSignal) return { status: e.code };
    const err = e as { name?: string; payload?: unknown; message?: string };
    if (err?.name === 'ComponentError') return { status: 1 }; // run returned err
    // A trap: the program hit something the engine could not continue from.
    return { status: 1, trap: err?.message ?? String(e) };
  }
}
