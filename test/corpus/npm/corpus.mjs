// Setting up and driving a corpus server (servers.mjs), natively with node or built and run by
// fabricks, through the official TypeScript SDK's client over stdio. Shared by
// test/integration/npm-corpus.test.ts and scripts/bench-corpus.mjs, so both ask the same things.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile, cp } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

export const corpusDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(corpusDir, '..', '..', '..');
const fabricksBin = join(repoRoot, 'bin', 'fabricks.js');

/** Where the guest sees a server's data folder. */
export const GUEST_DATA = '/data';

/**
 * The corpus's node_modules, installed with npm ci from the committed lock file once per lock
 * file, in the user's cache folder (~/.cache/fabricks-test-npm/corpus-<hash>): some 500 MB that
 * every later run finds in place.
 */
export async function corpusNodeModules() {
  const lock = await readFile(join(corpusDir, 'package-lock.json'));
  const base = process.env.FABRICKS_TEST_NPM_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'fabricks-test-npm');
  const cache = join(base, `corpus-${createHash('sha256').update(lock).digest('hex').slice(0, 16)}`);
  const modules = join(cache, 'node_modules');
  if (await access(join(modules, '.package-lock.json')).then(() => true, () => false)) return modules;
  await mkdir(base, { recursive: true });
  const work = await mkdtemp(join(base, '.install-'));
  try {
    await cp(join(corpusDir, 'package.json'), join(work, 'package.json'));
    await cp(join(corpusDir, 'package-lock.json'), join(work, 'package-lock.json'));
    // no install scripts: none of the servers needs one, and none may run on the test machine
    await promisify(execFile)('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: work, maxBuffer: 16 * 1024 * 1024 });
    await mkdir(cache, { recursive: true });
    // another run may have finished the same install meanwhile: theirs is as good as ours
    await rename(join(work, 'node_modules'), modules).catch(() => undefined);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return modules;
}

/** The version of `pkg` installed in `modules`. */
export async function installedVersion(modules, pkg) {
  return JSON.parse(await readFile(join(modules, pkg, 'package.json'), 'utf8')).version;
}

const tomlString = (s) => JSON.stringify(s);

/** fabricks.toml for a server: its bin as the entrypoint, the data folder mounted, the env it needs. */
export function projectToml(server, version, dataHost) {
  const lines = [
    `# ${server.package}@${version}, unmodified (test/corpus/npm/servers.mjs)`,
    '[package]',
    `name = ${tomlString(`corpus-${server.id}`)}`,
    `version = ${tomlString(version)}`,
    '',
    '[from]',
    'image = "fabricks.dev/runtimes/node"',
    '',
    '[source]',
    `entrypoint = ${tomlString(`node_modules/${server.package}/${server.bin}`)}`,
  ];
  const set = server.env?.(GUEST_DATA) ?? {};
  const allow = Object.keys(server.secrets ?? {});
  if (allow.length || Object.keys(set).length) {
    lines.push('', '[capabilities.env]');
    if (allow.length) lines.push(`allow = [${allow.map(tomlString).join(', ')}]`);
    if (Object.keys(set).length) lines.push(`set = { ${Object.entries(set).map(([k, v]) => `${k} = ${tomlString(v)}`).join(', ')} }`);
  }
  if (server.files) {
    lines.push('', '[capabilities.filesystem]', `mounts = [{ guest = ${tomlString(GUEST_DATA)}, host = ${tomlString(dataHost)}, mode = ${tomlString(server.mode ?? 'ro')} }]`);
  }
  return lines.join('\n') + '\n';
}

/**
 * A new folder under `parent` for one server: `project` (fabricks.toml and a link to the
 * corpus's node_modules), and the data folders the fabricks run and the native run each get.
 */
export async function prepare(server, modules, parent = tmpdir()) {
  const root = await mkdtemp(join(parent, `fabricks-corpus-${server.id}-`));
  const version = await installedVersion(modules, server.package);
  const project = join(root, 'project');
  const data = { fabricks: join(root, 'data-fabricks'), native: join(root, 'data-native') };
  await mkdir(project);
  await symlink(modules, join(project, 'node_modules'));
  for (const folder of Object.values(data)) await resetData(server, folder);
  await writeFile(join(project, 'fabricks.toml'), projectToml(server, version, data.fabricks));
  return { root, project, data, version };
}

/** A data folder as the server is first given it: its spec's files and nothing else (what a run wrote is gone). */
export async function resetData(server, folder) {
  await rm(folder, { recursive: true, force: true });
  await mkdir(folder);
  for (const [path, text] of Object.entries(server.files ?? {})) {
    await mkdir(dirname(join(folder, path)), { recursive: true });
    await writeFile(join(folder, path), text);
  }
}

/** `fabricks build --json` of a prepared project: status, the build's JSON, stderr. */
export function build(project, { home } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [fabricksBin, 'build', '--json', '-q', project], {
      env: { ...process.env, ...(home ? { FABRICKS_HOME: home } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => {
      let json;
      try {
        json = status === 0 ? JSON.parse(stdout) : undefined;
      } catch {
        json = undefined;
      }
      resolvePromise({ status, json, stderr });
    });
  });
}

/** How to start a server natively: node on its bin, with the host data folder. */
export function nativeCommand(server, modules, dataHost) {
  return {
    command: process.execPath,
    args: [join(modules, server.package, server.bin), ...(server.args?.(dataHost) ?? [])],
    env: { ...(server.env?.(dataHost) ?? {}), ...(server.secrets ?? {}) },
    data: dataHost,
  };
}

/** How to start a server under `fabricks run` (its non-secret env is in fabricks.toml). */
export function fabricksCommand(server, project, { home } = {}) {
  return {
    command: process.execPath,
    args: [fabricksBin, 'run', '-q', project, '--', ...(server.args?.(GUEST_DATA) ?? [])],
    env: { ...(home ? { FABRICKS_HOME: home } : {}), ...(server.secrets ?? {}) },
    data: GUEST_DATA,
  };
}

/** What a tool call answered as one text: its content's texts, or the error it was answered with. */
function textOf(result) {
  return (result.content ?? []).map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n');
}

async function callTool(client, name, args, timeout) {
  try {
    const result = await client.callTool({ name, arguments: args }, undefined, { timeout });
    return { text: textOf(result), isError: result.isError === true };
  } catch (e) {
    return { text: e instanceof Error ? e.message : String(e), isError: true, thrown: true };
  }
}

/**
 * Starts a server with the official client over stdio and asks it everything its spec says:
 * initialize, tools/list, each call, the denied call. Never throws: a step that fails is
 * `failure` ({ step, message }), with the end of the server's stderr.
 * `firstResultMs` is from spawn to the first tool result.
 */
export async function drive(server, { command, args, env, data }, { timeout = 120_000 } = {}) {
  const out = { serverInfo: undefined, tools: [], calls: [], denied: undefined, firstResultMs: undefined, failure: undefined, stderr: '' };
  const started = performance.now();
  const transport = new StdioClientTransport({ command, args, env: { ...process.env, ...env }, stderr: 'pipe' });
  transport.stderr?.on('data', (d) => (out.stderr = (out.stderr + d).slice(-20_000)));
  const client = new Client({ name: 'fabricks-corpus', version: '1.0.0' });
  let step = 'initialize';
  try {
    await client.connect(transport, { timeout });
    out.serverInfo = client.getServerVersion();
    step = 'tools/list';
    out.tools = (await client.listTools(undefined, { timeout })).tools.map((t) => t.name);
    for (const call of server.calls ?? []) {
      step = `tools/call ${call.name}`;
      out.calls.push({ name: call.name, ...(await callTool(client, call.name, call.arguments(data), timeout)) });
      out.firstResultMs ??= performance.now() - started;
    }
    if (server.denied) {
      step = `tools/call ${server.denied.name} (denied)`;
      out.denied = { name: server.denied.name, ...(await callTool(client, server.denied.name, server.denied.arguments, timeout)) };
      out.firstResultMs ??= performance.now() - started;
    }
  } catch (e) {
    out.failure = { step, message: e instanceof Error ? e.message : String(e) };
  } finally {
    await client.close().catch(() => undefined);
  }
  return out;
}

/** Whether a denied call's answer carries fabricks' refusal for the server's API host. */
export function refusedByFabricks(server, text) {
  return text.includes('[capabilities.network] connect') && text.includes(server.denied.host);
}

/**
 * What a drive answered that its spec did not expect, as sentences (none: it passed). `where`
 * is 'natively' or 'under fabricks'; only fabricks is expected to refuse the denied call, but on
 * both sides its arguments must have been accepted.
 */
export function problems(server, d, where) {
  if (d.failure) return [`${d.failure.step} failed ${where}: ${d.failure.message}`];
  const found = [];
  if (!d.serverInfo?.name) found.push(`no server name in the initialize answer ${where}`);
  const missing = server.tools.filter((t) => !d.tools.includes(t));
  if (missing.length) found.push(`tools/list ${where} lacks ${missing.join(', ')}`);
  (server.calls ?? []).forEach((call, i) => {
    const text = d.calls[i]?.text;
    if (text === undefined || !call.expect.test(text)) found.push(`${call.name} ${where} answered ${JSON.stringify(text?.slice(0, 500))}, not ${call.expect}`);
  });
  if (server.denied) {
    const text = d.denied?.text ?? '';
    if (/invalid arguments|validation error|unknown tool|tool .* not found/i.test(text)) found.push(`${server.denied.name} ${where} refused its arguments: ${text.slice(0, 500)}`);
    else if (where === 'under fabricks' && !refusedByFabricks(server, text)) found.push(`${server.denied.name} ${where} answered ${JSON.stringify(text.slice(0, 500))}, not the refusal of ${server.denied.host} for want of a [capabilities.network] connect rule`);
  }
  return found;
}

/** The Node built-ins a failed build names as not provided, as written ("node:http", "dns"). */
export function refusedBuiltins(stderr) {
  const names = [...stderr.matchAll(/"([\w:/]+)" is a Node\.js module that|Could not resolve "(node:[\w/]+|http2|inspector|[a-z_]+)"\n\s+.*\n\s+The package "[^"]+" wasn't found on the file system but is built into node/g)].map((m) => m[1] ?? m[2]);
  return [...new Set(names.map((n) => n.replace(/^node:/, '')))].sort();
}

/**
 * What went wrong in a drive or build, as one line: the first line of stderr that reads as an
 * error (for a build, esbuild's first message), else `otherwise` (the first problem found).
 */
export function firstCause(stderr, otherwise = '') {
  const lines = stderr.split('\n').map((l) => l.trim());
  const line =
    lines.find((l) => /: error: /.test(l)) ??
    lines.find((l) => /error|not available|cannot|unsupported|not supported|is not a function|is not defined|fabricks:/i.test(l) && !/^at /.test(l));
  return line ?? otherwise;
}

/**
 * Asks a server that serves HTTP (its spec's `http`) everything its spec says, over one of its
 * transports (`streamableHttp` or `sse`) with the official client, as two clients at once: each
 * session must see its own answers. Never throws, as drive().
 */
export async function driveHttp(server, url, transport, { timeout = 60_000 } = {}) {
  const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
  const { SSEClientTransport } = await import('@modelcontextprotocol/sdk/client/sse.js');
  const out = { serverInfo: undefined, tools: [], calls: [], denied: undefined, failure: undefined, stderr: '' };
  const clients = [];
  let step = 'initialize';
  try {
    for (let i = 0; i < 2; i++) {
      const client = new Client({ name: `fabricks-corpus-${i}`, version: '1.0.0' });
      const t = transport === 'sse' ? new SSEClientTransport(new URL(`${url}${server.http.paths.sse}`)) : new StreamableHTTPClientTransport(new URL(`${url}${server.http.paths.streamableHttp}`));
      await client.connect(t, { timeout });
      clients.push({ client, transport: t });
    }
    out.serverInfo = clients[0].client.getServerVersion();
    step = 'tools/list';
    out.tools = (await clients[0].client.listTools(undefined, { timeout })).tools.map((t) => t.name);
    for (const call of server.calls ?? []) {
      step = `tools/call ${call.name}`;
      // the same call on both sessions at once: each must get its own, equal answer
      const [a, b] = await Promise.all(clients.map(({ client }) => callTool(client, call.name, call.arguments(GUEST_DATA), timeout)));
      if (a.text !== b.text) throw new Error(`the two sessions got different answers to ${call.name}: ${JSON.stringify(a.text)} and ${JSON.stringify(b.text)}`);
      out.calls.push({ name: call.name, ...a });
    }
    if (transport !== 'sse') for (const { transport: t } of clients) await t.terminateSession();
  } catch (e) {
    out.failure = { step, message: e instanceof Error ? e.message : String(e) };
  } finally {
    await Promise.all(clients.map(({ client }) => client.close().catch(() => undefined)));
  }
  return out;
}

/** A server serving HTTP as a child process, started with `command` and ready at `url`. */
export async function startHttp({ command, args, env }, ready, { timeout = 120_000 } = {}) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output = (output + d).slice(-20_000)));
  child.stderr.on('data', (d) => (output = (output + d).slice(-20_000)));
  const exited = new Promise((r) => child.once('close', r));
  const deadline = Date.now() + timeout;
  let url;
  while (!url) {
    if (child.exitCode !== null) throw new Error(`the server exited before serving:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server did not serve within ${timeout} ms:\n${output}`);
    }
    url = await ready(output);
    if (!url) await new Promise((r) => setTimeout(r, 100));
  }
  return { url, output: () => output, stop: () => (child.exitCode === null && child.kill('SIGINT'), exited) };
}
