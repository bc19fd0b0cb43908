#!/usr/bin/env node
// Native extensions benchmark (npm run bench:native [-- --smoke]): Python dependencies with
// compiled code, built from their sdists for wasm32-wasi by the pinned toolchain. Full: pydantic
// 2.14.4 (pydantic-core, about 3 minutes on 2 cores) and rpds-py; smoke: rpds-py alone (about a
// minute). With an empty native cache (FABRICKS_NATIVE_CACHE in a scratch folder), per app:
//   1. the first fabricks build: each extension's build time and sizes (extension, wheel), the
//      runtime variant's size against the base runtime's;
//   2. a build of another app with the same dependencies (the cache answers: nothing compiled);
//   3. the program under fabricks run (pydantic: validate, dump JSON, JSON schema; rpds: maps),
//      against the same program on the host's CPython with the published wheels (the native side);
//      and pip installing those published wheels, beside building the extensions.
// Prints a table and JSON (bench-results/native.json). Needs `npm run setup` (with the toolchain).
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exec, fabricks, median, report, row, scratchDir, setting, smoke } from './bench-lib.mjs';

const runs = setting('BENCH_RUNS', 5, 1);

const pydanticMain = `
import json
from datetime import datetime
from pydantic import BaseModel, Field, ValidationError

class Item(BaseModel):
    id: int
    name: str = Field(min_length=2)
    when: datetime
    tags: list[str] = []

items = [Item(id=str(i), name=f"item{i}", when="2026-12-05T10:00:00+01:00", tags=["a", "b"]) for i in range(1000)]
try:
    Item(id="x", name="a", when="never")
except ValidationError as e:
    errors = len(e.errors())
print(len(items), items[-1].id, errors, len(json.dumps(Item.model_json_schema())), len(items[0].model_dump_json()))
`;
const rpdsMain = `
import rpds
m = rpds.HashTrieMap()
for i in range(1000):
    m = m.insert(i, str(i))
print(len(m), m[999], sorted(rpds.HashTrieSet([3, 1, 2])))
`;
const app = smoke
  ? { name: 'rpds', requirements: ['rpds-py==2026.9.1'], main: rpdsMain, expect: /^1000 999 \[1, 2, 3\]$/ }
  : { name: 'pydantic', requirements: ['pydantic==2.14.4', 'rpds-py==2026.9.1'], main: pydanticMain, expect: /^1000 999 3 \d+ \d+$/ };

const nativeCache = process.env.BENCH_NATIVE_CACHE || (await scratchDir('fabricks-bench-native-'));
const env = { FABRICKS_NATIVE_CACHE: nativeCache };

async function project(tag) {
  const dir = await scratchDir(`fabricks-bench-native-${app.name}-`);
  await writeFile(join(dir, 'fabricks.toml'), `[package]\nname = "native-${app.name}-${tag}"\n\n[from]\nimage = "fabricks.dev/runtimes/python"\n\n[source]\nentrypoint = "main.py"\n`);
  await writeFile(join(dir, 'requirements.txt'), app.requirements.join('\n') + '\n');
  await writeFile(join(dir, 'main.py'), `${app.main}\n# ${tag}\n`);
  return dir;
}
const events = (stderr) => stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));

// the base runtime first: every machine pays it once, for every Python app
const base = (await fabricks(['runtime', 'build', 'python', '-q', '--json'])).json;

// 1. the first build, with the extensions built from their sdists
const first = await project('first');
const cold = await fabricks(['build', first, '--json', '--progress', 'json'], { env });
const built = events(cold.stderr).filter((e) => e.event === 'step-done' && e.step === 'native-build');
// the variant's build, or (when a home already held it: the test suite's does) its size from the build's answer
const variant = events(cold.stderr).find((e) => e.event === 'step-done' && e.step === 'runtime-build' && e.subject.includes('-native-')) ?? (cold.json?.runtime?.ref?.includes('-native-') ? { size: cold.json.runtime.size } : undefined);
const entries = [];
for (const key of (await readdir(nativeCache)).filter((f) => /^[0-9a-f]{64}$/.test(f))) {
  entries.push(JSON.parse(await readFile(join(nativeCache, key, 'build.json'), 'utf8')));
}

// 2. another app with the same dependencies
const second = await project('second');
const warm = await fabricks(['build', second, '--json', '--progress', 'json'], { env });
if (events(warm.stderr).some((e) => e.event === 'step-start' && e.step === 'native-build')) throw new Error('the second app built an extension again');

// 3. the program: under fabricks run, and on the host's CPython with the published wheels
const ran = [];
for (let i = 0; i < runs; i++) {
  const r = await fabricks(['run', '-q', second], { env });
  if (!app.expect.test(r.stdout.trim())) throw new Error(`unexpected output: ${r.stdout}`);
  ran.push(r.ms);
}
const venv = await scratchDir('fabricks-bench-native-venv-');
await exec('python3', ['-m', 'venv', venv]);
const pip = await exec(join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', '--only-binary=:all:', ...app.requirements]);
await writeFile(join(venv, 'main.py'), app.main);
const host = [];
for (let i = 0; i < runs; i++) {
  const r = await exec(join(venv, 'bin', 'python'), [join(venv, 'main.py')]);
  if (!app.expect.test(r.stdout.trim())) throw new Error(`unexpected output on the host: ${r.stdout}`);
  host.push(r.ms);
}

const rows = [];
for (const e of built) {
  const entry = entries.find((x) => `${x.package} ${x.version}` === e.subject);
  rows.push(row(e.subject, 'fabricks', 'build from sdist (cargo, wasm32-wasip1)', { ms: e.ms, extensionBytes: entry?.extension, wheelBytes: e.size }));
}
for (const e of built) rows.push(row(e.subject, 'native', 'pip install of the published wheels (host, all packages)', { ms: pip.ms }));
rows.push(row('runtime', 'fabricks', 'base runtime python:3.14', { bytes: base.size }));
rows.push(row('runtime', 'fabricks', `variant with ${built.map((b) => b.subject.split(' ')[0]).join(', ')}`, { bytes: variant?.size, ms: variant?.ms }));
rows.push(row('app build', 'fabricks', 'first app (extensions built)', { ms: cold.ms }));
rows.push(row('app build', 'fabricks', 'another app, same dependencies (cached)', { ms: warm.ms }));
rows.push(row(`run ${app.name}`, 'fabricks', 'fabricks run', { ms: median(ran) }, { runs, samplesMs: ran.map(Math.round) }));
rows.push(row(`run ${app.name}`, 'native', 'python3 on the host, published wheels', { ms: median(host) }, { runs, samplesMs: host.map(Math.round) }));

await report('native', rows, {
  columns: [['ms', 'wall ms'], ['extensionBytes', 'extension bytes'], ['wheelBytes', 'wheel bytes'], ['bytes', 'bytes']],
  notes: [`runtime variant: +${(((variant?.size ?? 0) - base.size) / 1e6).toFixed(2)} MB over the base runtime`],
  fabricksOnlyGroups: ['runtime', 'app build'],
});
