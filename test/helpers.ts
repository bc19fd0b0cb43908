import { spawn } from 'node:child_process';
import { cp, mkdtemp, mkdir, writeFile, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import type { ProgressEvent } from '../src/util/progress.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(repoRoot, 'bin', 'fabricks.js');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI as a child process. */
export function fabricks(
  args: string[],
  options: { cwd?: string; input?: string; env?: Record<string, string>; home?: string; onStdout?: (chunk: string, child: ReturnType<typeof spawn>) => void } = {},
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, FABRICKS_HOME: options.home ?? inject('fabricksHome'), ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      options.onStdout?.(d.toString(), child);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolvePromise({ status, stdout, stderr }));
    if (options.input !== undefined) child.stdin.end(options.input);
    else if (!options.onStdout) child.stdin.end();
  });
}

/** A project in a new temporary folder. */
export async function project(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fabricks-test-'));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

export const jsToml = (entry = 'main.js', extra = '') =>
  `[from]\nimage = "fabricks.dev/runtimes/node"\n\n[source]\nentrypoint = "${entry}"\n${extra}`;

/** Everything in a store: index.json and the blob names, to check that nothing changed. */
export async function storeSnapshot(home: string): Promise<string> {
  const root = join(home, 'store');
  const index = await readFile(join(root, 'index.json'), 'utf8').catch(() => '');
  const blobs = await readdir(join(root, 'blobs', 'sha256')).catch(() => []);
  return JSON.stringify({ index, blobs: blobs.sort() });
}

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** A copy of examples/<name> without build outputs, optionally under another package name
 * (name:version tags are shared in the suite's store). */
export async function copyExample(name: string, rename?: string): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'fabricks-example-')), name);
  await cp(join(repoRoot, 'examples', name), dir, { recursive: true, filter: (s) => !s.includes('.fabricks') && !s.endsWith('fabricks.lock') });
  if (rename) {
    const toml = join(dir, 'fabricks.toml');
    await writeFile(toml, (await readFile(toml, 'utf8')).replace(`name = "${name}"`, `name = "${rename}"`));
  }
  return dir;
}

export const pyToml = (entry = 'main.py', extra = '') =>
  `[from]\nimage = "fabricks.dev/runtimes/python"\n\n[source]\nentrypoint = "${entry}"\n${extra}`;

/** Builds and runs a one-off project (fabricks.toml plus files) with arguments after --. */
export async function runProject(toml: string, files: Record<string, string>, args: string[] = [], options: { input?: string; env?: Record<string, string> } = {}) {
  const dir = await project({ 'fabricks.toml': toml, ...files });
  const r = await fabricks(['run', '-q', dir, '--', ...args], options);
  return { ...r, dir };
}

/**
 * A machine of its own for registry tests: an empty FABRICKS_HOME (or the suite's, which holds
 * the built runtimes), and empty fabricks and Docker config folders, so no login leaks in.
 */
export async function machine(options: { shareStore?: boolean } = {}) {
  const root = await mkdtemp(join(tmpdir(), 'fabricks-machine-'));
  const home = options.shareStore ? inject('fabricksHome') : join(root, 'home');
  const env = { FABRICKS_CONFIG_DIR: join(root, 'config'), DOCKER_CONFIG: join(root, 'docker'), FABRICKS_REGISTRY_BACKOFF_MS: '50' };
  await mkdir(env.DOCKER_CONFIG, { recursive: true });
  return {
    root,
    home,
    env,
    run: (args: string[], more: { input?: string; env?: Record<string, string> } = {}) => fabricks(args, { home, ...more, env: { ...env, ...more.env } }),
  };
}

/** The progress events a command printed with --progress json (one JSON object a line on stderr). */
export function events(stderr: string): ProgressEvent[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{"event":'))
    .map((l) => JSON.parse(l) as ProgressEvent);
}

/**
 * A copy of the suite's home (its built runtimes), or of one `part` of it (such as its store),
 * that other tests may be writing to meanwhile:
 * transient files (locks, leases, partial downloads, temporaries) are left out, and a file that
 * vanishes while it is copied makes the copy start again.
 */
export async function copySuiteHome(dest: string, part = ''): Promise<void> {
  const transient = /(\.lock(\/|$))|(\/\.fabricks\/(leases|used|trash|partial|quarantine|gc\.lock)(\/|$))|(\.tmp-)|(\.gc-)/;
  for (let attempt = 1; ; attempt++) {
    try {
      await cp(join(inject('fabricksHome'), part), dest, { recursive: true, filter: (src) => !transient.test(src) });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || attempt === 5) throw e;
      await rm(dest, { recursive: true, force: true });
    }
  }
}

/**
 * A private certificate authority and a server certificate for 127.0.0.1 it signed, as a
 * company's or a test server's are: `ca` is what NODE_EXTRA_CA_CERTS names.
 */
export async function testCertificates(): Promise<{ ca: string; key: string; cert: string }> {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { mkdtemp, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const run = promisify(execFile);
  const dir = await mkdtemp(join(tmpdir(), 'fabricks-tls-'));
  const p = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=fabricks test CA']);
  await run('openssl', ['req', ...ec, '-keyout', p('key.pem'), '-out', p('server.csr'), '-subj', '/CN=127.0.0.1']);
  await writeFile(p('server.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  await run('openssl', ['x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('cert.pem'), '-days', '2', '-extfile', p('server.ext')]);
  return { ca: p('ca.pem'), key: p('key.pem'), cert: p('cert.pem') };
}

/** Runs the functions given to it at most `n` at a time, the rest waiting in turn (tests that start builds and engines, on two cores). */
export function limiter(n: number): <T>(f: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (f) => {
    while (running >= n) await new Promise<void>((r) => waiting.push(r));
    running++;
    try {
      return await f();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}
