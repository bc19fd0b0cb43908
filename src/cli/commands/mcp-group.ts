import type { Command } from 'commander';

/**
 * The `fabricks mcp` command group, made by whichever file registers on it first: `mcp add/ls/rm`
 * (mcp.ts) and `mcp serve` each add their subcommands to the one group.
 */
export function mcpGroup(program: Command): Command {
  return program.commands.find((c) => c.name() === 'mcp') ?? program.command('mcp').description('MCP: servers that fabricks runs, in MCP clients\' configuration files (add, ls, rm)');
}
