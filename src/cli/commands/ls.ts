import type { Command } from 'commander';
import type { ListResult } from '../../app/ls.js';
import { jsonOption, type Cli, type CommonOptions } from '../command.js';
import { json, mb, short } from '../format.js';

export function register(program: Command, cli: Cli): void {
  const cmd = program
    .command('ls')
    .description('list the apps, runtimes and components in the local store: reference, digest, size, last use; and what the caches take (native wheels: package, sdist, runtime, toolchain)');
  jsonOption(cmd).action(async (opts: CommonOptions) => {
    const { ls } = await import('../../app/ls.js');
    const r = await ls(await cli.context({ quiet: true }));
    cli.done({ stdout: opts.json ? json(r) : formatList(r) });
  });
}

function formatList(r: ListResult): string {
  const rows = r.artifacts.map((a) => [
    a.reference + (a.incomplete ? ' (incomplete: fabricks verify)' : ''),
    a.kind,
    short(a.digest),
    mb(a.size) + (a.shared > 0 ? ` (${mb(a.shared)} shared)` : ''),
    a.lastUsed ? a.lastUsed.replace('T', ' ').slice(0, 19) : 'never',
  ]);
  const head = ['REFERENCE', 'KIND', 'DIGEST', 'SIZE', 'LAST USED'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const out = r.artifacts.length > 0 ? [line(head), ...rows.map(line)] : ['the local store holds nothing yet (fabricks build, fabricks pull)'];
  out.push('', `total ${mb(r.total)} (shared blobs counted once)`);
  if (r.unreferenced.blobs > 0) out.push(`unreferenced ${mb(r.unreferenced.bytes)} in ${r.unreferenced.blobs} blobs (fabricks gc removes them)`);
  out.push(`compiled cache ${mb(r.compiledCache.bytes)} in ${r.compiledCache.entries} entries; limit ${mb(r.compiledCache.limit)}`);
  out.push(...formatNative(r.nativeCache));
  return out.join('\n');
}

/** The native wheel cache: one line each, what it was built from and by which toolchain. */
function formatNative(n: ListResult['nativeCache']): string[] {
  const out = [`native wheels ${mb(n.bytes)} in ${n.entries.length} entries${n.shared ? ` (${n.dir}, FABRICKS_NATIVE_CACHE)` : ''}; cargo's compiled crates ${mb(n.cargoTarget)}; C libraries built for WebAssembly ${mb(n.cLibraries)}`];
  if (n.entries.length === 0) return out;
  const rows = n.entries.map((e) => [
    e.package && e.version ? `${e.package} ${e.version}` : `(incomplete ${e.key.slice(0, 12)})`,
    e.sdist ?? (e.sdistSha256 ? `sha256:${e.sdistSha256.slice(0, 12)}` : '-'),
    e.runtime ?? '-',
    e.current ? 'current' : e.toolchain ? `other: ${e.toolchain}` : 'other (fabricks gc removes it)',
    mb(e.bytes),
    e.lastUsed.replace('T', ' ').slice(0, 19),
  ]);
  const head = ['PACKAGE', 'SDIST', 'RUNTIME', 'TOOLCHAIN', 'SIZE', 'LAST USED'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => '  ' + cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [...out, line(head), ...rows.map(line)];
}
