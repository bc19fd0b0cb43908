import type { Command } from 'commander';
import type { VerifyResult } from '../../app/verify.js';
import { jsonOption, progressOptions, type Cli, type CommonOptions } from '../command.js';
import { json, mb } from '../format.js';

export function register(program: Command, cli: Cli): void {
  const cmd = program
    .command('verify')
    .description('check every blob of the local store against its digest; damaged ones are moved aside so builds and pulls restore them')
    .option('--repair', 'also move a damaged index.json aside (builds and pulls tag their results again)');
  jsonOption(cmd);
  progressOptions(cmd).action(async (opts: CommonOptions & { repair?: boolean }) => {
    const { verify } = await import('../../app/verify.js');
    const r = await verify(await cli.context(opts), { repair: Boolean(opts.repair) });
    cli.done({ stdout: opts.json ? json(r) : formatVerify(r), status: r.ok ? 0 : 1 });
  });
}

function formatVerify(r: VerifyResult): string {
  const lines = [`${r.ok ? 'ok' : 'problems found'}: ${r.blobs} blobs, ${mb(r.bytes)} checked`];
  for (const d of r.damaged) lines.push(`  damaged ${d}  (moved to ${r.quarantine})`);
  if (r.index === 'damaged') lines.push('  index.json is damaged: run fabricks verify --repair to move it aside');
  if (r.index === 'moved-aside') lines.push('  index.json was damaged and is moved aside: build or pull again to tag your artifacts');
  for (const b of r.broken) lines.push(`  ${b.reference} lacks ${b.missing.length} blob${b.missing.length === 1 ? '' : 's'}: restore it with ${b.restore}`);
  return lines.join('\n');
}
