#!/usr/bin/env node
// OCI benchmark (npm run bench:oci [node] [python]; BENCH_SERVICES=N, default 10): per runtime,
//   1. fabricks push of N services built on that one runtime to a real registry,
//   2. fabricks pull of all N onto a machine that has nothing (a fresh FABRICKS_HOME),
//   3. the same N pushed and pulled as single monolithic components (push --format wasm, the
//      CNCF layout: each one carries its own copy of the runtime).
// Bytes are counted on the wire by a TCP proxy in front of the registry (requests and answers,
// headers included), beside fabricks' own --json counts. Prints a table and JSON (also written
// to bench-results/oci.json). Needs `npm run setup` (the registry comes from install-tools).
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'fabricks.js');
const runtimes = process.argv.length > 2 ? process.argv.slice(2) : ['node', 'python'];
const services = Number(process.env.BENCH_SERVICES ?? 10);
const builderHome = process.env.FABRICKS_HOME ?? join(tmpdir(), 'fabricks-bench-home');
const toolsDir = process.env.FABRICKS_TOOLS_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'fabricks-tools');
const registryBin = join(toolsDir, 'go-tools-distribution-v3.1.2-oras-v1.3.6-crane-v0.22.1', 'registry');
const examples = { node: 'hello-js', python: 'hello-python' };
const scratch = await mkdtemp(join(tmpdir(), 'fabricks-bench-oci-'));

// Asynchronous: the counting proxy runs in this process and must keep pumping meanwhile.
function cli(args, home) {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, FABRICKS_HOME: home, FABRICKS_CONFIG_DIR: join(scratch, 'config'), DOCKER_CONFIG: join(scratch, 'docker') } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (status !== 0) return reject(new Error(`fabricks ${args.join(' ')} failed:\n${stderr}`));
      resolve({ ms, json: stdout.trim().startsWith('{') ? JSON.parse(stdout) : undefined });
    });
  });
}

const freePort = () => new Promise((res) => { const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); }); });

// The registry, on loopback, storing in the scratch folder.
const regPort = await freePort();
await writeFile(join(scratch, 'registry.yml'), `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(scratch, 'registry')}\nhttp:\n  addr: 127.0.0.1:${regPort}\n`);
const registry = spawn(registryBin, ['serve', join(scratch, 'registry.yml')], { stdio: 'ignore' });
registry.on('error', (e) => { console.error(`cannot start ${registryBin} (run npm run setup): ${e.message}`); process.exit(1); });

// A TCP proxy that counts every byte both ways.
let sent = 0;
let received = 0;
const live = new Set();
const proxy = createServer((client) => {
  const up = connect(regPort, '127.0.0.1');
  live.add(client);
  client.pipe(up).on('error', () => {});
  up.pipe(client).on('error', () => {});
  client.on('error', () => up.destroy());
  up.on('error', () => client.destroy());
  client.on('close', () => { sent += client.bytesRead; received += client.bytesWritten; live.delete(client); });
});
await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
const host = `127.0.0.1:${proxy.address().port}`;
const wire = () => { let s = sent, r = received; for (const c of live) { s += c.bytesRead; r += c.bytesWritten; } return { sent: s, received: r }; };
for (let i = 0; i < 100; i++) { try { await fetch(`http://127.0.0.1:${regPort}/v2/`); break; } catch { await new Promise((r) => setTimeout(r, 50)); } }

/** Runs `step` over all services; the wire bytes and the time it took. */
async function measure(items, step) {
  const before = wire();
  const started = process.hrtime.bigint();
  const per = [];
  for (const item of items) {
    const w = wire();
    const r = await step(item);
    const after = wire();
    per.push({ wireSent: after.sent - w.sent, wireReceived: after.received - w.received, reported: r.json?.bytesSent ?? r.json?.bytesReceived ?? 0 });
  }
  const after = wire();
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, wireSent: after.sent - before.sent, wireReceived: after.received - before.received, per };
}

