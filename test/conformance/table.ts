import { expect } from 'vitest';
import { existsSync, lstatSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MOUNTS_TABLE, SECRET, type Folders, type Mode, type Outcome, type Probe, type ProbeError, type Runtime, type Upstreams } from './world.js';

/**
 * The capability conformance table: the probes every cell (a runtime and a mode) runs, in this
 * order, and what each must come to. One expectation for both runtimes; where the languages
 * differ by design (an error's class, JavaScript's undefined for a missing variable), it says
 * so per runtime. Network denials are the engine's one sentence, the same everywhere; folder
 * refusals are each runtime's words, and each names the mount and what to change.
 */

/** What a cell's probes run against. */
export interface World {
  runtime: Runtime;
  mode: Mode;
  /** A path prefix of this cell's own, so that what reached a server is told apart by cell. */
  tag: string;
  folders: Folders;
  up: Upstreams;
}

export interface Case {
  /** What the case shows: the test's name. */
  name: string;
  probe(w: World): Probe;
  /** Judges the outcome, and what the host sees afterwards (after all the scenario's probes ran). */
  check(o: Outcome, w: World): void | Promise<void>;
  /**
   * A difference from the expected outcome that this suite found and that is not fixed yet. In
   * that runtime the test, named a known gap, checks that `check` still fails and that the
   * outcome is still `today`: it turns red when either changes (fixed: drop the gap). `check`
   * itself stays what the outcome should be.
   */
  gap?: { runtime: Runtime; what: string; today: ProbeError };
}

/** A set of grants (fabricks.toml, flags, host environment) and the cases run under it. */
export interface Scenario {
  /** A short name, for package names. */
  id: string;
  name: string;
  /** The [capabilities] tables; a served cell of a scenario that `listens` declares listen = [8080]. */
  tables(up: Upstreams, serve: boolean): string;
  /** Whether it declares `listen` when served (else a served cell is widened with --allow-listen). */
  listens: boolean;
  flags(w: World): string[];
  env: Record<string, string>;
  cases: Case[];
}

// ---------------------------------------------------------------------------------------------
// Expectations

export function okOf(o: Outcome | undefined): unknown {
  expect(o, JSON.stringify(o)).toHaveProperty('ok');
  return (o as { ok: unknown }).ok;
}

export function errOf(o: Outcome | undefined): ProbeError {
  expect(o, JSON.stringify(o)).toHaveProperty('err');
  return (o as { err: ProbeError }).err;
}

const byRuntime = <T>(w: World, values: Record<Runtime, T>): T => values[w.runtime];

const FOLDERS = '[capabilities.filesystem] mounts in fabricks.toml';
export const READ_ONLY = (mount: string) => `the folder ${mount} is granted read-only; to write to it, set mode = "rw" for it in ${FOLDERS}`;
export const NO_FOLDER = (folder: string) => `no folder is granted at ${folder}; add a mount for it to ${FOLDERS}`;
/** Both runtimes name the way out (`'..' leads out of the mount /data`) and how to reach another folder. */
const LEADS_OUT = (reason: string) => `${reason}; a service reaches only the folders mounted for it: to reach another one, add it to ${FOLDERS}`;

const PYTHON_ERRORS: Record<string, string> = { EROFS: 'PermissionError', EPERM: 'PermissionError', ENOENT: 'FileNotFoundError', EIO: 'OSError', EXDEV: 'OSError' };

/** A folder refused: the language's own error for `code`, whose message says `says`. */
function folderRefused(o: Outcome, w: World, code: string, says?: string | RegExp) {
  const e = errOf(o);
  expect(e).toMatchObject({ type: byRuntime(w, { javascript: 'Error', python: PYTHON_ERRORS[code]! }), code });
  if (typeof says === 'string') expect(e.message).toContain(says);
  else if (says) expect(e.message).toMatch(says);
  expect(JSON.stringify(o)).not.toContain(SECRET);
}

const CONNECT_HINT = (rule: string) => `add "${rule}" (or a rule that covers it) to [capabilities.network] connect in fabricks.toml`;
/** The engine's sentence for a target no rule covers. */
export const NOT_GRANTED = (target: string) => `network access to ${target} is not granted; ${CONNECT_HINT(target)}`;

