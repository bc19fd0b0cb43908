import { describe, expect, it } from 'vitest';
import { jsToml, pyToml, runProject } from '../helpers.js';

/** What a run must keep doing however its engine changes: stdio whole and in order, timers, stdin. */

describe('fabricks run: stdio and timers', () => {
  const runJs = (files: Record<string, string>, args: string[] = [], options: { input?: string } = {}) => runProject(jsToml(), files, args, options);

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

  it('runs Python printing, sleeping and reading stdin', async () => {
    const r = await runProject(pyToml(), { 'main.py': 'import sys, time\nt = time.monotonic()\ntime.sleep(0.05)\nprint("slept", time.monotonic() - t >= 0.05)\nsys.stderr.write("to stderr\\n")\nprint(sys.stdin.read().upper())\n' }, [], { input: 'abc' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('slept True\nABC\n');
    expect(r.stderr).toBe('to stderr\n');
  });

});