const results = [];
try {
  for (const rt of runtimes) {
    const example = examples[rt];
    if (!example) throw new Error(`unknown runtime ${rt} (node or python)`);
    const runtime = (await cli(['runtime', 'build', rt, '-q', '--json'], builderHome)).json;
    const dirs = [];
    for (let i = 0; i < services; i++) {
      const dir = join(scratch, `${rt}-svc-${i}`);
      await cp(join(root, 'examples', example), dir, { recursive: true, filter: (s) => !s.includes('.fabricks') && !s.endsWith('fabricks.lock') });
      const toml = join(dir, 'fabricks.toml');
      await writeFile(toml, (await readFile(toml, 'utf8')).replace(`name = "${example}"`, `name = "${rt}-svc-${i}"`));
      await writeFile(join(dir, 'nonce.txt'), `service ${i}\n`);
      await cli(['build', dir, '-q'], builderHome);
      dirs.push({ dir, name: `${rt}-svc-${i}` });
    }
    const pushHome = builderHome;
    const layered = {
      push: await measure(dirs, (d) => cli(['push', d.dir, `${host}/bench/${d.name}:1`, '--plain-http', '--json', '-q'], pushHome)),
      pull: await measure(dirs, (d) => cli(['pull', `${host}/bench/${d.name}:1`, '--plain-http', '--json', '-q'], join(scratch, `pull-${rt}-home`))),
    };
    const monolithic = {
      push: await measure(dirs, (d) => cli(['push', d.dir, `${host}/mono/${d.name}:1`, '--format', 'wasm', '--plain-http', '--json', '-q'], pushHome)),
      pull: await measure(dirs, (d) => cli(['pull', `${host}/mono/${d.name}:1`, '--plain-http', '--json', '-q', '-o', join(scratch, `${d.name}.wasm`)], join(scratch, `pull-mono-${rt}-home`))),
    };
    results.push({
      runtime: rt,
      services,
      runtimeBytes: runtime.size,
      layered,
      monolithic,
      savings: {
        push: monolithic.push.wireSent / layered.push.wireSent,
        pull: monolithic.pull.wireReceived / layered.pull.wireReceived,
      },
      checks: {
        laterPushesSendNoRuntime: layered.push.per.slice(1).every((p) => p.wireSent < runtime.size / 10),
        laterPullsReceiveNoRuntime: layered.pull.per.slice(1).every((p) => p.wireReceived < runtime.size / 10),
      },
    });
  }
} finally {
  registry.kill();
  proxy.close();
  for (const c of live) c.destroy();
}

const mb = (n) => (n / 1e6).toFixed(2);
const row = (...cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(34) : String(c).padStart(14))).join('');
console.log(row('', 'wire MB', 'first svc MB', 'each later KB', 'seconds'));
for (const r of results) {
  console.log(`${r.runtime} runtime (${mb(r.runtimeBytes)} MB), ${r.services} services`);
  for (const [label, m, dir] of [
    ['  fabricks push (2 layers)', r.layered.push, 'wireSent'],
    ['  monolithic push (--format wasm)', r.monolithic.push, 'wireSent'],
    ['  fabricks pull (2 layers)', r.layered.pull, 'wireReceived'],
    ['  monolithic pull', r.monolithic.pull, 'wireReceived'],
  ]) {
    const later = m.per.slice(1);
    console.log(row(label, mb(m[dir]), mb(m.per[0][dir]), later.length ? (later.reduce((n, p) => n + p[dir], 0) / later.length / 1e3).toFixed(1) : '-', (m.ms / 1000).toFixed(1)));
  }
  console.log(`  bytes moved: push ${r.savings.push.toFixed(1)}x fewer, pull ${r.savings.pull.toFixed(1)}x fewer than monolithic`);
}
const summary = { services, results };
console.log(JSON.stringify(summary));
await mkdir(join(root, 'bench-results'), { recursive: true });
await writeFile(join(root, 'bench-results', 'oci.json'), JSON.stringify(summary, null, 2) + '\n');
await rm(scratch, { recursive: true, force: true });
if (results.some((r) => !r.checks.laterPushesSendNoRuntime || !r.checks.laterPullsReceiveNoRuntime)) process.exitCode = 1;
