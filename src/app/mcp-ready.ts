import type { Context } from '../home/context.js';
import type { McpGrantFlags } from './mcp-entry.js';
import { packageGrantFlags } from '../config/grant-flags.js';
import { prepare, type PrepareResult } from './prepare.js';
import { parseTarget } from './target.js';

/** What readying a client's server did: prepared it, or why it was left to `fabricks pull`. */
export type ReadyResult = { prepared: PrepareResult } | { skipped: string };

/**
 * Readies the server a client's entry runs, so that the client's first start (within its
 * timeout) neither installs, builds, compiles nor snapshots it: the entry's reference built (a
 * package granted what the entry's flags name, as `fabricks run` grants it), compiled for this
 * machine and pre-initialized. A registry reference is readied by `fabricks pull`, which the
 * user runs (it reaches the registry).
 */
export async function readyServer(reference: string, grants: McpGrantFlags, ctx: Context): Promise<ReadyResult> {
  const target = await parseTarget(reference);
  if (target.kind === 'remote') return { skipped: `a registry reference is readied by: fabricks pull ${reference}` };
  if (target.kind !== 'package') return { prepared: await prepare(target, ctx) };
  // granted as `fabricks run` grants the entry's flags (app/run.ts)
  return { prepared: await prepare({ ...target, options: { grants: packageGrantFlags(grants), values: true } }, ctx) };
}
