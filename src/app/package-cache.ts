import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context } from '../home/context.js';
import { appIdentity, packagesDir, readRecord } from './package.js';

/** A package folder younger than this is spared: an install or build may be using it. */
const GRACE_MS = 60 * 60 * 1000;

/**
 * The package installs gc removes: those whose app (name:version) the store no longer holds
 * (fabricks rm), and installs that were interrupted; none younger than an hour, which a build
 * may be using. A later run by name installs again.
 */
export async function sweepPackages(ctx: Context, dryRun: boolean): Promise<string[]> {
  const removed: string[] = [];
  const root = packagesDir(ctx);
  const now = Date.now();
  for (const scheme of await readdir(root).catch(() => [] as string[])) {
    for (const name of await readdir(join(root, scheme)).catch(() => [] as string[])) {
      const dir = join(root, scheme, name);
      const s = await stat(dir).catch(() => undefined);
      if (!s?.isDirectory() || now - s.mtimeMs < GRACE_MS) continue;
      const pkg = await readRecord(dir);
      if (pkg) {
        const { name: app, version } = appIdentity(pkg);
        const stored = await ctx.home.store.resolve(`${app}:${version}`).then(() => true, () => false);
        if (stored) continue;
      }
      removed.push(dir);
      if (!dryRun) await rm(dir, { recursive: true, force: true });
    }
  }
  return removed;
}
