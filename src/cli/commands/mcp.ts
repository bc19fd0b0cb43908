import { Option, type Command } from 'commander';
import type { McpAddResult, McpListedFile, McpRemoveResult } from '../../app/mcp-clients.js';
import type { McpGrantFlags } from '../../app/mcp-entry.js';
import { MCP_CLIENT_IDS } from '../../app/mcp-client-ids.js';
import { jsonOption, progressOptions, type Cli, type CommonOptions } from '../command.js';
import type { ReadyResult } from '../../app/mcp-ready.js';
import { json } from '../format.js';
import { mcpGroup } from './mcp-group.js';

const collect = (value: string, previous: string[]) => [...previous, value];

interface FileOptions {
  client: string;
  scope?: 'user' | 'project';
  config?: string;
}

const clientOption = (required: boolean) => {
  const o = new Option('--client <name>', 'the MCP client whose configuration file to use').choices([...MCP_CLIENT_IDS]);
  return required ? o.makeOptionMandatory() : o;
};

function fileOptions(cmd: Command, required: boolean): Command {
  return cmd
    .addOption(clientOption(required))
    .addOption(new Option('--scope <scope>', "the client's file for you everywhere (user) or for the project in this folder (project); default: the client's usual one").choices(['user', 'project']))
    .option('--config <file>', "this file instead of the client's usual one (read in the client's format)");
}

