import { inject } from 'vitest';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { repoRoot } from './helpers.js';

const bin = join(repoRoot, 'bin', 'fabricks.js');

/** The official TypeScript client over stdio to `fabricks <args>`, in the suite's home; a failed connect says what fabricks printed. */
export async function stdioClient(args: string[], env: Record<string, string> = {}): Promise<{ client: Client; stderr: () => string }> {
  const client = new Client({ name: 'fabricks-test', version: '1.0.0' });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [bin, ...args],
    env: { ...(process.env as Record<string, string>), FABRICKS_HOME: inject('fabricksHome'), ...env },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    await client.connect(transport);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${stderr}`);
  }
  return { client, stderr: () => stderr };
}

/** The text of a tool result's content. */
export const textOf = (result: unknown): string => ((result as { content: Array<{ type: string; text?: string }> }).content ?? []).map((c) => c.text ?? '').join('');
