// What SpiderMonkey throws when an allocation fails: its heap of objects is capped (at 32 MiB,
// by StarlingMonkey) and the host caps memory at the 2 GiB the runtime can address
// (src/runtimes/node/runtime.ts). Saying so must not need memory: the message is staged at the
// start, and `lastWords` writes it and exits through the bindings' bare functions
// (src/tools/componentize-js-bindings.ts).

import { encoder } from './natives.js';
import { stderrStream } from './output.js';

export const OUT_OF_MEMORY = 'out of memory';
const OUT_OF_MEMORY_MESSAGE = encoder.encode('fabricks: the program ran out of memory (JavaScript heap out of memory)\n');
let lastWords;

/** Stages the message at the start of a run, while there is memory to do it. */
export function prepareLastWords() {
  lastWords = globalThis.__fabricksLastWords?.(stderrStream(), OUT_OF_MEMORY_MESSAGE);
  delete globalThis.__fabricksLastWords;
}

export function sayLastWords() {
  lastWords?.();
}
