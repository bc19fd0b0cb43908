import { Option, type Command } from 'commander';
import type { GcResult } from '../../app/gc.js';
import { jsonOption, type Cli, type CommonOptions } from '../command.js';
import { json, mb } from '../format.js';

export function register(program: Command, cli: Cli): void {
  const cmd = program
    .command('gc')
    .description('remove what nothing references (blobs of removed references, stale partial downloads, quarantined blobs, orphan cache entries, installs of packages built by name whose app was removed, native wheels no stored app was built with or of another toolchain) and trim the compiled cache to its limit, least recently used first; what a running fabricks uses is kept')
    .option('--dry-run', 'say what would be removed, remove nothing')
    .addOption(new Option('--cache-limit <size>', 'the compiled cache size to trim to (e.g. 500MB, 2GiB, 0); default FABRICKS_CACHE_LIMIT or 1GiB'));
  jsonOption(cmd).action(async (opts: CommonOptions & { dryRun?: boolean; cacheLimit?: string }) => {
    const { gc } = await import('../../app/gc.js');
    const { parseSize } = await import('../../home/home.js');
    const r = await gc(await cli.context({ quiet: true }), {
      dryRun: Boolean(opts.dryRun),
      ...(opts.cacheLimit !== undefined ? { cacheLimit: parseSize(opts.cacheLimit, '--cache-limit') } : {}),
    });
    cli.done({ stdout: opts.json ? json(r) : formatGc(r) });
  });
}

/** How many went for each reason: unreferenced (no stored app was built with it), stale (another toolchain), incomplete. */
function nativeReasons(r: GcResult): string {
  const counts = new Map<string, number>();
  for (const x of r.native.removed) counts.set(x.reason, (counts.get(x.reason) ?? 0) + 1);
  return [...counts].map(([reason, n]) => `; ${n} ${reason}`).join('');
}

function formatGc(r: GcResult): string {
  const verb = r.dryRun ? 'would remove' : 'removed';
  const sum = (xs: Array<{ bytes: number }>) => mb(xs.reduce((n, x) => n + x.bytes, 0));
  const lines = [
    `${verb} ${r.store.blobs.length} unreferenced blobs (${mb(r.store.blobs.reduce((n, b) => n + b.size, 0))})${r.store.leased > 0 ? `; kept ${r.store.leased} that a running fabricks uses` : ''}`,
    `${verb} ${r.store.partial.length} partial downloads (${sum(r.store.partial)}), ${r.store.quarantine.length} quarantined blobs (${sum(r.store.quarantine)}), ${r.store.temporary.length} temporary files`,
    `${verb} ${r.compiled.removed.length} compiled cache entries (${sum(r.compiled.removed)}); it holds ${mb(r.compiled.bytes)} of its ${mb(r.compiled.limit)} limit`,
    `${verb} ${r.native.removed.length} native wheels (${sum(r.native.removed)}${nativeReasons(r)})${r.native.leased > 0 ? `; kept ${r.native.leased} that a running build uses` : ''}, ${r.native.scratch} scratch folders of builds; it holds ${mb(r.native.bytes)}, cargo's compiled crates ${mb(r.native.cargoTarget)} and C libraries built for WebAssembly ${mb(r.native.cLibraries)} (both kept)`,
    `${verb} ${r.buildRecords} build records, ${r.packages.length} package installs, ${r.locations} blob locations, ${r.uploads} upload sessions`,
    `${r.dryRun ? 'would free' : 'freed'} ${mb(r.freed)}`,
  ];
  return lines.join('\n');
}
