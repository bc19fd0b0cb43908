#!/usr/bin/env node
// OCI benchmark (npm run bench:oci [node] [python] [-- --smoke]; BENCH_SERVICES=N, default 10,
// 2 in a smoke run, which takes the node runtime only unless told): per runtime,
//   1. fabricks push of N services built on that one runtime to a real registry,
//   2. fabricks pull of all N onto a machine that has nothing (a fresh FABRICKS_HOME),
//   3. natively, the same N composed components pushed and pulled with oras as single-layer
//      artifacts (the CNCF Wasm layout: each one carries its own copy of the runtime).
// Bytes are counted on the wire by a TCP proxy in front of the registry (requests and answers,
// headers included). Prints a table and JSON (bench-results/oci.json). Needs `npm run setup`
// (the registry and oras come from install-tools).
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { copyProject, exec, fabricks, positional, report, row, scratchDir, setting, smoke, startRegistry, tools } from './bench-lib.mjs';

const runtimes = positional.length ? positional : smoke ? ['node'] : ['node', 'python'];
const services = Math.max(2, setting('BENCH_SERVICES', 10, 2));
const examples = { node: 'hello-js', python: 'hello-python' };
const scratch = await scratchDir('fabricks-bench-oci-');
// logins of this run only: nothing of the user's is read or written
const isolated = { FABRICKS_CONFIG_DIR: join(scratch, 'config'), DOCKER_CONFIG: join(scratch, 'docker') };

const registry = await startRegistry(scratch);

// A TCP proxy that counts every byte both ways.
let sent = 0;
let received = 0;
const live = new Set();
const proxy = createServer((client) => {
  const up = connect(registry.port, '127.0.0.1');
  live.add(client);
  client.pipe(up).on('error', () => {});
  up.pipe(client).on('error', () => {});
  client.on('error', () => up.destroy());
  up.on('error', () => client.destroy());
  client.on('close', () => {
    sent += client.bytesRead;
    received += client.bytesWritten;
    live.delete(client);
  });
});
await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
const host = `127.0.0.1:${proxy.address().port}`;
const wire = () => {
  let s = sent;
  let r = received;
  for (const c of live) {
    s += c.bytesRead;
    r += c.bytesWritten;
  }
  return { sent: s, received: r };
};

/** Runs `step` over all services, one after another: wire bytes in all and per service, and the time. */
async function measure(items, step, direction) {
  const before = wire();
  const started = performance.now();
  const per = [];
  for (const item of items) {
    const w = wire();
    await step(item);
    per.push(wire()[direction] - w[direction]);
  }
  const bytes = wire()[direction] - before[direction];
  const later = per.slice(1);
  return { seconds: (performance.now() - started) / 1000, wireMB: bytes / 1e6, firstServiceMB: per[0] / 1e6, laterServiceKB: later.reduce((n, b) => n + b, 0) / later.length / 1e3, per };
}

const oras = (args, cwd) => exec(tools.oras, args, { cwd, env: isolated });
const rows = [];
const checks = {};
try {
  for (const rt of runtimes) {
    const example = examples[rt];
    if (!example) throw new Error(`unknown runtime ${rt} (node or python)`);
    const runtime = (await fabricks(['runtime', 'build', rt, '-q', '--json'], { env: isolated })).json;
    const svcs = [];
    for (let i = 0; i < services; i++) {
      const name = `${rt}-svc-${i}`;
      const dir = await copyProject(example, { rename: name });
      await writeFile(join(dir, 'nonce.txt'), `service ${i} ${process.pid}\n`);
      const built = (await fabricks(['build', dir, '-q', '--json'], { env: isolated })).json;
      svcs.push({ dir, name, component: built.component.path });
    }
    const pullHome = join(scratch, `pull-${rt}-home`);
    const push = await measure(svcs, (s) => fabricks(['push', s.dir, `${host}/bench/${s.name}:1`, '--plain-http', '-q'], { env: isolated }), 'sent');
    const pull = await measure(svcs, (s) => fabricks(['pull', `${host}/bench/${s.name}:1`, '--plain-http', '-q'], { home: pullHome, env: isolated }), 'received');
    const monoPush = await measure(svcs, (s) => oras(['push', '--plain-http', '--artifact-type', 'application/vnd.wasm.config.v0+json', `${host}/mono/${s.name}:1`, `${basename(s.component)}:application/wasm`], dirname(s.component)), 'sent');
    const monoPull = await measure(
      svcs,
      async (s) => {
        const out = join(scratch, 'oras-pull', s.name);
        await mkdir(out, { recursive: true });
        await oras(['pull', '--plain-http', `${host}/mono/${s.name}:1`, '-o', out], out);
      },
      'received',
    );
    const metrics = ({ wireMB, firstServiceMB, laterServiceKB, seconds }) => ({ wireMB, firstServiceMB, laterServiceKB, seconds });
    rows.push(row(rt, 'fabricks', 'fabricks push (2 layers)', metrics(push), { services }));
    rows.push(row(rt, 'native', 'oras push (one component)', metrics(monoPush), { services }));
    rows.push(row(rt, 'fabricks', 'fabricks pull (2 layers)', metrics(pull), { services }));
    rows.push(row(rt, 'native', 'oras pull (one component)', metrics(monoPull), { services }));
    checks[rt] = {
      runtimeBytes: runtime.size,
      pushFewerBytes: +(monoPush.wireMB / push.wireMB).toFixed(1),
      pullFewerBytes: +(monoPull.wireMB / pull.wireMB).toFixed(1),
      laterPushesSendNoRuntime: push.per.slice(1).every((b) => b < runtime.size / 10),
      laterPullsReceiveNoRuntime: pull.per.slice(1).every((b) => b < runtime.size / 10),
    };
    for (const s of svcs) await rm(dirname(s.dir), { recursive: true, force: true });
  }
} finally {
  await registry.stop();
  proxy.close();
  for (const c of live) c.destroy();
  await rm(scratch, { recursive: true, force: true });
}

await report('oci', rows, {
  columns: [['wireMB', 'wire MB'], ['firstServiceMB', 'first svc MB'], ['laterServiceKB', 'each later KB'], ['seconds', 'seconds']],
  notes: Object.entries(checks).map(([rt, c]) => `${rt}: fabricks moves ${c.pushFewerBytes}x fewer bytes to push, ${c.pullFewerBytes}x fewer to pull`),
  settings: { services },
  checks,
});
if (Object.values(checks).some((c) => !c.laterPushesSendNoRuntime || !c.laterPullsReceiveNoRuntime)) process.exitCode = 1;
