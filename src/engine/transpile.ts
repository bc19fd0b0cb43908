import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { digestHex, type Digest } from '../oci/digest.js';
import { startStep, type Reporter } from '../util/progress.js';
import { FabricksError } from '../util/errors.js';

/** Bumped when the transpiled output changes shape (v2: sync instantiation). */
const LAYOUT = 'v2';

export interface Transpiled {
  dir: string;
  imports: string[];
}

/**
 * jco's transpiled output for a component, cached by the component's digest: the first run
 * transpiles (about 1 to 2 s for a 12 MB runtime), later runs only load it. Instantiation is
 * synchronous (core modules compiled ahead and handed over), so a server's worker can make a
 * fresh instance inside a request; the folder name carries that layout's version.
 */
export async function transpiled(cacheDir: string, digest: Digest, bytes: () => Promise<Uint8Array>, reporter: Reporter): Promise<Transpiled> {
  const dir = join(cacheDir, `${digestHex(digest)}-${LAYOUT}`);
  const metaFile = join(dir, 'fabricks.json');
  try {
    const meta = JSON.parse(await readFile(metaFile, 'utf8')) as { imports: string[] };
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
  done({ digest });
  return { dir, imports: result.imports };
}

