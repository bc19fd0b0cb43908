#!/usr/bin/env node
// Store and transfer benchmark (npm run bench:store [node|python] [-- --smoke]; BENCH_RUNS=N,
// default 3, 1 in a smoke run):
//   1. fabricks pull of one app (config, runtime layer, module layer) from a real local registry
//      into a fresh FABRICKS_HOME, one blob at a time (FABRICKS_TRANSFER_CONCURRENCY=1) and three
//      at a time (the default), median wall time of N runs each, against the native tool doing
//      the same: oras copy of the artifact into a fresh OCI image layout;
//   2. fabricks ls and fabricks gc (nothing to remove, then after rm) on the pulled home (no
//      native counterpart).
// Needs `npm run setup` (the registry and oras come from install-tools). Prints a table and JSON
// (bench-results/store.json).
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { copyProject, exec, fabricks, median, positional, report, row, scratchDir, setting, startRegistry, tools } from './bench-lib.mjs';

const runtime = positional[0] ?? 'node';
const runs = setting('BENCH_RUNS', 3, 1);
const scratch = await scratchDir('fabricks-bench-store-');
const isolated = { FABRICKS_CONFIG_DIR: join(scratch, 'config'), DOCKER_CONFIG: join(scratch, 'docker') };
const registry = await startRegistry(scratch);

const rows = [];
let size;
try {
  const example = runtime === 'python' ? 'hello-python' : 'hello-js';
  const app = await copyProject(example);
  await fabricks(['build', '-q', app], { env: isolated });
  const reference = `${registry.host}/bench/${example}:1`;
  await fabricks(['push', app, reference, '--plain-http', '-q'], { env: isolated });
  let lastHome;
  const pulls = {};
  for (const concurrency of [1, 3]) {
    const times = [];
    for (let i = 0; i < runs; i++) {
      const h = await mkdtemp(join(scratch, 'home-'));
      const r = await fabricks(['pull', reference, '--plain-http', '--json', '-q'], { home: h, env: { ...isolated, FABRICKS_TRANSFER_CONCURRENCY: String(concurrency) } });
      times.push(r.ms);
      size ??= r.json?.bytesReceived;
      if (lastHome) await rm(lastHome, { recursive: true, force: true });
      lastHome = h;
    }
    pulls[concurrency] = times;
  }
  const native = [];
  for (let i = 0; i < runs; i++) {
    const layout = await mkdtemp(join(scratch, 'layout-'));
    native.push((await exec(tools.oras, ['copy', '--from-plain-http', reference, '--to-oci-layout', `${layout}:1`], { env: isolated })).ms);
    await rm(layout, { recursive: true, force: true });
  }
  rows.push(row('pull', 'fabricks', 'fabricks pull, 3 blobs at a time', { ms: median(pulls[3]) }, { runs, samplesMs: pulls[3].map(Math.round) }));
  rows.push(row('pull', 'fabricks', 'fabricks pull, 1 blob at a time', { ms: median(pulls[1]) }, { runs, samplesMs: pulls[1].map(Math.round) }));
  rows.push(row('pull', 'native', 'oras copy to an OCI layout', { ms: median(native) }, { runs, samplesMs: native.map(Math.round) }));

  const ls = await fabricks(['ls', '--json'], { home: lastHome });
  const gcNothing = await fabricks(['gc', '--json'], { home: lastHome });
  await fabricks(['rm', reference], { home: lastHome });
  const gc = await fabricks(['gc', '--json'], { home: lastHome });
  rows.push(row('store upkeep', 'fabricks', 'fabricks ls', { ms: ls.ms }));
  rows.push(row('store upkeep', 'fabricks', 'fabricks gc, nothing to remove', { ms: gcNothing.ms }));
  rows.push(row('store upkeep', 'fabricks', 'fabricks gc after rm', { ms: gc.ms, freedMB: gc.json.freed / 1e6 }));
} finally {
  await registry.stop();
  await rm(scratch, { recursive: true, force: true });
}

await report('store', rows, {
  columns: [['ms', 'wall ms'], ['freedMB', 'freed MB']],
  notes: [`the pulled artifact: ${size ? `${(size / 1e6).toFixed(1)} MB in 3 blobs` : '3 blobs'}, median of ${runs}`],
  settings: { runtime, runs },
  // ls and gc have no counterpart in oras: fabricks rows alone
  fabricksOnlyGroups: ['store upkeep'],
});
