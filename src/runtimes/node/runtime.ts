import { join } from 'node:path';
import { packageRoot } from '../../util/paths.js';
import type { BuiltinRuntime, RuntimeKind } from '../kind.js';
import { npmPackages } from './published.js';

/** JavaScript: bundled with esbuild into one script that the runtime's bootstrap runs. */
export const javascript: RuntimeKind = {
  language: 'javascript',
  extensions: ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts', '.jsx', '.tsx'],
  // esbuild and the rest load only when something is packed
  pack: async ({ config, files, reporter }) => (await import('./pack.js')).bundledFiles(config, files, reporter),
  builder: async () => (await import('./build.js')).builder,
  acceptLoop: true,
  preparable: true,
  published: npmPackages,
};

export const nodeRuntime: BuiltinRuntime = {
  name: 'node',
  repository: 'runtimes/node',
  tag: '0.1',
  kind: javascript,
  guestDir: join(packageRoot, 'guest', 'node'),
  description: 'JavaScript on StarlingMonkey (SpiderMonkey), built with componentize-js 0.23.0',
  // componentize-js 0.23 hands memory addresses to JavaScript as signed 32-bit numbers: past
  // 2 GiB every call to the host fails (output is lost), so memory stops just short of it
  memoryLimit: 2047 * 2 ** 20,
};
