import { Command, CommanderError } from 'commander';
import { causeChain, FabricksError } from '../util/errors.js';
import { fabricksHome } from '../util/paths.js';
import { makeCli, type Outcome } from './command.js';

type Register = (program: Command, cli: ReturnType<typeof makeCli>) => void;
type Loader = () => Promise<{ register: Register }>;

/** Each command's module, in the order help lists them, under the names that reach it. */
const COMMANDS: Array<[string[], Loader]> = [
  [['init'], () => import('./commands/init.js')],
  [['build'], () => import('./commands/build.js')],
  [['run'], () => import('./commands/run.js')],
  [['inspect'], () => import('./commands/inspect.js')],
  [['push'], () => import('./commands/push.js')],
  [['pull'], () => import('./commands/pull.js')],
  [['prepare'], () => import('./commands/prepare.js')],
  [['login', 'logout'], () => import('./commands/login.js')],
  [['runtime'], () => import('./commands/runtime.js')],
  [['verify'], () => import('./commands/verify.js')],
  [['ls'], () => import('./commands/ls.js')],
  [['rm'], () => import('./commands/rm.js')],
  [['gc'], () => import('./commands/gc.js')],
  [['mcp'], () => import('./commands/mcp.js')],
  [['mcp'], () => import('./commands/mcp-serve.js')],
];

/**
 * The modules of the command argv names, or of every command (help, a mistyped name): a spawn
 * of `fabricks run` loads run's alone, not the other fourteen and what they import.
 */
function commandsFor(argv: string[]): Loader[] {
  const named = argv.slice(2).find((a) => !a.startsWith('-'));
  const only = COMMANDS.filter(([names]) => named !== undefined && names.includes(named));
  return (only.length ? only : COMMANDS).map(([, load]) => load);
}

const VERSION = '0.1.0';

/** Exit statuses: 0 done, 1 failed, 2 usage, 70 a bug in fabricks, 128+n stopped by signal n. */
const SIGNAL_STATUS: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Ctrl-C and SIGTERM abort the command: child tools are stopped, nothing is left half-written,
 * and it exits 130 (143). A second signal, or a command that has not stopped 5 s later, exits at
 * once. Once the program `fabricks run` runs owns the terminal, signals are its own again.
 */
function interruptions() {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(SIGNAL_STATUS[sig] ?? 130);
    controller.abort(sig);
    setTimeout(() => process.exit(SIGNAL_STATUS[sig] ?? 130), 5000).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    onProgramStart: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

async function program(argv: string[], done: (o: Outcome) => void, passthrough: string[], hooks: ReturnType<typeof interruptions>): Promise<Command> {
  const p = new Command('fabricks')
    .description('Build, run and ship Python and JavaScript services as sandboxed WebAssembly components')
    .version(VERSION)
    .option('--verbose', 'on failure, show the causes behind the error')
    .showSuggestionAfterError()
    .exitOverride()
    .addHelpText('after', `\nThe local store and caches live in $FABRICKS_HOME (now ${fabricksHome()}).`);
  const cli = makeCli(done, passthrough, hooks);
  for (const { register } of await Promise.all(commandsFor(argv).map((load) => load()))) register(p, cli);
  // --verbose works after any command too
  for (const cmd of allCommands(p)) if (cmd !== p) cmd.option('--verbose', 'on failure, show the causes behind the error');
  return p;
}

function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(allCommands)];
}

function describeCause(c: unknown): string {
  if (c instanceof FabricksError) return `${c.code}: ${c.message}`;
  if (c instanceof Error) return `${c.name}: ${c.message}${(c as { code?: string }).code ? ` (${(c as { code?: string }).code})` : ''}`;
  return String(c);
}

function errorText(e: unknown, verbose: boolean, signal: AbortSignal): { text: string; status: number } {
  if (e instanceof FabricksError) {
    const lines = [`error: ${e.message}`, ...e.problems.map((p) => `  - ${p}`)];
    if (e.hint) lines.push(`hint: ${e.hint}`);
    if (verbose) {
      lines.push(`code: ${e.code}${e.status ? ` (status ${e.status})` : ''}`);
      for (const c of causeChain(e)) lines.push(`cause: ${describeCause(c)}`);
    }
    const status = e.code === 'USAGE' ? 2 : e.code === 'INTERRUPTED' ? (SIGNAL_STATUS[String(signal.reason)] ?? 130) : 1;
    return { text: lines.join('\n'), status };
  }
  return { text: `internal error (a bug in fabricks; please report it): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`, status: 70 };
}

async function main(argv: string[]): Promise<number> {
  // Everything after `--` belongs to the program that `fabricks run` starts.
  const dd = argv.indexOf('--', 2);
  const own = dd >= 0 ? argv.slice(0, dd) : argv;
  const passthrough = dd >= 0 ? argv.slice(dd + 1) : [];
  const verbose = own.includes('--verbose');
  let result: Outcome = {};
  const hooks = interruptions();
  try {
    await (await program(own, (o) => (result = o), passthrough, hooks)).parseAsync(own);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    const { text, status } = errorText(e, verbose, hooks.signal);
    process.stderr.write(`${text}\n`);
    return status;
  }
  if (result.stderr !== undefined) process.stderr.write(result.stderr + '\n');
  if (result.stdout !== undefined) process.stdout.write(result.stdout + '\n');
  return result.status ?? 0;
}

const status = await main(process.argv);
// Flush stdout before exiting, then exit explicitly: a tool's worker (componentize-js's) may still be alive.
process.stdout.write('', () => process.exit(status));
