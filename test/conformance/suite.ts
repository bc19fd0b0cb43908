import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { events, fabricks, jsToml, project } from '../helpers.js';
import { requestLog } from '../serve-helpers.js';
import { SCENARIOS, main, type Case, type Scenario, type World } from './table.js';
import {
  RUNTIMES,
  SECRET,
  folders,
  probeProject,
  refusedRun,
  request,
  runSession,
  serveSession,
  upstreams,
  widenings,
  type Folders,
  type Mode,
  type Outcome,
  type Runtime,
  type Session,
  type Upstreams,
} from './world.js';

/**
 * The capability conformance suite for one mode (run.test.ts, serve.test.ts): for each runtime,
 * every scenario of the table in one process (a run given all its probes, or one served
 * instance answering a request per probe), then what is not a probe: the swapped-link race,
 * the limits, and the flags refused before a service starts.
 */

/** How long each side of the swapped-link race goes on (escape-race.test.ts is the long version). */
const RACE_MS = 2000;

export function conformance(mode: Mode): void {
  let up: Upstreams;
  const sessions: Session[] = [];
  const made: Folders[] = [];
  beforeAll(async () => {
    up = await upstreams();
  });
  afterAll(async () => {
    for (const s of sessions) await s.stop();
    for (const f of made) await f.remove();
    await up?.close();
  });

  async function world(runtime: Runtime): Promise<World> {
    const f = await folders();
    made.push(f);
    return { runtime, mode, tag: `/${runtime}-${mode}`, folders: f, up };
  }

  /** The session of a scenario's cell: its project built, then run or served with the scenario's flags. */
  async function start(w: World, scenario: Scenario): Promise<{ dir: string; session: Session; flags: string[] }> {
    const serve = mode === 'serve';
    const dir = await probeProject(w.runtime, `conformance-${scenario.id}-${w.runtime}-${mode}`, scenario.tables(w.up, serve));
    const flags = scenario.flags(w);
    if (!serve) return { dir, flags, session: runSession(dir, flags, scenario.env) };
    const listen = scenario.listens ? ['--listen', '127.0.0.1:0'] : ['--allow-listen', '127.0.0.1:0'];
    const session = await serveSession(dir, [...flags, ...listen, '--concurrency', '4'], scenario.env);
    sessions.push(session);
    return { dir, flags, session };
  }

  /** A case's test; for a known gap in this runtime, that the gap is still there, as it was found. */
  function judge(runtime: Runtime, c: Case, w: () => World, outcome: () => Outcome) {
    const gap = c.gap?.runtime === runtime ? c.gap : undefined;
    if (gap) {
      it(`${c.name} [KNOWN GAP in ${runtime}: ${gap.what}]`, async () => {
        expect(outcome()).toEqual({ err: gap.today });
        await expect((async () => c.check(outcome(), w()))()).rejects.toThrow();
      });
    } else {
      it(c.name, () => c.check(outcome(), w()));
    }
  }

  describe.each(RUNTIMES)(`%s, ${mode}`, (runtime) => {
    for (const scenario of SCENARIOS) {
      describe(scenario.name, () => {
        let w: World;
        let dir: string;
        let flags: string[];
        let session: Session;
        let outcomes: Outcome[] = [];
        beforeAll(async () => {
          w = await world(runtime);
          ({ dir, flags, session } = await start(w, scenario));
          outcomes = await session.probe(scenario.cases.map((c) => c.probe(w)));
        });

        scenario.cases.forEach((c, i) => judge(runtime, c, () => w, () => outcomes[i]!));

        if (scenario === main) {
          it('mounts: the swapped-link race yields zero escapes (a bounded escape-race.test.ts)', async () => {
            const race = { root: '/rw/race', ms: RACE_MS };
            const swap = { op: 'race-swap', ...race };
            const probe = { op: 'race-probe', ...race, outside: SECRET };
            let results: Outcome[];
            if (mode === 'run') {
              // two runs at once on the same folder: one swaps, one reads and writes
              const runs = [runSession(dir, flags, scenario.env), runSession(dir, flags, scenario.env)];
              results = (await Promise.all([runs[0]!.probe([swap]), runs[1]!.probe([probe])])).flat();
            } else {
              // requests handled at once by different instances of one server
              results = await Promise.all([swap, probe, probe].map(async (p) => (await request(session.served!, p)).json() as Promise<Outcome>));
            }
            const [swapped, ...reads] = results.map((o) => (o as { ok: Record<string, number> }).ok);
            const total = { inside: 0, outside: 0, refused: 0, written: 0 };
            for (const r of reads) for (const k of Object.keys(total) as Array<keyof typeof total>) total[k] += r![k]!;
            // the race ran: the swaps happened and the reads overlapped them
            expect(swapped!.swaps, JSON.stringify(results)).toBeGreaterThan(10);
            expect(total.inside + total.refused, JSON.stringify(results)).toBeGreaterThan(100);
            expect(total.outside, JSON.stringify(results)).toBe(0);
            const outside = join(w.folders.root, 'outside');
            expect(await readdir(outside)).toEqual(['secret.txt']);
            expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe(SECRET);
          });

          it('env: --env refuses a variable the service is not granted, naming --allow-env', async () => {
            const r = await refusedRun(dir, [...flags, '--env', 'GITHUB_TOKEN'], scenario.env);
            expect(r.status).toBe(2);
            expect(r.stderr).toContain('error: --env GITHUB_TOKEN: the service is not granted GITHUB_TOKEN');
            expect(r.stderr).toContain('--allow-env GITHUB_TOKEN');
          });

          it('env: --env refuses a secret that only a pattern in allow matches, saying why', async () => {
            const r = await refusedRun(dir, [...flags, '--env', 'LOG_TOKEN'], scenario.env);
            expect(r.status).toBe(2);
            expect(r.stderr).toContain('error: --env LOG_TOKEN: the service is not granted LOG_TOKEN: only a pattern in [capabilities.env] allow matches it');
            expect(r.stderr).not.toContain('leak-1');
          });

          if (mode === 'serve') {
            it('listen: a service that declares listen is served where --listen says', () => {
              expect(events(session.stderr())).toContainEqual(expect.objectContaining({ event: 'serving', address: '127.0.0.1' }));
              expect(widenings(session.stderr())).toEqual([]);
            });
          }
        } else {
          it('widening: each --allow-* flag is reported as a widening', () => {
            const expected = ['env GITHUB_TOKEN', `connect 127.0.0.1:${up.granted.port}`, ...(mode === 'serve' ? ['listen on 127.0.0.1:0'] : [])];
            expect(widenings(session.stderr()).sort()).toEqual(expected.sort());
          });

          if (mode === 'serve') {
            it('listen: a service that does not declare listen is refused --listen, naming --allow-listen (which served it here)', async () => {
              const r = await refusedRun(dir, [...flags, '--listen', '127.0.0.1:0'], scenario.env);
              expect(r.status).toBe(2);
              expect(r.stderr).toContain('--listen 127.0.0.1:0: the service does not ask to listen ([capabilities.network] listen is empty)');
              expect(r.stderr).toContain('--allow-listen 127.0.0.1:0');
              expect(events(session.stderr())).toContainEqual(expect.objectContaining({ event: 'serving', address: '127.0.0.1' }));
            });
          } else {
            it('listen: a service that does not declare listen runs as a command', () => {
              expect(events(session.stderr()).filter((e) => e.event === 'serving')).toEqual([]);
            });
          }
        }
      });
    }

    describe('limits', () => {
      let dir: string;
      beforeAll(async () => {
        dir = await probeProject(runtime, `conformance-limits-${runtime}-${mode}`, '');
      });

      if (mode === 'run') {
        it('--memory and --timeout stop a run with the documented status and message (docs/limits.md)', async () => {
          const started = Date.now();
          const [hog, spin, wait] = await Promise.all([
            fabricks(['run', '-q', dir, '--memory', '128MiB', '--', JSON.stringify([{ op: 'hog' }])]),
            fabricks(['run', '-q', dir, '--timeout', '1s', '--', JSON.stringify([{ op: 'spin' }])]),
            fabricks(['run', '-q', dir, '--timeout', '1500ms', '--', JSON.stringify([{ op: 'wait' }])]),
          ]);
          expect(Date.now() - started).toBeLessThan(60_000);
          expect(hog.status, hog.stderr).toBe(137);
          expect(hog.stderr).toContain('fabricks: the program reached its memory limit (128MiB) and was stopped; raise it with --memory, or memory in [limits] in fabricks.toml');
          // a guest spinning in a loop, and one waiting on the host
          expect(spin.status, spin.stderr).toBe(124);
          expect(spin.stderr).toContain('fabricks: the run reached its time limit (1s) and was stopped; raise it with --timeout, or timeout in [limits] in fabricks.toml');
          expect(wait.status, wait.stderr).toBe(124);
          expect(wait.stderr).toContain('fabricks: the run reached its time limit (1500ms) and was stopped; raise it with --timeout, or timeout in [limits] in fabricks.toml');
          for (const r of [hog, spin, wait]) expect(r.stdout).toBe('');
        });
      } else {
        it('--request-timeout answers 504 and --memory 500, and the one instance left serves the next request', async () => {
          const s = await serveSession(dir, ['--allow-listen', '127.0.0.1:0', '--concurrency', '1', '--request-timeout', '1500ms', '--memory', '128MiB'], {});
          sessions.push(s);
          const next = async () => expect(await (await request(s.served, { op: 'env-has', name: 'X' })).json()).toEqual({ ok: [false, null] });
          for (const [op, status] of [['spin', 504], ['wait', 504], ['hog', 500]] as const) {
            const started = Date.now();
            const r = await request(s.served, { op }, 20_000);
            expect(r.status, op).toBe(status);
            expect(Date.now() - started, op).toBeLessThan(10_000);
            await next();
          }
          const log = await requestLog(s.served, 6);
          expect(log.filter((e) => e.status !== 200).map((e) => [e.path, e.status, e.error])).toEqual([
            ['/spin', 504, 'the request took longer than its limit (1500ms)'],
            ['/wait', 504, 'the request took longer than its limit (1500ms)'],
            ['/hog', 500, expect.stringContaining('memory limit')],
          ]);
        });
      }
    });

    if (runtime === 'javascript' && mode === 'run') {
      it('connect: JavaScript has no raw sockets: node:net loads, and connecting fails as a refused connection does (an error event the program can catch), pointing at HTTP and [capabilities.network] connect', async () => {
        const main = [
          'import net from "node:net";',
          'const socket = net.connect(5432, "127.0.0.1");',
          'socket.on("error", (e) => console.log(e.code, e.message));',
          'console.log(net.isIP("127.0.0.1"));',
        ].join('\n');
        const dir = await project({ 'fabricks.toml': jsToml('main.js', '\n[package]\nname = "conformance-net-js"\n'), 'main.js': main });
        const r = await fabricks(['run', '-q', dir]);
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toBe(
          '4\nERR_FABRICKS_UNAVAILABLE node:net connect() to 127.0.0.1:5432 is not available inside a fabricks sandbox: the runtime has no TCP sockets; reach other services over HTTP (fetch, http.request) and grant their hosts in [capabilities.network] connect in fabricks.toml\n',
        );
      });
    }
  });
}
