import { createServer, type Server } from 'node:http';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { events, fabricks, jsToml, project, pyToml, type CliResult } from '../helpers.js';
import { serveProject, type Served } from '../serve-helpers.js';

/**
 * What the capability conformance suite runs on: the two runtimes, the two modes, the probe
 * programs (guest/probe.js, guest/probe.py: one interpreter of probes per runtime), the host
 * folders a cell is given and the real servers on loopback it may reach.
 */

export type Runtime = 'javascript' | 'python';
export type Mode = 'run' | 'serve';
export const RUNTIMES: Runtime[] = ['javascript', 'python'];

/** One probe: an operation and its arguments, as both probe programs read it. */
export interface Probe {
  op: string;
  [arg: string]: unknown;
}

/** What a probe came to, in the same shape from both runtimes. */
export type Outcome = { ok: unknown } | { err: ProbeError };
export interface ProbeError {
  /** The error's class: Error, TypeError, PermissionError, KeyError...; 'unsupported' for a probe a runtime has no API for. */
  type: string;
  /** The POSIX name of its errno (EROFS, EPERM, EACCES...), or JavaScript's `code`. */
  code?: string;
  /** JavaScript's `message`; Python's `strerror` (an OSError's sentence without "[Errno n]") or `str()`. */
  message: string;
  /** Python: the error came wrapped in urllib's URLError (as its `reason`). */
  via?: string;
}

const guestDir = join(dirname(fileURLToPath(import.meta.url)), 'guest');

/** A project of the probe program for a runtime, with these capabilities (TOML tables). */
export async function probeProject(runtime: Runtime, name: string, tables: string): Promise<string> {
  const [entry, toml] = runtime === 'javascript' ? ['probe.js', jsToml] : ['probe.py', pyToml];
  const source = await readFile(join(guestDir, entry), 'utf8');
  return project({ 'fabricks.toml': toml(entry, `\n[package]\nname = "${name}"\nversion = "1.0.0"\n${tables}`), [entry]: source });
}

// ---------------------------------------------------------------------------------------------
// Host folders

/** The host folders of one cell, and where each is mounted. */
export interface Folders {
  root: string;
  /** On another file system than the others (/dev/shm), so that no rename can cross to it. */
  other: string;
  /** --mount flags for the four declared mounts. */
  mountFlags: string[];
  remove(): Promise<void>;
}

/** What a read outside the mounts would find: the one thing no probe may ever see. */
export const SECRET = 'SECRET';

/**
 * data (ro): hello.txt, sub/a.txt, sub/b.txt, and links planted by the host to ../outside and
 *   ../outside/secret.txt;
 * rw (rw): d/ and a link evil -> ../outside (a folder's place to move it into); race/ for the
 *   swapped-link race (race/d/secret.txt, race/escape -> ../../outside, and
 *   race/a/b/up -> ../../../outside, which names rw/outside until the guest moves it a level up);
 * rw2 (rw, the same file system as rw); other (rw, /dev/shm); outside/secret.txt, never mounted.
 */
export async function folders(): Promise<Folders> {
  const root = await mkdtemp(join(tmpdir(), 'fabricks-conformance-'));
  const other = await mkdtemp('/dev/shm/fabricks-conformance-');
  for (const d of ['data/sub', 'outside', 'rw/d', 'rw/race/d', 'rw/race/a/b', 'rw2']) await mkdir(join(root, d), { recursive: true });
  await writeFile(join(root, 'outside', 'secret.txt'), SECRET);
  await writeFile(join(root, 'data', 'hello.txt'), 'hello');
  await writeFile(join(root, 'data', 'sub', 'a.txt'), 'a');
  await writeFile(join(root, 'data', 'sub', 'b.txt'), 'b');
  await symlink('../outside', join(root, 'data', 'escape'));
  await symlink('../outside/secret.txt', join(root, 'data', 'escape-file'));
  await symlink('../outside', join(root, 'rw', 'evil'));
  await writeFile(join(root, 'rw', 'race', 'd', 'secret.txt'), 'INSIDE');
  await symlink('../../outside', join(root, 'rw', 'race', 'escape'));
  await symlink('../../../outside', join(root, 'rw', 'race', 'a', 'b', 'up'));
  return {
    root,
    other,
    mountFlags: ['--mount', `${join(root, 'data')}:/data`, '--mount', `${join(root, 'rw')}:/rw`, '--mount', `${join(root, 'rw2')}:/rw2`, '--mount', `${other}:/other`],
    remove: async () => {
      await rm(root, { recursive: true, force: true });
      await rm(other, { recursive: true, force: true });
    },
  };
}

