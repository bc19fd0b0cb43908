import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { inject } from 'vitest';
import { events, repoRoot } from './helpers.js';

/** A `fabricks run` serving HTTP, started by a test. */
export interface Served {
  port: number;
  url: string;
  child: ChildProcess;
  /** Everything it printed on stderr so far. */
  stderr(): string;
  stdout(): string;
  /** Sends the signal and waits for the exit status. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `fabricks run --progress json <args>` and waits for its `serving` event or line (the
 * port it listens on: tests pass --listen 127.0.0.1:0 for a free one). Rejects with its output
 * if it exits before serving.
 */
export function serveProject(args: string[], options: { env?: Record<string, string> } = {}): Promise<Served> {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'fabricks.js'), 'run', '--progress', 'json', ...args], {
    cwd: repoRoot,
    env: { ...process.env, FABRICKS_HOME: inject('fabricksHome'), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const serving = events(stderr).find((e) => e.event === 'serving');
      const port = serving?.event === 'serving' ? serving.port : Number(/serving .* on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr)?.[1] ?? 0);
      if (port) {
        resolve({
          port,
          url: `http://127.0.0.1:${port}`,
          child,
          stderr: () => stderr,
          stdout: () => stdout,
          stop: (signal = 'SIGINT') => {
            child.kill(signal);
            return exited;
          },
        });
      }
    });
    void exited.then((code) => reject(new Error(`fabricks run exited (${code}) before serving:\n${stderr}`)));
  });
}

/** The request log events a server printed, once there are at least `count` (they follow the response). */
export async function requestLog(s: Served, count: number): Promise<Array<{ method: string; path: string; status: number; error?: string }>> {
  for (let i = 0; i < 200; i++) {
    const log = events(s.stderr()).filter((e) => e.event === 'request');
    if (log.length >= count) return log as never;
    await new Promise((r) => setTimeout(r, 25));
  }
  return events(s.stderr()).filter((e) => e.event === 'request') as never;
}
