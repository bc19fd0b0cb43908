import { Command, CommanderError } from 'commander';
import { causeChain, FabricksError } from '../util/errors.js';
import { fabricksHome } from '../util/paths.js';
import { makeCli, type Outcome } from './command.js';
import { register as registerBuild } from './commands/build.js';
import { register as registerRun } from './commands/run.js';
import { register as registerInspect } from './commands/inspect.js';
import { register as registerPush } from './commands/push.js';
import { register as registerPull } from './commands/pull.js';
import { register as registerLogin } from './commands/login.js';
import { register as registerRuntime } from './commands/runtime.js';
import { register as registerVerify } from './commands/verify.js';
import { register as registerLs } from './commands/ls.js';
import { register as registerRm } from './commands/rm.js';
import { register as registerGc } from './commands/gc.js';
import { register as registerPrepare } from './commands/prepare.js';
import { register as registerInit } from './commands/init.js';
import { register as registerMcp } from './commands/mcp.js';
import { register as registerMcpServe } from './commands/mcp-serve.js';

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

function program(done: (o: Outcome) => void, passthrough: string[], hooks: ReturnType<typeof interruptions>): Command {
  const p = new Command('fabricks')
    .description('Build, run and ship Python and JavaScript services as sandboxed WebAssembly components')
    .version(VERSION)
    .option('--verbose', 'on failure, show the causes behind the error')
    .showSuggestionAfterError()
    .exitOverride()
    .addHelpText('after', `\nThe local store and caches live in $FABRICKS_HOME (now ${fabricksHome()}).`);
  const cli = makeCli(done, passthrough, hooks);
  for (const register of [registerInit, registerBuild, registerRun, registerInspect, registerPush, registerPull, registerPrepare, registerLogin, registerRuntime, registerVerify, registerLs, registerRm, registerGc, registerMcp, registerMcpServe]) register(p, cli);
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
    await program((o) => (result = o), passthrough, hooks).parseAsync(own);
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
