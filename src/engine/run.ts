import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import v8 from 'node:v8';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FabricksError } from '../util/errors.js';
import { digestHex, type Digest } from '../oci/digest.js';
import type { Reporter } from '../util/progress.js';
import { ExitSignal, importsFor, type Grants } from './host.js';

// CPython built by componentize-py uses extended constant expressions, which V8 ships from 11.4
// on (Node 21); Node 20's V8 11.3 has them behind a flag, set before anything is compiled.
const [v8Major = 0, v8Minor = 0] = process.versions.v8.split('.').map(Number);
if (v8Major < 11 || (v8Major === 11 && v8Minor < 4)) v8.setFlagsFromString('--experimental-wasm-extended-const');

/** Node's WebAssembly global (not in the ES library typings). */
const wasm = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<unknown> } }).WebAssembly;

export interface Transpiled {
  dir: string;
  imports: string[];
}

/**
 * jco's transpiled output for a component, cached by the component's digest: the first run
 * transpiles (about 1 to 2 s for a 12 MB runtime), later runs only load it.
 */
export async function transpiled(cacheRoot: string, digest: Digest, bytes: () => Promise<Uint8Array>, reporter: Reporter, what = 'the component'): Promise<Transpiled> {
  const dir = join(cacheRoot, 'transpiled', digestHex(digest));
  const metaFile = join(dir, 'fabricks.json');
  try {
    const meta = JSON.parse(await readFile(metaFile, 'utf8')) as { imports: string[] };
    return { dir, imports: meta.imports };
  } catch {
    /* not cached yet */
  }
  const started = Date.now();
  reporter({ kind: 'start', step: 'transpile', message: `preparing ${what} to run on this machine (once per build)` });
  const { transpileBytes } = await import('@bytecodealliance/jco-transpile');
  const result = await transpileBytes(await bytes(), {
    name: 'component',
    instantiation: 'async',
    emitTypescriptDeclarations: false,
  } as never);
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(tmp, { recursive: true });
  try {
    for (const [name, content] of Object.entries(result.files)) {
      if (name.endsWith('.d.ts')) continue;
      await mkdir(dirname(join(tmp, name)), { recursive: true });
      await writeFile(join(tmp, name), content);
    }
    await writeFile(join(tmp, 'package.json'), '{"type":"module"}\n');
    await writeFile(join(tmp, 'fabricks.json'), JSON.stringify({ imports: result.imports }));
    await mkdir(dirname(dir), { recursive: true });
    await rename(tmp, dir).catch(async (e: NodeJS.ErrnoException) => {
      // Another run finished the same transpile first; theirs is as good as ours.
      if (!(await stat(metaFile).catch(() => undefined))) throw e;
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  reporter({ kind: 'done', step: 'transpile', message: `prepared ${what}`, ms: Date.now() - started });
  return { dir, imports: result.imports };
}

/**
 * Runs the component's wasi:cli/run export in this process and returns its exit status.
 * `provided` implements non-WASI imports (a runtime layer run on its own gets its
 * fabricks:app/source from the host).
 */
export async function runComponent(t: Transpiled, grants: Grants, provided: Record<string, unknown> = {}): Promise<number> {
  const mod = (await import(pathToFileURL(join(t.dir, 'component.js')).href)) as {
    instantiate: (getCore: (name: string) => Promise<unknown>, imports: Record<string, unknown>) => Promise<Record<string, unknown>>;
  };
  const imports = { ...importsFor(t.imports.filter((i) => !(i.replace(/@.*$/, '') in provided)), grants), ...provided };
  const instance = await mod.instantiate(async (name) => wasm.compile(await readFile(join(t.dir, name))), imports);
  const runKey = Object.keys(instance).find((k) => k.startsWith('wasi:cli/run@')) ?? 'run';
  const run = instance[runKey] as { run?: () => unknown } | undefined;
  if (!run?.run) throw new FabricksError('RUN_FAILED', 'the component does not export wasi:cli/run');
  try {
    run.run();
    return 0;
  } catch (e) {
    if (e instanceof ExitSignal) return e.code;
    const err = e as { name?: string; payload?: unknown; message?: string };
    if (err?.name === 'ComponentError') return 1; // run returned err
    // A trap: the program hit something the engine could not continue from.
    process.stderr.write(`fabricks: the component trapped: ${err?.message ?? String(e)}\n`);
    return 1;
  }
}
