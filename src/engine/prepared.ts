import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { engineBinary, type ComponentFile } from './process.js';

/**
 * Pre-initialized apps (crates/engine/src/prepare.rs, docs/architecture.md): an app's runtime
 * layer snapshotted after its `prepare` export ran for that app, kept compiled in the compiled
 * cache (leased, listed and trimmed with it) under a key of everything it was made from. Local
 * and derived: never pushed.
 */

/** Bumped when what `prepare` does, or how a snapshot resumes, changes. */
export const PREPARE_PROTOCOL = 2;

let identity: string | undefined;

/** The installed engine: the hash of the sources it was built from, else its file's size and time. */
function engineIdentity(): string {
  if (identity !== undefined) return identity;
  const bin = engineBinary();
  try {
    identity = readFileSync(join(dirname(dirname(bin)), 'source.sha256'), 'utf8').trim();
  } catch {
    const s = statSync(bin, { throwIfNoEntry: false });
    identity = s ? `${s.size}-${s.mtimeMs}` : 'none';
  }
  return identity;
}

/** The cache key (hex) of the prepared form of `runtime` for the app `module`. */
export function preparedKey(runtime: ComponentFile, module: ComponentFile): string {
  return createHash('sha256').update(`fabricks-prepared\0${PREPARE_PROTOCOL}\0${runtime.hex}\0${module.hex}\0${engineIdentity()}`).digest('hex');
}

/**
 * The component to run for `runtime` answering `module`: the prepared form when the cache holds
 * it (only the cache: `cachedOnly`), else undefined and the runtime runs as it is.
 */
export async function preparedForm(cacheDir: string, runtime: ComponentFile, module: ComponentFile): Promise<ComponentFile | undefined> {
  const hex = preparedKey(runtime, module);
  const there = await access(join(cacheDir, hex, 'component.cwasm')).then(() => true, () => false);
  return there ? { path: runtime.path, hex, cachedOnly: true } : undefined;
}

/** Whether the cache records that the app could not be prepared (so a run need not say it is not). */
export async function preparedRefused(cacheDir: string, runtime: ComponentFile, module: ComponentFile): Promise<boolean> {
  const meta = join(cacheDir, preparedKey(runtime, module), 'fabricks.json');
  return access(meta).then(() => readFileSync(meta, 'utf8').includes('"refused"'), () => false);
}

/**
 * The variables the app's imports looked up while it was prepared (all absent then), from the
 * guest's report kept beside the form (crates/engine/src/prepare.rs); `*` when they listed them
 * all. Empty for a form whose runtime reports none (JavaScript: the engine refuses any look).
 */
export function preparedEnviron(cacheDir: string, form: ComponentFile): string[] {
  try {
    const report = JSON.parse(readFileSync(join(cacheDir, form.hex, 'prepared.json'), 'utf8')) as { environ?: unknown };
    return Array.isArray(report.environ) ? report.environ.filter((n): n is string => typeof n === 'string') : [];
  } catch {
    // none written (a form made before reports were kept, or a JavaScript one): nothing looked up
    return [];
  }
}

/** The variables this run sets that the prepared imports looked up (they saw none): the form would not behave as without it. */
export function environConflicts(looked: string[], env: Array<[string, string]>): string[] {
  if (looked.includes('*')) return env.map(([name]) => name);
  const set = new Set(env.map(([name]) => name));
  return looked.filter((n) => set.has(n));
}
