import { describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { events, fabricks, project } from '../helpers.js';

// Pre-initialized Python apps (issue 21, points 1-2; fabricks_runtime._prepare): the entrypoint's
// top-level imports are imported ahead, once; the entrypoint itself runs at start. The same
// program with and without its snapshot must say the same bytes, with this run's arguments,
// variables, stdin, folders and random numbers; a module that reads any of them while it is
// imported (or fails to import) leaves a snapshot with the layer's modules compiled, not
// imported, except a variable looked up by name: a run that sets it starts without the snapshot. Its own compiled cache: the suite's is shared.
const toml = (name: string, extra = '') => `[package]
name = "${name}"
version = "0.1.0"

[from]
image = "fabricks.dev/runtimes/python"

[source]
entrypoint = "main.py"

[capabilities.env]
allow = ["GREETING"]
${extra}`;

const MAIN = `import json
import random
import sys
import time

import lib
from lib import shout

started = time.monotonic()
text = sys.stdin.read()
print(json.dumps({
    "argv": sys.argv[1:],
    "greeting": shout(lib.greeting()),
    "stdin": text.strip().split("\\n"),
    "loaded": lib.LOADED,
}))
print("random", random.random(), file=sys.stderr)
if "fail" in sys.argv:
    raise RuntimeError("failed on purpose")
`;

const LIB = `import os

# imported ahead: what it computes at its top level must not depend on the run
LOADED = sum(range(10))


def shout(s):
    return s.upper() + "!"


def greeting():
    return os.environ.get("GREETING", "none")
`;

const random = (stderr: string) => /random (\S+)/.exec(stderr)?.[1];
/** What the program wrote to stderr, without fabricks' progress events and the random line. */
const programStderr = (stderr: string) => stderr.split('\n').filter((l) => !l.startsWith('{"event"') && !l.startsWith('random ')).join('\n');
// one compiled cache for the file: the runtime and its instrumented form are compiled once
const cache = mkdtemp(join(tmpdir(), 'fabricks-prepared-py-cache-'));
const snapshotOf = (stdout: string) => (JSON.parse(stdout) as { snapshot?: { prepared: boolean; refused?: string; cached?: boolean; stage?: string; aheadRefused?: string } }).snapshot;

describe('pre-initialized Python apps', () => {
  it("start from their snapshot with the same output as without, and this run's arguments, variables, stdin and randomness", async () => {
    const dir = await project({ 'fabricks.toml': toml('prepared-py'), 'main.py': MAIN, 'lib.py': LIB });
    const env = { FABRICKS_COMPILED_CACHE: await cache, GREETING: 'hello' };
    const runIt = (args: string[], extra: Record<string, string> = {}) => fabricks(['run', '--progress', 'json', dir, '--', ...args], { env: { ...env, ...extra }, input: 'line one\nline two\n' });
    const built = await fabricks(['build', '-q', dir], { env });
    expect(built.status, built.stderr).toBe(0);
    const plain = await runIt(['a', 'b']);
    expect(plain.status, plain.stderr).toBe(0);
    expect(events(plain.stderr).some((e) => e.event === 'note' && e.code === 'not-prepared')).toBe(true);

    const prepared = await fabricks(['prepare', '--json', dir], { env });
    expect(prepared.status, prepared.stderr).toBe(0);
    expect(snapshotOf(prepared.stdout)?.prepared, prepared.stdout).toBe(true);

    const fast = await runIt(['a', 'b']);
    const fast2 = await runIt(['a', 'b']);
    expect(fast.status, fast.stderr).toBe(0);
    expect(events(fast.stderr).some((e) => e.event === 'note' && e.code === 'not-prepared')).toBe(false);
    expect(fast.stdout).toBe(plain.stdout);
    expect(JSON.parse(fast.stdout)).toEqual({ argv: ['a', 'b'], greeting: 'HELLO!', stdin: ['line one', 'line two'], loaded: 45 });
    // random is seeded for each start, not frozen in the snapshot
    expect(random(fast.stderr)).toBeDefined();
    expect(random(fast.stderr)).not.toBe(random(fast2.stderr));
    const other = await runIt(['c'], { GREETING: 'bye' });
    expect(JSON.parse(other.stdout)).toMatchObject({ argv: ['c'], greeting: 'BYE!' });

    // a traceback is the same with and without
    const failed = await runIt(['fail']);
    const failedPlain = await runIt(['fail'], { FABRICKS_PREPARED: '0' });
    expect(failed.status).toBe(1);
    expect(programStderr(failed.stderr)).toBe(programStderr(failedPlain.stderr));
    expect(failed.stderr).toMatch(/main\.py", line 19[\s\S]*RuntimeError: failed on purpose/);
  }, 300_000);

  it.each([
    ['reads the arguments', 'import sys\nVERBOSE = "-v" in sys.argv\n', /sys\.argv/],
    ['draws a random number', 'import random\nTOKEN = random.random()\n', /random numbers/],
    ['reads the monotonic clock', 'import time\nSTARTED = time.monotonic()\n', /monotonic clock/],
    ['reads the wall clock', 'import time\nSTARTED = time.time()\n', /wall clock/],
    ['draws random bytes', 'import os\nKEY = os.urandom(8)\n', /random numbers \(in [^)]*os_urandom/],
    ['prints', 'print("loading")\n', /wrote output/],
    ['looks at the filesystem', 'import os\nHERE = os.path.exists("/data")\n', /filesystem/],
    ['fails to import', 'raise ImportError("not here")\n', /importing lib failed: ImportError: not here/],
  ])('have their modules compiled ahead, not imported, when a module imported ahead %s, and run as without', async (_what, lib, why) => {
    const dir = await project({
      'fabricks.toml': toml('refused-py'),
      'main.py': 'import sys\nimport lib\nprint("ran", sys.argv[1:])\n',
      'lib.py': lib,
    });
    const env = { FABRICKS_COMPILED_CACHE: await cache };
    const prepared = await fabricks(['prepare', '--json', dir], { env });
    expect(prepared.status, prepared.stderr).toBe(0);
    const snapshot = snapshotOf(prepared.stdout);
    // a fresh instance compiled the layer's modules instead (the half-imported one is never kept)
    expect(snapshot?.prepared, prepared.stdout).toBe(true);
    expect(snapshot?.stage).toBe('compiled');
    expect(snapshot?.aheadRefused).toMatch(why);
    const ran = await fabricks(['run', '-q', dir, '--', 'x'], { env });
    const plain = await fabricks(['run', '-q', dir, '--', 'x'], { env: { ...env, FABRICKS_PREPARED: '0' } });
    // the module's top level ran in this run, as without the snapshot: the same bytes (and the
    // failed import fails the run as it does without)
    expect(ran.status, ran.stderr).toBe(plain.status);
    if (ran.status === 0) expect(ran.stdout).toContain("ran ['x']");
    else expect(ran.stderr).toMatch(/ImportError: not here/);
    expect(ran.stdout).toBe(plain.stdout);
    expect(ran.stderr).toBe(plain.stderr);
  }, 300_000);

  it('use the snapshot when its imports looked up a variable this run does not set, and start without it when it does', async () => {
    const dir = await project({
      'fabricks.toml': toml('environ-py'),
      'main.py': 'import lib\nprint("greeting", lib.GREETING)\n',
      // looked up while importing: absent then, so right only for a run that does not set it
      'lib.py': 'import os\nGREETING = os.environ.get("GREETING", "none")\n',
    });
    const env = { FABRICKS_COMPILED_CACHE: await cache };
    const prepared = await fabricks(['prepare', '--json', dir], { env });
    expect(snapshotOf(prepared.stdout)?.prepared, prepared.stdout).toBe(true);
    const without = await fabricks(['run', '--progress', 'json', dir], { env });
    expect(without.stdout).toBe('greeting none\n');
    expect(events(without.stderr).some((e) => e.event === 'note' && e.code === 'not-prepared')).toBe(false);
    const withIt = await fabricks(['run', '--progress', 'json', dir], { env: { ...env, GREETING: 'hello' } });
    expect(withIt.stdout).toBe('greeting hello\n');
    expect(events(withIt.stderr).find((e) => e.event === 'note' && e.code === 'not-prepared')).toMatchObject({ detail: expect.stringMatching(/its dependencies read GREETING while they loaded, which this run sets/) });
  }, 300_000);

  it("sees this run's folders", async () => {
    const data = await mkdtemp(join(tmpdir(), 'fabricks-prepared-py-data-'));
    await writeFile(join(data, 'note.txt'), 'from the host\n');
    await mkdir(join(data, 'sub'));
    const dir = await project({
      'fabricks.toml': toml('mounted-py', `\n[capabilities.filesystem]\nmounts = [{ host = "${data}", guest = "/data", mode = "ro" }]\n`),
      'main.py': 'import json\nimport lib\nprint(lib.read("/data/note.txt").strip(), sorted(__import__("os").listdir("/data")))\n',
      'lib.py': 'def read(path):\n    with open(path) as f:\n        return f.read()\n',
    });
    const env = { FABRICKS_COMPILED_CACHE: await cache };
    const prepared = await fabricks(['prepare', '--json', dir], { env });
    expect(snapshotOf(prepared.stdout)?.prepared, prepared.stdout).toBe(true);
    const ran = await fabricks(['run', '--progress', 'json', dir], { env });
    expect(ran.status, ran.stderr).toBe(0);
    expect(events(ran.stderr).some((e) => e.event === 'note' && e.code === 'not-prepared')).toBe(false);
    expect(ran.stdout).toBe("from the host ['note.txt', 'sub']\n");
  }, 300_000);
});
