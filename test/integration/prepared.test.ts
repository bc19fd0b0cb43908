import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { events, fabricks, project } from '../helpers.js';
import { serveProject } from '../serve-helpers.js';

// Pre-initialized apps (issue 21, points 1-3; crates/engine/src/prepare.rs): the same program
// run with and without its snapshot must say the same bytes, with this run's arguments,
// variables and stdin, and its own random numbers. Its own compiled cache: the suite's is shared.
const TOML = `[package]
name = "prepared"
version = "0.1.0"

[from]
image = "fabricks.dev/runtimes/node"

[source]
entrypoint = "main.js"

[capabilities.env]
allow = ["GREETING"]
`;

const MAIN = `import { shout } from './lib.js';
let input = '';
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', () => {
  const elapsed = performance.now();
  console.log(JSON.stringify({
    argv: process.argv.slice(2),
    greeting: shout(process.env.GREETING ?? 'none'),
    stdin: input.trim().split('\\n'),
    // a fresh instance's clock starts near 0, and its random numbers are its own
    clockFresh: elapsed >= 0 && elapsed < 30000,
    randomInRange: [0, 1, 2].map(() => Math.random()).every((r) => r >= 0 && r < 1),
  }));
  console.error('random ' + Math.random());
  if (process.argv.includes('fail')) throw new Error('failed on purpose');
});
`;

const LIB = `export function shout(s) {
  return s.toUpperCase() + '!';
}
`;

const random = (stderr: string) => /random (\S+)/.exec(stderr)?.[1];
/** What the program wrote to stderr: fabricks' progress events (timings) and the random line left out. */
const programStderr = (stderr: string) => stderr.split('\n').filter((l) => !l.startsWith('{"event"') && !l.startsWith('random ')).join('\n');

describe('pre-initialized apps', () => {
  it('start from their snapshot with the same output as without, and this run\'s arguments, variables, stdin and randomness', async () => {
    const dir = await project({ 'fabricks.toml': TOML, 'main.js': MAIN, 'lib.js': LIB });
    const env = { FABRICKS_COMPILED_CACHE: await mkdtemp(join(tmpdir(), 'fabricks-prepared-cache-')), GREETING: 'hello' };
    const built = await fabricks(['build', '-q', dir], { env });
    expect(built.status, built.stderr).toBe(0);
    const runIt = (args: string[], extra: Record<string, string> = {}) => fabricks(['run', '--progress', 'json', dir, '--', ...args], { env: { ...env, ...extra }, input: 'line one\nline two\n' });

    // not prepared yet: it runs as before, and says it starts without its snapshot
    const plain = await runIt(['a', 'b']);
    expect(plain.status, plain.stderr).toBe(0);
    expect(events(plain.stderr).some((e) => e.event === 'note' && e.code === 'not-prepared')).toBe(true);

    const prepared = await fabricks(['prepare', '--json', dir], { env });
    expect(prepared.status, prepared.stderr).toBe(0);
    const snapshot = (JSON.parse(prepared.stdout) as { snapshot?: { prepared: boolean; key: string } }).snapshot;
    expect(snapshot?.prepared, prepared.stdout).toBe(true);
    // made once: a second prepare finds it
    const again = JSON.parse((await fabricks(['prepare', '--json', dir], { env })).stdout) as { snapshot: { cached?: boolean } };
    expect(again.snapshot.cached).toBe(true);

    const fast = await runIt(['a', 'b']);
    const fast2 = await runIt(['a', 'b']);
    expect(fast.status, fast.stderr).toBe(0);
    expect(events(fast.stderr).some((e) => e.event === 'note' && e.code === 'not-prepared')).toBe(false);
    expect(fast.stdout).toBe(plain.stdout);
    expect(JSON.parse(fast.stdout)).toEqual({ argv: ['a', 'b'], greeting: 'HELLO!', stdin: ['line one', 'line two'], clockFresh: true, randomInRange: true });
    // Math.random is seeded for each start, not frozen in the snapshot
    expect(random(fast.stderr)).toBeDefined();
    expect(random(fast.stderr)).not.toBe(random(fast2.stderr));

    // other arguments and variables in another run from the same snapshot
    const other = await runIt(['c'], { GREETING: 'bye' });
    expect(JSON.parse(other.stdout)).toMatchObject({ argv: ['c'], greeting: 'BYE!' });

    // an error's report (message, file and line of the user's source) is the same with and without
    const failed = await runIt(['fail']);
    const failedPlain = await runIt(['fail'], { FABRICKS_PREPARED: '0' });
    expect(failed.status).toBe(1);
    expect(failedPlain.status).toBe(1);
    expect(programStderr(failed.stderr)).toBe(programStderr(failedPlain.stderr));
    expect(failed.stderr).toMatch(/failed on purpose[\s\S]*main\.js:15/);

    // build --prepare readies a changed app in the same step: its first run starts from a snapshot
    await writeFile(join(dir, 'lib.js'), LIB.replace("'!'", "'!!'"));
    const rebuilt = await fabricks(['build', '--prepare', '--json', '-q', dir], { env });
    expect(rebuilt.status, rebuilt.stderr).toBe(0);
    const out = JSON.parse(rebuilt.stdout) as { cached: boolean; prepared?: { snapshot?: { prepared: boolean; cached?: boolean } } };
    expect(out.cached).toBe(false);
    expect(out.prepared?.snapshot).toMatchObject({ prepared: true });
    expect(out.prepared?.snapshot?.cached).toBeFalsy();
    const changed = await runIt(['d']);
    expect(events(changed.stderr).some((e) => e.event === 'note' && e.code === 'not-prepared')).toBe(false);
    expect(JSON.parse(changed.stdout)).toMatchObject({ argv: ['d'], greeting: 'HELLO!!' });
  }, 300_000);

  it('serves an app that has a pre-initialized form (serving starts from the plain runtime)', async () => {
    const dir = await project({
      'fabricks.toml': '[package]\nname = "prepared-serve"\nversion = "0.1.0"\n\n[from]\nimage = "fabricks.dev/runtimes/node"\n\n[source]\nentrypoint = "main.js"\n\n[capabilities.network]\nlisten = [8080]\n',
      'main.js': "export default { fetch: (request) => new Response('served ' + new URL(request.url).pathname) };\n",
    });
    const env = { FABRICKS_COMPILED_CACHE: await mkdtemp(join(tmpdir(), 'fabricks-prepared-serve-cache-')) };
    const prepared = await fabricks(['prepare', '--json', dir], { env });
    expect(prepared.status, prepared.stderr).toBe(0);
    expect((JSON.parse(prepared.stdout) as { snapshot?: { prepared: boolean } }).snapshot?.prepared).toBe(true);
    const served = await serveProject([dir, '--listen', '127.0.0.1:0'], { env });
    try {
      const r = await fetch(`${served.url}/hello`, { signal: AbortSignal.timeout(20_000) });
      expect(await r.text()).toBe('served /hello');
    } finally {
      await served.stop();
    }
  }, 300_000);
});
