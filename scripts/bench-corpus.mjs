#!/usr/bin/env node
// The npm MCP corpus (npm run bench:corpus [-- --smoke] [-- id ...]): every server of
// test/corpus/npm/servers.mjs, pinned and unmodified, built by fabricks and driven by the
// official TypeScript client over stdio as npm-corpus.test.ts drives it. Per server:
//   version, module layer size, whether it passes under fabricks (and else its first cause and
//   the Node built-ins its build refused), and spawn to first tool result, median of BENCH_RUNS
//   (default 3), under `fabricks run` (built and run once first) and natively under node, in
//   the same run.
// Prints a table, the failing servers grouped by first cause, and JSON (bench-results/corpus.json).
// --smoke: only mcp-hello-world (BENCH_CORPUS=id,id chooses others), one run.
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { home, median, positional, report, root, row, scratchDir, setting, smoke } from './bench-lib.mjs';

const corpus = await import(pathToFileURL(join(root, 'test', 'corpus', 'npm', 'corpus.mjs')).href);
const { servers } = await import(pathToFileURL(join(root, 'test', 'corpus', 'npm', 'servers.mjs')).href);

const runs = setting('BENCH_RUNS', 3, 1);
const chosen = positional.length ? positional : process.env.BENCH_CORPUS ? process.env.BENCH_CORPUS.split(',') : smoke ? ['hello-world'] : servers.map((s) => s.id);
const unknown = chosen.filter((id) => !servers.some((s) => s.id === id));
if (unknown.length) throw new Error(`no corpus server ${unknown.join(', ')}; the ids are ${servers.map((s) => s.id).join(', ')}`);

const modules = await corpus.corpusNodeModules();
const scratch = await scratchDir('fabricks-bench-corpus-');

/** Median spawn→first result over `runs` drives, and the first drive's problems. */
async function measure(server, command, where, dataHost) {
  const times = [];
  let found = [];
  let first;
  for (let i = 0; i < runs; i++) {
    await corpus.resetData(server, dataHost);
    const d = await corpus.drive(server, command);
    if (i === 0) {
      first = d;
      found = corpus.problems(server, d, where);
    }
    if (d.firstResultMs === undefined || corpus.problems(server, d, where).length) break;
    times.push(d.firstResultMs);
  }
  return { firstResultMs: times.length === runs ? median(times) : undefined, problems: found, cause: found.length ? corpus.firstCause(first.stderr, found[0]) : undefined };
}

const rows = [];
const results = [];
for (const id of chosen) {
  const server = servers.find((s) => s.id === id);
  const p = await corpus.prepare(server, modules, scratch);
  const name = `${server.package}@${p.version}`;
  const native = await measure(server, corpus.nativeCommand(server, modules, p.data.native), 'natively', p.data.native);
  const built = await corpus.build(p.project, { home });
  let fabricks;
  if (built.status !== 0) {
    fabricks = { status: 'build fails', cause: corpus.firstCause(built.stderr), refusedBuiltins: corpus.refusedBuiltins(built.stderr) };
  } else {
    // run once unmeasured, as a second run on the same machine finds it (its module layer compiled)
    await corpus.drive(server, corpus.fabricksCommand(server, p.project, { home }));
    const m = await measure(server, corpus.fabricksCommand(server, p.project, { home }), 'under fabricks', p.data.fabricks);
    fabricks = { status: m.problems.length ? 'fails' : 'passes', ...m, moduleLayerBytes: built.json.module.size };
  }
  const result = { id, package: server.package, version: p.version, nativeOk: native.problems.length === 0, ...fabricks };
  results.push(result);
  rows.push(row(id, 'fabricks', name, { moduleLayerBytes: fabricks.moduleLayerBytes, firstResultMs: fabricks.firstResultMs }, { status: fabricks.status, cause: fabricks.cause, problems: fabricks.problems, refusedBuiltins: fabricks.refusedBuiltins }));
  rows.push(row(id, 'native', `node ${process.versions.node}`, { firstResultMs: native.firstResultMs }, { status: native.problems.length ? 'spec fails natively' : 'passes', problems: native.problems }));
  console.error(`${id}: ${fabricks.status}${fabricks.cause ? `: ${fabricks.cause}` : ''}`);
}

/** A first cause without file paths, so that servers failing the same way group together. */
function shortCause(cause) {
  const refused = /"([^"]+)" is a Node\.js module that .* \(package ([^)]+)\)/.exec(cause);
  if (refused) return `build: "${refused[1]}" is not provided (imported by ${refused[2]})`;
  const unresolved = /error: Could not resolve "([^"]+)"/.exec(cause);
  if (unresolved) return `build: could not resolve "${unresolved[1]}"`;
  return cause.replace(/\S*\/node_modules\//g, '');
}

// the failing servers, grouped by their first cause (the built-in or message, without file paths)
const byCause = new Map();
for (const r of results.filter((r) => r.status !== 'passes')) {
  const key = shortCause(r.cause ?? '');
  byCause.set(key, [...(byCause.get(key) ?? []), r.id]);
}
const passing = results.filter((r) => r.status === 'passes').map((r) => r.id);
await report('corpus', rows, {
  columns: [['moduleLayerBytes', 'module layer bytes'], ['firstResultMs', 'spawn→first result ms']],
  notes: [
    `passes under fabricks: ${passing.length} of ${results.length}${passing.length ? ` (${passing.join(', ')})` : ''}`,
    ...[...byCause].map(([cause, ids]) => `fails (${ids.length}) ${ids.join(', ')}: ${cause}`),
    ...results.filter((r) => r.refusedBuiltins?.length).map((r) => `${r.id}'s build refuses ${r.refusedBuiltins.join(', ')}`),
    `${runs} run(s) each; a server that fails has no time`,
  ],
  settings: { runs, servers: chosen },
  results,
});