/** A connection refused: fetch's TypeError, Python's PermissionError (in urllib's URLError), with the engine's sentence. */
export function connectRefused(o: Outcome, w: World, sentence: string | RegExp) {
  const e = errOf(o);
  expect(e).toMatchObject(byRuntime(w, { javascript: { type: 'TypeError', code: 'EACCES' }, python: { type: 'PermissionError', code: 'EACCES', via: 'URLError' } }));
  if (typeof sentence === 'string') expect(e.message).toBe(sentence);
  else expect(e.message).toMatch(sentence);
}

/** A 200 from one of the servers, its final URL (after redirects) and its body. */
function answered(o: Outcome, url: string, body: string) {
  expect(okOf(o)).toEqual({ status: 200, url, body });
}

const file = (w: World, ...path: string[]) => join(w.folders.root, ...path);
const read = (path: string) => readFile(path, 'utf8');

// ---------------------------------------------------------------------------------------------
// Scenario `main`: each capability granted narrowly

/** The host's variables: some the service is granted, some it must not see. */
const MAIN_HOST_ENV = { LOG_LEVEL: 'debug', LOG_TOKEN: 'leak-1', OPENWEATHER_API_KEY: 'k-123', GITHUB_TOKEN: 'leak-2', APP_X: 'x', HOME_DIR: '/home/me', MODE: 'dev' };
/** What it sees: LOG_LEVEL by a pattern, OPENWEATHER_API_KEY (a secret) named exactly, APP_X by `?`, MODE set over the host's. */
const MAIN_GRANTED = { LOG_LEVEL: 'debug', OPENWEATHER_API_KEY: 'k-123', APP_X: 'x', MODE: 'production' };

const url = (host: string, port: number, path: string) => `http://${host}:${port}${path}`;
const redirect = (from: string, to: string) => `${from}/to302/${encodeURIComponent(to)}`;

