import { Command, CommanderError, Option } from 'commander';
import { FabricksError } from '../errors.js';
import { silentReporter, stderrReporter, type Reporter } from '../progress.js';
import { parseTarget } from './target.js';
import { fabricksHome } from '../paths.js';

// Commands are loaded when used: a no-op build must not pay for loading the engine host.
const commands = {
  build: () => import('./commands/build.js'),
  run: () => import('./commands/run.js'),
  inspect: () => import('./commands/inspect.js'),
  runtime: () => import('./commands/runtime.js'),
};

const VERSION = '0.1.0';

/** Output of a command: what goes to stdout, and the exit status. Only main prints. */
interface Outcome {
  stdout?: string;
  status?: number;
}

function reporterFor(opts: { quiet?: boolean }): Reporter {
  return opts.quiet ? silentReporter : stderrReporter();
}

const json = (v: unknown) => JSON.stringify(v, null, 2);

export function program(outcome: (o: Outcome) => void, passthrough: string[]): Command {
  const p = new Command('fabricks')
    .description('Build, run and ship Python and JavaScript services as sandboxed WebAssembly components')
    .version(VERSION)
    .showSuggestionAfterError()
    .exitOverride()
    .addHelpText('after', `\nThe local store and caches live in $FABRICKS_HOME (now ${fabricksHome()}).`);

  const quiet = new Option('-q, --quiet', 'no progress on stderr');

  p.command('build')
    .description('build the project into .fabricks/app.wasm and the local store (tagged name:version)')
    .argument('[dir]', 'project folder holding fabricks.toml', '.')
    .option('--json', 'print the result as JSON on stdout')
    .addOption(quiet)
    .action(async (dir: string, opts: { json?: boolean; quiet?: boolean }) => {
      const { buildCommand, buildJson, formatBuild } = await commands.build();
      const r = await buildCommand(dir, reporterFor(opts));
      outcome({ stdout: opts.json ? json(buildJson(r)) : formatBuild(r) });
    });

  p.command('run')
    .description('run a project (building it if needed) or a stored name:version, granting it nothing but its arguments and stdio')
    .argument('[target]', 'project folder or name:version', '.')
    .usage('[options] [target] [-- args...]')
    .addOption(quiet)
    .addHelpText('after', '\nArguments after -- are passed to the program (process.argv.slice(2)).')
    .action(async (target: string, opts: { quiet?: boolean }) => {
      const { runCommand } = await commands.run();
      const status = await runCommand(await parseTarget(target), passthrough, reporterFor(opts));
      outcome({ status });
    });

  p.command('inspect')
    .description('show a build: manifest, layers, runtime, entrypoint, component digest, WIT imports and exports')
    .argument('[target]', 'project folder or name:version', '.')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (target: string, opts: { json?: boolean }) => {
      const { inspectCommand, formatInspect } = await commands.inspect();
      const r = await inspectCommand(await parseTarget(target));
      outcome({ stdout: opts.json ? json(r) : formatInspect(r) });
    });

  const runtime = p.command('runtime').description('the language runtimes builds stand on');
  runtime
    .command('build')
    .description('build a runtime fabricks provides into the local store')
    .argument('[name]', 'runtime name, optionally with a tag (node, node:0.1, python, python:3.14)', 'node')
    .option('--force', 'build again even if the store has it')
    .option('--json', 'print the result as JSON on stdout')
    .addOption(quiet)
    .action(async (name: string, opts: { force?: boolean; json?: boolean; quiet?: boolean }) => {
      const { runtimeBuildCommand } = await commands.runtime();
      const r = await runtimeBuildCommand(name, Boolean(opts.force), reporterFor(opts));
      outcome({ stdout: opts.json ? json(r) : `${r.built ? 'built' : 'up to date'} ${r.reference}  ${r.size.toLocaleString('en')} bytes  ${r.digest}` });
    });
  runtime
    .command('list')
    .description('list the runtimes fabricks provides and which are built on this machine')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (opts: { json?: boolean }) => {
      const { runtimeListCommand } = await commands.runtime();
      const list = await runtimeListCommand();
      outcome({
        stdout: opts.json
          ? json(list)
          : list.map((r) => `${r.reference}  ${r.stored ? `built ${r.stored.digest.slice(0, 19)} ${r.stored.size.toLocaleString('en')} bytes` : 'not built yet'}\n  ${r.description}`).join('\n'),
      });
    });
  return p;
}

function printError(e: unknown): number {
  if (e instanceof FabricksError) {
    process.stderr.write(`error: ${e.message}\n`);
    for (const problem of e.problems) process.stderr.write(`  - ${problem}\n`);
    if (e.hint) process.stderr.write(`hint: ${e.hint}\n`);
    return e.code === 'USAGE' ? 2 : 1;
  }
  process.stderr.write(`internal error (a bug in fabricks; please report it): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return 70;
}

async function main(argv: string[]): Promise<number> {
  // Everything after `--` belongs to the program that `fabricks run` starts.
  const dd = argv.indexOf('--', 2);
  const own = dd >= 0 ? argv.slice(0, dd) : argv;
  const passthrough = dd >= 0 ? argv.slice(dd + 1) : [];
  let result: Outcome = {};
  try {
    await program((o) => (result = o), passthrough).parseAsync(own);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    return printError(e);
  }
  if (result.stdout !== undefined) process.stdout.write(result.stdout + '\n');
  return result.status ?? 0;
}

const status = await main(process.argv);
// Flush stdout before exiting: run leaves preview2-shim's I/O worker alive, so exit explicitly.
process.stdout.write('', () => process.exit(status));
