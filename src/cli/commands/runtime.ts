import type { Command } from 'commander';
import type { RuntimeListEntry } from '../../app/runtime.js';
import { jsonOption, plainHttpOption, progressOptions, type Cli, type CommonOptions } from '../command.js';
import { bytes, json, short } from '../format.js';

export function register(program: Command, cli: Cli): void {
  const runtime = program.command('runtime').description('the language runtimes builds stand on');

  const build = runtime
    .command('build')
    .description('build a runtime fabricks provides into the local store')
    .argument('[name]', 'runtime name, optionally with a tag (node, node:0.1, python, python:3.14)', 'node')
    .option('--force', 'build again even if the store has it');
  jsonOption(build);
  progressOptions(build).action(async (name: string, opts: CommonOptions & { force?: boolean }) => {
    const { runtimeBuild } = await import('../../app/runtime.js');
    const r = await runtimeBuild(name, Boolean(opts.force), await cli.context(opts));
    cli.done({ stdout: opts.json ? json(r) : `${r.built ? 'built' : 'up to date'} ${r.reference}  ${bytes(r.size)}  ${r.digest}` });
  });

  const publish = runtime
    .command('publish')
    .description('publish a runtime fabricks builds to a registry (for CI and teams: builds then pull it instead of building)')
    .argument('<destination>', 'registry/repository:tag, e.g. localhost:5000/runtimes/python:3.14')
    .option('--runtime <name>', 'the runtime to publish (default: named by the destination, e.g. …/python:3.14)');
  jsonOption(publish);
  plainHttpOption(publish);
  progressOptions(publish).action(async (destination: string, opts: CommonOptions & { runtime?: string }) => {
    const { runtimePublish } = await import('../../app/runtime.js');
    const r = await runtimePublish(destination, opts.runtime, await cli.context(opts));
    cli.done({ stdout: opts.json ? json(r) : `published ${r.runtime} as ${r.reference}  ${r.manifest.digest}\n  sent ${bytes(r.bytesSent)}` });
  });

  const list = runtime.command('list').description('list the runtimes fabricks provides and which are built on this machine');
  jsonOption(list).action(async (opts: CommonOptions) => {
    const { runtimeList } = await import('../../app/runtime.js');
    const r = await runtimeList(await cli.context({ quiet: true }));
    cli.done({ stdout: opts.json ? json(r) : formatList(r) });
  });
}

function formatList(list: RuntimeListEntry[]): string {
  return list.map((r) => `${r.reference}  ${r.stored ? `built ${short(r.stored.digest)} ${bytes(r.stored.size)}` : 'not built yet'}\n  ${r.description}`).join('\n');
}
