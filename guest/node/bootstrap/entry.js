// The user's bundle in the module layer: its name, its code and its source map.

import { entrypoint, read } from './host.js';
import { setSourceMapReader } from './source-map.js';

// The bundle runs wrapped in an async function so that top-level await works; the wrapper shares
// the bundle's first line, so line numbers stay those of the bundle.
export const WRAPPER = '(async () => {';
export let entryName = '';

/** Reads the entrypoint's name and its code (undefined when the layer lacks it); its source map is read when an error needs it. */
export function readEntry() {
  entryName = entrypoint();
  const code = read(entryName);
  if (code === undefined || code === null) return undefined;
  const name = entryName;
  setSourceMapReader(() => read(`${name}.map`));
  return code;
}
