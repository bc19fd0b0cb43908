import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { digestHex, type Digest } from '../oci/digest.js';
import { startStep, type Reporter } from '../util/progress.js';
import { FabricksError } from '../util/errors.js';
import { markUsed, transpileKey, trimCaches, type TranspileCachePolicy } from './transpile-cache.js';

export interface Transpiled {
  dir: string;
  imports: string[];
}

/**
 * jco's transpiled output for a component, cached by the component's digest: the first run
 * transpiles (about 1 to 2 s for a 12 MB runtime), later runs only load it. Instantiation is
 * synchronous (core modules compiled ahead and handed over), so a server's worker can make a
 * fresh instance inside a request (home.ts names the cache folder after this layout). With a
 * `policy`, the entry is leased for this process first (a gc elsewhere spares it), its use is
 * recorded, and a new entry trims the cache to its limit (only then can it have grown).
 */
export async function transpiled(cacheDir: string, digest: Digest, bytes: () => Promise<Uint8Array>, reporter: Reporter, policy?: TranspileCachePolicy): Promise<Transpiled> {
  const dir = join(cacheDir, digestHex(digest));
  const metaFile = join(dir, 'fabricks.json');
  await policy?.leases.hold([transpileKey(digest)]);
  try {
    const meta = JSON.parse(await readFile(metaFile, 'utf8')) as { imports: string[] };
    if (policy) await markUsed(dir);
    return { dir, imports: meta.imports };
  } catch {
    /* not cached yet */
  }
  const done = startStep(reporter, 'transpile', digest);
  const { transpileBytes } = await import('@bytecodealliance/jco-transpile');
  let result: { files: Record<string, Uint8Array | string>; imports: string[] };
  try {
    result = (await transpileBytes(await bytes(), {
      name: 'component',
      instantiation: 'sync',
      emitTypescriptDeclarations: false,
    } as never)) as typeof result;
  } catch (cause) {
    if (cause instanceof FabricksError) throw cause;
    throw new FabricksError('COMPONENT_INVALID', `component ${digest} cannot be prepared to run: ${String((cause as Error)?.message ?? cause).split('\n')[0]}`, {
      cause,
      hint: 'it is not a valid WebAssembly component; pull or build it again',
    });
  }
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(tmp, { recursive: true });
  try {
    let size = 0;
    for (const [name, content] of Object.entries(result.files)) {
      if (name.endsWith('.d.ts')) continue;
      await mkdir(dirname(join(tmp, name)), { recursive: true });
      await writeFile(join(tmp, name), content);
      size += typeof content === 'string' ? Buffer.byteLength(content) : content.length;
    }
    await writeFile(join(tmp, 'package.json'), '{"type":"module"}\n');
    // its size, so trimming the cache need not walk every entry
    await writeFile(join(tmp, 'fabricks.json'), JSON.stringify({ imports: result.imports, bytes: size }));
    await mkdir(dirname(dir), { recursive: true });
    await rename(tmp, dir).catch(async (e: NodeJS.ErrnoException) => {
      // Another run finished the same transpile first; theirs is as good as ours.
      if (!(await stat(metaFile).catch(() => undefined))) throw e;
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  done({ digest });
  // a cache that cannot be trimmed now is trimmed by the next transpile or gc: never fail a run for it
  if (policy) await trimCaches(policy.caches ?? [{ name: 'transpiled', dir: cacheDir, key: transpileKey }], policy.limit, policy.leases.dir).catch(() => undefined);
  return { dir, imports: result.imports };
}

