import { Command, CommanderError, Option } from 'commander';
import { FabricksError } from '../util/errors.js';
import { silentReporter, stderrReporter, type Reporter } from '../util/progress.js';
import { parseTarget } from './target.js';
import { parseRemote } from '../oci/reference.js';
import { fabricksHome } from '../util/paths.js';

// Commands are loaded when used: a no-op build must not pay for loading the engine host.
const commands = {
  build: () => import('./commands/build.js'),
  run: () => import('./commands/run.js'),
  inspect: () => import('./commands/inspect.js'),
  runtime: () => import('./commands/runtime.js'),
  push: () => import('./commands/push.js'),
  pull: () => import('./commands/pull.js'),
  login: () => import('./commands/login.js'),
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
  const plainHttp = () => new Option('--plain-http', 'speak HTTP, not HTTPS, to the registry (for a registry on loopback)');
  const registryOptions = (opts: { plainHttp?: boolean }) => ({ plainHttp: Boolean(opts.plainHttp) });

  p.command('build')
    .description('build the project into .fabricks/app.wasm and the local store (tagged name:version)')
    .argument('[dir]', 'project folder holding fabricks.toml', '.')
    .option('--json', 'print the result as JSON on stdout')
    .addOption(plainHttp())
    .addOption(quiet)
    .action(async (dir: string, opts: { json?: boolean; quiet?: boolean; plainHttp?: boolean }) => {
      const { buildCommand, buildJson, formatBuild } = await commands.build();
      const r = await buildCommand(dir, reporterFor(opts), registryOptions(opts));
      outcome({ stdout: opts.json ? json(buildJson(r)) : formatBuild(r) });
    });

  p.command('run')
    .description('run a project (building it if needed), a stored name:version or a pushed registry/repo:tag, granting it nothing but its arguments and stdio')
    .argument('[target]', 'project folder, name:version, or registry/repository:tag', '.')
    .usage('[options] [target] [-- args...]')
    .addOption(plainHttp())
    .addOption(quiet)
    .addHelpText('after', '\nArguments after -- are passed to the program (process.argv.slice(2)).')
    .action(async (target: string, opts: { quiet?: boolean; plainHttp?: boolean }) => {
      const { runCommand } = await commands.run();
      const status = await runCommand(await parseTarget(target), passthrough, reporterFor(opts), registryOptions(opts));
      outcome({ status });
    });

  p.command('inspect')
    .description('show a build: manifest, layers, runtime, entrypoint, component digest, WIT imports and exports')
    .argument('[target]', 'project folder, name:version, or registry/repository:tag (fetches only manifest and config)', '.')
    .option('--json', 'print the result as JSON on stdout')
    .addOption(plainHttp())
    .action(async (target: string, opts: { json?: boolean; plainHttp?: boolean }) => {
      const { inspectCommand, formatInspect } = await commands.inspect();
      const r = await inspectCommand(await parseTarget(target), registryOptions(opts));
      outcome({ stdout: opts.json ? json(r) : formatInspect(r) });
    });

  p.command('push')
    .description('push a build to a registry: the runtime layer goes up once per registry, then is skipped or mounted')
    .argument('[source]', 'project folder (built first), name:version in the local store, or a registry reference to copy', '.')
    .argument('<destination>', 'registry/repository[:tag] (no tag: the app version)')
    .usage('[options] [source] <destination>')
    .addOption(new Option('--format <format>', 'fabricks: two layers (runtime shared); wasm: one composed component in the CNCF Wasm OCI layout').choices(['fabricks', 'wasm']).default('fabricks'))
    .option('--json', 'print the result as JSON on stdout (bytesSent counts what crossed the network)')
    .addOption(plainHttp())
    .addOption(quiet)
    .action(async (first: string, second: string | undefined, opts: { json?: boolean; quiet?: boolean; plainHttp?: boolean; format: 'fabricks' | 'wasm' }) => {
      const { pushCommand, formatPush } = await commands.push();
      const [source, destination] = second === undefined ? ['.', first] : [first, second];
      const r = await pushCommand(await parseTarget(source), destination, opts.format, registryOptions(opts), reporterFor(opts));
      outcome({ stdout: opts.json ? json(r) : formatPush(r) });
    });

  p.command('pull')
    .description('pull an artifact into the local store (only the layers it lacks), recompose it and check its digest')
    .argument('<reference>', 'registry/repository[:tag|@digest]')
    .option('-o, --output <file>', 'write the composed component to this file')
    .option('--json', 'print the result as JSON on stdout (bytesReceived counts what crossed the network)')
    .addOption(plainHttp())
    .addOption(quiet)
    .action(async (reference: string, opts: { json?: boolean; quiet?: boolean; plainHttp?: boolean; output?: string }) => {
      const { pullCommand, formatPull } = await commands.pull();
      const r = await pullCommand(parseRemote(reference, 'reference'), opts.output, registryOptions(opts), reporterFor(opts));
      outcome({ stdout: opts.json ? json(r) : formatPull(r) });
    });

  p.command('login')
    .description('check a user name and password with a registry and save them for push and pull')
    .argument('<registry>', 'registry host, e.g. ghcr.io or localhost:5000')
    .option('-u, --username <name>', 'user name')
    .option('--password-stdin', 'read the password from stdin (for scripts and CI)')
    .option('--json', 'print the result as JSON on stdout')
    .addOption(plainHttp())
    .addHelpText('after', '\nWithout --password-stdin the password is asked for on the terminal. Logins are saved in\n$FABRICKS_CONFIG_DIR/auth.json (mode 600); Docker\'s config.json and its credential helpers are read too.')
    .action(async (registry: string, opts: { username?: string; passwordStdin?: boolean; json?: boolean; plainHttp?: boolean }) => {
      const { loginCommand, readPasswordStdin, promptHidden } = await commands.login();
      const username = opts.username ?? (opts.passwordStdin ? '' : await promptHidden('Username: ', true));
      const password = opts.passwordStdin ? await readPasswordStdin() : await promptHidden('Password: ');
      const r = await loginCommand(registry, username, password, registryOptions(opts));
      outcome({ stdout: opts.json ? json(r) : `logged in to ${r.registry} as ${r.username} (saved in ${r.file})` });
    });

  p.command('logout')
    .description('forget the login fabricks login saved for a registry')
    .argument('<registry>', 'registry host')
    .action(async (registry: string) => {
      const { logoutCommand } = await commands.login();
      const r = await logoutCommand(registry);
      outcome({ stdout: r.removed ? `logged out of ${r.registry}` : `no fabricks login for ${r.registry}` });
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
    .command('publish')
    .description('publish a runtime fabricks builds to a registry (for CI and teams: builds then pull it instead of building)')
    .argument('<destination>', 'registry/repository:tag, e.g. localhost:5000/runtimes/python:3.14')
    .option('--runtime <name>', 'the runtime to publish (default: named by the destination, e.g. …/python:3.14)')
    .option('--json', 'print the result as JSON on stdout')
    .addOption(plainHttp())
    .addOption(quiet)
    .action(async (destination: string, opts: { runtime?: string; json?: boolean; quiet?: boolean; plainHttp?: boolean }) => {
      const { runtimePublishCommand } = await commands.runtime();
      const r = await runtimePublishCommand(destination, opts.runtime, registryOptions(opts), reporterFor(opts));
      outcome({ stdout: opts.json ? json(r) : `published ${r.runtime} as ${r.reference}  ${r.manifest.digest}\n  sent ${r.bytesSent.toLocaleString('en')} bytes` });
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
