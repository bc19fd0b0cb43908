import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { limiter, repoRoot } from '../helpers.js';

// Every `npm run bench:*` in its smoke mode: a handful of iterations that still runs the fabricks
// side and the native side and writes the table and JSON, so that no bench rots unnoticed. The
// numbers are checked for shape and sanity only: speed is the benches' business, not a test's.

interface Row {
  group: string;
  side: string;
  name: string;
  metrics: Record<string, unknown>;
  failed?: number;
}
interface Result {
  bench: string;
  smoke: boolean;
  rows: Row[];
  fabricksOnlyGroups?: string[];
}

const scripts = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')).scripts as Record<string, string>;
const benches = Object.entries(scripts)
  .filter(([name]) => name.startsWith('bench:'))
  .map(([name, command]) => ({ name: name.slice('bench:'.length), script: /^node (scripts\/bench-[\w-]+\.mjs)$/.exec(command)?.[1] ?? command }));

// Three benches at a time, in package.json's order: bench:build (two monolithic builds, the
// longest by far) starts first and the others share the rest of the time; more at once would
// only queue on two cores.
const slot = limiter(3);

function runBench(script: string, resultsDir: string): Promise<{ status: number | null; output: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, script), '--smoke'], {
      cwd: repoRoot,
      // the official SDK's wheels from the run's shared cache (bench:native keeps its own, empty)
      env: { ...process.env, FABRICKS_HOME: inject('fabricksHome'), ...(process.env.FABRICKS_TEST_NATIVE_CACHE ? { FABRICKS_NATIVE_CACHE: process.env.FABRICKS_TEST_NATIVE_CACHE } : {}), BENCH_RESULTS_DIR: resultsDir, BENCH_SMOKE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, output, ms: performance.now() - started }));
  });
}

describe.concurrent('benchmarks, smoke mode (npm run bench:* -- --smoke)', () => {
  it('every bench:* script is a scripts/bench-*.mjs, and there is one for each', () => {
    expect(benches.map((b) => b.name).sort()).toEqual(['build', 'corpus', 'gateway', 'http', 'mcp', 'mcp-js', 'mcp-python', 'native', 'oci', 'run', 'start', 'store']);
    for (const b of benches) expect(b.script).toMatch(/^scripts\/bench-[\w-]+\.mjs$/);
  });

  for (const { name, script } of benches) {
    it(`bench:${name} writes a table and JSON with fabricks and native rows of positive numbers`, async () => {
      const resultsDir = await mkdtemp(join(tmpdir(), 'fabricks-bench-smoke-'));
      const run = await slot(() => runBench(script, resultsDir));
      expect(run.status, run.output).toBe(0);
      const json = JSON.parse(await readFile(join(resultsDir, `${name}.json`), 'utf8')) as Result;
      expect(json.bench).toBe(name);
      expect(json.smoke).toBe(true);
      expect(json.rows.length).toBeGreaterThan(0);
      // the table: a heading and one line per row
      expect(run.output).toMatch(/group\s+side\s+name/);
      for (const r of json.rows) expect(run.output).toContain(r.name);
      for (const r of json.rows) {
        const where = `${name}: ${r.group} / ${r.name}`;
        expect(Object.keys(r.metrics).length, where).toBeGreaterThan(0);
        for (const [k, v] of Object.entries(r.metrics)) {
          expect(typeof v, `${where}: ${k}`).toBe('number');
          expect(Number.isFinite(v) && (v as number) > 0, `${where}: ${k} = ${String(v)}`).toBe(true);
        }
        if (r.failed !== undefined) expect(r.failed, `${where}: failed requests`).toBe(0);
      }
      const fabricksOnly = new Set(json.fabricksOnlyGroups ?? []);
      for (const group of new Set(json.rows.map((r) => r.group))) {
        const sides = json.rows.filter((r) => r.group === group).map((r) => r.side);
        expect(sides, `${name}: ${group}`).toContain('fabricks');
        if (!fabricksOnly.has(group)) expect(sides, `${name}: ${group}`).toContain('native');
      }
      expect(json.rows.some((r) => r.side === 'native')).toBe(true);
    });
  }
});
