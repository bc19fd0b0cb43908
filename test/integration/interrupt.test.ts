import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exists, jsToml, project, repoRoot, storeSnapshot } from '../helpers.js';

/** Processes whose environment names this folder (componentize-js and its children get TMPDIR under it). */
async function processesUsing(folder: string): Promise<number[]> {
  const found: number[] = [];
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const env = await readFile(`/proc/${pid}/environ`, 'latin1').catch(() => '');
    if (env.includes(`TMPDIR=${folder}`)) found.push(Number(pid));
  }
  return found;
}

/**
 * Starts `fabricks build` in a fresh home, which must build the runtime first, and sends
 * `signal` once the runtime build has started.
 */
async function interruptedBuild(signal: NodeJS.Signals) {
  const home = await mkdtemp(join(tmpdir(), 'fabricks-interrupt-'));
  const dir = await project({ 'fabricks.toml': jsToml(), 'main.js': 'console.log("never built");\n' });
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'fabricks.js'), 'build', dir, '--progress', 'json'], {
    env: { ...process.env, FABRICKS_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let sentAt = 0;
  let toolsWhileRunning: number[] = [];
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (!sentAt && stderr.includes('"step":"runtime-build"') && stderr.includes('"event":"step-start"')) {
      sentAt = Date.now();
      // let componentize-js get going, then interrupt it
      setTimeout(async () => {
        toolsWhileRunning = await processesUsing('/tmp/fabricks-runtime-build/node/tmp');
        child.kill(signal);
      }, 1500);
    }
  });
  const status = await closed;
  return { home, dir, status, stderr, stoppedInMs: Date.now() - sentAt - 1500, toolsWhileRunning };
}

describe('interrupting a command', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s during a runtime build stops the tool, leaves no output and exits %s', async (signal, expected) => {
    const r = await interruptedBuild(signal);
    expect(r.toolsWhileRunning.length, 'componentize-js was running when the signal came').toBeGreaterThan(0);
    expect(r.status, r.stderr).toBe(expected);
    expect(r.stderr).toContain('error: interrupted');
    expect(r.stoppedInMs).toBeLessThan(5000);
    // the tool's whole process group is gone
    expect(await processesUsing('/tmp/fabricks-runtime-build/node/tmp')).toEqual([]);
    // nothing half-done: no output, no lock file, no runtime in the store, no temporary blobs
    expect(await exists(join(r.dir, '.fabricks', 'app.wasm'))).toBe(false);
    expect(await exists(join(r.dir, 'fabricks.lock'))).toBe(false);
    expect(JSON.parse(await storeSnapshot(r.home))).toEqual({ index: '', blobs: [] });
    expect(await exists('/tmp/fabricks-runtime-build/node')).toBe(false);
    expect(await exists('/tmp/fabricks-runtime-build.lock')).toBe(false);
  });
});
