import { describe, expect, it } from 'vitest';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inject } from 'vitest';
import { fabricks, jsToml, project, pyToml, runProject } from '../helpers.js';
import { CODE_CACHE_FILE } from '../../src/engine/component-script.js';

/**
 * What makes a warm `fabricks run` start fast, checked for what it must keep doing: stdio and
 * due timers answered on the main thread (src/engine/stdio.ts, due-timers.ts) and the V8 code
 * cache of the transpiled component (src/engine/component-script.ts).
 */

/** Each engine fabricks run has: wasmtime (the default) and the in-process one (jco), which also serves. */
const ENGINES = ['wasmtime', 'jco'] as const;

/** The transpile cache entry a project's run used: the component digest its build printed. */
async function transpiledEntry(dir: string): Promise<string> {
  const built = JSON.parse((await fabricks(['build', '-q', '--json', dir])).stdout) as { component: { digest: string } };
  return join(inject('fabricksHome'), 'cache', 'transpiled-v2', built.component.digest.replace('sha256:', ''));
}

describe.each(ENGINES)('fabricks run: start-up paths, on %s', (engine) => {
  const env = { FABRICKS_ENGINE: engine };
  const runJs = (files: Record<string, string>, args: string[] = [], options: { input?: string } = {}) => runProject(jsToml(), files, args, { ...options, env });

  it('writes large outputs to stdout and stderr whole, each in order', async () => {
    // 200 KB in one write: more than one check-write's worth (16 KiB), so the guest writes in chunks
    const r = await runJs({
      'main.js': 'const line = (c, n) => Array.from({ length: n }, (_, i) => `${c}${i}`).join(",") + "\\n";\nprocess.stdout.write(line("o", 30000));\nprocess.stderr.write(line("e", 30000));\nconsole.log("end");\n',
    });
    expect(r.status, r.stderr).toBe(0);
    const expected = (c: string) => Array.from({ length: 30000 }, (_, i) => `${c}${i}`).join(',') + '\n';
    expect(r.stdout).toBe(expected('o') + 'end\n');
    expect(r.stderr).toBe(expected('e'));
  });

  it('fires due timers at once and still waits for pending ones and for stdin', async () => {
    // a poll holding a due timer (answered here) and pending stdin (answered by the shim's worker)
    const r = await runJs(
      {
        'main.js': [
          'const seen = [];',
          'process.stdin.setEncoding("utf8");',
          'let input = "";',
          'process.stdin.on("data", (d) => (input += d));',
          'process.stdin.on("end", () => { seen.push("stdin:" + input.trim()); });',
          'setTimeout(() => seen.push("zero"), 0);',
          'setTimeout(() => seen.push("later"), 30);',
          'await new Promise((r) => setTimeout(r, 60));',
          'process.on("exit", () => console.log(seen.join(" ")));',
        ].join('\n'),
      },
      [],
      { input: 'hello' },
    );
    expect(r.status, r.stderr).toBe(0);
    const seen = r.stdout.trim().split(' ');
    expect(seen[0]).toBe('zero');
    expect(seen).toContain('later');
    expect(seen).toContain('stdin:hello');
  });

  it('runs Python printing and sleeping (a timer that is not yet due goes to the shim)', async () => {
    const r = await runProject(pyToml(), { 'main.py': 'import sys, time\nt = time.monotonic()\ntime.sleep(0.05)\nprint("slept", time.monotonic() - t >= 0.05)\nsys.stderr.write("to stderr\\n")\nprint(sys.stdin.read().upper())\n' }, [], { input: 'abc', env });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('slept True\nABC\n');
    expect(r.stderr).toBe('to stderr\n');
  });

});

describe('fabricks run on the in-process engine', () => {
  const env = { FABRICKS_ENGINE: 'jco' };
  it('keeps the V8 code cache of the transpiled component, and a damaged one is replaced without harm', async () => {
    const dir = await project({ 'fabricks.toml': jsToml(), 'main.js': 'console.log("cached " + process.argv.slice(2).join(" "));\n' });
    const first = await fabricks(['run', '-q', dir, '--', 'one'], { env });
    expect(first.status, first.stderr).toBe(0);
    const entry = await transpiledEntry(dir);
    const cacheFile = join(entry, CODE_CACHE_FILE);
    // written by the first run: jco's output had the shape component-script.ts expects
    expect((await stat(cacheFile)).size).toBeGreaterThan(1000);
    expect((await readdir(entry)).filter((n) => n.includes('.tmp-'))).toEqual([]);

    await writeFile(cacheFile, 'not a V8 code cache');
    const damaged = await fabricks(['run', '-q', dir, '--', 'two'], { env });
    expect(damaged.status, damaged.stderr).toBe(0);
    expect(damaged.stdout).toBe('cached two\n');
    // V8 rejected it, and the run wrote a good one in its place
    expect((await readFile(cacheFile)).toString('latin1')).not.toBe('not a V8 code cache');
    expect((await stat(cacheFile)).size).toBeGreaterThan(1000);

    const again = await fabricks(['run', '-q', dir, '--', 'three'], { env });
    expect(again.stdout).toBe('cached three\n');
  });
});
