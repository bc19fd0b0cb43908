import type { Command } from 'commander';
import type { ListResult } from '../../app/ls.js';
import { jsonOption, type Cli, type CommonOptions } from '../command.js';
import { json, mb, short } from '../format.js';

export function register(program: Command, cli: Cli): void {
  const cmd = program
    .command('ls')
    .description('list the apps, runtimes and components in the local store: reference, digest, size, last use; and what the caches take');
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
  return out.join('\n');
}
