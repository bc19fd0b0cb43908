import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { componentizeJs, COMPONENTIZE_JS_VERSION } from '../../tools/componentize-js.js';
import { BINDINGS_JS } from '../../tools/componentize-js-bindings.js';
import type { RuntimeBuilder } from '../kind.js';
import { bundleBootstrap } from './bootstrap-bundle.js';

/** The bundler of the bootstrap's modules: another esbuild may bundle them into another script. */
const ESBUILD_VERSION = (createRequire(import.meta.url)('esbuild/package.json') as { version: string }).version;

/** The node runtime: StarlingMonkey built by componentize-js around the bootstrap (guest/node). */
export const builder: RuntimeBuilder = {
  tool: 'componentize-js',
  version: COMPONENTIZE_JS_VERSION,
  // StarlingMonkey in componentize-js 0.23 speaks WASI 0.2.10
  wasi: '0.2.10',
  // the guest files the build takes
  sources: /\.(js|wit)$/,
  inputs: async () => [
    // what fabricks puts into componentize-js's bindings (without it the runtime leaks what it writes)
    ['build/bindings.js', BINDINGS_JS],
    ['build/esbuild-version', ESBUILD_VERSION],
  ],
  async build(job) {
    // the bootstrap's modules become the one script componentize-js takes, where the single
    // bootstrap.js used to be (the paths it builds in are kept in the snapshot)
    const bootstrap = join(job.src, 'bootstrap.js');
    await writeFile(bootstrap, await bundleBootstrap(join(job.src, 'bootstrap', 'index.js')));
    await componentizeJs({
      sourcePath: bootstrap,
      witPath: join(job.src, 'wit'),
      worldName: 'runtime',
      outPath: job.out,
      tmpDir: job.tmpDir,
      // the runtime serves wasi:http/incoming-handler itself (bootstrap/serve.js), so that one
      // instance serves request after request; StarlingMonkey's fetch event cannot (#247)
      disableFeatures: ['fetch-event'],
      ...(job.preload ? { preload: job.preload } : {}),
      signal: job.signal,
    });
  },
};
