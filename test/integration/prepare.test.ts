import { describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyExample, events, fabricks } from '../helpers.js';

// fabricks prepare (issue 21, point 3): an app's runtime and module compiled for this machine
// ahead, so that no spawn compiles. Its own compiled cache: the suite's is shared and warm.
describe('fabricks prepare', () => {
  it('compiles an app for this machine once; a run after it compiles nothing', async () => {
    const dir = await copyExample('hello-js');
    // built with the suite's cache; prepared with an empty one, as on a machine that pulled it
    const built = await fabricks(['build', '-q', dir]);
    expect(built.status, built.stderr).toBe(0);
    const env = { FABRICKS_COMPILED_CACHE: await mkdtemp(join(tmpdir(), 'fabricks-prepare-cache-')) };
    const first = await fabricks(['prepare', '--json', '--progress', 'json', dir], { env });
    expect(first.status, first.stderr).toBe(0);
    const r = JSON.parse(first.stdout) as { reference: string; components: Array<{ role: string; compiled: boolean; digest: string }> };
    expect(r.components.map((c) => [c.role, c.compiled])).toEqual([['runtime', true], ['module', true]]);
    // the runtime's compile is shown (seconds); the module's takes milliseconds
    expect(events(first.stderr).filter((e) => e.event === 'step-done' && e.step === 'compile')).toEqual([expect.objectContaining({ digest: r.components[0]!.digest })]);
    const again = await fabricks(['prepare', '--json', dir], { env });
    expect((JSON.parse(again.stdout) as typeof r).components.map((c) => c.compiled)).toEqual([false, false]);
    const run = await fabricks(['run', '--progress', 'json', dir, '--', 'prepared'], { env });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('prepared');
    expect(events(run.stderr).filter((e) => e.event === 'step-start' && e.step === 'compile')).toEqual([]);
    // the human form says what it did
    const human = await fabricks(['prepare', dir], { env });
    expect(human.stdout).toMatch(/^prepared hello-js:[\s\S]*runtime .* compiled already[\s\S]*module .* compiled already/);
  }, 240_000);

  it('build compiles what it built for this machine, so the first run after it compiles nothing', async () => {
    const dir = await copyExample('hello-js');
    const env = { FABRICKS_COMPILED_CACHE: await mkdtemp(join(tmpdir(), 'fabricks-build-cache-')) };
    const built = await fabricks(['build', '--progress', 'json', dir], { env });
    expect(built.status, built.stderr).toBe(0);
    expect(events(built.stderr).filter((e) => e.event === 'step-done' && e.step === 'compile').length).toBe(1);
    const run = await fabricks(['run', '--progress', 'json', dir], { env });
    expect(run.status, run.stderr).toBe(0);
    expect(events(run.stderr).filter((e) => e.event === 'step-start' && e.step === 'compile')).toEqual([]);
    // an up-to-date build finds both compiled: nothing to do
    const again = await fabricks(['build', '--progress', 'json', dir], { env });
    expect(events(again.stderr).filter((e) => e.event === 'step-start' && e.step === 'compile')).toEqual([]);
  }, 240_000);

  it('names a target that is neither a project, a stored app nor a reference', async () => {
    const r = await fabricks(['prepare', 'no such thing']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('is neither a project folder');
  });
});
