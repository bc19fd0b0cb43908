import type { ProgressEvent } from '../../src/util/progress.js';
import { describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { events, fabricks, project } from '../helpers.js';

// Stage B of pre-initialized JavaScript apps (guest/node/bootstrap/prepare.js): the bundle's
// dependencies are evaluated ahead, in the snapshot, and the app's own top level at start. The
// same programs with and without the snapshot must say the same bytes; a dependency that reads
// what differs per run (Math.random, the clock) or throws gives up stage B for the compile-only
// form; one that reads a variable has it kept beside the form, so a run that sets it starts
// without the snapshot. Each project has its own compiled cache: the suite's is shared.

const toml = (name: string, env: string[] = []) => `[package]
name = "${name}"
version = "0.1.0"

[from]
image = "fabricks.dev/runtimes/node"

[source]
entrypoint = "main.js"
${env.length ? `\n[capabilities.env]\nallow = [${env.map((e) => JSON.stringify(e)).join(', ')}]\n` : ''}`;

const pkg = (name: string, esm: boolean) => JSON.stringify({ name, version: '1.0.0', main: 'index.js', ...(esm ? { type: 'module' } : {}) });

/** A dependency (ES module) whose top level does work, and one (CommonJS) that reads a variable there. */
const DEPS = {
  'node_modules/table-dep/package.json': pkg('table-dep', true),
  'node_modules/table-dep/index.js': `const table = [];
for (let i = 0; i < 2000; i++) table.push(i * i);
globalThis.tableDepLoads = (globalThis.tableDepLoads ?? 0) + 1;
export const sum = table.reduce((a, b) => a + b, 0);
export function fail() {
  throw new Error('thrown by table-dep');
}
`,
  'node_modules/mode-dep/package.json': pkg('mode-dep', false),
  'node_modules/mode-dep/index.js': `exports.mode = process.env.DEP_MODE || 'unset';
exports.platform = process.platform;
`,
};

/** The app: its own top level reads this run's arguments, variables, clock and randomness. */
const MAIN = `import { sum, fail } from 'table-dep';
import modeDep from 'mode-dep';
const started = Date.now();
console.log(JSON.stringify({
  argv: process.argv.slice(2),
  greeting: process.env.GREETING ?? 'none',
  sum,
  mode: modeDep.mode,
  platform: modeDep.platform,
  loads: globalThis.tableDepLoads,
  clockFresh: Math.abs(started - Number(process.argv[2] ?? started)) < 60000,
  randomInRange: Math.random() < 1,
}));
console.error('now ' + Date.now() + ' random ' + Math.random());
if (process.argv.includes('fail')) fail();
`;

const fresh = (stderr: string) => /now (\S+) random (\S+)/.exec(stderr)?.slice(1);
/** What the program wrote to stderr: fabricks' progress events and the clock/random line left out. */
const programStderr = (stderr: string) => stderr.split('\n').filter((l) => !l.startsWith('{"event"') && !l.startsWith('now ')).join('\n');
const notPrepared = (stderr: string) => events(stderr).find((e): e is Extract<ProgressEvent, { event: 'note' }> => e.event === 'note' && e.code === 'not-prepared');

interface Snapshot {
  prepared: boolean;
  stage?: string;
  aheadRefused?: string;
  refused?: string;
}

async function preparedProject(name: string, files: Record<string, string>, env: string[] = []) {
  const dir = await project({ 'fabricks.toml': toml(name, env), ...files });
  const cache = { FABRICKS_COMPILED_CACHE: await mkdtemp(join(tmpdir(), `fabricks-${name}-cache-`)) };
  const built = await fabricks(['build', '--prepare', '--json', '-q', dir], { env: cache });
  expect(built.status, built.stderr).toBe(0);
  const snapshot = (JSON.parse(built.stdout) as { prepared?: { snapshot?: Snapshot } }).prepared?.snapshot;
  const run = (args: string[], extra: Record<string, string> = {}) => fabricks(['run', '--progress', 'json', dir, '--', ...args], { env: { ...cache, ...extra } });
  return { snapshot, run };
}

describe('pre-initialized apps, dependencies evaluated ahead (stage B)', () => {
  it("run the dependencies' top level in the snapshot, the app's own at start, with the same output as without", async () => {
    const { snapshot, run } = await preparedProject('ahead', { ...DEPS, 'main.js': MAIN }, ['GREETING', 'DEP_MODE']);
    expect(snapshot, JSON.stringify(snapshot)).toMatchObject({ prepared: true, stage: 'ahead' });

    const now = String(Date.now());
    const fast = await run([now, 'x'], { GREETING: 'hello' });
    const plain = await run([now, 'x'], { GREETING: 'hello', FABRICKS_PREPARED: '0' });
    expect(fast.status, fast.stderr).toBe(0);
    expect(notPrepared(fast.stderr)).toBeUndefined();
    expect(fast.stdout).toBe(plain.stdout);
    expect(programStderr(fast.stderr)).toBe(programStderr(plain.stderr));
    // the app's own top level saw this run's arguments, variables and clock; the dependency ran once
    expect(JSON.parse(fast.stdout)).toEqual({ argv: [now, 'x'], greeting: 'hello', sum: 2664667000, mode: 'unset', platform: 'wasi', loads: 1, clockFresh: true, randomInRange: true });
    // the clock and Math.random at start are this run's, not the snapshot's
    const again = await run([now]);
    expect(JSON.parse(again.stdout)).toMatchObject({ argv: [now], greeting: 'none' });
    expect(fresh(fast.stderr)).toBeDefined();
    expect(fresh(again.stderr)?.[0]).not.toBe(fresh(fast.stderr)?.[0]);
    expect(fresh(again.stderr)?.[1]).not.toBe(fresh(fast.stderr)?.[1]);

    // the dependency read DEP_MODE ahead (absent then): a run that sets it starts without the
    // snapshot, and the dependency sees it
    const moded = await run([now], { DEP_MODE: 'loud' });
    expect(moded.status, moded.stderr).toBe(0);
    expect(JSON.parse(moded.stdout)).toMatchObject({ mode: 'loud' });
    expect(notPrepared(moded.stderr)?.detail).toMatch(/DEP_MODE/);

    // an error thrown from a dependency's function by the app's code: the same report, the
    // dependency's file and line and the app's
    const failed = await run([now, 'fail']);
    const failedPlain = await run([now, 'fail'], { FABRICKS_PREPARED: '0' });
    expect(failed.status).toBe(1);
    expect(programStderr(failed.stderr)).toBe(programStderr(failedPlain.stderr));
    expect(failed.stderr).toMatch(/thrown by table-dep[\s\S]*node_modules\/table-dep\/index\.js:6[\s\S]*main\.js:15/);
  }, 600_000);

  it('give stage B up for the compile-only form when a dependency reads Math.random, the clock, or throws at its top level', async () => {
    const cases = [
      { name: 'ahead-random', code: 'export const value = Math.random();\n', why: /Math\.random/ },
      { name: 'ahead-clock', code: 'export const value = Date.now();\n', why: /wall clock/ },
      { name: 'ahead-throws', code: "export const value = 1;\nif (!globalThis.neverSet) throw new Error('dependency broke at load');\n", why: /dependency broke at load/ },
    ];
    for (const c of cases) {
      const main = "import { value } from 'tripwire-dep';\nconsole.log(JSON.stringify({ value, argv: process.argv.slice(2) }));\n";
      const { snapshot, run } = await preparedProject(c.name, {
        'node_modules/tripwire-dep/package.json': pkg('tripwire-dep', true),
        'node_modules/tripwire-dep/index.js': c.code,
        'main.js': main,
      });
      expect(snapshot, `${c.name}: ${JSON.stringify(snapshot)}`).toMatchObject({ prepared: true, stage: 'compiled' });
      expect(snapshot?.aheadRefused, c.name).toMatch(c.why);
      const first = await run(['a']);
      const second = await run(['a']);
      const plain = await run(['a'], { FABRICKS_PREPARED: '0' });
      expect(notPrepared(first.stderr), c.name).toBeUndefined();
      expect(first.status, c.name).toBe(plain.status);
      expect(programStderr(first.stderr), c.name).toBe(programStderr(plain.stderr));
      if (c.name === 'ahead-throws') {
        // the dependency's error surfaces at start, as without a snapshot
        expect(first.status).toBe(1);
        expect(first.stderr).toMatch(/dependency broke at load[\s\S]*node_modules\/tripwire-dep\/index\.js:2/);
        continue;
      }
      expect(first.status, first.stderr).toBe(0);
      // each start reads its own value: none frozen in the snapshot
      expect(JSON.parse(first.stdout).argv).toEqual(['a']);
      expect(JSON.parse(first.stdout).value).not.toBe(JSON.parse(second.stdout).value);
    }
  }, 900_000);
});
