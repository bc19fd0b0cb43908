import { join } from 'node:path';
import { packageRoot } from '../../util/paths.js';
import type { BuiltinRuntime, RuntimeKind } from '../kind.js';
import { pypiPackages } from './published.js';

/** Python: packed as it is, with its pure-Python dependencies; syntax checked by the runtime's own interpreter. */
export const python: RuntimeKind = {
  language: 'python',
  extensions: ['.py'],
  // the wheel and engine code loads only for a project that needs it
  dependencies: async ({ config, runtime, lock, ctx, wheels }) => (await import('./dependencies.js')).projectDependencies(config, runtime, lock, ctx, wheels),
  // the runtime imports the files from the layer as they are
  pack: async ({ files }) => ({ files: files.map((f) => ({ path: f.path, bytes: f.bytes })), external: [] }),
  check: async ({ config, runtime, files, ctx }) => (await import('./check.js')).checkProject(config, runtime, files, ctx),
  builder: async () => (await import('./build.js')).builder,
  // its `prepare` imports the entrypoint's top-level imports ahead (fabricks_runtime._prepare)
  preparable: true,
  // the runtime's CPython version: its tag
  published: pypiPackages(() => pythonRuntime.tag),
};

export const pythonRuntime: BuiltinRuntime = {
  name: 'python',
  repository: 'runtimes/python',
  // The interpreter inside: componentize-py 0.25.1 embeds CPython 3.14 (a test checks).
  tag: '3.14',
  kind: python,
  guestDir: join(packageRoot, 'guest', 'python'),
  description: 'CPython 3.14 with a pre-imported standard library, built with componentize-py 0.25.1',
};