export const main: Scenario = {
  id: 'main',
  name: 'narrow grants',
  listens: true,
  tables: (up, serve) =>
    '\n[capabilities.env]\nallow = ["LOG_*", "OPENWEATHER_API_KEY", "APP_?"]\nset = { MODE = "production" }\n' +
    MOUNTS_TABLE +
    `\n[capabilities.network]\nconnect = ["127.0.0.1:${up.granted.port}", "localhost:${up.granted.port}", "[::1]:${up.granted.port}", "localhost:${up.byName.port}", "[::1]:${up.v6.port}"]\n${serve ? 'listen = [8080]\n' : ''}`,
  flags: (w) => w.folders.mountFlags,
  env: MAIN_HOST_ENV,
  cases: [
    // --- env
    {
      name: 'env: exactly the granted variables (by name, by pattern, set over the host value; no secret by a pattern)',
      probe: () => ({ op: 'env' }),
      check: (o) => expect(okOf(o)).toEqual(MAIN_GRANTED),
    },
    {
      name: "env: a variable not granted is absent (Python's os.environ[...] says to add it to [capabilities.env] allow)",
      probe: () => ({ op: 'env-get', name: 'GITHUB_TOKEN' }),
      check: (o, w) => {
        if (w.runtime === 'javascript') expect(okOf(o)).toBe(null);
        else expect(errOf(o)).toEqual({ type: 'KeyError', message: 'environment variable GITHUB_TOKEN is not set for this service; to pass it from the host, add it to [capabilities.env] allow in fabricks.toml' });
      },
    },
    {
      name: 'env: `in` and get() see an ungranted variable as missing',
      probe: () => ({ op: 'env-has', name: 'GITHUB_TOKEN' }),
      check: (o) => expect(okOf(o)).toEqual([false, null]),
    },
    // --- mounts: what is granted works
    {
      name: 'mounts: reads a read-only mount',
      probe: () => ({ op: 'read', path: '/data/hello.txt' }),
      check: (o) => expect(okOf(o)).toBe('hello'),
    },
    {
      name: 'mounts: lists a folder in a read-only mount',
      probe: () => ({ op: 'list', path: '/data/sub' }),
      check: (o) => expect(okOf(o)).toEqual(['a.txt', 'b.txt']),
    },
    {
      name: 'mounts: writes to a read-write mount (the host sees the file)',
      probe: () => ({ op: 'write', path: '/rw/w.txt', text: 'written by the guest' }),
      check: async (o, w) => {
        expect(okOf(o)).toBe('written by the guest');
        expect(await read(file(w, 'rw', 'w.txt'))).toBe('written by the guest');
      },
    },
    {
      name: 'mounts: makes folders in a read-write mount',
      probe: () => ({ op: 'mkdir', path: '/rw/m/n', recursive: true }),
      check: (o, w) => {
        expect(okOf(o)).toBe(true);
        expect(existsSync(file(w, 'rw', 'm', 'n'))).toBe(true);
      },
    },
    // --- mounts: refusals
    {
      name: 'mounts: a write to a read-only mount is refused, naming the mount and mode = "rw"',
      probe: () => ({ op: 'write', path: '/data/new.txt', text: 'x' }),
      check: (o, w) => {
        folderRefused(o, w, 'EROFS', READ_ONLY('/data'));
        expect(existsSync(file(w, 'data', 'new.txt'))).toBe(false);
      },
    },
    {
      name: 'mounts: a folder made in a read-only mount is refused, naming the mount and mode = "rw"',
      probe: () => ({ op: 'mkdir', path: '/data/newdir' }),
      check: (o, w) => {
        folderRefused(o, w, 'EROFS', READ_ONLY('/data'));
        expect(existsSync(file(w, 'data', 'newdir'))).toBe(false);
      },
    },
    {
      name: 'mounts: no mount, no folder: /etc does not exist, and the error says to add a mount',
      probe: () => ({ op: 'read', path: '/etc/passwd' }),
      check: (o, w) => folderRefused(o, w, 'ENOENT', NO_FOLDER('/etc')),
    },
    {
      name: 'mounts: no mount, no folder: listing /etc neither',
      probe: () => ({ op: 'list', path: '/etc' }),
      check: (o, w) => folderRefused(o, w, 'ENOENT', NO_FOLDER('/etc')),
    },
    {
      name: "mounts: '..' out of a mount is refused, naming the mount",
      probe: () => ({ op: 'read', path: '/data/../outside/secret.txt' }),
      check: (o, w) => folderRefused(o, w, 'EPERM', LEADS_OUT("'..' leads out of the mount /data")),
    },
    {
      name: "mounts: '..' deeper in a mount is refused the same way",
      probe: () => ({ op: 'read', path: '/data/sub/../../outside/secret.txt' }),
      check: (o, w) => folderRefused(o, w, 'EPERM', LEADS_OUT("'..' leads out of the mount /data")),
    },
    {
      name: "mounts: '..' that stays inside a mount is fine",
      probe: () => ({ op: 'read', path: '/data/sub/../hello.txt' }),
      check: (o) => expect(okOf(o)).toBe('hello'),
    },
    {
      name: "mounts: a relative path with '..' finds nothing outside",
      probe: () => ({ op: 'read', path: '../../etc/passwd' }),
      check: (o, w) => folderRefused(o, w, 'ENOENT'),
    },
    {
      name: "mounts: a relative path with '..' is refused saying no folder is granted there",
      probe: () => ({ op: 'read', path: '../../etc/passwd' }),
      check: (o, w) => folderRefused(o, w, 'ENOENT', NO_FOLDER('/etc')),
      gap: {
        runtime: 'python',
        what: 'a relative path is left to the host, whose error names no capability',
        today: { type: 'FileNotFoundError', code: 'ENOENT', message: 'No such file or directory' },
      },
    },
    {
      name: 'mounts: a link planted by the host to a folder outside is refused, naming the mount',
      probe: () => ({ op: 'read', path: '/data/escape/secret.txt' }),
      check: (o, w) => folderRefused(o, w, 'EPERM', LEADS_OUT('/data/escape is a symbolic link leading out of the mount /data')),
    },
    {
      name: 'mounts: a link planted by the host to a file outside is refused, naming the mount',
      probe: () => ({ op: 'read', path: '/data/escape-file' }),
      check: (o, w) => folderRefused(o, w, 'EPERM', LEADS_OUT('/data/escape-file is a symbolic link leading out of the mount /data')),
    },
    {
      name: 'mounts: listing through a planted link is refused, naming the mount',
      probe: () => ({ op: 'list', path: '/data/escape' }),
      check: (o, w) => folderRefused(o, w, 'EPERM', LEADS_OUT('/data/escape is a symbolic link leading out of the mount /data')),
    },
    {
      name: 'mounts: the guest cannot make a symbolic link (none appears on the host)',
      probe: () => ({ op: 'symlink', target: '../outside', path: '/rw/link' }),
      check: (o, w) => {
        folderRefused(o, w, 'EPERM');
        expect(() => lstatSync(file(w, 'rw', 'link'))).toThrow();
      },
    },
    {
      name: 'mounts: a refused symbolic link says a service cannot make them',
      probe: () => ({ op: 'symlink', target: '../outside', path: '/rw/link2' }),
      check: (o, w) => folderRefused(o, w, 'EPERM', 'cannot make symbolic links'),
    },
    {
      name: "mounts: a planted link moved into a folder's place leads nowhere outside",
      probe: () => ({ op: 'rename-trick', dir: '/rw/d', moved: '/rw/d-moved', link: '/rw/evil', file: 'secret.txt' }),
      check: (o, w) => folderRefused(o, w, 'EPERM', LEADS_OUT('/rw/d is a symbolic link leading out of the mount /rw')),
    },
    // --- renames between mounts
    {
      name: 'mounts: (a file to move) written',
      probe: () => ({ op: 'write', path: '/rw/a.txt', text: 'moved by copying' }),
      check: (o) => expect(okOf(o)).toBe('moved by copying'),
    },
    {
      name: 'mounts: (a file to rename) written',
      probe: () => ({ op: 'write', path: '/rw/same-fs.txt', text: 'renamed' }),
      check: (o) => expect(okOf(o)).toBe('renamed'),
    },
    {
      name: 'mounts: a rename between two mounts on one host file system works',
      probe: () => ({ op: 'rename', from: '/rw/same-fs.txt', to: '/rw2/same-fs.txt' }),
      check: async (o, w) => {
        expect(okOf(o)).toBe(null);
        expect(await read(file(w, 'rw2', 'same-fs.txt'))).toBe('renamed');
        expect(existsSync(file(w, 'rw', 'same-fs.txt'))).toBe(false);
      },
    },
    {
      name: 'mounts: a rename between mounts on two file systems fails as between devices (EXDEV)',
      probe: () => ({ op: 'rename', from: '/rw/a.txt', to: '/other/a.txt' }),
      // (the file stays where it was: the move below reads it there)
      check: (o, w) => folderRefused(o, w, 'EXDEV'),
    },
    {
      name: 'mounts: a rename between mounts on two file systems says so, and to copy instead',
      probe: () => ({ op: 'rename', from: '/rw/a.txt', to: '/other/a.txt' }),
      check: (o, w) => folderRefused(o, w, 'EXDEV', /renames between (the )?mounts \/rw and \/other are not possible[:;] copy instead/),
    },
    {
      name: 'mounts: a rename into a read-only mount is refused, naming that mount and mode = "rw"',
      probe: () => ({ op: 'rename', from: '/rw/a.txt', to: '/data/a.txt' }),
      check: (o, w) => {
        folderRefused(o, w, 'EROFS', READ_ONLY('/data'));
        expect(existsSync(file(w, 'data', 'a.txt'))).toBe(false);
      },
    },
    {
      name: 'mounts: a rename out of a read-only mount is refused, naming that mount and mode = "rw"',
      probe: () => ({ op: 'rename', from: '/data/hello.txt', to: '/rw/hello.txt' }),
      check: async (o, w) => {
        folderRefused(o, w, 'EROFS', READ_ONLY('/data'));
        expect(await read(file(w, 'data', 'hello.txt'))).toBe('hello');
      },
    },
    {
      name: 'mounts: moving between mounts by copying works',
      probe: () => ({ op: 'move', from: '/rw/a.txt', to: '/other/a.txt' }),
      check: async (o, w) => {
        expect(okOf(o)).toEqual(['moved by copying', false]);
        expect(await read(join(w.folders.other, 'a.txt'))).toBe('moved by copying');
      },
    },
    // --- connect
    {
      name: 'connect: reaches a granted address and port (a real server on 127.0.0.1)',
      probe: (w) => ({ op: 'fetch', url: url('127.0.0.1', w.up.granted.port, `${w.tag}/granted?x=1`) }),
      check: (o, w) => {
        answered(o, url('127.0.0.1', w.up.granted.port, `${w.tag}/granted?x=1`), `upstream saw GET ${w.tag}/granted?x=1`);
        expect(w.up.granted.seen.filter((p) => p === `${w.tag}/granted?x=1`)).toHaveLength(1);
      },
    },
    {
      name: 'connect: sends a body to a granted server',
      probe: (w) => ({ op: 'fetch', url: url('127.0.0.1', w.up.granted.port, `${w.tag}/post`), method: 'POST', body: 'payload' }),
      check: (o, w) => answered(o, url('127.0.0.1', w.up.granted.port, `${w.tag}/post`), `upstream saw POST ${w.tag}/post payload`),
    },
    {
      name: 'connect: refuses a port no rule grants, naming the rule to add; the server never sees it',
      probe: (w) => ({ op: 'fetch', url: url('127.0.0.1', w.up.byName.port, `${w.tag}/undeclared`) }),
      check: (o, w) => {
        connectRefused(o, w, NOT_GRANTED(`127.0.0.1:${w.up.byName.port}`));
        expect(w.up.byName.seen.filter((p) => p.startsWith(w.tag))).toEqual([]);
      },
    },
    {
      name: 'connect: refuses a host no rule grants, naming host:port to add',
      probe: () => ({ op: 'fetch', url: 'https://api.example.com/v1' }),
      check: (o, w) => connectRefused(o, w, NOT_GRANTED('api.example.com:443')),
    },
    {
      name: 'connect: refuses a granted name that resolves to an internal address, naming the address to add',
      probe: (w) => ({ op: 'fetch', url: url('localhost', w.up.byName.port, `${w.tag}/by-name`) }),
      check: (o, w) => {
        const port = w.up.byName.port;
        connectRefused(o, w, new RegExp(`^network access to localhost:${port} is not granted: it resolves to (127\\.0\\.0\\.1|::1), an internal address; add "(127\\.0\\.0\\.1|\\[::1\\]):${port}" \\(or a rule that covers it\\) to \\[capabilities\\.network\\] connect in fabricks\\.toml$`));
        expect(w.up.byName.seen.filter((p) => p.startsWith(w.tag))).toEqual([]);
      },
    },
    {
      name: 'connect: reaches a granted name whose internal addresses are granted too',
      probe: (w) => ({ op: 'fetch', url: url('localhost', w.up.granted.port, `${w.tag}/by-name`) }),
      check: (o, w) => answered(o, url('localhost', w.up.granted.port, `${w.tag}/by-name`), `upstream saw GET ${w.tag}/by-name`),
    },
    {
      name: 'connect: reaches a granted IPv6 literal ([::1]:port)',
      probe: (w) => ({ op: 'fetch', url: url('[::1]', w.up.v6.port, `${w.tag}/six`) }),
      check: (o, w) => answered(o, url('[::1]', w.up.v6.port, `${w.tag}/six`), `upstream saw GET ${w.tag}/six`),
    },
    {
      name: 'connect: refuses an IPv6 literal no rule grants, naming it in brackets',
      probe: (w) => ({ op: 'fetch', url: url('[::1]', w.up.v6Denied.port, `${w.tag}/six`) }),
      check: (o, w) => {
        connectRefused(o, w, NOT_GRANTED(`[::1]:${w.up.v6Denied.port}`));
        expect(w.up.v6Denied.seen.filter((p) => p.startsWith(w.tag))).toEqual([]);
      },
    },
    {
      name: 'connect: follows a redirect to a granted place',
      probe: (w) => {
        const at = url('127.0.0.1', w.up.granted.port, '');
        return { op: 'fetch', url: redirect(at, `${at}${w.tag}/landed`) };
      },
      check: (o, w) => answered(o, url('127.0.0.1', w.up.granted.port, `${w.tag}/landed`), `upstream saw GET ${w.tag}/landed`),
    },
    {
      name: 'connect: refuses a redirect to an ungranted place at that hop, naming the rule to add',
      probe: (w) => ({ op: 'fetch', url: redirect(url('127.0.0.1', w.up.granted.port, ''), url('127.0.0.1', w.up.byName.port, `${w.tag}/beyond`)) }),
      check: (o, w) => {
        connectRefused(o, w, NOT_GRANTED(`127.0.0.1:${w.up.byName.port}`));
        expect(w.up.granted.seen.filter((p) => p.startsWith('/to302/') && p.includes(encodeURIComponent(`${w.tag}/beyond`)))).toHaveLength(1);
        expect(w.up.byName.seen.filter((p) => p.startsWith(w.tag))).toEqual([]);
      },
    },
    {
      name: 'connect: raw sockets are refused (Python, naming [capabilities.network] connect; JavaScript has no socket API)',
      probe: (w) => ({ op: 'socket', host: '127.0.0.1', port: w.up.granted.port }),
      check: (o, w) =>
        expect(errOf(o)).toEqual(
          byRuntime(w, {
            javascript: { type: 'unsupported', message: 'no probe socket in JavaScript' },
            python: { type: 'PermissionError', code: 'EACCES', message: 'raw sockets are not granted to a fabricks service; HTTP clients (urllib.request, http.client) reach the hosts in [capabilities.network] connect in fabricks.toml' },
          }),
        ),
    },
    {
      name: "env: after denials, still exactly the granted variables (the engine's channel for a denial never shows)",
      probe: () => ({ op: 'env' }),
      check: (o) => expect(okOf(o)).toEqual(MAIN_GRANTED),
    },
  ],
};

