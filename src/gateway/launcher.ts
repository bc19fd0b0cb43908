import { fileURLToPath } from 'node:url';
import type { ServerSpec } from './servers.js';

/** How the gateway starts a server: this install's own `fabricks run`, on the node running it. */
export interface Launcher {
  run(spec: ServerSpec): { command: string; args: string[]; env: Record<string, string> };
}

/** bin/fabricks.js of this install (from dist/gateway/ or src/gateway/ alike). */
export const FABRICKS_BIN = fileURLToPath(new URL('../../bin/fabricks.js', import.meta.url));

/**
 * `node bin/fabricks.js run <ref> [flags] -- [args]`. The child gets the gateway's environment:
 * `fabricks run` passes a service only the variables it is granted, and FABRICKS_HOME and the
 * registry logins are the launcher's to read. `quiet`: no progress from the child's own steps.
 */
export function fabricksLauncher(options: { quiet: boolean }): Launcher {
  return {
    run: (spec) => ({
      command: process.execPath,
      args: [FABRICKS_BIN, 'run', ...(options.quiet ? ['-q'] : []), spec.ref, ...spec.runArgs, ...(spec.args.length > 0 ? ['--', ...spec.args] : [])],
      env: Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined)),
    }),
  };
}
