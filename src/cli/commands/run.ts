import type { Command } from 'commander';
import { plainHttpOption, progressOptions, type Cli, type CommonOptions } from '../command.js';

export function register(program: Command, cli: Cli): void {
  const cmd = program
    .command('run')
    .description('run a project (building it if needed), a stored name:version or a pushed registry/repo:tag, granting it nothing but its arguments and stdio')
    .argument('[target]', 'project folder, name:version, or registry/repository:tag', '.')
    .usage('[options] [target] [-- args...]')
    .addHelpText('after', '\nArguments after -- are passed to the program (process.argv.slice(2)).');
  plainHttpOption(cmd);
  progressOptions(cmd).action(async (target: string, opts: CommonOptions) => {
    const { run } = await import('../../app/run.js');
    const r = await run(target, cli.passthrough, await cli.context(opts));
    cli.done({ status: r.status, ...(r.trap ? { stderr: `fabricks: the component trapped: ${r.trap}` } : {}) });
  });
}
