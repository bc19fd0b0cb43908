import { FabricksError } from '../util/errors.js';
import { isRemoteReference, parseReference, type Reference } from '../oci/reference.js';

/**
 * Where wheels built for the runtime (Python dependencies' native extensions) are shared: an OCI
 * repository the user names, pulled from before a build and, only when the user says so, pushed
 * to after one. Named by, first to last: `fabricks build --wheels`, FABRICKS_WHEELS, then
 * `[source] wheels` in fabricks.toml; `--no-wheels` turns sharing off for one build. Pushing is
 * never implied by naming a repository (a committed fabricks.toml would make every machine push):
 * it takes `--push-wheels` or FABRICKS_PUSH_WHEELS=1, and credentials for the repository.
 */
export interface WheelSharing {
  /** registry/repository, without tag. */
  repository: Reference;
  /** As the user wrote it. */
  location: string;
  /** Which setting named it, for messages. */
  from: '--wheels' | 'FABRICKS_WHEELS' | '[source] wheels';
  /** Push wheels the repository lacks (built here, or found in this machine's cache). */
  push: boolean;
}

/** What the command line says (fabricks build): a repository, false for --no-wheels, and --push-wheels. */
export interface WheelSharingFlags {
  wheels?: string | false;
  pushWheels?: boolean;
}

/** Why a string is not an OCI repository with its registry (host/namespace/name), or undefined if it is one. */
export function repositoryProblem(input: string): string | undefined {
  const r = parseReference(input);
  if ('error' in r) return `is not a valid OCI repository: ${r.error}`;
  if (!isRemoteReference(input)) return 'names no registry; write it as registry/repository, e.g. ghcr.io/you/wheels or localhost:5000/wheels';
  if (r.tag || r.digest) return 'names a tag or digest; name the repository only (each wheel gets its own tag there)';
  return undefined;
}

const truthy = (v: string | undefined) => v !== undefined && /^(1|true|yes)$/i.test(v.trim());

/** The sharing a build uses, or undefined when no repository is named (or --no-wheels). */
export function wheelSharing(configured: { file: string; wheels?: string | undefined }, flags: WheelSharingFlags = {}, env: NodeJS.ProcessEnv = process.env): WheelSharing | undefined {
  if (flags.wheels === false && flags.pushWheels) throw new FabricksError('USAGE', '--push-wheels and --no-wheels contradict each other');
  if (flags.wheels === false) return undefined;
  const fromEnv = env.FABRICKS_WHEELS?.trim() || undefined;
  const [location, from] = flags.wheels
    ? ([flags.wheels, '--wheels'] as const)
    : fromEnv
      ? ([fromEnv, 'FABRICKS_WHEELS'] as const)
      : configured.wheels
        ? ([configured.wheels, '[source] wheels'] as const)
        : [undefined, undefined];
  if (location === undefined || from === undefined) {
    if (flags.pushWheels) {
      throw new FabricksError('USAGE', '--push-wheels needs a repository to push to', { hint: `name one with --wheels registry/repository, FABRICKS_WHEELS, or [source] wheels in ${configured.file}` });
    }
    return undefined;
  }
  const why = repositoryProblem(location);
  if (why) throw new FabricksError(from === '[source] wheels' ? 'CONFIG_INVALID' : 'USAGE', `${from === '[source] wheels' ? `${configured.file}: [source] wheels` : from}: "${location}" ${why}`);
  const repository = parseReference(location) as Reference;
  return { repository, location, from, push: Boolean(flags.pushWheels) || truthy(env.FABRICKS_PUSH_WHEELS) };
}
