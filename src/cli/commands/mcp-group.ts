import type { Command } from 'commander';

/**
 * The `fabricks mcp` command group, made by whichever file registers on it first: `mcp add/ls/rm`
 * (mcp.ts) and `mcp serve` (mcp-serve.ts) each add their subcommands to the one group.
 */
export function mcpGroup(program: Command): Command {
  return program.commands.find((c) => c.name() === 'mcp') ?? program.command('mcp').description('MCP servers: wire them into clients (add, ls, rm), serve many as one (serve)');
}
