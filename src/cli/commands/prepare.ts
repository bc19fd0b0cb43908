import type { Command } from 'commander';
import type { PrepareResult } from '../../app/prepare.js';
import { jsonOption, plainHttpOption, progressOptions, type Cli, type CommonOptions } from '../command.js';
import { bytes, json, short } from '../format.js';

export function register(program: Command, cli: Cli): void {
  const cmd = program
    .command('prepare')
    .description('ready an app to start at once on this machine: compile its runtime and module for it, and make its pre-initialized form (pull does this; for CI and images)')
    .argument('<target>', 'a project folder, a name:version from the local store, or registry/repository[:tag|@digest]');
  jsonOption(cmd);
  plainHttpOption(cmd);
  progressOptions(cmd).action(async (target: string, opts: CommonOptions) => {
    const { prepare } = await import('../../app/prepare.js');
    const r = await prepare(target, await cli.context(opts));
    cli.done({ stdout: opts.json ? json(r) : formatPrepare(r) });
  });
}

export function formatPrepare(r: PrepareResult): string {
  const lines = [`prepared ${r.reference}`];
  for (const c of r.components) lines.push(`  ${c.role.padEnd(9)} ${bytes(c.size)}  ${short(c.digest)}  ${c.compiled ? 'compiled now' : 'compiled already'}`);
  const s = r.snapshot;
  if (s) {
    const made = s.prepared ? (s.cached ? 'made already' : `made now${s.bytes !== undefined ? `, ${bytes(s.bytes)}` : ''}`) : `not made: ${s.refused ?? 'no reason given'}; it starts without one`;
    lines.push(`  ${'snapshot'.padEnd(9)} pre-initialized form ${made}`);
  }
  return lines.join('\n');
}
