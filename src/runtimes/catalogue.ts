import type { Reference } from '../oci/reference.js';
import type { BuiltinRuntime, RuntimeKind } from './kind.js';
import { nodeRuntime } from './node/runtime.js';
import { pythonRuntime } from './python/runtime.js';

export type { BuiltinRuntime } from './kind.js';

export const BUILTIN_REGISTRY = 'fabricks.dev';

/** The runtimes fabricks provides, one line each (a runtime is its folder here); the first is the default kind. */
export const BUILTIN_RUNTIMES: BuiltinRuntime[] = [
  nodeRuntime,
  pythonRuntime,
];

/** The kinds of runtime fabricks knows, each once. */
export const RUNTIME_KINDS: RuntimeKind[] = [...new Set(BUILTIN_RUNTIMES.map((r) => r.kind))];

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

/**
 * The kind of a runtime fabricks did not build (pulled from a registry): the language its config
 * records, else the built-in runtime its short name starts with (python-slim:3.14 is Python),
 * else the default.
 */
export function kindOf(language: string | undefined, shortName: string): RuntimeKind {
  const byLanguage = RUNTIME_KINDS.find((k) => k.language === language);
  if (byLanguage) return byLanguage;
  return BUILTIN_RUNTIMES.find((r) => shortName.startsWith(r.name))?.kind ?? RUNTIME_KINDS[0]!;
}
