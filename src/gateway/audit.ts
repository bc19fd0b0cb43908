import { createWriteStream, type WriteStream } from 'node:fs';
import { FabricksError } from '../util/errors.js';

/** How a call ended: the server's answer (ok, or a tool error or protocol error), or refused by the gateway. */
export type Outcome = 'ok' | 'error' | 'refused';

export interface AuditRecord {
  time: string;
  server: string;
  tool: string;
  outcome: Outcome;
  duration_ms: number;
  /** Why, for an error or a refusal. */
  error?: string;
  /** Only with --audit-arguments: they may hold what the user would not keep in a log. */
  arguments?: unknown;
}

/**
 * `--audit FILE`: every tool call as one JSON line, appended (a log another gateway run goes on
 * writing). Each line is written whole by one write, so a crash loses at most the last one.
 */
export class AuditLog {
  /** Why the log cannot be written any more (a full disk): the gateway then refuses calls rather than let them through unlogged. */
  failure: string | undefined;

  private constructor(
    private readonly out: WriteStream,
    private readonly withArguments: boolean,
  ) {
    out.on('error', (e: NodeJS.ErrnoException) => (this.failure ??= `${out.path.toString()}: ${e.code ?? e.message}`));
  }

  static async open(file: string, withArguments: boolean): Promise<AuditLog> {
    const out = createWriteStream(file, { flags: 'a', mode: 0o600 });
    await new Promise<void>((resolve, reject) => {
      out.once('open', () => resolve());
      out.once('error', (e) => reject(new FabricksError('USAGE', `--audit ${file}: cannot open it for appending (${(e as NodeJS.ErrnoException).code ?? e.message})`, { hint: 'name a file in a folder you can write to', cause: e })));
    });
    return new AuditLog(out, withArguments);
  }

  /** One finished call: `at` is when it began (ms since the epoch), `ms` how long it took. */
  record(entry: { server: string; tool: string; outcome: Outcome; at: number; ms: number; error?: string | undefined; arguments?: unknown }): void {
    const line: AuditRecord = {
      time: new Date(entry.at).toISOString(),
      server: entry.server,
      tool: entry.tool,
      outcome: entry.outcome,
      duration_ms: Math.round(entry.ms * 10) / 10,
      ...(entry.error !== undefined ? { error: entry.error } : {}),
      ...(this.withArguments ? { arguments: entry.arguments ?? {} } : {}),
    };
    this.out.write(`${JSON.stringify(line)}\n`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.out.end(resolve));
  }
}
