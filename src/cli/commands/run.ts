import type { Command } from 'commander';
import type { RunFlags } from '../../app/grants.js';
import { packageOptions, plainHttpOption, progressOptions, type Cli, type CommonOptions, type PackageCliOptions } from '../command.js';
import type { RunResult } from '../../app/run.js';

const collect = (value: string, previous: string[]) => [...previous, value];

export function register(program: Command, cli: Cli): void {
  const cmd = program
    .command('run')
    .description("run a project (building it if needed), a stored name:version or a pushed registry/repo:tag, with exactly the capabilities its fabricks.toml grants")
    .argument('[target]', 'project folder, name:version, registry/repository:tag, or a published package (npm:@scope/pkg@1.2.3, pypi:pkg==1.2.3)', '.')
    .usage('[options] [target] [-- args...]')
    .option('--env <NAME[=VALUE]>', 'a value for a variable [capabilities.env] allows (NAME alone: from here); for a package, also grants it; repeatable', collect, [])
    .option('--mount <HOST:GUEST[:ro|rw]>', 'the host folder for a mount the service declares (:ro narrows it); for a package, also grants it (read-only unless :rw); repeatable', collect, [])
    .option('--listen <[ADDR:]PORT>', 'where to serve a service that listens (default: the port it asks for, on 127.0.0.1)')
    .option('--allow-listen <[ADDR:]PORT>', 'WIDEN: serve a service that does not ask to listen, for this run')
    .option('--allow-connect <RULE>', 'WIDEN: let the service reach a host, host:port or CIDR block it does not declare, for this run; repeatable', collect, [])
    .option('--allow-env <NAME[=VALUE]>', 'WIDEN: pass a variable the service does not declare, for this run; repeatable', collect, [])
    .option('--allow-mount <HOST:GUEST[:ro|rw]>', 'WIDEN: give the service a folder it does not declare, for this run; repeatable', collect, [])
    .option('--memory <SIZE>', 'memory one instance may hold (e.g. 256MiB, 1GiB; default: [limits] memory, else 512MiB)')
    .option('--timeout <DURATION>', 'how long the run may take (e.g. 30s, 5m; default: [limits] timeout, else no limit)')
    .option('--request-timeout <DURATION>', 'how long one request to a service may take (default: [limits] request-timeout, else 5m)')
    .option('--concurrency <N>', 'requests a service handles at once (default: [limits] concurrency, else twice the cores, at least 4)')
    .option('--allow-wide-mount', 'let a read-write mount of /, of your home folder or of a folder holding it through (refused without it), with a warning')
    .addHelpText(
      'after',
      '\nArguments after -- are passed to the program (process.argv.slice(2)).\n' +
        'The service gets what its artifact grants; --env and --mount fill in or narrow that, and only\n' +
        'the --allow-* flags widen it, each widening shown on stderr. A read-write mount of /, your home\n' +
        'folder or a folder holding it (links and .. resolved) is refused unless --allow-wide-mount.\n' +
        'A run that reaches its --timeout exits 124, one that reaches its --memory exits 137 (docs/limits.md).\n' +
        'A package (npm:..., pypi:...) is built when needed (cached) and granted only what --connect, --env,\n' +
        '--mount and --profile name (docs/mcp.md). See docs/capabilities.md.',
    );
  packageOptions(cmd, { envAndMount: false });
  plainHttpOption(cmd);
  progressOptions(cmd).action(async (target: string, opts: CommonOptions & Required<RunFlags> & PackageCliOptions) => {
    const { run, formatDuration, formatMemory } = await import('../../app/run.js');
    const flags: RunFlags = {
      env: opts.env,
      mount: opts.mount,
      allowEnv: opts.allowEnv,
      allowMount: opts.allowMount,
      allowConnect: opts.allowConnect,
      ...(opts.allowWideMount ? { allowWideMount: true } : {}),
      ...(opts.listen !== undefined ? { listen: opts.listen } : {}),
      ...(opts.allowListen !== undefined ? { allowListen: opts.allowListen } : {}),
      ...(opts.memory !== undefined ? { memory: opts.memory } : {}),
      ...(opts.timeout !== undefined ? { timeout: opts.timeout } : {}),
      ...(opts.requestTimeout !== undefined ? { requestTimeout: opts.requestTimeout } : {}),
      ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
    };
    const pkg = { connect: opts.connect, with: opts.with, ...(opts.profile !== undefined ? { profile: opts.profile } : {}), ...(opts.bin !== undefined ? { bin: opts.bin } : {}) };
    const r = await run(target, cli.passthrough, await cli.context(opts), flags, pkg);
    cli.done(outcomeOf(r, formatDuration, formatMemory));
  });
}

/** Exit statuses of a run stopped by a limit: as GNU timeout's, and as a container killed for its memory. */
export const LIMIT_STATUS = { timeout: 124, memory: 137 } as const;

function outcomeOf(r: RunResult, formatDuration: (ms: number) => string, formatMemory: (bytes: number) => string): { status: number; stderr?: string } {
  if (r.limit?.name === 'timeout') {
    return { status: LIMIT_STATUS.timeout, stderr: `fabricks: the run reached its time limit (${formatDuration(r.limit.value)}) and was stopped; raise it with --timeout, or timeout in [limits] in fabricks.toml` };
  }
  if (r.limit?.name === 'memory') {
    return { status: LIMIT_STATUS.memory, stderr: `fabricks: the program reached its memory limit (${formatMemory(r.limit.value)}) and was stopped; raise it with --memory, or memory in [limits] in fabricks.toml` };
  }
  return { status: r.status, ...(r.trap ? { stderr: `fabricks: the component trapped: ${r.trap}` } : {}) };
}
