import { afterAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsToml, project, pyToml } from '../helpers.js';
import { serveProject, type Served } from '../serve-helpers.js';

/**
 * The escape an adversarial pass found while serving (issue 17): with requests handled at once,
 * one request swaps an escaping link into a folder's place over and over while another opens a
 * file through that folder. A host that checks a path and then opens it again loses that race;
 * the engine resolves every path beneath the mount and must lose it never. Bounded: a fixed
 * number of rounds, each with a fixed number of attempts, and a time budget.
 *
 * The layout, in a read-write mount /rw:
 *   rw/d/secret.txt            "INSIDE"
 *   rw/escape -> ../outside    planted by the host (outside/secret.txt is "OUTSIDE")
 *   rw/a/b/up -> ../../outside a harmless link (it names rw/outside, which does not exist);
 *                              the guest moves it one level up, where it names the real outside
 */

const ROUNDS = 8;
const PER_REQUEST = 400;
const BUDGET_MS = 60_000;

const JS = String.raw`
import fs from 'node:fs';
const swap = (n) => {
  let done = 0;
  for (let i = 0; i < n; i++) {
    try { fs.renameSync('/rw/d', '/rw/d_real'); fs.renameSync('/rw/escape', '/rw/d'); fs.renameSync('/rw/d', '/rw/escape'); fs.renameSync('/rw/d_real', '/rw/d'); done++; } catch {}
    try { fs.renameSync('/rw/a/b/up', '/rw/a/up'); fs.renameSync('/rw/a/up', '/rw/a/b/up'); } catch {}
  }
  return done;
};
const probe = (n) => {
  const seen = { inside: 0, outside: 0, refused: 0, written: 0 };
  for (let i = 0; i < n; i++) {
    for (const path of ['/rw/d/secret.txt', '/rw/a/up/secret.txt']) {
      try {
        const text = fs.readFileSync(path, 'utf8');
        if (text === 'OUTSIDE') seen.outside++;
        else seen.inside++;
      } catch { seen.refused++; }
    }
    try { fs.writeFileSync('/rw/d/made-' + i + '.txt', 'x'); seen.written++; } catch {}
  }
  return seen;
};
export default {
  fetch(request) {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get('n'));
    if (url.pathname === '/swap') return Response.json({ swaps: swap(n) });
    return Response.json(probe(n));
  },
};
`;

const PY = String.raw`
import json, os
from urllib.parse import parse_qs

def swap(n):
    done = 0
    for _ in range(n):
        try:
            os.rename("/rw/d", "/rw/d_real"); os.rename("/rw/escape", "/rw/d"); os.rename("/rw/d", "/rw/escape"); os.rename("/rw/d_real", "/rw/d")
            done += 1
        except OSError:
            pass
        try:
            os.rename("/rw/a/b/up", "/rw/a/up"); os.rename("/rw/a/up", "/rw/a/b/up")
        except OSError:
            pass
    return {"swaps": done}

def probe(n):
    seen = {"inside": 0, "outside": 0, "refused": 0, "written": 0}
    for i in range(n):
        for path in ("/rw/d/secret.txt", "/rw/a/up/secret.txt"):
            try:
                with open(path) as f:
                    seen["outside" if f.read() == "OUTSIDE" else "inside"] += 1
            except OSError:
                seen["refused"] += 1
        try:
            with open(f"/rw/d/made-{i}.txt", "w") as f:
                f.write("x")
            seen["written"] += 1
        except OSError:
            pass
    return seen

def app(environ, start_response):
    n = int(parse_qs(environ.get("QUERY_STRING", "")).get("n", ["0"])[0])
    body = json.dumps(swap(n) if environ["PATH_INFO"] == "/swap" else probe(n)).encode()
    start_response("200 OK", [("content-type", "application/json")])
    return [body]
`;

interface Layout {
  root: string;
  rw: string;
  outside: string;
}

async function layout(): Promise<Layout> {
  const root = await mkdtemp(join(tmpdir(), 'fabricks-race-'));
  const rw = join(root, 'rw');
  const outside = join(root, 'outside');
  await mkdir(join(rw, 'd'), { recursive: true });
  await mkdir(join(rw, 'a', 'b'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(rw, 'd', 'secret.txt'), 'INSIDE');
  await writeFile(join(outside, 'secret.txt'), 'OUTSIDE');
  await symlink('../outside', join(rw, 'escape'));
  await symlink('../../outside', join(rw, 'a', 'b', 'up'));
  return { root, rw, outside };
}

const running: Served[] = [];
afterAll(async () => {
  for (const s of running) if (s.child.exitCode === null) await s.stop('SIGKILL');
});

const serviceToml = (toml: (entry: string, extra: string) => string, entry: string, name: string) =>
  toml(entry, `\n[package]\nname = "${name}"\n\n[capabilities.network]\nlisten = [8080]\n\n[capabilities.filesystem]\nmounts = [{ guest = "/rw", mode = "rw" }]\n`);

describe.each([
  ['JavaScript', () => project({ 'fabricks.toml': serviceToml(jsToml, 'main.js', 'race-js'), 'main.js': JS })],
  ['Python', () => project({ 'fabricks.toml': serviceToml(pyToml, 'main.py', 'race-py'), 'main.py': PY })],
] as const)('the swapped-link race while serving, %s', (_language, make) => {
  it('reads nothing outside the mount and writes nothing there, in thousands of attempts', async () => {
    const dir = await make();
    const l = await layout();
    const s = await serveProject([dir, '--listen', '127.0.0.1:0', '--mount', `${l.rw}:/rw`, '--concurrency', '4']);
    running.push(s);
    const total = { inside: 0, outside: 0, refused: 0, written: 0, swaps: 0 };
    const started = Date.now();
    for (let round = 0; round < ROUNDS && Date.now() - started < BUDGET_MS; round++) {
      const [swapper, reader, reader2] = await Promise.all([
        fetch(`${s.url}/swap?n=${PER_REQUEST}`).then((r) => r.json() as Promise<{ swaps: number }>),
        fetch(`${s.url}/probe?n=${PER_REQUEST}`).then((r) => r.json() as Promise<typeof total>),
        fetch(`${s.url}/probe?n=${PER_REQUEST}`).then((r) => r.json() as Promise<typeof total>),
      ]);
      total.swaps += swapper.swaps;
      for (const k of ['inside', 'outside', 'refused', 'written'] as const) total[k] += reader[k] + reader2[k];
    }
    await s.stop();
    // the race ran: the swaps happened and the reads overlapped them
    expect(total.swaps).toBeGreaterThan(100);
    expect(total.inside + total.outside + total.refused).toBeGreaterThan(2000);
    expect(total.outside).toBe(0);
    expect(await readdir(l.outside)).toEqual(['secret.txt']);
    expect(await readFile(join(l.outside, 'secret.txt'), 'utf8')).toBe('OUTSIDE');
  });
});