// ---------------------------------------------------------------------------------------------
// Scenario `open`: allow = ["*"], nothing else declared; flags fill in and widen

/** Secrets by name and by value: `allow = ["*"]` passes none of them. */
const SECRETS = {
  AWS_SECRET_ACCESS_KEY: 's1', AWS_ACCESS_KEY_ID: 's2', SECRET_KEY: 's3', STRIPE_SECRET_KEY: 's4', PGPASSWORD: 's5', MYSQL_PWD: 's6', GH_PAT: 's7', OPENAI_KEY: 's8',
  MYAPIKEY: 's9', MY_TOKEN_2: 's10', JWT_SIGNING_KEY: 's11', NPM_CONFIG__AUTH: 's12', SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/x', SENTRY_DSN: 'https://k@o1.ingest.sentry.io/1',
  DATABASE_URL: 'postgres://app:hunter2@db/app', GIT_REMOTE: 'https://user:tok@git.example.com/r.git',
};
const PLAIN = { KEYBOARD_LAYOUT: 'us', CACHE_URL: 'redis://cache:6379' };

export const open: Scenario = {
  id: 'open',
  name: 'allow = ["*"] and flags',
  listens: false,
  tables: () => '\n[capabilities.env]\nallow = ["*", "DATABASE_URL"]\n',
  // --env fills in a value; --allow-env and --allow-connect widen (and a served cell --allow-listen)
  flags: (w) => ['--env', 'LOG_LEVEL=warn', '--allow-env', 'GITHUB_TOKEN', '--allow-connect', `127.0.0.1:${w.up.granted.port}`],
  env: { ...SECRETS, ...PLAIN, LOG_LEVEL: 'debug', GITHUB_TOKEN: 'leak-2' },
  cases: [
    {
      name: 'connect: --allow-connect grants a rule for this run',
      probe: (w) => ({ op: 'fetch', url: url('127.0.0.1', w.up.granted.port, `${w.tag}/widened`) }),
      check: (o, w) => answered(o, url('127.0.0.1', w.up.granted.port, `${w.tag}/widened`), `upstream saw GET ${w.tag}/widened`),
    },
    {
      name: 'connect: with no connect rules, anything else is refused',
      probe: (w) => ({ op: 'fetch', url: url('127.0.0.1', w.up.byName.port, `${w.tag}/open`) }),
      check: (o, w) => connectRefused(o, w, NOT_GRANTED(`127.0.0.1:${w.up.byName.port}`)),
    },
    {
      name: 'env: allow = ["*"] passes no secret, by name or by value; a secret named exactly passes; --env sets a value; --allow-env widens',
      probe: () => ({ op: 'env' }),
      check: (o) => {
        const seen = okOf(o) as Record<string, string>;
        // the child's own environment (PATH, HOME...) passes too; only what is set here is checked
        expect(seen).toMatchObject({ ...PLAIN, DATABASE_URL: SECRETS.DATABASE_URL, LOG_LEVEL: 'warn', GITHUB_TOKEN: 'leak-2' });
        expect(Object.keys(SECRETS).filter((n) => n !== 'DATABASE_URL' && n in seen)).toEqual([]);
        expect(Object.keys(seen).filter((n) => n.startsWith('FABRICKS_DENIED'))).toEqual([]);
      },
    },
    {
      name: 'mounts: no mounts, no folders',
      probe: () => ({ op: 'list', path: '/data' }),
      check: (o, w) => folderRefused(o, w, 'ENOENT', NO_FOLDER('/data')),
    },
    {
      name: 'mounts: no mounts, nothing to write to',
      probe: () => ({ op: 'write', path: '/tmp/x.txt', text: 'x' }),
      check: (o, w) => folderRefused(o, w, 'ENOENT', NO_FOLDER('/tmp')),
    },
  ],
};

export const SCENARIOS = [main, open];
