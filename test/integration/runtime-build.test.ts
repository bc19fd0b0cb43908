import { describe, expect, it, inject } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { events, fabricks, project, jsToml } from '../helpers.js';

describe('fabricks runtime build node', () => {
  it('builds the runtime first, with progress, when a project build needs it: the same bytes as another home built (real componentize-js builds)', async () => {
    const home = await mkdtemp(join(tmpdir(), 'fabricks-home-'));
    const list = await fabricks(['runtime', 'list', '--json'], { home });
    expect(JSON.parse(list.stdout)[0]).toMatchObject({ reference: 'fabricks.dev/runtimes/node:0.1', stored: null });
    const dir = await project({ 'fabricks.toml': jsToml(), 'main.js': 'console.log(1)' });
    const r = await fabricks(['build', dir, '--json', '--progress', 'json'], { home });
    expect(r.status, r.stderr).toBe(0);
    const steps = events(r.stderr).filter((e) => e.event === 'step-start' || e.event === 'step-done');
    expect(steps.map((e) => `${e.event} ${e.step}`).slice(0, 3)).toEqual(['step-start build', 'step-start runtime-build', 'step-done runtime-build']);
    expect(steps).toContainEqual(expect.objectContaining({ event: 'step-start', step: 'runtime-build', subject: 'fabricks.dev/runtimes/node:0.1', tool: 'componentize-js 0.23.0' }));
    const digest = JSON.parse(r.stdout).runtime.digest as string;
    expect(steps).toContainEqual(expect.objectContaining({ event: 'step-done', step: 'runtime-build', subject: 'fabricks.dev/runtimes/node:0.1', digest }));
    expect(events(r.stderr).filter((e) => e.event === 'note')).toEqual([]);
    expectSameBytes(await blob(home, digest), await suiteRuntime('fabricks.dev/runtimes/node:0.1'));
  }, 300_000);

  it('rejects a runtime it does not know, listing the ones there are', async () => {
    const r = await fabricks(['runtime', 'build', 'ruby']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/"ruby" is not a runtime fabricks builds/);
    expect(r.stderr).toMatch(/node:0\.1/);
  });
});

describe('fabricks runtime build python', () => {
  // Inode numbers, devices, file times, entropy and clocks the interpreter sees while
  // componentize-py pre-initializes it are pinned (build-tools/): one build, one set of bytes.
  it('builds the same bytes as another home built (real componentize-py builds)', async () => {
    const reference = 'fabricks.dev/runtimes/python:3.14';
    const home = await mkdtemp(join(tmpdir(), 'fabricks-home-'));
    const r = await fabricks(['runtime', 'build', 'python', '--force', '--json', '--progress', 'json'], { home });
    expect(r.status, r.stderr).toBe(0);
    const built = JSON.parse(r.stdout);
    expect(built).toMatchObject({ reference, built: true });
    expect(events(r.stderr)).toContainEqual({ event: 'step-start', step: 'runtime-build', subject: reference, tool: 'componentize-py 0.25.1' });
    expect(events(r.stderr).filter((e) => e.event === 'note')).toEqual([]);
    const bytes = await blob(home, built.digest);
    expect(bytes.length).toBe(built.size);
    expectSameBytes(bytes, await suiteRuntime(reference));
  }, 300_000);
});

/**
 * The runtime layer test/global-setup.ts built at the start of the run: in another home, by
 * another process, at another time, so a build here that gives the same bytes is reproducible.
 */
async function suiteRuntime(reference: string): Promise<Buffer> {
  const home = inject('fabricksHome');
  const list = await fabricks(['runtime', 'list', '--json'], { home });
  const stored = (JSON.parse(list.stdout) as Array<{ reference: string; stored: { digest: string } | null }>).find((r) => r.reference === reference)?.stored;
  expect(stored, `the suite's home has no ${reference}`).toBeTruthy();
  return blob(home, stored!.digest);
}

function blob(home: string, digest: string): Promise<Buffer> {
  return readFile(join(home, 'store', 'blobs', 'sha256', digest.slice('sha256:'.length)));
}

function expectSameBytes(x: Buffer, y: Buffer): void {
  let differing = 0;
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) differing++;
  expect({ size: x.length, differing }).toEqual({ size: y.length, differing: 0 });
}
