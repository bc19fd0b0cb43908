import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256, type Digest } from '../oci/digest.js';
import { packageRoot } from '../util/paths.js';

/**
 * fabricks' own code that turns sources into a module layer (the bundler and its plug-ins, the
 * packers, the layer writer). Its digest is part of the build cache key, so a fabricks whose
 * bundling changed (a fix for a package's bin that was dropped, a built-in now stubbed) never
 * takes a build made by the code before it from the cache. Polyfills and npm files bundled in
 * are checked apart, by their digests in the build record.
 */
const SHAPING = ['builder', 'compose', 'runtimes'];

const COMPILED = /\.js$/;

let memo: Promise<Digest> | undefined;

/** The digest of the shaping code as installed (its compiled .js files), computed once a process. */
export function buildCodeDigest(): Promise<Digest> {
  return (memo ??= compute());
}

async function compute(): Promise<Digest> {
  const dist = join(packageRoot, 'dist');
  const parts: string[] = [];
  for (const dir of SHAPING) {
    // fabricks' compiled modules (not their source maps, nor the folders readdir lists too)
    const names = (await readdir(join(dist, dir), { recursive: true })).filter((n) => COMPILED.test(n));
    for (const name of names) parts.push(`${dir}/${name} ${sha256(await readFile(join(dist, dir, name)))}`);
  }
  return sha256(parts.sort().join('\n'));
}
