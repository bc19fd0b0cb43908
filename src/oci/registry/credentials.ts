import { spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FabricksError } from '../../util/errors.js';
import { configDir, dockerConfigFile } from '../../util/paths.js';
import { withFileLock } from '../../util/file-lock.js';
import { writeAtomic } from '../../util/atomic.js';

/** What a registry accepts as who we are. Never printed: only `source` is shown to users. */
export interface Credential {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (Docker's `identitytoken`), exchanged at the token realm. */
  identityToken?: string;
  /** Where it came from, for messages: "fabricks login", "~/.docker/config.json", a helper. */
  source: string;
  /** How messages name it, when not "the credentials from <source>". */
  label?: string;
}

/** Docker's config.json: `auths` (base64 user:password), `credHelpers` per host, `credsStore`. */
interface AuthConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

export const fabricksAuthFile = () => join(configDir(), 'auth.json');

/** Docker writes Docker Hub as https://index.docker.io/v1/; other registries as host or URL. */
function hostKey(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '').toLowerCase();
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

async function readAuthConfig(file: string): Promise<AuthConfig | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as AuthConfig;
  } catch (cause) {
    throw new FabricksError('CONFIG_INVALID', `${file} is not valid JSON`, { cause, hint: 'fix or remove it; fabricks reads registry logins from it' });
  }
}

function fromAuths(config: AuthConfig, host: string, source: string): Credential | undefined {
  for (const [key, entry] of Object.entries(config.auths ?? {})) {
    if (hostKey(key) !== host) continue;
    if (entry.identitytoken) return { identityToken: entry.identitytoken, source };
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i < 0) throw new FabricksError('CONFIG_INVALID', `${source}: auths["${key}"].auth is not base64 of user:password`, { hint: `log in again with fabricks login ${host}` });
      return { username: decoded.slice(0, i), password: decoded.slice(i + 1), source };
    }
    if (entry.username && entry.password) return { username: entry.username, password: entry.password, source };
  }
  return undefined;
}

/**
 * Runs `docker-credential-<helper> get` (the docker-credential-helpers protocol: the server on
 * stdin, JSON with Username and Secret on stdout). "Not found" means no credential.
 */
export async function fromHelper(helper: string, host: string): Promise<Credential | undefined> {
  const program = `docker-credential-${helper}`;
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(program, ['get'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => reject(new FabricksError('TOOL_MISSING', `credential helper ${program} (named for ${host} in ${dockerConfigFile()}) could not be started: ${(e as Error).message}`, { hint: `install ${program} or remove it from the Docker config` })));
    child.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
    // a helper may exit without reading stdin; its answer still counts
    child.stdin.on('error', () => undefined);
    child.stdin.end(host);
  });
  if (code !== 0) {
    if (/credentials not found/i.test(stdout + stderr)) return undefined;
    throw new FabricksError('REGISTRY_AUTH', `credential helper ${program} failed for ${host} (exit ${code}): ${(stderr || stdout).trim().split('\n').pop() ?? ''}`);
  }
  let parsed: { Username?: string; Secret?: string };
  try {
    parsed = JSON.parse(stdout) as typeof parsed;
  } catch {
    throw new FabricksError('REGISTRY_AUTH', `credential helper ${program} printed something other than JSON for ${host}`);
  }
  const source = `credential helper ${program}`;
  if (!parsed.Secret) return undefined;
  if (parsed.Username === '<token>') return { identityToken: parsed.Secret, source };
  return { username: parsed.Username ?? '', password: parsed.Secret, source };
}

/**
 * The credential for a registry host: first what `fabricks login` saved, then the user's Docker
 * config (a helper for that host, then `auths`, then the default `credsStore`). None: anonymous.
 */
export async function findCredential(registry: string): Promise<Credential | undefined> {
  const host = hostKey(registry);
  const own = await readAuthConfig(fabricksAuthFile());
  const fromOwn = own && fromAuths(own, host, `fabricks login (${fabricksAuthFile()})`);
  if (fromOwn) return fromOwn;
  const dockerFile = dockerConfigFile();
  const docker = await readAuthConfig(dockerFile);
  if (!docker) return undefined;
  const helper = Object.entries(docker.credHelpers ?? {}).find(([k]) => hostKey(k) === host)?.[1];
  if (helper) return fromHelper(helper, registry);
  const fromDocker = fromAuths(docker, host, dockerFile);
  if (fromDocker) return fromDocker;
  if (docker.credsStore) return fromHelper(docker.credsStore, registry);
  return undefined;
}

/** Saves a login for `fabricks login`, readable by the user only, in Docker's own format. */
export async function saveCredential(registry: string, username: string, password: string): Promise<string> {
  const file = fabricksAuthFile();
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await withFileLock(`${file}.lock`, async () => {
    const config = (await readAuthConfig(file)) ?? {};
    const auths = Object.fromEntries(Object.entries(config.auths ?? {}).filter(([k]) => hostKey(k) !== hostKey(registry)));
    auths[registry] = { auth: Buffer.from(`${username}:${password}`).toString('base64') };
    // created readable by the user only: the file holds a password
    await writeAtomic(file, JSON.stringify({ ...config, auths }, null, 2) + '\n', 0o600);
  });
  return file;
}

/** Forgets a login; true when there was one. */
export async function removeCredential(registry: string): Promise<boolean> {
  const file = fabricksAuthFile();
  return withFileLock(`${file}.lock`, async () => {
    const config = await readAuthConfig(file);
    if (!config?.auths) return false;
    const kept = Object.fromEntries(Object.entries(config.auths).filter(([k]) => hostKey(k) !== hostKey(registry)));
    if (Object.keys(kept).length === Object.keys(config.auths).length) return false;
    await writeAtomic(file, JSON.stringify({ ...config, auths: kept }, null, 2) + '\n', 0o600);
    return true;
  });
}
