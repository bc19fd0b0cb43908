import { readFile, stat } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { within } from '../../util/paths.js';
import { packageRoot } from '../../util/paths.js';
import { guestPath } from './module-meta.js';

// fabricks' own files a bundle takes in (its polyfills and the npm packages they come from)
const OWN = [join(packageRoot, 'polyfills'), join(packageRoot, 'node_modules')];

/** A file packed beside the bundle, for the program to read at run time. */
export interface Asset {
  /** Its guest path without the leading '/', as the module layer names files. */
  path: string;
  abs: string;
}

/** The folder of the npm package a file under node_modules belongs to ("…/node_modules/@s/n"), if any. */
export function packageDirOf(file: string): string | undefined {
  const parts = file.split(/[\\/]/);
  const i = parts.lastIndexOf('node_modules');
  if (i < 0 || i + 1 >= parts.length - 1) return undefined;
  const end = parts[i + 1]!.startsWith('@') ? i + 3 : i + 2;
  return end < parts.length ? parts.slice(0, end).join(sep) : undefined;
}

async function isFile(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isFile(), () => false);
}

/**
 * What a bundle's modules may read of their own packages at run time, and where they sit in the
 * guest: each package's package.json (packages read their version from it), and the files
 * modules name by a literal path (module-meta.ts `staticAssets`). Lookups are cached per folder.
 */
export class PackageFiles {
  private readonly nearest = new Map<string, Promise<{ root: string; name: string } | undefined>>();
  private readonly assets = new Map<string, Asset>();

  constructor(private readonly sourceDir: string) {}

  /** The nearest folder above `dir` whose package.json has a name. */
  private named(dir: string): Promise<{ root: string; name: string } | undefined> {
    let found = this.nearest.get(dir);
    if (!found) {
      found = readFile(join(dir, 'package.json'), 'utf8').then(
        (text) => {
          const name = (JSON.parse(text) as { name?: unknown }).name;
          return typeof name === 'string' ? { root: dir, name } : this.parentOf(dir);
        },
        () => this.parentOf(dir),
      );
      this.nearest.set(dir, found);
    }
    return found;
  }

  private parentOf(dir: string): Promise<{ root: string; name: string } | undefined> {
    const up = dirname(dir);
    return up === dir ? Promise.resolve(undefined) : this.named(up);
  }

  /** The guest path of a bundled file (module-meta.ts `guestPath`). */
  async locate(file: string): Promise<string> {
    if (within(this.sourceDir, file) || packageDirOf(file)) return guestPath(file, this.sourceDir);
    return guestPath(file, this.sourceDir, await this.named(dirname(file)));
  }

  /** Packs `file` at its guest path, if it is a file. */
  async add(file: string): Promise<void> {
    if (!(await isFile(file))) return;
    const path = (await this.locate(file)).slice(1);
    if (!this.assets.has(path)) this.assets.set(path, { path, abs: file });
  }

  /** The package.json files of the packages the bundle's inputs belong to. */
  async addManifests(inputs: string[]): Promise<void> {
    const dirs = new Set<string>();
    for (const input of inputs) {
      if (OWN.some((dir) => within(dir, input)) && !within(this.sourceDir, input)) continue; // fabricks' polyfills
      const pkg = packageDirOf(input);
      if (pkg) dirs.add(pkg);
      else if (!within(this.sourceDir, input)) {
        const named = await this.named(dirname(input));
        if (named) dirs.add(named.root);
      }
    }
    for (const dir of dirs) await this.add(join(dir, 'package.json'));
  }

  list(): Asset[] {
    return [...this.assets.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}
