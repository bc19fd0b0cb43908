import type { Command } from 'commander';
import { progressOptions, type Cli, type CommonOptions } from '../command.js';
import { mcpGroup } from './mcp-group.js';
import type { ProgressEvent } from '../../util/progress.js';

const collect = (value: string, previous: string[]) => [...previous, value];

interface Options extends CommonOptions {
  server: string[];
  config?: string;
  listen?: string;
  allowTool: string[];
  denyTool: string[];
  audit?: string;
  auditArguments?: boolean;
}

export function register(program: Command, cli: Cli): void {
  const cmd = mcpGroup(program)
    .command('serve')
    .description('serve many MCP servers as one: each runs in its own sandbox (fabricks run) with its own grants, its tools and prompts named <server>__<name>')
    .argument('[refs...]', 'servers to run with what their artifacts grant: project folders, name:version, or registry/repository:tag (named after the folder or repository)')
    .option('--server <NAME=REF>', 'a server under a name of your choosing; repeatable', collect, [])
    .option('--config <FILE>', 'a gateway.toml: [servers.NAME] with ref and the fabricks run flags (env, mount, allow-connect, ...) for each')
    .option('--listen <[HOST:]PORT>', 'serve Streamable HTTP at http://HOST:PORT/mcp (HOST: 127.0.0.1 unless given) instead of stdio')
    .option('--allow-tool <PATTERN>', 'offer only the tools whose <server>__<tool> name matches (a glob: * ? {a,b}); repeatable', collect, [])
    .option('--deny-tool <PATTERN>', 'do not offer (or let through) the tools whose name matches; repeatable, and wins over --allow-tool', collect, [])
    .option('--audit <FILE>', 'append every tool call to FILE as a JSON line: time, server, tool, outcome (ok, error, refused), duration_ms')
    .option('--audit-arguments', "also log each call's arguments (they may hold what you would not keep in a log)")
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  fabricks mcp serve examples/mcp-weather-js examples/mcp-weather-python\n' +
        '  fabricks mcp serve --config gateway.toml --deny-tool "*__delete_*" --audit calls.jsonl\n' +
        '  fabricks mcp serve --config gateway.toml --listen 8000\n\n' +
        'Over stdio, stdout carries only protocol messages; the servers\' output and the gateway\'s\n' +
        'own lines go to stderr. Servers start at once, concurrently; one that fails to start is\n' +
        'reported and its tools are left out; one that ends is started again on its next call (at\n' +
        'most 3 times a minute). Resources keep their URIs. See docs/mcp.md, "Many servers as one".',
    );
  progressOptions(cmd).action(async (refs: string[], opts: Options) => {
    const { mcpServe } = await import('../../app/mcp-serve.js');
    // -q silences progress, not trouble: a server that fails or ends, and what servers write on
    // stderr (their errors: their own progress is silenced too), still show
    const quiet = Boolean(opts.quiet) || opts.progress === 'none';
    const shown = await cli.context(quiet ? { ...opts, quiet: false, progress: 'human' } : opts);
    const ctx = quiet ? { ...shown, reporter: (e: ProgressEvent) => (e.event === 'server-output' || (e.event === 'mcp-server' && e.state !== 'started') ? shown.reporter(e) : undefined) } : shown;
    const r = await mcpServe(
      {
        refs,
        servers: opts.server,
        allowTool: opts.allowTool,
        denyTool: opts.denyTool,
        quiet,
        ...(opts.config !== undefined ? { config: opts.config } : {}),
        ...(opts.listen !== undefined ? { listen: opts.listen } : {}),
        ...(opts.audit !== undefined ? { audit: opts.audit } : {}),
        ...(opts.auditArguments ? { auditArguments: true } : {}),
      },
      ctx,
    );
    // stdout is the protocol's: nothing printed after it; stopped by a signal, it exits as run does
    cli.done({ status: r.stoppedBy === undefined ? 0 : r.stoppedBy === 'SIGTERM' ? 143 : 130 });
  });
}
