import { describe, expect, inject, it } from 'vitest';
import { spawn, type StdioOptions } from 'node:child_process';
import { existsSync, openSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fabricks, jsToml, project, repoRoot } from '../helpers.js';

/**
 * What a JavaScript program writes (issue 17): gigabytes to stdout or to a file arrive whole, in
 * memory that stays flat (componentize-js's bindings used to keep every byte written: the guest
 * grew 1:1 with its output, and past 2 GiB every write failed in silence); a write the host
 * refuses is an error; running out of memory says so (it said nothing, or the engine trapped).
 */

const MiB = 1 << 20;

/** The processes under `pid`, children first. */
function descendants(pid: number): number[] {
  let children: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      children.push(...readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
    }
  } catch {
    return [];
  }
  return children.flatMap((c) => [c, ...descendants(c)]);
}

/**
 * The peak resident memory (VmHWM) of the engine process that `fabricks run` (pid)
 * starts, read from outside every 100 ms until the run ends.
 */
function engineMemory(pid: number): { stop(): number } {
  let peak = 0;
  const look = () => {
    for (const p of descendants(pid)) {
      try {
        if (!readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('fabricks-engine')) continue;
        const kb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
        peak = Math.max(peak, kb * 1024);
      } catch {
        // gone meanwhile
      }
    }
  };
  const timer = setInterval(look, 100);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

interface Streamed {
  status: number | null;
  /** Bytes that arrived on stdout, counted, not kept. */
  bytes: number;
  stderr: string;
  /** The engine's peak resident memory. */
  peak: number;
}

/** `fabricks run dir -- args` with stdout counted through a pipe (or sent to `stdout`). */
function runCounting(dir: string, args: string[], stdout?: number): Promise<Streamed> {
  return new Promise((resolve, reject) => {
    const stdio: StdioOptions = ['ignore', stdout ?? 'pipe', 'pipe'];
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'fabricks.js'), 'run', '-q', dir, '--', ...args], {
      env: { ...process.env, FABRICKS_HOME: inject('fabricksHome') },
      stdio,
    });
    const memory = engineMemory(child.pid!);
    let bytes = 0;
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (bytes += d.length));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, bytes, stderr, peak: memory.stop() }));
  });
}

async function built(files: Record<string, string>, name: string, extra = ''): Promise<string> {
  const dir = await project({ 'fabricks.toml': jsToml('main.js', `\n[package]\nname = "${name}"\nversion = "1.0.0"\n${extra}`), ...files });
  const r = await fabricks(['build', '-q', dir]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return dir;
}

// The engine with a runtime already compiled holds about 100 MB; a leak of what is written
// would hold gigabytes.
const FLAT = 400 * MiB;

describe.skipIf(!existsSync('/proc/self/status'))('JavaScript output on fabricks run', () => {
  it('writes 3 GiB to stdout through a pipe, every byte, in flat memory', async () => {
    const dir = await built({ 'main.js': `const chunk = 'x'.repeat(${MiB});\nfor (let i = 0; i < Number(process.argv[2]); i++) process.stdout.write(chunk);\n` }, 'output-stdout');
    const r = await runCounting(dir, ['3072']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.bytes).toBe(3072 * MiB);
    expect(r.peak).toBeGreaterThan(0);
    expect(r.peak).toBeLessThan(FLAT);
  }, 600_000);

  it('writes a 1 MiB file 2,200 times (2.1 GiB) to a read-write mount, in flat memory', async () => {
    const dir = await built(
      { 'main.js': `import fs from 'node:fs';\nconst mib = 'y'.repeat(${MiB});\nfor (let i = 0; i < 2200; i++) fs.writeFileSync('/out/file.txt', mib);\nconsole.log(fs.statSync('/out/file.txt').size);\n`, 'out/.keep': '' },
      'output-files',
      '\n[capabilities.filesystem]\nmounts = [{ guest = "/out", host = "out", mode = "rw" }]\n',
    );
    const r = await runCounting(dir, []);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(statSync(join(dir, 'out', 'file.txt')).size).toBe(MiB);
    expect(r.peak).toBeLessThan(FLAT);
  }, 600_000);

  it('fails a write the host refuses (stdout on a full disk) with Node\'s error, not in silence', async () => {
    const dir = await built({ 'main.js': `process.stdout.write('x'.repeat(${MiB}));\nprocess.stderr.write('after the write\\n');\n` }, 'output-full');
    const r = await runCounting(dir, [], openSync('/dev/full', 'w'));
    expect(r.stderr).toMatch(/^Error: ENOSPC: no space left on device, write\n/);
    expect(r.stderr).not.toContain('after the write');
    expect(r.status).toBe(1);
  });
});

describe('a JavaScript program that runs out of memory', () => {
  it('says so when it needs more than the 2 GiB the runtime can address, whatever --memory allows', async () => {
    // past 2 GiB every call to the host failed: this program's output vanished, and so did any
    // error; the memory now stops short of 2 GiB, where the allocation fails instead
    const dir = await built({ 'main.js': `const keep = [];\nfor (let i = 0; i < 144; i++) keep.push(new Uint8Array(${16 * MiB}).fill(1));\nconsole.log('kept', keep.length * 16, 'MiB');\n` }, 'oom-buffers');
    const r = await fabricks(['run', '-q', dir, '--memory', '4GiB']);
    expect(r.stderr).toBe(
      'fabricks: the program ran out of memory (JavaScript heap out of memory)\nfabricks: the program reached its memory limit (2047MiB) and was stopped; raise it with --memory, or memory in [limits] in fabricks.toml\n',
    );
    expect(r.stdout).toBe('');
    expect(r.status).toBe(137);
    // under the default limit, the same program says so at 512MiB
    const small = await fabricks(['run', '-q', dir]);
    expect(small.stderr).toContain('reached its memory limit (512MiB)');
    expect(small.status).toBe(137);
  });

  it('says so when small objects fill the engine\'s heap, with no memory left to say it in', async () => {
    // SpiderMonkey's heap of objects is full: the error cannot even reject a promise, and
    // without the staged last words the engine aborted (a trap, "out of memory" as JSON)
    const dir = await built({ 'main.js': `const keep = [];\nfor (let i = 0; ; i++) keep.push({ i, s: 'x' + i, a: [i, i] });\n` }, 'oom-objects');
    const r = await fabricks(['run', '-q', dir]);
    expect(r.stderr).toBe('fabricks: the program ran out of memory (JavaScript heap out of memory)\n');
    expect(r.status).toBe(1);
  });
});
