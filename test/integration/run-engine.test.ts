import { beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copySuiteHome, events, exists, fabricks, jsToml, project, pyToml, repoRoot } from '../helpers.js';
import { COMPILED_LAYOUT, WASMTIME_VERSION } from '../../src/home/home.js';
import { EngineProcess, type ComponentFile } from '../../src/engine/process.js';
import type { Grants } from '../../src/engine/grants.js';
import { createHash } from 'node:crypto';

/**
 * fabricks' engine (crates/engine, on the wasmtime crate): a runtime is compiled once for every
 * app on it and kept in the compiled cache, which is checked, leased, listed and trimmed; without
 * the engine, fabricks run fails naming the fix; the engine process never outlives fabricks.
 */

interface Built {
  runtime: { digest: string };
  module: { digest: string };
}

const app = (name: string, main: string, toml = jsToml) => project({ 'fabricks.toml': toml(name.endsWith('py') ? 'main.py' : 'main.js', `\n[package]\nname = "${name}"\nversion = "1.0.0"\n`), [name.endsWith('py') ? 'main.py' : 'main.js']: main });

describe("fabricks' engine", () => {
  let home: string;
  // the cache of this home alone, not the suite's shared one
  const run = (args: string[], env: Record<string, string> = {}) => fabricks(args, { home, env: { FABRICKS_COMPILED_CACHE: '', ...env } });
  const compiledDir = (digest: string) => join(home, 'cache', COMPILED_LAYOUT, digest.slice(7));
  const compiles = (stderr: string) => events(stderr).filter((e) => e.event === 'step-start' && e.step === 'compile').map((e) => (e as { subject: string }).subject);

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'fabricks-engine-'));
    await copySuiteHome(home);
    // this home starts with nothing compiled
    await rm(join(home, 'cache', COMPILED_LAYOUT), { recursive: true, force: true });
  });

  it('names its cache after the wasmtime it is built on, the version crates/engine pins', async () => {
    expect(COMPILED_LAYOUT).toBe(`compiled-wasmtime-${WASMTIME_VERSION}`);
    const cargo = await readFile(join(repoRoot, 'crates', 'engine', 'Cargo.toml'), 'utf8');
    expect(cargo).toContain(`wasmtime = { version = "=${WASMTIME_VERSION}"`);
  });

  it('compiles a runtime once for every app on it, and each app only its small module layer', { timeout: 300_000 }, async () => {
    const a = await app('engine-a', 'console.log("i am a", process.argv.slice(2).join(" "));\n');
    const b = await app('engine-b', 'console.log("i am b");\n');
    const first = await run(['run', '--progress', 'json', a, '--', 'x', 'y']);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toBe('i am a x y\n');
    const builtA = JSON.parse((await run(['build', '-q', '--json', a])).stdout) as Built;
    expect(compiles(first.stderr)).toEqual([builtA.runtime.digest]);
    const second = await run(['run', '--progress', 'json', b]);
    expect(second.stdout).toBe('i am b\n');
    expect(compiles(second.stderr)).toEqual([]);
    const builtB = JSON.parse((await run(['build', '-q', '--json', b])).stdout) as Built;
    for (const d of [builtA.runtime.digest, builtA.module.digest, builtB.module.digest]) {
      const meta = JSON.parse(await readFile(join(compiledDir(d), 'fabricks.json'), 'utf8')) as { bytes: number; sha256: string };
      expect(meta.bytes).toBe((await stat(join(compiledDir(d), 'component.cwasm'))).size);
    }
    // the runtime's compiled form is the big one: a module layer's is small
    expect((await stat(join(compiledDir(builtA.runtime.digest), 'component.cwasm'))).size).toBeGreaterThan(10_000_000);
    expect((await stat(join(compiledDir(builtB.module.digest), 'component.cwasm'))).size).toBeLessThan(1_000_000);

    // a damaged compiled runtime (same size, changed bytes) is found and compiled again
    const cwasm = join(compiledDir(builtA.runtime.digest), 'component.cwasm');
    const bytes = await readFile(cwasm);
    bytes[bytes.length >> 1] ^= 0xff;
    await writeFile(cwasm, bytes);
    const healed = await run(['run', '--progress', 'json', a, '--', 'z']);
    expect(healed.status, healed.stderr).toBe(0);
    expect(healed.stdout).toBe('i am a z\n');
    expect(compiles(healed.stderr)).toEqual([builtA.runtime.digest]);
    const again = await run(['run', '--progress', 'json', a]);
    expect(compiles(again.stderr)).toEqual([]);
  });

  it('shares one compiled cache between homes with FABRICKS_COMPILED_CACHE: a second home compiles nothing, and its gc keeps what it does not reference', async () => {
    // the suite's (test/global-setup.ts), where the runtime was compiled before the tests began
    const shared = process.env.FABRICKS_COMPILED_CACHE!;
    expect(shared).toBeTruthy();
    const other = await mkdtemp(join(tmpdir(), 'fabricks-engine-other-'));
    await copySuiteHome(other);
    const a = await app('engine-shared', 'console.log("shared");\n');
    const inShared = (h: string, args: string[]) => fabricks(args, { home: h, env: { FABRICKS_COMPILED_CACHE: shared } });
    const first = await inShared(home, ['run', '--progress', 'json', a]);
    expect(first.status, first.stderr).toBe(0);
    const built = JSON.parse((await inShared(home, ['build', '-q', '--json', a])).stdout) as Built;
    // this home has compiled nothing of its own, and need not
    expect(compiles(first.stderr)).toEqual([]);
    const dir = join(shared, COMPILED_LAYOUT, built.runtime.digest.slice(7));
    expect((await stat(join(dir, 'component.cwasm'))).size).toBeGreaterThan(10_000_000);
    const moduleEntry = join(shared, COMPILED_LAYOUT, built.module.digest.slice(7), 'component.cwasm');
    expect(await exists(moduleEntry)).toBe(true);
    const second = await inShared(other, ['run', '--progress', 'json', a]);
    expect(second.stdout).toBe('shared\n');
    expect(compiles(second.stderr)).toEqual([]);
    // gc in the other home, which now holds no app: what the first home uses stays
    expect((await inShared(other, ['rm', 'engine-shared:1.0.0'])).status).toBe(0);
    const g = await inShared(other, ['gc', '--json']);
    expect(g.status, g.stderr).toBe(0);
    expect((JSON.parse(g.stdout) as { compiled: { removed: unknown[] } }).compiled.removed).toEqual([]);
    expect((await stat(join(dir, 'component.cwasm'))).size).toBeGreaterThan(10_000_000);
    expect(await exists(moduleEntry)).toBe(true);
  });

  it("runs Python the same way, its runtime compiled once, by the build's syntax check", async () => {
    const p = await app('engine-py', 'import sys\nprint("python says", *sys.argv[1:])\nsys.exit(3)\n', pyToml);
    const built = await run(['build', '--progress', 'json', p]);
    expect(built.status, built.stderr).toBe(0);
    // the check runs the runtime's own Python on the engine: the runtime runs start from
    expect(compiles(built.stderr)).toHaveLength(1);
    const first = await run(['run', '--progress', 'json', p, '--', 'hi']);
    expect(first.stdout).toBe('python says hi\n');
    // CPython's exit codes past 1 are 1 in WASI 0.2 (python.test.ts)
    expect(first.status).toBe(1);
    expect(compiles(first.stderr)).toEqual([]);
    const second = await run(['run', '--progress', 'json', p, '--', 'again']);
    expect(second.stdout).toBe('python says again\n');
    expect(compiles(second.stderr)).toEqual([]);
  });

  it('ls counts the compiled cache; gc spares what a run in progress uses and trims it after', async () => {
    const live = await app('engine-live', 'process.stdout.write("ready\\n");\nfor await (const chunk of process.stdin) process.stdout.write("got " + String(chunk).trim() + "\\n");\n');
    const built = JSON.parse((await run(['build', '-q', '--json', live])).stdout) as Built;
    let during: { compiled: { removed: Array<{ digest: string }>; leased: number } } | undefined;
    let failed: unknown;
    const r = await fabricks(['run', '-q', live], {
      home,
      env: { FABRICKS_COMPILED_CACHE: '' },
      onStdout: (chunk, child) => {
        if (!chunk.includes('ready')) return;
        void (async () => {
          try {
            const g = await run(['gc', '--json', '--cache-limit', '0']);
            during = JSON.parse(g.stdout) as typeof during;
          } catch (e) {
            failed = e;
          } finally {
            child.stdin!.end('ping\n');
          }
        })();
      },
    });
    expect(failed).toBeUndefined();
    expect(r.stdout).toBe('ready\ngot ping\n');
    // the run's runtime and module were leased: kept at a limit of 0
    expect(during!.compiled.leased).toBeGreaterThanOrEqual(2);
    expect(await exists(join(compiledDir(built.runtime.digest), 'component.cwasm'))).toBe(true);
    expect(await exists(join(compiledDir(built.module.digest), 'component.cwasm'))).toBe(true);
    const listed = JSON.parse((await run(['ls', '--json'])).stdout) as { compiledCache: { entries: number; bytes: number } };
    expect(listed.compiledCache.entries).toBeGreaterThanOrEqual(2);
    // nothing runs now: a limit of 0 empties the cache
    const after = JSON.parse((await run(['gc', '--json', '--cache-limit', '0'])).stdout) as NonNullable<typeof during>;
    expect(after.compiled.removed.map((x) => x.digest)).toContain(built.runtime.digest);
    expect(await readdir(join(home, 'cache', COMPILED_LAYOUT))).toEqual([]);
  });

  it('without the engine, fails naming the fix', async () => {
    const dir = await app('engine-missing', 'console.log("runs");\n');
    const r = await run(['run', '-q', dir], { FABRICKS_ENGINE_BIN: join(home, 'no-such-engine') });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("fabricks' engine is not installed");
    expect(r.stderr).toContain('npm run setup');
  });

  it('stops the engine with fabricks: Ctrl-C ends the run, and killing fabricks outright ends it too', async () => {
    const dir = await app('engine-stop', 'process.stdout.write("ready\\n");\nfor await (const chunk of process.stdin) process.stdout.write(String(chunk));\n');
    expect((await run(['build', '-q', dir])).status).toBe(0);
    for (const signal of ['SIGINT', 'SIGKILL'] as const) {
      const child = spawn(process.execPath, [join(repoRoot, 'bin', 'fabricks.js'), 'run', '-q', dir], { env: { ...process.env, FABRICKS_HOME: home }, stdio: ['pipe', 'pipe', 'pipe'] });
      await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
      const engine = await engineOf(child.pid!);
      expect(engine, 'the engine runs under fabricks').toBeDefined();
      const closed = new Promise<[number | null, string | null]>((resolve) => child.on('close', (code, sig) => resolve([code, sig])));
      child.kill(signal);
      // the program owns the terminal's signals once it runs: fabricks ends as a program would
      expect(await closed).toEqual([null, signal]);
      await expect.poll(() => alive(engine!), { timeout: 5000 }).toBe(false);
    }
  });
});

