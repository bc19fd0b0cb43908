/**
 * Loads jco's transpiled component.js with V8's code cache. A runtime's component.js is large
 * (2 MB for CPython): parsing and compiling it was a fifth of a warm run. Node 20 has no compile
 * cache for ES modules (module.enableCompileCache is Node 22), but vm.Script takes V8's cached
 * data, so the module (instantiation 'sync': no imports, only `export function instantiate` and
 * `export const _util`) is run as a script, with its exports returned. The cache sits next to
 * it, written after the first instantiation (so the functions instantiation compiled are in
 * it); V8 rejects data from another V8 version or flags, and it is written again. Anything
 * unexpected in the file: it is imported as the module it is.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Script } from 'node:vm';

export interface ComponentScript {
  exports: { instantiate: unknown };
  /** Writes the code cache when there is none usable (call after instantiating). */
  saveCache(): void;
}

export const CODE_CACHE_FILE = 'component.js.v8-cache';

const EXPORTS = /^export (function instantiate\(|const _util = )/gm;

/** The module as a script returning its exports, or undefined when it is not the expected shape. */
export function asScript(source: string): string | undefined {
  // plain substring tests: a regular expression over 2 MB costs more than the cache saves (an
  // import statement these miss makes the script fail to compile, and then it is imported)
  if (/^import[\s{*]/m.test(source) || source.includes('import.meta') || source.includes('import(')) return undefined;
  const exportLines = source.match(/^export\b.*$/gm) ?? [];
  if (exportLines.length !== 2 || (source.match(EXPORTS) ?? []).length !== 2) return undefined;
  // the wrapper opens on the module's first line, so line numbers in stack traces stay the module's
  return `(function () { 'use strict'; ${source.replace(EXPORTS, '$1')}\nreturn { instantiate, _util };\n})`;
}

export async function loadComponentScript(dir: string): Promise<ComponentScript> {
  const file = join(dir, 'component.js');
  const cacheFile = join(dir, CODE_CACHE_FILE);
  const wrapped = asScript(readFileSync(file, 'utf8'));
  if (!wrapped) return { exports: (await import(pathToFileURL(file).href)) as ComponentScript['exports'], saveCache: () => undefined };
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    /* first run of this component */
  }
  let script: Script;
  try {
    script = new Script(wrapped, { filename: pathToFileURL(file).href, ...(cachedData ? { cachedData } : {}) });
  } catch {
    return { exports: (await import(pathToFileURL(file).href)) as ComponentScript['exports'], saveCache: () => undefined };
  }
  const exports = (script.runInThisContext() as () => ComponentScript['exports'])();
  const usable = cachedData !== undefined && !script.cachedDataRejected;
  return {
    exports,
    saveCache: () => {
      if (usable) return;
      // a cache that cannot be written only costs the next run its compile time
      try {
        const tmp = `${cacheFile}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, cacheFile);
      } catch {
        /* read-only cache folder */
      }
    },
  };
}
