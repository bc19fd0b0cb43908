import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { FabricksError } from '../util/errors.js';
import type { Reporter } from '../util/progress.js';
import type { ProjectConfig } from '../config/project.js';
import { within } from '../util/paths.js';
import { compileGlob, matchesAny } from '../config/glob.js';

export interface SourceFile {
  /** '/'-separated, relative to [source] path. */
  path: string;
  abs: string;
  size: number;
}

import { NEVER_PACKED_DIRS, NEVER_PACKED_FILES, packableNames } from './never-packed.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A file name as it is, with bytes that are not UTF-8 shown as \xNN. */
function escapedName(name: Buffer): string {
  let out = '';
  for (let i = 0; i < name.length; ) {
    // the longest valid UTF-8 sequence starting here, else one escaped byte
    let decoded: string | undefined;
    for (let n = Math.min(4, name.length - i); n >= 1 && decoded === undefined; n--) {
      try {
        decoded = utf8.decode(name.subarray(i, i + n));
        i += n;
      } catch {
        /* shorter */
      }
    }
    if (decoded === undefined) out += `\\x${name[i++]!.toString(16).padStart(2, '0')}`;
    else out += decoded;
  }
  return out;
}

/**
 * The files under [source] path that include/exclude select, sorted by path; `folders`, when
 * given, gets the names in each folder walked that could be packed (builder/fingerprint.ts). Links are followed
 * while they stay in the project, except a folder link back into a folder being walked (a loop),
 * which is skipped with a note. A name that is not UTF-8 cannot be a module-layer path: it is
 * refused, unless include/exclude leave it out anyway.
 */
export async function collectSourceFiles(config: ProjectConfig, reporter?: Reporter, folders?: Array<[string, string[]]>): Promise<SourceFile[]> {
  const include = config.source.include.map(compileGlob);
  const exclude = config.source.exclude.map(compileGlob);
  const projectReal = await realpath(config.dir);
  const files: SourceFile[] = [];
  const selected = (rel: string) => matchesAny(rel, include) && !matchesAny(rel, exclude);

  /** `walking`: the real paths of the folders from the source folder down to this one. */
  async function walk(dir: string, walking: string[]): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true, encoding: 'buffer' });
    folders?.push([dir, packableNames(entries.map((e) => e.name))]);
    for (const entry of entries) {
      let name: string;
      try {
        name = utf8.decode(entry.name);
      } catch {
        const shown = relative(config.source.dir, join(dir, escapedName(entry.name))).split(sep).join('/');
        // matched as shown; left out by the patterns, it is simply not packed
        if (!selected(shown)) continue;
        throw new FabricksError('SOURCE_INVALID', `${shown} has a name that is not valid UTF-8`, {
          hint: 'rename it (module-layer paths are UTF-8), or add it to [source] exclude',
        });
      }
      const abs = join(dir, name);
      const rel = relative(config.source.dir, abs).split(sep).join('/');
      // never packed, so never refused: a node_modules linked from elsewhere (pnpm, workspaces)
      // is the bundler's to follow, as Node's resolution follows it
      if (NEVER_PACKED_DIRS.has(name) && (entry.isDirectory() || entry.isSymbolicLink())) continue;
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      let real = abs;
      if (entry.isSymbolicLink()) {
        const target = await realpath(abs).catch(() => undefined);
        if (!target) continue; // a dangling link packs nothing
        if (!within(projectReal, target)) {
          if (selected(rel)) {
            throw new FabricksError('SOURCE_INVALID', `${rel} is a link to ${target}, outside the project folder`, {
              hint: 'copy the file into the project, or add it to [source] exclude',
            });
          }
          continue;
        }
        const s = await stat(abs);
        isDir = s.isDirectory();
        isFile = s.isFile();
        real = target;
        if (isDir && walking.some((w) => within(target, w))) {
          reporter?.({ event: 'note', code: 'link-skipped', subject: rel, detail: `it links back to ${relative(config.dir, target) || '.'}, a folder it is inside of; following it would never end` });
          continue;
        }
      }
      if (isDir) {
        if (!NEVER_PACKED_DIRS.has(name) && !matchesAny(rel, exclude)) await walk(abs, [...walking, entry.isSymbolicLink() ? real : await realpath(abs)]);
      } else if (isFile) {
        if (NEVER_PACKED_FILES.has(name) || !selected(rel)) continue;
        files.push({ path: rel, abs, size: (await lstat(abs)).size });
      }
    }
  }
  await walk(config.source.dir, [await realpath(config.source.dir)]);
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return files;
}
