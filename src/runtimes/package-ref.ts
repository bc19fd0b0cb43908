import { FabricksError } from '../util/errors.js';
import { BUILTIN_RUNTIMES, RUNTIME_KINDS } from './catalogue.js';
import type { BuiltinRuntime, PackageRef, PublishedPackages } from './kind.js';

/** A package reference, with the registry and the runtime that take it. */
export interface PackageTarget {
  ref: PackageRef;
  packages: PublishedPackages;
  /** The newest built-in runtime of the package's language: what [from] image names. */
  runtime: BuiltinRuntime;
}

const schemes = () => RUNTIME_KINDS.flatMap((k) => (k.published ? [k.published.scheme] : []));

/** Whether `text` is written as a package reference (scheme:...), whether or not it is a valid one. */
export function looksLikePackageRef(text: string): boolean {
  const colon = text.indexOf(':');
  return colon > 0 && schemes().includes(text.slice(0, colon));
}

/**
 * `npm:@scope/pkg@1.2.3#bin`, `pypi:pkg==1.2.3#script`: the scheme picks the runtime kind whose
 * registry parses the rest. `program` (--bin) is the same as `#name`; both at once must agree.
 */
export function parsePackageRef(text: string, program?: string): PackageTarget {
  const colon = text.indexOf(':');
  const scheme = colon > 0 ? text.slice(0, colon) : '';
  const kind = RUNTIME_KINDS.find((k) => k.published?.scheme === scheme);
  if (!kind?.published) {
    throw new FabricksError('USAGE', `"${text}" is not a package reference: it starts with neither ${schemes().map((s) => `${s}:`).join(' nor ')}`, {
      hint: `write it as ${RUNTIME_KINDS.flatMap((k) => (k.published ? [k.published.example] : [])).join(' or ')}`,
    });
  }
  const packages = kind.published;
  const hash = text.indexOf('#', colon);
  const body = text.slice(colon + 1, hash < 0 ? undefined : hash);
  const named = hash < 0 ? undefined : text.slice(hash + 1);
  if (named !== undefined && !/^[\w.-]+$/.test(named)) throw new FabricksError('USAGE', `${text}: "#${named}" is not a program's name`, { hint: `write it as ${packages.example}` });
  if (named !== undefined && program !== undefined && named !== program) throw new FabricksError('USAGE', `${text}: it names the program ${named}, and --bin ${program} another; keep one`);
  const parsed = packages.parse(body);
  if ('error' in parsed) throw new FabricksError('USAGE', `${text}: ${parsed.error}`, { hint: `write it as ${packages.example}` });
  const chosen = named ?? program;
  const runtime = BUILTIN_RUNTIMES.filter((r) => r.kind === kind).pop()!;
  return { ref: { text, scheme, ...parsed, ...(chosen !== undefined ? { program: chosen } : {}) }, packages, runtime };
}
