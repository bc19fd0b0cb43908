import { sha256, type Digest } from '../oci/digest.js';
import type { Descriptor } from '../oci/content.js';
import type { LockFile, LockSection } from '../config/lock.js';
import { appReference, type ProjectConfig } from '../config/project.js';
import type { ResolvedRuntime } from '../runtimes/resolve.js';
import type { BuildRecord } from './cache.js';
import { recordCapabilities } from '../artifact/app.js';

/** Bumped when the build's outputs change for the same inputs, so old cache entries are not used. */
const BUILD_FORMAT = 1;

/** Everything a build's outputs depend on; its digest is the build cache key. */
export interface BuildInputs {
  config: ProjectConfig;
  runtime: ResolvedRuntime;
  /** The runtime layer fabricks.lock pins: [from] image resolved (runtime may be a variant of it). */
  pinned: Descriptor;
  /** The packed-set candidates: path and content digest, sorted by path. */
  files: Array<{ path: string; digest: Digest }>;
  /** SOURCE_DATE_EPOCH as a time, when set. */
  created: string | undefined;
  /** The project's pinned dependencies (their files are in `files`), for fabricks.lock beside [runtime]. */
  locked: LockSection[];
  /** The digest of fabricks' own code that shapes the outputs (code-digest.ts). */
  code: Digest;
  /** Digests of the wheels built for the runtime from source that the build uses; not part of the key (the runtime variant and the files are). */
  wheels?: Digest[];
}

/** What is already there from an earlier build with the same key. */
export interface BuildState {
  lock: LockFile | undefined;
  /** The record under this key, when it exists and its manifest is still in the store. */
  record: BuildRecord | undefined;
  /** The manifest digest name:version points at in the store now. */
  tagged: Digest | undefined;
  /** .fabricks/app.wasm is the recorded component. */
  outputCurrent: boolean;
}

export type BuildAction =
  /** Pack the sources, generate the module layer, compose, and store layers, config and manifest. */
  | 'compose'
  /** Compose again from the stored layers (the output was lost or changed). */
  | 'recompose'
  | 'tag'
  | 'write-output'
  | 'write-lock'
  | 'record';

export interface BuildPlan {
  key: Digest;
  reference: string;
  cached: boolean;
  actions: BuildAction[];
}

export function buildKey(inputs: BuildInputs): Digest {
  const { config, runtime } = inputs;
  return sha256(
    JSON.stringify({
      format: BUILD_FORMAT,
      code: inputs.code,
      runtime: [runtime.reference, runtime.layer.digest],
      name: config.name,
      version: config.version,
      entrypoint: config.source.entrypoint,
      capabilities: recordCapabilities(config.capabilities),
      limits: config.limits,
      created: inputs.created ?? null,
      files: inputs.files.map((f) => [f.path, f.digest]),
      // only when set, so that the keys of earlier builds stay as they were
      ...(config.source.strictBuiltins ? { strictBuiltins: true } : {}),
      ...(config.source.strictNative ? { strictNative: true } : {}),
      ...(config.published ? { published: config.published } : {}),
    }),
  );
}

/** Decides what a build must do; pure, so the cached and cold paths are one list of steps. */
export function planBuild(inputs: BuildInputs, state: BuildState): BuildPlan {
  const key = buildKey(inputs);
  const reference = appReference(inputs.config);
  const lockCurrent =
    state.lock?.runtime.image === inputs.config.from.image &&
    state.lock.runtime.digest === inputs.pinned.digest &&
    sameSections(state.lock, inputs.locked);
  const actions: BuildAction[] = [];
  const record = state.record;
  if (!record) actions.push('compose', 'tag', 'write-output');
  else {
    if (state.tagged !== record.manifest.digest) actions.push('tag');
    if (!state.outputCurrent) actions.push('recompose', 'write-output');
  }
  if (!lockCurrent) actions.push('write-lock');
  if (actions.includes('write-output')) actions.push('record');
  return { key, reference, cached: record !== undefined, actions };
}

/** Whether the lock's sections beside [runtime] are these (notes are comments, not compared). */
function sameSections(lock: LockFile, locked: LockSection[]): boolean {
  return canonical(lock.sections) === canonical(Object.fromEntries(locked.map((s) => [s.name, s.table])));
}

/** JSON with every object's keys sorted, so that the order a file was written in does not matter. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