export function register(program: Command, cli: Cli): void {
  const mcp = mcpGroup(program);

  const add = mcp
    .command('add')
    .description("add (or update) an MCP client's entry that starts a server with `fabricks run <ref> [grant flags]`")
    .argument('<ref>', 'what to run: project folder, name:version, registry/repository:tag (anything fabricks run takes)')
    .usage('<ref> --client <name> [options] [-- program args]');
  fileOptions(add, true)
    .option('--name <name>', 'the server\'s name in the client (default: from the reference, e.g. mcp-weather-js)')
    .option('--print', 'show the entry and the file it would go to; write nothing')
    .option('--no-prepare', "leave the server as it is: its first start by the client builds, compiles and pre-initializes what it lacks")
    .option('--force', 'replace an entry of that name that does not run fabricks')
    .option('--command <command>', 'how the client starts fabricks (default: the absolute path of this fabricks; e.g. fabricks, in a project file shared with others)')
    .option('--env <NAME[=VALUE]>', 'passed to fabricks run: a value for a variable the service allows (NAME alone: from the client\'s environment); repeatable', collect, [])
    .option('--mount <HOST:GUEST[:ro]>', 'passed to fabricks run: the host folder for a mount the service declares; repeatable', collect, [])
    .option('--connect <HOST>', 'passed to fabricks run: an outbound host the service may reach; repeatable', collect, [])
    .option('--profile <file>', "passed to fabricks run (its --profile; the file's path made absolute)")
    .option('--allow-connect <RULE>', 'passed to fabricks run (a widening); repeatable', collect, [])
    .option('--allow-env <NAME[=VALUE]>', 'passed to fabricks run (a widening); repeatable', collect, [])
    .option('--allow-mount <HOST:GUEST[:ro|rw]>', 'passed to fabricks run (a widening); repeatable', collect, [])
    .option('--allow-wide-mount', 'passed to fabricks run')
    .option('--memory <SIZE>', 'passed to fabricks run')
    .option('--timeout <DURATION>', 'passed to fabricks run')
    .option('--request-timeout <DURATION>', 'passed to fabricks run')
    .option('--concurrency <N>', 'passed to fabricks run')
    .addHelpText(
      'after',
      '\nThe entry runs `fabricks run <ref> [the grant flags above] [-- program args]`; relative folders (the\n' +
        "reference, --mount's host, --profile) are made absolute, since the client starts it elsewhere.\n" +
        'Adding the same again changes nothing; adding with other flags rewrites that entry\'s command and\n' +
        'args only (an "env" you added to it stays). The old file is kept as <file>.bak; other entries,\n' +
        "comments and layout are left as they were. A file that is not valid JSON (JSONC for vscode and\n" +
        'cursor) is refused and left as it is. Restart (or reload) the client to pick the entry up.\n' +
        'The server is then readied for this machine (built, or a package installed and built, compiled and\n' +
        'pre-initialized, as fabricks prepare does), so the client\'s first start does none of it within its\n' +
        'timeout; a registry reference is readied by fabricks pull. --no-prepare skips it.\n\n' +
        'Files (--scope): claude-desktop: claude_desktop_config.json (user); claude-code: ~/.claude.json\n' +
        '(user, default) or .mcp.json (project); vscode: .vscode/mcp.json (project, default) or the\n' +
        'profile\'s mcp.json (user); cursor: ~/.cursor/mcp.json (user, default) or .cursor/mcp.json (project).',
    );
  progressOptions(jsonOption(add)).action(async (ref: string, opts: CommonOptions & FileOptions & Required<McpGrantFlags> & { name?: string; print?: boolean; force?: boolean; command?: string; prepare: boolean }) => {
    const { mcpAdd } = await import('../../app/mcp-clients.js');
    const { launcher } = await import('../../app/mcp-entry.js');
    const grants: McpGrantFlags = {
      env: opts.env,
      mount: opts.mount,
      connect: opts.connect,
      allowConnect: opts.allowConnect,
      allowEnv: opts.allowEnv,
      allowMount: opts.allowMount,
      ...(opts.profile !== undefined ? { profile: opts.profile } : {}),
      ...(opts.allowWideMount ? { allowWideMount: true } : {}),
      ...(opts.memory !== undefined ? { memory: opts.memory } : {}),
      ...(opts.timeout !== undefined ? { timeout: opts.timeout } : {}),
      ...(opts.requestTimeout !== undefined ? { requestTimeout: opts.requestTimeout } : {}),
      ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
    };
    const r = await mcpAdd({
      ref,
      name: opts.name,
      client: opts.client,
      scope: opts.scope,
      config: opts.config,
      grants,
      passthrough: cli.passthrough,
      launcher: launcher({ script: process.argv[1]!, node: process.execPath, platform: process.platform, command: opts.command }),
      dryRun: opts.print,
      force: opts.force,
    });
    if (opts.print) return cli.done(opts.json ? { stdout: json(r) } : { stdout: r.snippet, stderr: printedWhere(r) });
    // the client's first start should find the server ready: built, compiled, pre-initialized
    let ready: ReadyResult | { failed: string } | undefined;
    if (opts.prepare) {
      const { readyServer } = await import('../../app/mcp-ready.js');
      ready = await readyServer(r.reference, r.grants, await cli.context(opts)).catch((e: unknown) => ({ failed: e instanceof Error ? e.message : String(e) }));
    }
    if (opts.json) return cli.done({ stdout: json({ ...r, ...(ready ? { ready } : {}) }) });
    cli.done({ stdout: [addedText(r), ...(ready ? [readyText(r, ready)] : [])].join('\n') });
  });

  const ls = mcp.command('ls').description('list the servers that run fabricks in MCP clients\' configuration files (every client\'s files that exist, or one client\'s)');
  fileOptions(ls, false);
  jsonOption(ls).action(async (opts: CommonOptions & Partial<FileOptions>) => {
    const { mcpList } = await import('../../app/mcp-clients.js');
    const files = await mcpList({ client: opts.client, scope: opts.scope, config: opts.config });
    const failed = files.some((f) => f.error !== undefined);
    cli.done({ stdout: opts.json ? json(files) : listText(files), ...(failed ? { status: 1 } : {}) });
  });

  const rm = mcp
    .command('rm')
    .description("remove a server that runs fabricks from an MCP client's configuration file (the old file kept as <file>.bak)")
    .argument('<name>', 'the server\'s name in the client (fabricks mcp ls shows them)')
    .option('--force', 'remove it even if it does not run fabricks')
    .option('--print', 'say what would be removed; write nothing');
  fileOptions(rm, true);
  jsonOption(rm).action(async (name: string, opts: CommonOptions & FileOptions & { force?: boolean; print?: boolean }) => {
    const { mcpRemove } = await import('../../app/mcp-clients.js');
    const r = await mcpRemove({ name, client: opts.client, scope: opts.scope, config: opts.config, force: opts.force, dryRun: opts.print });
    cli.done(opts.json ? { stdout: json(r) } : { stdout: removedText(r) });
  });
}

