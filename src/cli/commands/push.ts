import { Option, type Command } from 'commander';
import type { PushFormat, PushResult } from '../../app/push.js';
import { jsonOption, plainHttpOption, progressOptions, type Cli, type CommonOptions } from '../command.js';
import { bytes, json } from '../format.js';

export function register(program: Command, cli: Cli): void {
  const cmd = program
    .command('push')
    .description('push a build to a registry: the runtime layer goes up once per registry, then is skipped or mounted')
    .argument('[source]', 'project folder (built first), name:version in the local store, or a registry reference to copy', '.')
    .argument('<destination>', 'registry/repository[:tag] (no tag: the app version)')
    .usage('[options] [source] <destination>')
    .addOption(new Option('--format <format>', 'fabricks: two layers (runtime shared); wasm: one composed component in the CNCF Wasm OCI layout').choices(['fabricks', 'wasm']).default('fabricks'));
  jsonOption(cmd, 'print the result as JSON on stdout (bytesSent counts what crossed the network)');
  plainHttpOption(cmd);
  progressOptions(cmd).action(async (first: string, second: string | undefined, opts: CommonOptions & { format: PushFormat }) => {
    const { push } = await import('../../app/push.js');
    const [source, destination] = second === undefined ? ['.', first] : [first, second];
    const r = await push(source, destination, opts.format, await cli.context(opts));
    cli.done({ stdout: opts.json ? json(r) : formatPush(r) });
  });
}

export function formatPush(r: PushResult): string {
  return [`pushed ${r.reference}  ${r.manifest.digest}`, `  sent ${bytes(r.bytesSent)}`].join('\n');
}