describe("fabricks' engine on a whole component", () => {
  /** A component exporting wasi:cli/run whose run returns ok or err, importing `imports`. */
  async function component(ok: boolean, imports = ''): Promise<{ path: string; hex: string }> {
    const { parse } = await import('@bytecodealliance/jco-transpile/wasm-tools');
    const bytes = (await parse(`(component
  ${imports}
  (core module $m (func (export "run") (result i32) i32.const ${ok ? 0 : 1}))
  (core instance $i (instantiate $m))
  (func $run (result (result)) (canon lift (core func $i "run")))
  (instance $r (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $r)))`)) as Uint8Array;
    const dir = await mkdtemp(join(tmpdir(), 'fabricks-component-'));
    const path = join(dir, 'c.wasm');
    await writeFile(path, bytes);
    return { path, hex: createHash('sha256').update(bytes).digest('hex') };
  }
  const opts = async () => ({ cacheDir: await mkdtemp(join(tmpdir(), 'fabricks-compiled-')), reporter: () => {} });
  const runWhole = async (c: ComponentFile, grants: Grants) => EngineProcess.start().run(c, undefined, grants, await opts());

  it("gives run's ok and err as exit statuses 0 and 1", async () => {
    expect(await runWhole(await component(true), { args: ['c'], env: [] })).toMatchObject({ status: 0 });
    const failed = await runWhole(await component(false), { args: ['c'], env: [] });
    expect(failed).toMatchObject({ status: 1 });
    expect(failed.trap).toBeUndefined();
  });

  it('refuses a component that imports what fabricks run does not provide, naming the import', async () => {
    const missing = await component(true, '(import "example:missing/thing@1.0.0" (instance (export "f" (func))))');
    await expect(runWhole(missing, { args: ['c'], env: [] })).rejects.toMatchObject({ code: 'RUN_FAILED', message: expect.stringContaining('example:missing/thing@1.0.0') });
  });
});

/** The pid of the engine a fabricks process started. */
async function engineOf(parent: number): Promise<number | undefined> {
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const st = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid !== parent) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes('fabricks-engine')) return Number(pid);
  }
  return undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
