import type { Command } from 'commander';
import type { RunFlags } from '../../app/grants.js';
import { plainHttpOption, progressOptions, type Cli, type CommonOptions } from '../command.js';

const collect = (value: string, previous: string[]) => [...previous, value];

export function register(program: Command, cli: Cli): void {
  const cmd = program
    .command('run')
    .description("run a project (building it if needed), a stored name:version or a pushed registry/repo:tag, with exactly the capabilities its fabricks.toml grants")
    .argument('[target]', 'project folder, name:version, or registry/repository:tag', '.')
    .usage('[options] [target] [-- args...]')
    .option('--env <NAME[=VALUE]>', 'a value for a variable [capabilities.env] allows (NAME alone: from here); repeatable', collect, [])
    .option('--mount <HOST:GUEST[:ro]>', 'the host folder for a mount the service declares (:ro narrows it); repeatable', collect, [])
    .option('--listen <[ADDR:]PORT>', 'where to serve a service that listens (default: the port it asks for, on 127.0.0.1)')
    .option('--allow-listen <[ADDR:]PORT>', 'WIDEN: serve a service that does not ask to listen, for this run')
    .option('--allow-connect <RULE>', 'WIDEN: let the service reach a host, host:port or CIDR block it does not declare, for this run; repeatable', collect, [])
    .option('--allow-env <NAME[=VALUE]>', 'WIDEN: pass a variable the service does not declare, for this run; repeatable', collect, [])
    .option('--allow-mount <HOST:GUEST[:ro|rw]>', 'WIDEN: give the service a folder it does not declare, for this run; repeatable', collect, [])
    .addHelpText(
      'after',
      '\nArguments after -- are passed to the program (process.argv.slice(2)).\n' +
        'The service gets what its artifact grants; --env and --mount fill in or narrow that, and only\n' +
        'the --allow-* flags widen it, each widening shown on stderr. See docs/capabilities.md.',
    );
  plainHttpOption(cmd);
  progressOptions(cmd).action(async (target: string, opts: CommonOptions & Required<RunFlags>) => {
    const { run } = await import('../../app/run.js');
    const flags: RunFlags = {
      env: opts.env,
      mount: opts.mount,
      allowEnv: opts.allowEnv,
      allowMount: opts.allowMount,
      allowConnect: opts.allowConnect,
      ...(opts.listen !== undefined ? { listen: opts.listen } : {}),
      ...(opts.allowListen !== undefined ? { allowListen: opts.allowListen } : {}),
    };
    const r = await run(target, cli.passthrough, await cli.context(opts), flags);
    cli.done({ status: r.status, ...(r.trap ? { stderr: `fabricks: the component trapped: ${r.trap}` } : {}) });
  });
}
