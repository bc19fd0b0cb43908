import { describe, expect, it, inject } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { events, fabricks, project, jsToml } from '../helpers.js';

describe('fabricks runtime build node', () => {
  it('gives the same bytes on a second build (a fresh store, a real componentize-js build)', async () => {
    const shared = await fabricks(['runtime', 'build', 'node', '--json']);
    expect(shared.status, shared.stderr).toBe(0);
    const a = JSON.parse(shared.stdout);
    expect(a.built).toBe(false); // the suite's store has it already

    const home = await mkdtemp(join(tmpdir(), 'fabricks-home-'));
    const fresh = await fabricks(['runtime', 'build', 'node', '--json', '--progress', 'json'], { home });
    expect(fresh.status, fresh.stderr).toBe(0);
    const b = JSON.parse(fresh.stdout);
    expect(b.built).toBe(true);
    expect(events(fresh.stderr)).toContainEqual({ event: 'step-start', step: 'runtime-build', subject: 'fabricks.dev/runtimes/node:0.1', tool: 'componentize-js 0.23.0' });
    expect(b.digest).toBe(a.digest);
    expect(b.size).toBe(a.size);
    expect(inject('fabricksHome')).not.toBe(home);
  });

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
  it('builds with componentize-py into the store; a second build differs in at most a few bytes', async () => {
    const shared = await fabricks(['runtime', 'build', 'python', '--json']);
    expect(shared.status, shared.stderr).toBe(0);
    const a = JSON.parse(shared.stdout);
    expect(a.reference).toBe('fabricks.dev/runtimes/python:3.14');
    expect(a.built).toBe(false);

    const home = await mkdtemp(join(tmpdir(), 'fabricks-home-'));
    const fresh = await fabricks(['runtime', 'build', 'python', '--json', '--progress', 'json'], { home });
    expect(fresh.status, fresh.stderr).toBe(0);
    const b = JSON.parse(fresh.stdout);
    expect(events(fresh.stderr)).toContainEqual({ event: 'step-start', step: 'runtime-build', subject: 'fabricks.dev/runtimes/python:3.14', tool: 'componentize-py 0.25.1' });
    expect(b.size).toBe(a.size);
    // Not yet byte-identical (see docs/python.md): without the pinned entropy, clocks and file
    // metadata, 13.6 million bytes differ; with them, under a hundred bytes of stale memory do.
    const blob = (h: string, d: string) => readFile(join(h, 'store', 'blobs', 'sha256', d.slice('sha256:'.length)));
    const [x, y] = await Promise.all([blob(inject('fabricksHome'), a.digest), blob(home, b.digest)]);
    let differing = 0;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) differing++;
    expect(differing).toBeLessThan(1000);
  });
});
