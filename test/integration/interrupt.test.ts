import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { events, exists, fabricks, jsToml, project, repoRoot, storeSnapshot } from '../helpers.js';

/** Processes whose environment names this folder (componentize-js and its children get TMPDIR under it). */
async function processesUsing(folder: string): Promise<number[]> {
  const found: number[] = [];
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const env = await readFile(`/proc/${pid}/environ`, 'latin1').catch(() => '');
    if (env.includes(`TMPDIR=${folder}`)) found.push(Number(pid));
  }
  return found;
}

/** Which of these processes still run (a zombie counts as gone). */
async function alive(pids: number[]): Promise<number[]> {
  const out: number[] = [];
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (stat && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z') out.push(pid);
  }
  return out;
}

/** The pid that holds the machine-wide runtime-build lock, if any. */
async function lockHolder(): Promise<number | undefined> {
  const owner = await readFile('/tmp/fabricks-runtime-build.lock/owner.json', 'utf8').catch(() => undefined);
  return owner ? (JSON.parse(owner) as { pid: number }).pid : undefined;
}

/**
 * Starts `fabricks build` in a fresh home, which must build the runtime first, and sends
 * `signal` once the runtime build has started.
 */
async function interruptedBuild(signal: NodeJS.Signals | 'SIGKILL') {
  const home = await mkdtemp(join(tmpdir(), 'fabricks-interrupt-'));
  const dir = await project({ 'fabricks.toml': jsToml(), 'main.js': 'console.log("never built");\n' });
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'fabricks.js'), 'build', dir, '--progress', 'json'], {
    env: { ...process.env, FABRICKS_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let sentAt = 0;
  let signalledAt = 0;
  let toolsWhileRunning: number[] = [];
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    // its own runtime build under way (not a wait for another build holding the machine-wide lock)
    if (!sentAt && events(stderr).some((e) => e.event === 'step-start' && e.step === 'runtime-build')) {
      sentAt = Date.now();
      // once componentize-js is running (polled, bounded: the machine may be busy), interrupt it
      void (async () => {
        const deadline = Date.now() + 30_000;
        while (toolsWhileRunning.length === 0 && Date.now() < deadline) {
          await new Promise((w) => setTimeout(w, 100));
          toolsWhileRunning = await processesUsing('/tmp/fabricks-runtime-build/node/tmp');
        }
        signalledAt = Date.now();
        child.kill(signal);
      })();
    }
  });
  const status = await closed;
  return { home, dir, status, stderr, stoppedInMs: Date.now() - signalledAt, toolsWhileRunning, pid: child.pid };
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
    // the tool's whole process group is gone (other tests may be building runtimes meanwhile: only ours count)
    // (killed with their group; the last may take a moment to be reaped after fabricks exits)
    await expect.poll(() => alive(r.toolsWhileRunning), { timeout: 3000 }).toEqual([]);
    // nothing half-done: no output, no lock file, no runtime in the store, no temporary blobs
    expect(await exists(join(r.dir, '.fabricks', 'app.wasm'))).toBe(false);
    expect(await exists(join(r.dir, 'fabricks.lock'))).toBe(false);
    expect(JSON.parse(await storeSnapshot(r.home))).toEqual({ index: '', blobs: [] });
    // the machine-wide build lock is released (another test's build may hold it now, not ours)
    expect(await lockHolder()).not.toBe(r.pid);
  });
});

describe('a fabricks that is killed outright', () => {
  it('takes its tools with it, and its locks do not hold up the next command', async () => {
    const r = await interruptedBuild('SIGKILL');
    expect(r.toolsWhileRunning.length).toBeGreaterThan(0);
    expect(r.status).toBe(null); // killed: no handler ran
    // the tools' watcher sees the lifeline end and ends their process group
    const deadline = Date.now() + 3000;
    while ((await alive(r.toolsWhileRunning)).length > 0 && Date.now() < deadline) await new Promise((w) => setTimeout(w, 100));
    // (killed with their group; the last may take a moment to be reaped after fabricks exits)
    await expect.poll(() => alive(r.toolsWhileRunning), { timeout: 3000 }).toEqual([]);
    // the runtime-build lock it left names a process that is gone: the next build breaks it at once
    const again = await fabricks(['build', r.dir, '--json', '--progress', 'json'], { home: r.home });
    expect(again.status, again.stderr).toBe(0);
    expect(events(again.stderr).filter((e) => e.event === 'wait')).toEqual([]);
    const shared = JSON.parse((await fabricks(['runtime', 'list', '--json'])).stdout) as Array<{ stored: { digest: string } }>;
    expect(JSON.parse(again.stdout).runtime.digest).toBe(shared[0]!.stored.digest);
  });

  it('leaves no store lock that makes a build wait: a dead holder is broken at once, an unowned one after a grace', async () => {
    const dir = await project({ 'fabricks.toml': jsToml('main.js', '\n[package]\nname = "left-lock"\n'), 'main.js': 'console.log("lock");\n' });
    const home = await mkdtemp(join(tmpdir(), 'fabricks-lock-home-'));
    // a home of its own (it builds its runtime once), so the leftover lock touches no other test
    const first = await fabricks(['build', dir, '-q'], { home });
    expect(first.status, first.stderr).toBe(0);
    const lock = join(home, 'store', 'index.json.lock');
    const dead = spawn('true');
    await new Promise((w) => dead.on('exit', w));
    await mkdir(lock);
    await writeFile(join(lock, 'owner.json'), JSON.stringify({ pid: dead.pid, host: hostname(), since: Date.now() }));
    await writeFile(join(dir, 'main.js'), 'console.log("lock 2");\n');
    const started = Date.now();
    const r = await fabricks(['build', dir, '-q'], { home });
    expect(r.status, r.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await exists(lock)).toBe(false);

    // a lock folder from an older fabricks (no owner inside), left long ago
    await mkdir(lock);
    await utimes(lock, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    await writeFile(join(dir, 'main.js'), 'console.log("lock 3");\n');
    const old = await fabricks(['build', dir, '-q'], { home });
    expect(old.status, old.stderr).toBe(0);
  });
});
