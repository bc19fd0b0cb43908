// The Node modules the runtime serves itself, which a bundle imports by Node's names; the build
// maps those names to these (src/runtimes/node/node-modules.ts).

import { process } from './process.js';
import { EventEmitter, eventsOnce } from './event-emitter.js';
import { Interface } from './readline.js';
import { fs } from './fs.js';

export const nodeModules = {
  process,
  events: Object.assign(EventEmitter, { EventEmitter, default: EventEmitter, once: eventsOnce }),
  readline: { createInterface: (opts) => new Interface(opts.input ?? opts), Interface },
  fs,
  'fs/promises': fs.promises,
};
