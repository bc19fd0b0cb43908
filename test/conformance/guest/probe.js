// The capability conformance suite's probe program for JavaScript (test/conformance). A probe is
// { op, ...arguments }; its outcome is { ok: value } or { err: { type, code, message } }, the
// same shape probe.py gives, so that one table of expectations judges both runtimes.
//   a run:     fabricks run <dir> -- '<JSON list of probes>'  prints the JSON list of outcomes
//   a request: POST /<op> with the probe's arguments as JSON  answers its outcome as JSON
import fs from 'node:fs';

const ops = {
  env: () => ({ ...process.env }),
  // a variable by name: a missing one is undefined, as in Node (null here)
  'env-get': ({ name }) => process.env[name] ?? null,
  'env-has': ({ name }) => [name in process.env, process.env[name] ?? null],
  read: ({ path }) => fs.readFileSync(path, 'utf8'),
  write: ({ path, text }) => {
    fs.writeFileSync(path, text);
    return fs.readFileSync(path, 'utf8');
  },
  mkdir: ({ path, recursive }) => {
    fs.mkdirSync(path, { recursive: Boolean(recursive) });
    return fs.existsSync(path);
  },
  list: ({ path }) => fs.readdirSync(path).sort(),
  symlink: ({ target, path }) => fs.symlinkSync(target, path) ?? null,
  rename: ({ from, to }) => fs.renameSync(from, to) ?? null,
  // a folder held by its path, then moved away and a link to outside put in its place
  'rename-trick': ({ dir, moved, link, file }) => {
    fs.renameSync(dir, moved);
    fs.renameSync(link, dir);
    return fs.readFileSync(`${dir}/${file}`, 'utf8');
  },
  // what shutil.move does: a rename, else a copy and a removal
  move: ({ from, to }) => {
    try {
      fs.renameSync(from, to);
    } catch {
      fs.writeFileSync(to, fs.readFileSync(from));
      fs.unlinkSync(from);
    }
    return [fs.readFileSync(to, 'utf8'), fs.existsSync(from)];
  },
  fetch: async ({ url, method, body }) => {
    const r = await fetch(url, { method: method ?? 'GET', ...(body === undefined ? {} : { body }) });
    return { status: r.status, url: r.url, body: await r.text() };
  },
  // one side of the swapped-link race (escape-race.test.ts), for `ms` milliseconds
  'race-swap': ({ root, ms }) => {
    let swaps = 0;
    for (const end = Date.now() + ms; Date.now() < end; ) {
      try {
        fs.renameSync(`${root}/d`, `${root}/d_real`);
        fs.renameSync(`${root}/escape`, `${root}/d`);
        fs.renameSync(`${root}/d`, `${root}/escape`);
        fs.renameSync(`${root}/d_real`, `${root}/d`);
        swaps++;
      } catch {}
      try {
        fs.renameSync(`${root}/a/b/up`, `${root}/a/up`);
        fs.renameSync(`${root}/a/up`, `${root}/a/b/up`);
      } catch {}
    }
    return { swaps };
  },
  'race-probe': ({ root, ms, outside }) => {
    const seen = { inside: 0, outside: 0, refused: 0, written: 0 };
    for (let i = 0, end = Date.now() + ms; Date.now() < end; i++) {
      for (const path of [`${root}/d/secret.txt`, `${root}/a/up/secret.txt`]) {
        try {
          seen[fs.readFileSync(path, 'utf8') === outside ? 'outside' : 'inside']++;
        } catch {
          seen.refused++;
        }
      }
      try {
        fs.writeFileSync(`${root}/d/made-${i}.txt`, 'x');
        seen.written++;
      } catch {}
    }
    return seen;
  },
};

// Probes that reach a limit: run unguarded, so that the limit, not a catch, ends them.
const limits = {
  spin: () => {
    for (;;);
  },
  wait: () => new Promise((resolve) => setTimeout(resolve, 3_600_000)),
  hog: () => {
    const kept = [];
    for (;;) kept.push(new Uint8Array(1 << 20).fill(1));
  },
};

async function probe({ op, ...args }) {
  if (limits[op]) return { ok: await limits[op](args) };
  if (!ops[op]) return { err: { type: 'unsupported', message: `no probe ${op} in JavaScript` } };
  try {
    return { ok: (await ops[op](args)) ?? null };
  } catch (e) {
    return { err: { type: e?.constructor?.name, code: e?.code ?? e?.cause?.code, message: String(e?.message ?? e) } };
  }
}

if (process.argv.length > 2) {
  const outcomes = [];
  for (const p of JSON.parse(process.argv[2])) outcomes.push(await probe(p));
  console.log(JSON.stringify(outcomes));
}

export default {
  async fetch(request) {
    const op = new URL(request.url).pathname.slice(1);
    const args = request.method === 'POST' ? await request.json() : {};
    return Response.json(await probe({ ...args, op }));
  },
};
