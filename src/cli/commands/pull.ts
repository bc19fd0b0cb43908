import type { Command } from 'commander';
import type { PullResult } from '../../app/pull.js';
import { jsonOption, plainHttpOption, progressOptions, type Cli, type CommonOptions } from '../command.js';
import { bytes, json, short } from '../format.js';

export function register(program: Command, cli: Cli): void {
  const cmd = program
    .command('pull')
    .description('pull an artifact into the local store (only the layers it lacks), recompose it and check its digest')
    .argument('<reference>', 'registry/repository[:tag|@digest]')
    .option('-o, --output <file>', 'write the composed component to this file')
    .option('--no-prepare', 'do not compile it for this machine (its first run will)');
  jsonOption(cmd, 'print the result as JSON on stdout (bytesReceived counts what crossed the network)');
  plainHttpOption(cmd);
  progressOptions(cmd).action(async (reference: string, opts: CommonOptions & { output?: string; prepare: boolean }) => {
    const { pull } = await import('../../app/pull.js');
    const r = await pull(reference, opts.output, await cli.context(opts), { prepare: opts.prepare });
    cli.done({ stdout: opts.json ? json(r) : formatPull(r) });
  });
}

export function formatPull(r: PullResult): string {
  const lines = [`pulled ${r.reference}  ${r.manifest.digest}`, `  received ${bytes(r.bytesReceived)}`];
  if (r.component) lines.push(`  component ${r.component.path ?? '(in the local store)'}  ${bytes(r.component.size)}  ${short(r.component.digest)}`);
  if (r.prepared) lines.push(`  prepared  ${r.prepared.components.some((c) => c.compiled) ? 'compiled for this machine now' : 'compiled for this machine already'}`);
  return lines.join('\n');
}
