import { beforeAll, describe, expect, inject, it } from 'vitest';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { servers, type CorpusServer } from '../corpus/npm/servers.mjs';
import { build, corpusNodeModules, driveHttp, prepare, problems, startHttp, type Drive } from '../corpus/npm/corpus.mjs';
import { events, repoRoot } from '../helpers.js';

// Issue 19, point 5: the corpus servers that can serve MCP over HTTP (Express, the SDK's
// stateful Streamable HTTP sessions and its legacy SSE transport), published and unmodified,
// served natively by node and by `fabricks run --allow-listen`, each driven by two official
// clients at once (two sessions that must each get their own answers).

let modules: string;

beforeAll(async () => {
  modules = await corpusNodeModules();
}, 900_000);

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

function expectPasses(server: CorpusServer, d: Drive, where: 'natively' | 'under fabricks', output: string) {
  const found = problems({ ...server, denied: undefined }, d, where);
  expect(found, found.length ? `${server.package} ${where}:\n${output.slice(-3000)}` : undefined).toEqual([]);
}

const served = servers.filter((s) => s.http);

describe('published npm MCP servers, unmodified, over HTTP with the official TypeScript client', () => {
  it('the corpus has a server that serves both HTTP transports', () => {
    expect(served.some((s) => s.http?.args.streamableHttp && s.http.args.sse)).toBe(true);
  });

  for (const server of served) {
    for (const transport of ['streamableHttp', 'sse'] as const) {
      const args = server.http!.args[transport];
      if (!args) continue;
      it(`${server.package} (${server.id}) over ${transport}`, async () => {
        const p = await prepare(server, modules);
        const port = await freePort();
        const native = await startHttp(
          { command: process.execPath, args: [join(modules, server.package, server.bin), ...args], env: { [server.http!.port]: String(port) } },
          async () => ((await fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false)) ? `http://127.0.0.1:${port}` : undefined),
        );
        try {
          expectPasses(server, await driveHttp(server, native.url, transport), 'natively', native.output());
        } finally {
          await native.stop();
        }
        const built = await build(p.project, { home: inject('fabricksHome') });
        expect(built.status, built.stderr).toBe(0);
        const fab = await startHttp(
          { command: process.execPath, args: [join(repoRoot, 'bin', 'fabricks.js'), 'run', '--progress', 'json', '--allow-listen', '127.0.0.1:0', p.project, '--', ...args], env: { FABRICKS_HOME: inject('fabricksHome') } },
          (output) => {
            const serving = events(output).find((e) => e.event === 'serving');
            return serving?.event === 'serving' ? `http://127.0.0.1:${serving.port}` : undefined;
          },
        );
        try {
          expectPasses(server, await driveHttp(server, fab.url, transport), 'under fabricks', fab.output());
        } finally {
          await fab.stop();
        }
        const failed = events(fab.output()).filter((e) => e.event === 'request' && e.status >= 500);
        expect(failed).toEqual([]);
      }, 600_000);
    }
  }
});
