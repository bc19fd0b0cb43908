import type { Command } from 'commander';
import { jsonOption, type Cli, type CommonOptions } from '../command.js';
import { json, mb } from '../format.js';

export function register(program: Command, cli: Cli): void {
  const cmd = program
    .command('rm')
    .description('remove references from the local store (as fabricks ls shows them); their blobs go at the next fabricks gc, or now with --gc')
    .argument('<reference...>', 'e.g. hello-js:0.1.0, localhost:5000/apps/hello:1.0')
    .option('--gc', 'run fabricks gc right after, freeing what nothing else references');
  jsonOption(cmd).action(async (references: string[], opts: CommonOptions & { gc?: boolean }) => {
    const { rm } = await import('../../app/rm.js');
    const ctx = await cli.context({ quiet: true });
    const r = await rm(references, ctx);
    const collected = opts.gc ? await (await import('../../app/gc.js')).gc(ctx) : undefined;
    const text = r.removed.map((x) => `removed ${x.reference}  ${x.digest}`);
    text.push(collected ? `freed ${mb(collected.freed)}` : 'its blobs are freed by fabricks gc');
    cli.done({ stdout: opts.json ? json({ ...r, ...(collected ? { gc: collected } : {}) }) : text.join('\n') });
  });
}
