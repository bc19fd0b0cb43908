import { digestHex, sha256 } from '../../oci/digest.js';
import type { Descriptor } from '../../oci/content.js';
import type { ProjectConfig } from '../../config/project.js';
import type { Context } from '../../home/context.js';
import { FabricksError } from '../../util/errors.js';
import { builtinShortName, findBuiltinByName } from '../catalogue.js';
import type { RuntimeExtras } from '../build-runtime.js';
import type { BuildTarget } from '../kind.js';

/**
 * The runtime variant for an app with compiled dependencies: componentize-py links extension
 * modules into the runtime component itself (the module layer holds files the interpreter reads,
 * not code it can load), so such an app is built on the base runtime plus its extensions,
 * `python:3.14-native-<key>`, keyed by what they add. Built once per set of extensions and kept
 * in the store like any runtime; apps with the same compiled dependencies share it.
 */
export async function nativeRuntime(base: BuildTarget, extras: RuntimeExtras, config: ProjectConfig, ctx: Context): Promise<{ reference: string; name: string; layer: Descriptor }> {
  const builtin = findBuiltinByName(base.name);
  if (!builtin) {
    throw new FabricksError('NATIVE_UNSUPPORTED', `${config.file}: the Python dependencies have compiled code, which fabricks links into a runtime it builds, but [from] image is ${config.from.image} (${base.name})`, {
      hint: 'build on fabricks.dev/runtimes/python (fabricks builds it, and the variant with your compiled dependencies)',
    });
  }
  const key = digestHex(sha256(JSON.stringify(extras.map(([p, b]) => [p, sha256(b)])))).slice(0, 16);
  const variant = { ...builtin, tag: `${builtin.tag}-native-${key}`, description: `${builtin.description}, with compiled dependencies` };
  const { ensureBuiltinRuntime } = await import('../build-runtime.js');
  const stored = await ensureBuiltinRuntime(variant, ctx.home.store, ctx.reporter, { extras, signal: ctx.signal }).catch((e: unknown) => {
    throw unlinkable(e) ?? e;
  });
  return { reference: stored.reference, name: builtinShortName(variant), layer: stored.layer };
}

/**
 * componentize-py refuses an extension module that needs functions neither its libc nor libpython
 * has (httptools' llhttp, built for WebAssembly, expects its JavaScript host's wasm_on_* callbacks):
 * NATIVE_BUILD_FAILED naming the modules and what they need, instead of a failed runtime build.
 */
export function unlinkable(e: unknown): FabricksError | undefined {
  const cause = e instanceof FabricksError ? e.cause : undefined;
  const text = cause instanceof Error ? cause.message : '';
  if (!text.includes('unresolved symbol(s):')) return undefined;
  const needs = text
    .split('\n')
    .map((l) => /\/native\/(\S+\.so) needs (\S+)/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null);
  const modules = [...new Set(needs.map((m) => m[1]!))];
  return new FabricksError('NATIVE_BUILD_FAILED', `the extension module${modules.length === 1 ? '' : 's'} ${modules.join(', ')} of the compiled dependencies cannot be linked into the runtime: ${modules.length === 1 ? 'it needs' : 'they need'} functions that neither the runtime's libc nor libpython has`, {
    problems: needs.map((m) => `${m[1]} needs ${m[2]}`),
    hint: 'its C code expects another WebAssembly host (one that provides these functions) or a C library that is not linked in; use a pure-Python alternative, or a version of the package without that code',
    cause: e,
  });
}
