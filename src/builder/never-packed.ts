/** Never packed, at any depth: version control, dependencies (bundled instead), fabricks' own files. */
export const NEVER_PACKED_DIRS = new Set(['.git', 'node_modules', '.fabricks', '__pycache__']);
export const NEVER_PACKED_FILES = new Set(['fabricks.toml', 'fabricks.lock', '.DS_Store']);

/**
 * A folder's names less those never packed, sorted: what a build's walk of it depends on. A build
 * writes fabricks.lock and .fabricks/ beside the source, which must not count as a change.
 */
export function packableNames(names: Array<string | Buffer>): string[] {
  return names
    .map((n) => (typeof n === 'string' ? n : n.toString('latin1')))
    .filter((n) => !NEVER_PACKED_DIRS.has(n) && !NEVER_PACKED_FILES.has(n))
    .sort();
}
