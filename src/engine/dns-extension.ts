/**
 * Loaded by preview2-shim's I/O worker (callExtension): name resolution for the outbound policy.
 * It runs there because wasi:http's outgoing-handler is called synchronously, and the I/O worker
 * is where preview2-shim already answers synchronous calls from an event loop of its own.
 */
import { lookup } from 'node:dns/promises';

export default function create() {
  return async (operation: string, args: unknown): Promise<{ addresses: string[] } | { error: string }> => {
    if (operation !== 'lookup') throw new Error(`unknown operation ${operation}`);
    const { name } = args as { name: string };
    try {
      return { addresses: (await lookup(name, { all: true, verbatim: true })).map((a) => a.address) };
    } catch (e) {
      return { error: (e as NodeJS.ErrnoException).code ?? String(e) };
    }
  };
}
