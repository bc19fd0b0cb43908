import { FabricksError, isFabricksError } from '../util/errors.js';
import { runTool } from './run-tool.js';

/** What `npm view` says of one version of a package (the fields fabricks reads). */
export interface NpmManifest {
  name: string;
  version: string;
  bin?: Record<string, string> | string;
  main?: string;
  exports?: unknown;
  dist?: { integrity?: string; tarball?: string };
}

/** The npm error codes that mean the registry was not reached (npm's own, and the network's). */
const UNREACHABLE = /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|FETCH_ERROR|ERR_SOCKET_TIMEOUT|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN)$/;

const npmEnv = () => ({ ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' });

/** npm's own error code in a failed run's output (`npm error code E404`), and the line that says why. */
function npmFailure(e: unknown): { code: string; summary: string } | undefined {
  if (!isFabricksError(e, 'TOOL_FAILED')) return undefined;
  const code = /npm (?:error|ERR!) code (\S+)/.exec(e.message)?.[1];
  if (!code) return undefined;
  const summary = /npm (?:error|ERR!) (?:404 )?((?:No match found|Not Found|request to|FetchError)[^\n]*)/.exec(e.message)?.[1] ?? code;
  return { code, summary };
}

/**
 * The manifest of the newest version of `name` that `spec` (a version, range or dist-tag; ''
 * for latest) matches, from the registry npm is configured with. Errors say whether the package
 * or the version is unknown, or the registry unreachable.
 */
export async function npmView(name: string, spec: string, what: string, signal?: AbortSignal): Promise<NpmManifest> {
  const arg = spec ? `${name}@${spec}` : name;
  let stdout: string;
  try {
    ({ stdout } = await runTool('npm', 'npm', ['view', arg, '--json'], { signal, env: npmEnv(), failureLines: (s) => s.split('\n').filter((l) => /npm (error|ERR!)/.test(l)).slice(0, 6) }));
  } catch (e) {
    const f = npmFailure(e);
    if (f?.code === 'E404' && /No match found/.test(f.summary)) {
      throw new FabricksError('NOT_FOUND', `${what}: ${name} has no version ${spec} on the npm registry`, {
        cause: e,
        hint: `see the versions it has with: npm view ${name} versions; then name one, e.g. npm:${name}@<version>`,
      });
    }
    if (f?.code === 'E404') {
      throw new FabricksError('NOT_FOUND', `${what}: the npm registry has no package ${name}`, { cause: e, hint: 'check the spelling of the name (and its @scope), as the server\'s README gives it (npx -y <name>)' });
    }
    if (f && UNREACHABLE.test(f.code)) {
      throw new FabricksError('REGISTRY_UNREACHABLE', `${what}: the npm registry could not be reached (${f.code})`, { cause: e, hint: 'check the network, or the registry npm is configured with (npm config get registry)' });
    }
    throw e;
  }
  if (!stdout.trim()) throw new FabricksError('NOT_FOUND', `${what}: ${name} has no version matching ${spec || 'latest'} on the npm registry`, { hint: `see the versions it has with: npm view ${name} versions` });
  const parsed = JSON.parse(stdout) as NpmManifest | NpmManifest[];
  // a range that several versions match lists them all, oldest first
  const manifest = Array.isArray(parsed) ? parsed[parsed.length - 1] : parsed;
  if (!manifest?.version) throw new FabricksError('NOT_FOUND', `${what}: ${name} has no version matching ${spec || 'latest'} on the npm registry`, { hint: `see the versions it has with: npm view ${name} versions` });
  return manifest;
}

/**
 * `npm install` in `dir` of what its package.json lists, writing package-lock.json. Install
 * scripts never run: the package is meant to run sandboxed, not on this machine. npm checks each
 * tarball against the integrity the registry gives.
 */
export async function npmInstall(dir: string, what: string, signal?: AbortSignal): Promise<void> {
  try {
    await runTool('npm', 'npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, signal, env: npmEnv() });
  } catch (e) {
    const f = npmFailure(e);
    if (f && UNREACHABLE.test(f.code)) {
      throw new FabricksError('REGISTRY_UNREACHABLE', `${what}: the npm registry could not be reached while installing (${f.code})`, { cause: e, hint: 'check the network, or the registry npm is configured with (npm config get registry)' });
    }
    if (f?.code === 'EINTEGRITY') {
      throw new FabricksError('DIGEST_MISMATCH', `${what}: a tarball did not match the integrity the npm registry gives for it`, { cause: e, hint: 'the registry or a proxy served other bytes; try again, or clear npm\'s cache (npm cache clean --force)' });
    }
    throw e;
  }
}
