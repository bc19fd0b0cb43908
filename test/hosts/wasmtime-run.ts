import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { wasmtimeCli } from './wasmtime-serve.js';

/**
 * `wasmtime run` of a component's wasi:cli/run, granting stdio and arguments only: a standard
 * WASI 0.2 host that is not fabricks' engine. Winch, wasmtime's baseline compiler, compiles a
 * 14–32 MB component with about a fifth of Cranelift's CPU, and each test's component is new
 * (nothing to cache); what is tested is the component and WASI, not the code generator.
 */
export function wasmtimeRun(component: string, args: string[] = [], input = ''): SpawnSyncReturns<string> {
  const r = spawnSync(wasmtimeCli, ['run', '-C', 'compiler=winch', '-C', 'cache=n', '-S', 'http', component, ...args], { input, encoding: 'utf8' });
  if (r.error) throw new Error(`the wasmtime CLI is not installed at ${wasmtimeCli}: run npm run setup (${r.error.message})`);
  return r;
}
