import { join } from 'node:path';
import { componentizeJs, COMPONENTIZE_JS_VERSION } from '../../tools/componentize-js.js';
import { BINDINGS_JS } from '../../tools/componentize-js-bindings.js';
import type { RuntimeBuilder } from '../kind.js';

/** The node runtime: StarlingMonkey built by componentize-js around the bootstrap. */
export const builder: RuntimeBuilder = {
  tool: 'componentize-js',
  version: COMPONENTIZE_JS_VERSION,
  // StarlingMonkey in componentize-js 0.23 speaks WASI 0.2.10
  wasi: '0.2.10',
  // the guest files the build takes
  sources: /\.(js|wit)$/,
  // what fabricks puts into componentize-js's bindings (without it the runtime leaks what it writes)
  inputs: async () => [['build/bindings.js', BINDINGS_JS]],
  async build(job) {
    await componentizeJs({
      sourcePath: join(job.src, 'bootstrap.js'),
      witPath: join(job.src, 'wit'),
      worldName: 'runtime',
      outPath: job.out,
      tmpDir: job.tmpDir,
      // the runtime serves wasi:http/incoming-handler itself (bootstrap.js), so that one
      // instance serves request after request; StarlingMonkey's fetch event cannot (#247)
      disableFeatures: ['fetch-event'],
      ...(job.preload ? { preload: job.preload } : {}),
      signal: job.signal,
    });
  },
};
