import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { FabricksError } from '../util/errors.js';
import type { ProjectConfig } from '../config/project.js';
import { within } from '../config/project.js';
import { globToRegExp, matchesAny } from '../config/glob.js';

export interface SourceFile {
  /** '/'-separated, relative to [source] path. */
  path: string;
  abs: string;
  size: number;
}

/** Never packed: version control, dependencies (bundled instead), fabricks' own files. */
const ALWAYS_SKIPPED_DIRS = new Set(['.git', 'node_modules', '.fabricks', '__pycache__']);
const PROJECT_FILES = new Set(['fabricks.toml', 'fabricks.lock']);
const ALWAYS_SKIPPED_FILES = new Set(['.DS_Store']);

/** The files under [source] path that include/exclude select, sorted by path. */
export async function collectSourceFiles(config: ProjectConfig): Promise<SourceFile[]> {
  const include = config.source.include.map(globToRegExp);
  const exclude = config.source.exclude.map(globToRegExp);
  const projectReal = await realpath(config.dir);
  const files: SourceFile[] = [];

  async function walk(dir: string): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const abs = join(dir, entry.name);
      const rel = relative(config.source.dir, abs).split(sep).join('/');
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const target = await realpath(abs).catch(() => undefined);
        if (!target) continue; // a dangling link packs nothing
        if (!within(projectReal, target)) {
          if (matchesAny(rel, include) && !matchesAny(rel, exclude)) {
            throw new FabricksError('SOURCE_INVALID', `${rel} is a link to ${target}, outside the project folder`, {
              hint: 'copy the file into the project, or add it to [source] exclude',
            });
          }
          continue;
        }
        const s = await stat(abs);
        isDir = s.isDirectory();
        isFile = s.isFile();
      }
      if (isDir) {
        if (!ALWAYS_SKIPPED_DIRS.has(entry.name) && !matchesAny(rel, exclude)) await walk(abs);
      } else if (isFile) {
        if (ALWAYS_SKIPPED_FILES.has(entry.name) || (dir === config.dir && PROJECT_FILES.has(entry.name))) continue;
        if (!matchesAny(rel, include) || matchesAny(rel, exclude)) continue;
        files.push({ path: rel, abs, size: (await lstat(abs)).size });
      }
    }
  }
  await walk(config.source.dir);
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return files;
}