const scopeText = (r: { title: string; scope: string | undefined }) => `${r.title}${r.scope ? `, ${r.scope} scope` : ''}`;

function printedWhere(r: McpAddResult): string {
  const what = r.action === 'unchanged' ? `"${r.name}" is already there as shown` : r.action === 'updated' ? `would update "${r.name}" in` : `would add "${r.name}" to`;
  return r.action === 'unchanged' ? `${what}: ${r.file} (${scopeText(r)})` : `${what} ${r.file} (${scopeText(r)})`;
}

function addedText(r: McpAddResult): string {
  if (r.action === 'unchanged') return `"${r.name}" in ${r.file} already runs that; nothing changed`;
  const backup = r.backup ? `; the old file is ${r.backup}` : '';
  const lines = [`${r.action} "${r.name}" in ${r.file} (${scopeText(r)})${backup}`, `  ${[r.entry.command, ...r.entry.args].map(quote).join(' ')}`];
  // --env NAME alone reads the client's environment, not the shell's: say where its value goes
  const fromClient = r.entry.args.filter((a, i) => r.entry.args[i - 1] === '--env' && !a.includes('='));
  if (fromClient.length) lines.push(`${fromClient.join(', ')} ${fromClient.length > 1 ? 'take their values' : 'takes its value'} from ${r.title}'s environment: set ${fromClient.length > 1 ? 'them' : 'it'} in the entry's "env" (mcp add keeps it)`);
  lines.push(`restart ${r.title} (or reload its MCP servers) to use it`);
  return lines.join('\n');
}

function readyText(r: McpAddResult, ready: ReadyResult | { failed: string }): string {
  if ('failed' in ready) return `could not ready "${r.name}" for this machine: ${ready.failed}\n  the entry is written; ${r.title}'s first start of it meets the same unless it is fixed (then: fabricks prepare ${r.reference})`;
  if ('skipped' in ready) return `"${r.name}" is not readied here: ${ready.skipped}`;
  const s = ready.prepared.snapshot;
  const form = !s ? 'compiled for this machine' : s.prepared ? 'compiled for this machine and pre-initialized' : `compiled for this machine; not pre-initialized: ${s.refused}`;
  return `"${r.name}" is ready: ${form}`;
}

function removedText(r: McpRemoveResult): string {
  if (!r.written) return `would remove "${r.name}" from ${r.file} (${scopeText(r)})`;
  return `removed "${r.name}" from ${r.file} (${scopeText(r)}); the old file is ${r.backup}`;
}

/** A word as a shell would need it, for showing a command. */
const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

function listText(files: McpListedFile[]): string {
  if (files.length === 0) return 'no MCP client configuration files found';
  return files
    .map((f) => {
      const head = `${f.client}${f.scope ? ` (${f.scope})` : ''}  ${f.file}`;
      if (f.error) return `${head}\n  cannot read it: ${f.error.startsWith(`${f.file}: `) ? f.error.slice(f.file.length + 2) : f.error}`;
      if (f.servers.length === 0) return `${head}\n  no servers that run fabricks`;
      const width = Math.max(...f.servers.map((s) => s.name.length));
      return [head, ...f.servers.map((s) => `  ${s.name.padEnd(width)}  ${s.reference ?? '-'}  ${[s.command, ...s.args].map(quote).join(' ')}`)].join('\n');
    })
    .join('\n');
}
