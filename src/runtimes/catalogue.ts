import { join } from 'node:path';
import { packageRoot } from '../util/paths.js';
import type { Reference } from '../oci/reference.js';

/** A runtime fabricks can build itself from runtimes/<name>. */
export interface BuiltinRuntime {
  name: string;
  /** The registry/repository users write in [from] image. */
  repository: string;
  tag: string;
  language: 'javascript' | 'python';
  /** The Bytecode Alliance tool that builds it. */
  builder: 'componentize-js' | 'componentize-py';
  /** Entrypoint file extensions this runtime runs. */
  extensions: string[];
  sourceDir: string;
  description: string;
  /**
   * The most linear memory the runtime can use, in bytes: fabricks run caps [limits] memory there, so that the
   * program runs out of memory cleanly instead of breaking the runtime. None: the 4 GiB of wasm32.
   */
  memoryLimit?: number;
}

export const BUILTIN_REGISTRY = 'fabricks.dev';

export const BUILTIN_RUNTIMES: BuiltinRuntime[] = [
  {
    name: 'node',
    repository: 'runtimes/node',
    tag: '0.1',
    language: 'javascript',
    extensions: ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts', '.jsx', '.tsx'],
    sourceDir: join(packageRoot, 'runtimes', 'node'),
    builder: 'componentize-js',
    description: 'JavaScript on StarlingMonkey (SpiderMonkey), built with componentize-js 0.23.0',
    // componentize-js 0.23 hands memory addresses to JavaScript as signed 32-bit numbers: past
    // 2 GiB every call to the host fails (output is lost), so memory stops just short of it
    memoryLimit: 2047 * 2 ** 20,
  },
  {
    name: 'python',
    repository: 'runtimes/python',
    // The interpreter inside: componentize-py 0.25.1 embeds CPython 3.14 (a test checks).
    tag: '3.14',
    language: 'python',
    extensions: ['.py'],
    sourceDir: join(packageRoot, 'runtimes', 'python'),
    builder: 'componentize-py',
    description: 'CPython 3.14 with a pre-imported standard library, built with componentize-py 0.25.1',
  },
];

export function builtinReference(rt: BuiltinRuntime): string {
  return `${BUILTIN_REGISTRY}/${rt.repository}:${rt.tag}`;
}

/** The short name in a runtime layer's fabricks.runtime annotation, e.g. node:0.1. */
export function builtinShortName(rt: BuiltinRuntime): string {
  return `${rt.name}:${rt.tag}`;
}

export const isBuiltinRegistry = (ref: Reference) => ref.registry === BUILTIN_REGISTRY;

/** The built-in runtime a reference names; no tag (or "latest") means the newest. */
export function findBuiltin(ref: Reference): BuiltinRuntime | undefined {
  if (!isBuiltinRegistry(ref)) return undefined;
  return taggedOrNewest(BUILTIN_RUNTIMES.filter((r) => r.repository === ref.repository), ref.tag);
}

/** The built-in runtime a short name gives (node, node:0.1, python:3.14); no tag means the newest. */
export function findBuiltinByName(name: string): BuiltinRuntime | undefined {
  const [base, tag] = name.split(':');
  return taggedOrNewest(BUILTIN_RUNTIMES.filter((r) => r.name === base), tag);
}

function taggedOrNewest(candidates: BuiltinRuntime[], tag: string | undefined): BuiltinRuntime | undefined {
  if (!tag || tag === 'latest') return candidates[candidates.length - 1];
  return candidates.find((r) => r.tag === tag);
}
