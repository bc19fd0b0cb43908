#!/usr/bin/env node
// Where a warm `fabricks run <project>` spends its time, phase by phase, in one process: run it
// as `node scripts/profile-run.mjs examples/hello-js [dist-dir] > /dev/null` (the guest's output
// goes to stdout). Prints one JSON line on stderr: wall and CPU ms per phase of this process, as
// bin/fabricks.js and src/app/run.ts take them, and the engine's own phases (wall ms; they
// overlap this process's, as in fabricks run). Not a benchmark: bench:run times the whole.
import { performance } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [project = 'examples/hello-js', distArg = 'dist'] = process.argv.slice(2);
const dist = pathToFileURL(resolve(distArg)).href;
const phases = {};
let lastWall = performance.now();
let lastCpu = process.cpuUsage();
// node's own start: from process start to the first line of this script
phases['node start'] = { wall: Math.round(lastWall), cpu: Math.round((lastCpu.user + lastCpu.system) / 1000) };
const mark = (name) => {
  const w = performance.now();
  const c = process.cpuUsage();
  phases[name] = { wall: +(w - lastWall).toFixed(1), cpu: +((c.user + c.system - lastCpu.user - lastCpu.system) / 1000).toFixed(1) };
  lastWall = w;
  lastCpu = c;
};

const { EngineProcess, storedComponent } = await import(`${dist}/engine/process.js`);
EngineProcess.startEarly([process.argv[0], 'fabricks', 'run']);
mark('start the engine');
await import('commander');
await import(`${dist}/cli/command.js`);
await import(`${dist}/app/run.js`);
mark('load CLI + app');
const { openContext } = await import(`${dist}/home/context.js`);
const { parseTarget, resolveTarget } = await import(`${dist}/app/target.js`);
const { cachePolicy } = await import(`${dist}/engine/compiled-cache.js`);
const ctx = await openContext({});
const resolved = await resolveTarget(await parseTarget(project), ctx, ['app', 'wasm']);
mark('project: config, hashes, build record, store');
const { home } = ctx;
const layers = resolved.kind === 'wasm' ? [resolved.layer] : [resolved.app.runtimeLayer, resolved.app.moduleLayer];
const files = [];
for (const l of layers) files.push(await storedComponent(home.store, l));
mark('check the layers');
const engine = EngineProcess.take();
const outcome = await engine.run(files[0], files[1], { args: ['x', 'a'], env: [] }, { cacheDir: home.compiledCacheDir, reporter: () => {}, policy: cachePolicy(home) });
mark('the engine runs it (waiting)');
engine.cancel();
process.stderr.write(JSON.stringify({ project, phases, engine: outcome.phases, status: outcome.status, rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20) }) + '\n');
