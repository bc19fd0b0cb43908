import { Option, type Command } from 'commander';
import { openContext, type Context } from '../home/context.js';
import type { ProgressEvent } from '../util/progress.js';
import { reporterFor, type ProgressMode } from './progress.js';

/** What a command hands back to main, the only code that prints. */
export interface Outcome {
  stdout?: string;
  /** Said on stderr after the command (a trap of the program it ran). */
  stderr?: string;
  status?: number;
}

export interface CommonOptions {
  progress?: ProgressMode;
  quiet?: boolean;
  plainHttp?: boolean;
  json?: boolean;
  verbose?: boolean;
}

/** What main gives every command: where its outcome goes, the arguments after --, and its context. */
export interface Cli {
  done(outcome: Outcome): void;
  passthrough: string[];
  context(options: CommonOptions): Promise<Context>;
}

export interface CliHooks {
  signal: AbortSignal;
  /** Called when the program a command runs takes over the terminal. */
  onProgramStart(): void;
}

export function makeCli(done: (o: Outcome) => void, passthrough: string[], hooks: CliHooks): Cli {
  return {
    done,
    passthrough,
    context: (options) => {
      const mode: ProgressMode = options.quiet ? 'none' : (options.progress ?? 'human');
      const show = reporterFor(mode);
      const reporter = (e: ProgressEvent) => {
        show(e);
        if (e.event === 'step-start' && e.step === 'run') hooks.onProgramStart();
      };
      return openContext({ reporter, registry: { plainHttp: Boolean(options.plainHttp) }, signal: hooks.signal });
    },
  };
}

/** --progress, --quiet: for commands that take long enough to show progress. */
export function progressOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--progress <mode>', 'progress on stderr: human lines, json (one object per line, for CI and editors), or none').choices(['human', 'json', 'none']).default('human'))
    .addOption(new Option('-q, --quiet', 'no progress on stderr (same as --progress none)'));
}

export function plainHttpOption(cmd: Command): Command {
  return cmd.addOption(new Option('--plain-http', 'speak HTTP, not HTTPS, to the registry (for a registry on loopback)'));
}

export function jsonOption(cmd: Command, what = 'print the result as JSON on stdout'): Command {
  return cmd.option('--json', what);
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** What a package reference (npm:..., pypi:...) takes besides the reference: how it is chosen, installed and granted. */
export interface PackageCliOptions {
  connect: string[];
  env: string[];
  mount: string[];
  profile?: string;
  with: string[];
  bin?: string;
}

/**
 * --connect, --profile, --with, --bin, and (unless the command has its own) --env and --mount:
 * the grants of a package built by name, in the words of [capabilities] in fabricks.toml.
 */
export function packageOptions(cmd: Command, own: { envAndMount: boolean }): Command {
  cmd
    .option('--connect <RULE>', 'package: grant outbound HTTP(S) to a host, host:port or CIDR block ([capabilities.network] connect); repeatable', collect, [])
    .option('--profile <FILE>', 'package: grant what the [capabilities] table of this TOML file grants (the same schema as fabricks.toml\'s)')
    .option('--with <REQ>', 'package (PyPI): install this requirement beside it, e.g. mcp==1.30.0; repeatable', collect, [])
    .option('--bin <NAME>', 'package: the program to run when it has several (the same as #NAME in the reference)');
  if (own.envAndMount) {
    cmd
      .option('--env <NAME>', 'package: let the service read this variable ([capabilities.env] allow); its value is given at run time; repeatable', collect, [])
      .option('--mount <HOST:GUEST[:ro|rw]>', 'package: let the service see a host folder at GUEST, read-only unless :rw ([capabilities.filesystem] mounts); repeatable', collect, []);
  }
  return cmd;
}
