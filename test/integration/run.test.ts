import { describe, expect, it } from 'vitest';
import { rm } from 'node:fs/promises';
import { fabricks, project, jsToml, copyExample, runProject } from '../helpers.js';

/** Builds and runs a one-off JavaScript project. */
const runJs = (files: Record<string, string>, args: string[] = [], options: { input?: string; env?: Record<string, string> } = {}) => runProject(jsToml(), files, args, options);

describe('fabricks run (JavaScript)', () => {
  it('runs examples/hello-js with its arguments', async () => {
    const r = await fabricks(['run', '-q', await copyExample('hello-js'), '--', 'Ada', '--flag', 'x y']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('Hello, Ada, from a WebAssembly component!\narguments: ["Ada","--flag","x y"]\n');
  });

  it('echoes stdin line by line until end of input (examples/echo-js)', async () => {
    const r = await fabricks(['run', '-q', await copyExample('echo-js'), '--', 'said'], { input: 'one\ntwo\r\n\nlast without newline' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('said: one\nsaid: two\nsaid: \nsaid: last without newline\n');
    expect(r.stderr).toContain('echoed 4 lines');
  });

  it('streams output as it is written, while the program still waits for input', async () => {
    const dir = await project({
      'fabricks.toml': jsToml(),
      'main.js': 'process.stdout.write("ready\\n");\nfor await (const chunk of process.stdin) process.stdout.write("got " + String(chunk).trim() + "\\n");\n',
    });
    let sawReadyBeforeInput = false;
    const r = await fabricks(['run', '-q', dir], {
      onStdout: (chunk, child) => {
        if (chunk.includes('ready') && !sawReadyBeforeInput) {
          sawReadyBeforeInput = true;
          child.stdin!.end('ping\n');
        }
      },
    });
    expect(sawReadyBeforeInput).toBe(true);
    expect(r.stdout, r.stderr).toBe('ready\ngot ping\n');
    expect(r.status).toBe(0);
  });

  it('reads all of stdin, and stdin synchronously line by line', async () => {
    const all = await runJs({ 'main.js': 'const t = fabricks.stdin.readAll(); console.log(JSON.stringify(t));' }, [], { input: 'a\nb\n' });
    expect(all.stdout).toBe('"a\\nb\\n"\n');
    const lines = await runJs({ 'main.js': 'let l; while ((l = fabricks.stdin.readLine()) !== null) console.log("[" + l + "]");' }, [], { input: 'x\r\ny\nz' });
    expect(lines.stdout).toBe('[x]\n[y]\n[z]\n');
    const chunks = await runJs({ 'main.js': 'process.stdin.setEncoding("utf8"); let s = ""; process.stdin.on("data", (d) => s += d); process.stdin.on("end", () => console.log(s.length));' }, [], { input: 'é'.repeat(100_000) });
    expect(chunks.stdout).toBe('100000\n');
  });

  it('gives the exit status of process.exit and of a natural end with process.exitCode', async () => {
    expect((await runJs({ 'main.js': 'console.log("before"); process.exit(0); console.log("after")' })).status).toBe(0);
    const one = await runJs({ 'main.js': 'console.log("before"); process.exit(1); console.log("after")' });
    expect(one.status).toBe(1);
    expect(one.stdout).toBe('before\n');
    // WASI 0.2 exit carries success or failure: any non-zero code is status 1.
    expect((await runJs({ 'main.js': 'setTimeout(() => process.exit(3), 5)' })).status).toBe(1);
    expect((await runJs({ 'main.js': 'process.exitCode = 2; console.log("done")' })).status).toBe(1);
  });

  it('shows a thrown error with its message and a stack that names the user file and line', async () => {
    const r = await runJs({
      'main.js': 'import { explode } from "./lib/util.js";\n\nexplode("boom");\n',
      'lib/util.js': '// a helper\nexport function explode(what) {\n  throw new TypeError(`it went ${what}`);\n}\n',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^TypeError: it went boom\n {4}at explode \(lib\/util\.js:3:9\)\n {4}at main\.js:3:1/m);
    const later = await runJs({ 'main.js': '\nsetTimeout(() => {\n  null.x;\n}, 1);\n' });
    expect(later.status).toBe(1);
    expect(later.stderr).toMatch(/TypeError: .*null.*\n {4}at main\.js:3:3/);
  });

  it('runs timers, promises and top-level await to completion, in order', async () => {
    // Orders that hold whatever the machine's load: the first timer is due no later than the
    // second, and promise jobs (the await below) run between two timers, as in Node.
    const r = await runJs({
      'main.js': [
        'const first = new Promise((r) => setTimeout(r, 1));',
        'setTimeout(() => console.log("second timer"), 1);',
        'setTimeout(() => { console.log("A"); Promise.resolve().then(() => console.log("A job")); }, 2);',
        'setTimeout(() => console.log("B"), 2);',
        'let n = 0; let intervalDone; const interval = new Promise((r) => (intervalDone = r));',
        'const iv = setInterval(() => { if (++n === 3) { clearInterval(iv); console.log("interval x3"); intervalDone(); } }, 1);',
        'await first;',
        'console.log("after await");',
        'process.nextTick(() => console.log("next tick"));',
        'setTimeout(() => console.log("never: unref\'d"), 60_000).unref();',
        // Waits for the interval itself: a fixed sleep lost the race on a loaded machine.
        'await interval;',
        'await new Promise((r) => setTimeout(r, 5));',
        'console.log("end of main");',
      ].join('\n'),
    });
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout.trim().split('\n');
    expect(out.indexOf('after await')).toBeLessThan(out.indexOf('second timer'));
    expect(out.indexOf('next tick')).toBe(out.indexOf('after await') + 1);
    expect(out.indexOf('A job')).toBe(out.indexOf('A') + 1);
    expect(out.indexOf('A')).toBeLessThan(out.indexOf('B'));
    expect(out).toContain('interval x3');
    expect(out[out.length - 1]).toBe('end of main');
    expect(out).not.toContain("never: unref'd");
  });

  it('grants no environment, no files and no network', async () => {
    const r = await runJs(
      {
        'main.js': [
          'console.log(JSON.stringify(process.env));',
          'try { await fetch("http://127.0.0.1:9/"); console.log("fetched"); } catch (e) { console.log("fetch refused"); }',
        ].join('\n'),
      },
      [],
      { env: { FABRICKS_SECRET: 'do-not-leak' } },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('{}\nfetch refused\n');
  });

  it('reads the packed files through the fabricks API and node:fs', async () => {
    const r = await runJs({
      'main.js': [
        'import { readFileSync, existsSync } from "node:fs";',
        'console.log(fabricks.files().join(","));',
        'console.log(fabricks.readText("data/greeting.txt").trim());',
        'console.log(readFileSync("./data/greeting.txt", "utf8").trim(), existsSync("nope.txt"));',
        'try { fabricks.readFile("nope.txt") } catch (e) { console.log(e.code) }',
      ].join('\n'),
      'data/greeting.txt': 'hello from a data file\n',
      'node_modules/ignored/index.js': 'ignored',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('data/greeting.txt,main.js,main.js.map\nhello from a data file\nhello from a data file false\nENOENT\n');
  });

  it('runs an entrypoint inside a package that declares "sideEffects": false (as mcp-hello-world does)', async () => {
    const r = await runProject(jsToml('node_modules/pure-bin/bin.js'), {
      'node_modules/pure-bin/package.json': JSON.stringify({ name: 'pure-bin', version: '1.0.0', type: 'module', sideEffects: false }),
      'node_modules/pure-bin/bin.js': 'import { greet } from "./lib.js";\nconsole.log(greet(process.argv[2]));',
      'node_modules/pure-bin/lib.js': 'export const greet = (who) => `hello, ${who}`;',
    }, ['Ada']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('hello, Ada\n');
  });

  it('runs a stored name:version with no project folder around', async () => {
    const dir = await project({ 'fabricks.toml': '[package]\nname = "stored-app"\nversion = "2.0.0"\n' + jsToml(), 'main.js': 'console.log("stored", process.argv.slice(2).join(" "))' });
    expect((await fabricks(['build', '-q', dir])).status).toBe(0);
    await rm(dir, { recursive: true });
    const r = await fabricks(['run', '-q', 'stored-app:2.0.0', '--', 'ok']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('stored ok\n');
    const missing = await fabricks(['run', 'stored-app:9.9.9']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/stored-app:9\.9\.9 is not in the local store/);
  });
});
