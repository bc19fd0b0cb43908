import { describe, expect, it, inject } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { events, fabricks, project, jsToml } from '../helpers.js';

describe('fabricks runtime build node', () => {
  it('builds the same bytes in two fresh homes (real componentize-js builds)', async () => {
    const [x, y] = await buildInTwoFreshHomes('node', 'fabricks.dev/runtimes/node:0.1', 'componentize-js 0.23.0');
    expect(x.equals(y)).toBe(true);
  }, 300_000);

  it('builds the runtime first, with progress, when a project build needs it', async () => {
    const home = await mkdtemp(join(tmpdir(), 'fabricks-home-'));
    const list = await fabricks(['runtime', 'list', '--json'], { home });
    expect(JSON.parse(list.stdout)[0]).toMatchObject({ reference: 'fabricks.dev/runtimes/node:0.1', stored: null });
    const dir = await project({ 'fabricks.toml': jsToml(), 'main.js': 'console.log(1)' });
    const r = await fabricks(['build', dir, '--json', '--progress', 'json'], { home });
    expect(r.status, r.stderr).toBe(0);
    const steps = events(r.stderr).filter((e) => e.event === 'step-start' || e.event === 'step-done');
    expect(steps.map((e) => `${e.event} ${e.step}`).slice(0, 3)).toEqual(['step-start build', 'step-start runtime-build', 'step-done runtime-build']);
    expect(steps).toContainEqual(expect.objectContaining({ event: 'step-done', step: 'runtime-build', subject: 'fabricks.dev/runtimes/node:0.1', digest: JSON.parse(r.stdout).runtime.digest }));
  });

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
  it('builds the same bytes in two fresh homes (real componentize-py builds)', async () => {
    const [x, y] = await buildInTwoFreshHomes('python', 'fabricks.dev/runtimes/python:3.14', 'componentize-py 0.25.1');
    let differing = 0;
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) differing++;
    expect({ size: y.length, differing }).toEqual({ size: x.length, differing: 0 });
    expect(x.equals(y)).toBe(true);
  }, 300_000);
});

/** Builds a runtime with --force in two new homes; returns both runtime layers' bytes. */
async function buildInTwoFreshHomes(name: string, reference: string, tool: string): Promise<[Buffer, Buffer]> {
  const out: Buffer[] = [];
  for (let i = 0; i < 2; i++) {
    const home = await mkdtemp(join(tmpdir(), 'fabricks-home-'));
    expect(home).not.toBe(inject('fabricksHome'));
    const r = await fabricks(['runtime', 'build', name, '--force', '--json', '--progress', 'json'], { home });
    expect(r.status, r.stderr).toBe(0);
    const built = JSON.parse(r.stdout);
    expect(built).toMatchObject({ reference, built: true });
    expect(events(r.stderr)).toContainEqual({ event: 'step-start', step: 'runtime-build', subject: reference, tool });
    expect(events(r.stderr).filter((e) => e.event === 'note')).toEqual([]);
    const bytes = await readFile(join(home, 'store', 'blobs', 'sha256', built.digest.slice('sha256:'.length)));
    expect(bytes.length).toBe(built.size);
    out.push(bytes);
  }
  return [out[0]!, out[1]!];
}
