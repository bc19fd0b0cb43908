import type { Command } from 'commander';

/**
 * The `mcp` command group: the one already registered, or a new one. Its subcommands (serve;
 * add, ls, rm) register themselves on it from separate files.
 */
export function mcpGroup(program: Command): Command {
  return program.commands.find((c) => c.name() === 'mcp') ?? program.command('mcp').description('MCP servers: wire them into clients, serve many as one');
}