/** The mounts the folders above are for (their host folders come from --mount). */
export const MOUNTS_TABLE =
  '\n[capabilities.filesystem]\nmounts = [\n  { guest = "/data", mode = "ro" },\n  { guest = "/rw", mode = "rw" },\n  { guest = "/rw2", mode = "rw" },\n  { guest = "/other", mode = "rw" },\n]\n';

// ---------------------------------------------------------------------------------------------
// Servers on loopback

/** A real HTTP server that records the paths that reached it. `/to302/<url>` redirects there. */
export interface Upstream {
  port: number;
  seen: string[];
  close(): Promise<void>;
}

async function upstream(host: string, port = 0): Promise<Upstream> {
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req.url ?? '');
    const to = /^\/to(\d{3})\/(.+)$/.exec(req.url ?? '');
    if (to) {
      res.writeHead(Number(to[1]), { location: decodeURIComponent(to[2]!) });
      return res.end();
    }
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => res.end(`upstream saw ${req.method} ${req.url}${body ? ` ${body}` : ''}`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    port: (server.address() as { port: number }).port,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * The servers a cell may or may not reach, each granted differently by the `main` scenario:
 * `granted` as 127.0.0.1:port (and by the name localhost with its addresses); `byName` only as
 * localhost:port, a name that resolves to loopback, which a name rule alone does not grant;
 * `v6` as [::1]:port; `v6Denied` by nothing.
 */
export interface Upstreams {
  granted: Upstream;
  byName: Upstream;
  v6: Upstream;
  v6Denied: Upstream;
  close(): Promise<void>;
}

export async function upstreams(): Promise<Upstreams> {
  const [granted, byName, v6, v6Denied] = await Promise.all([upstream('127.0.0.1'), upstream('127.0.0.1'), upstream('::1'), upstream('::1')]);
  return { granted: granted!, byName: byName!, v6: v6!, v6Denied: v6Denied!, close: async () => void (await Promise.all([granted, byName, v6, v6Denied].map((u) => u!.close()))) };
}

// ---------------------------------------------------------------------------------------------
// Running probes: a run, or requests to a served handler

/** A started cell: probes go to one run, or to one served instance request by request. */
export interface Session {
  probe(probes: Probe[]): Promise<Outcome[]>;
  /** What fabricks printed on stderr (with --progress json: its events). */
  stderr(): string;
  stop(): Promise<void>;
  /** The server, when served. */
  served?: Served;
}

/** `fabricks run --progress json <dir> <flags> -- '<probes>'`: one process for all the probes. */
export function runSession(dir: string, flags: string[], env: Record<string, string>): Session {
  let stderr = '';
  return {
    async probe(probes) {
      const r = await fabricks(['run', '--progress', 'json', dir, ...flags, '--', JSON.stringify(probes)], { env });
      stderr += r.stderr;
      if (r.status !== 0) throw new Error(`the probe run exited ${r.status}:\n${r.stderr}`);
      return JSON.parse(r.stdout) as Outcome[];
    },
    stderr: () => stderr,
    stop: async () => {},
  };
}

/** One probe as a request to a served handler: POST /<op> with its arguments. */
export async function request(s: Served, { op, ...args }: Probe, timeoutMs = 30_000): Promise<Response> {
  return fetch(`${s.url}/${op}`, { method: 'POST', body: JSON.stringify(args), signal: AbortSignal.timeout(timeoutMs) });
}

/** `fabricks run --progress json <dir> <flags>` serving: each probe a request, one after another. */
export async function serveSession(dir: string, flags: string[], env: Record<string, string>): Promise<Session & { served: Served }> {
  const served = await serveProject([dir, ...flags], { env });
  return {
    served,
    async probe(probes) {
      const outcomes: Outcome[] = [];
      for (const p of probes) {
        const r = await request(served, p);
        if (r.status !== 200) throw new Error(`POST /${p.op} answered ${r.status}: ${await r.text()}\n${served.stderr()}`);
        outcomes.push((await r.json()) as Outcome);
      }
      return outcomes;
    },
    stderr: () => served.stderr(),
    stop: async () => {
      if (served.child.exitCode === null) await served.stop('SIGKILL');
    },
  };
}

/** A run that is refused before the service starts: its status and stderr. */
export function refusedRun(dir: string, flags: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return fabricks(['run', '-q', dir, ...flags, '--', '[]'], { env });
}

/** The `note` events with code `widened`: what the flags granted beyond the artifact. */
export const widenings = (stderr: string) => events(stderr).flatMap((e) => (e.event === 'note' && e.code === 'widened' ? [e.subject] : []));
