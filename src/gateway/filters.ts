import { compileGlob, type Glob } from '../config/glob.js';
import { FabricksError } from '../util/errors.js';

/**
 * Which tools the gateway offers and lets through: `--allow-tool` and `--deny-tool` globs on the
 * prefixed name (`weather__get_*`, `*__delete_*`; `*` and `?` within the name, `{a,b}`
 * alternatives). No allow pattern allows every tool; a deny pattern wins over any allow.
 */
export interface ToolFilter {
  allows(prefixedName: string): boolean;
  /** The patterns, for messages. */
  describe(): string;
}

const MAX_PATTERN = 256;

function compile(pattern: string, flag: string): Glob {
  if (pattern === '' || pattern.length > MAX_PATTERN || pattern.includes('/')) {
    throw new FabricksError('USAGE', `${flag} "${pattern}" is not a tool pattern`, {
      hint: `give a glob on <server>__<tool>, such as "weather__*" or "*__get_*" (no "/", at most ${MAX_PATTERN} characters)`,
    });
  }
  return compileGlob(pattern);
}

export function toolFilter(allow: string[] = [], deny: string[] = []): ToolFilter {
  const allowed = allow.map((p) => compile(p, '--allow-tool'));
  const denied = deny.map((p) => compile(p, '--deny-tool'));
  return {
    allows: (name) => (allowed.length === 0 || allowed.some((g) => g.test(name))) && !denied.some((g) => g.test(name)),
    describe: () => [...allow.map((p) => `--allow-tool ${p}`), ...deny.map((p) => `--deny-tool ${p}`)].join(' ') || 'no filter',
  };
}
