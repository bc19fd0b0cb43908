// Starting the user's bundle: read, given its environment, and run (a promise of its end).

import { getArguments, getEnvironment } from './host.js';
import { entryName, readEntry, WRAPPER } from './entry.js';
import { install } from './globals.js';
import { withoutDenials } from './fetch-denials.js';
import { takePrepared } from './prepare.js';

/** Reads the entrypoint and its source map, installs the environment, and starts the bundle. */
export function startMain() {
  // compiled, or its dependencies evaluated, ahead in a snapshot (prepare.js), else read now
  const ahead = takePrepared();
  const code = ahead ? undefined : readEntry();
  if (!ahead && code === undefined) return undefined;
  install(getArguments(), Object.fromEntries(withoutDenials(getEnvironment())));
  if (ahead) return ahead();
  // Wrapped in an async function so that top-level await works; the wrapper shares the
  // bundle's first line, so line numbers stay those of the bundle. It may throw synchronously.
  // Called from here, as a snapshot's is: no frame of a stack points at the wrapper's call.
  return (0, eval)(`${WRAPPER}${new TextDecoder().decode(code)}\n})\n//# sourceURL=${entryName}`)();
}
