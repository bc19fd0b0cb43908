import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { inject } from 'vitest';
import { repoRoot } from '../helpers.js';
import { freePort } from '../registry-servers.js';
import type { Served } from './wasmtime-serve.js';

/**
 * `fabricks run <dir> --listen <free port>` in a child process, resolved once it serves
 * (`allowListen` grants that port for the run, for a service that does not ask to listen).
 */
export async function fabricksServe(dir: string, args: string[] = [], options: { env?: Record<string, string>; allowListen?: boolean } = {}): Promise<Served> {
  const port = await freePort();
  const allow = options.allowListen ? ['--allow-listen', String(port)] : [];
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'fabricks.js'), 'run', dir, '--listen', String(port), ...allow, ...args], {
    env: { ...process.env, FABRICKS_HOME: inject('fabricksHome'), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stdout.resume();
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', () => {
      if (err.includes(`on http://127.0.0.1:${port}`)) resolve();
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`fabricks run ended (status ${code}): ${err}`)));
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    url: `http://127.0.0.1:${port}`,
    stderr: () => err,
    async stop() {
      child.kill('SIGINT');
      await exited;
    },
  };
}
