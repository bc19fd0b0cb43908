import { beforeAll, describe, expect, inject, it } from 'vitest';
import { servers, type CorpusServer } from '../corpus/npm/servers.mjs';
import { knownFailures } from '../corpus/npm/known-failures.mjs';
import { limiter } from '../helpers.js';
import { build, corpusNodeModules, drive, fabricksCommand, firstCause, nativeCommand, prepare, problems, type Drive } from '../corpus/npm/corpus.mjs';

// The corpus (issue 19): published npm MCP servers, pinned by test/corpus/npm/package-lock.json
// and run unmodified, each built by fabricks with its bin as the entrypoint and driven over
// stdio by the official TypeScript client: initialize, tools/list, the calls that need no
// network (on a mounted folder where the server works on files) and, for a server that calls
// an API, a call that fabricks must refuse for want of a [capabilities.network] connect rule.
// Each server is first run natively with node and asked the same, so a wrong spec fails as such.
// A failing server fails its test: the corpus is never trimmed to what passes.

let modules: string;

beforeAll(async () => {
  modules = await corpusNodeModules();
}, 900_000);

// two servers at a time: each build and engine takes a core
const slot = limiter(2);

/** The drive's problems against its spec: none, or each with the first cause and the end of the server's stderr. */
function expectPasses(server: CorpusServer, d: Drive, where: 'natively' | 'under fabricks') {
  const found = problems(server, d, where);
  expect(found, found.length ? `${server.package} ${where}; first cause: ${firstCause(d.stderr, found[0])}\n${d.stderr.slice(-3000)}` : undefined).toEqual([]);
}

/** What a known-failing server's run under fabricks shows: its problems and stderr, or '' when it passes. */
async function failureUnderFabricks(server: CorpusServer, project: string): Promise<string> {
  const d = await drive(server, fabricksCommand(server, project, { home: inject('fabricksHome') }));
  const found = problems(server, d, 'under fabricks');
  return found.length ? `${found.join('\n')}\n${d.stderr}` : '';
}

describe.concurrent('published npm MCP servers, unmodified, over stdio with the official TypeScript client', () => {
  it('holds at least 20 servers, each once', () => {
    expect(servers.length).toBeGreaterThanOrEqual(20);
    expect(new Set(servers.map((s) => s.package)).size).toBe(servers.length);
    expect(new Set(servers.map((s) => s.id)).size).toBe(servers.length);
    // every server is asked something: a call without network, a denied call, or both
    for (const s of servers) expect((s.calls?.length ?? 0) + (s.denied ? 1 : 0), s.id).toBeGreaterThan(0);
  });

  for (const server of servers) {
    it(`${server.package} (${server.id})`, () =>
      slot(async () => {
        const p = await prepare(server, modules);
        expectPasses(server, await drive(server, nativeCommand(server, modules, p.data.native)), 'natively');
        const built = await build(p.project, { home: inject('fabricksHome') });
        const known = knownFailures[server.id];
        if (known) {
          // not running yet: it must still fail, and for the cause on record
          const failure = built.status !== 0 ? built.stderr : await failureUnderFabricks(server, p.project);
          expect(failure, `${server.package} passes under fabricks now: remove it from test/corpus/npm/known-failures.mjs`).not.toBe('');
          expect(failure, `${server.package} fails for another cause than the one in known-failures.mjs`).toMatch(known.cause);
          return;
        }
        expect(built.status, `${server.package}: fabricks build failed\nfirst cause: ${firstCause(built.stderr)}\n${built.stderr.slice(-3000)}`).toBe(0);
        expectPasses(server, await drive(server, fabricksCommand(server, p.project, { home: inject('fabricksHome') })), 'under fabricks');
      }), 900_000);
  }
});
