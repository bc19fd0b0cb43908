#!/usr/bin/env node
// Where a warm `fabricks run <project>` spends its time, phase by phase, in one process: run it
// as `node scripts/profile-run.mjs examples/hello-js [dist-dir] [wasmtime|jco]` (the guest's
// output goes to /dev/null). Prints one JSON line: wall and CPU ms per phase of this process,
// and, on wasmtime (the default), the wasmtime host's own phases (wall ms; they overlap the
// project work, as in fabricks run). bench-run.mjs runs it N times.
import { openSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const startedAt = performance.timeOrigin;
const [project = 'examples/hello-js', distArg = 'dist', engine = 'wasmtime'] = process.argv.slice(2);
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

if (engine === 'wasmtime') {
  await import('commander');
  await import(`${dist}/cli/command.js`);
  await import(`${dist}/app/run.js`);
  mark('load CLI + app');
  const { WasmtimeHost } = await import(`${dist}/engine/wasmtime.js`);
  const { digestHex } = await import(`${dist}/oci/digest.js`);
  const host = WasmtimeHost.start();
  mark('start the wasmtime host');
  const { openContext } = await import(`${dist}/home/context.js`);
  const { parseTarget, resolveTarget } = await import(`${dist}/app/target.js`);
  const ctx = await openContext({});
  const resolved = await resolveTarget(await parseTarget(project), ctx, ['app', 'wasm']);
  mark('project: config, hashes, build record, store');
  const { home } = ctx;
  const layers = [resolved.app.runtimeLayer, resolved.app.moduleLayer];
  for (const l of layers) await home.store.verify(l);
  const files = layers.map((l) => ({ path: home.store.blobPath(l.digest), hex: digestHex(l.digest) }));
  mark('check the layers');
  const outcome = await host.run(files[0], files[1], { args: ['x', 'a'], env: [] }, { cacheDir: home.compiledCacheDir, reporter: () => {}, policy: { leases: home.leases, limit: home.cacheLimit } });
  mark('the wasmtime host runs it (waiting)');
  process.stderr.write(JSON.stringify({ project, engine, startedAt, phases, host: outcome.phases, rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20) }) + '\n');
  process.exit(0);
}

await import('commander');
await import(`${dist}/cli/command.js`);
const { run: _unused } = await import(`${dist}/app/run.js`);
mark('load CLI + app');
const { openContext } = await import(`${dist}/home/context.js`);
const { parseTarget, resolveTarget } = await import(`${dist}/app/target.js`);
const ctx = await openContext({});
const resolved = await resolveTarget(await parseTarget(project), ctx, ['app', 'wasm']);
mark('project: config, hashes, build record, store');
const { transpiled } = await import(`${dist}/engine/transpile.js`);
const { readFile } = await import('node:fs/promises');
const t = await transpiled(ctx.home.transpileCacheDir, resolved.app.config.component.digest, () => readFile(resolved.built.component.path), () => {}, { leases: ctx.home.leases, limit: ctx.home.cacheLimit });
mark('transpile cache lookup + lease');
await import(`${dist}/engine/run.js`);
const host = await import(`${dist}/engine/host.js`);
mark('load engine (preview2-shim)');
const { readdirSync, readFileSync } = await import('node:fs');
const { join } = await import('node:path');
let script;
try {
  const { loadComponentScript } = await import(`${dist}/engine/component-script.js`);
  script = await loadComponentScript(t.dir);
} catch {
  script = { exports: await import(pathToFileURL(join(t.dir, 'component.js')).href), saveCache: () => {} };
}
mark('load component.js');
const files = readdirSync(t.dir).filter((n) => n.endsWith('.wasm')).map((n) => [n, readFileSync(join(t.dir, n))]);
mark('read core wasm');
const modules = new Map(await Promise.all(files.map(async ([n, b]) => [n, await WebAssembly.compile(b)])));
mark('compile core wasm');
// the guest's stdout goes nowhere; fabricks' stdio streams write to process.stdout
const devnull = openSync('/dev/null', 'w');
process.stdout.write = (b, ...rest) => { const cb = rest.find((x) => typeof x === 'function'); if (cb) cb(); return true; };
void devnull;
const imports = host.importsFor(t.imports, { args: ['x', 'a'], env: [] });
const instance = script.exports.instantiate((n) => modules.get(n), imports);
script.saveCache();
mark('instantiate');
const runKey = Object.keys(instance).find((k) => k.startsWith('wasi:cli/run@'));
try {
  instance[runKey].run();
} catch (e) {
  if (!(e instanceof host.ExitSignal)) throw e;
}
mark('guest run');
const rss = process.memoryUsage().rss;
process.stderr.write(JSON.stringify({ project, startedAt, phases, rssMiB: Math.round(rss / 2 ** 20) }) + '\n');
process.exit(0);
