import { describe, expect, it } from 'vitest';
import { fabricks, project, jsToml, pyToml, copyExample } from '../helpers.js';
import { wasmtimeRun as wasmtime } from '../hosts/wasmtime-run.js';

async function built(dir: string): Promise<string> {
  const r = await fabricks(['build', '-q', dir, '--json']);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout).component.path;
}

describe('.fabricks/app.wasm on wasmtime, a standard WASI 0.2 host', () => {
  it('runs examples/hello-js with its arguments', async () => {
    const r = wasmtime(await built(await copyExample('hello-js')), ['Grace']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Hello, Grace, from a WebAssembly component!\narguments: ["Grace"]\n');
    expect(r.status).toBe(0);
  });

  it('echoes stdin (examples/echo-js)', async () => {
    const r = wasmtime(await built(await copyExample('echo-js')), [], 'a\nb\n');
    expect(r.stdout).toBe('echo: a\necho: b\n');
    expect(r.status).toBe(0);
  });

  it('gives a failing exit status for process.exit(1) and an uncaught error', async () => {
    const exit = wasmtime(await built(await project({ 'fabricks.toml': jsToml(), 'main.js': 'console.log("x"); process.exit(1);' })));
    expect(exit.stdout).toBe('x\n');
    expect(exit.status).toBe(1);
    const thrown = wasmtime(await built(await project({ 'fabricks.toml': jsToml(), 'main.js': '\nthrow new Error("bad");' })));
    expect(thrown.stderr).toMatch(/^Error: bad\n {4}at main\.js:2:7/);
    expect(thrown.status).toBe(1);
  });

  it('runs examples/hello-python and echo-python', async () => {
    const hello = wasmtime(await built(await copyExample('hello-python')), ['Grace']);
    expect(hello.stderr).toBe('');
    expect(hello.stdout).toBe('Hello, Grace, from a WebAssembly component!\narguments: ["Grace"]\n');
    expect(hello.status).toBe(0);
    const echo = wasmtime(await built(await copyExample('echo-python')), [], 'a\nb\n');
    expect(echo.stdout).toBe('echo: a\necho: b\n');
    expect(echo.status).toBe(0);
  });

  it('gives a failing exit status for a Python sys.exit(4) and an uncaught exception', async () => {
    const exit = wasmtime(await built(await project({ 'fabricks.toml': pyToml(), 'main.py': 'import sys\nprint("x")\nsys.exit(4)\n' })));
    expect(exit.stdout).toBe('x\n');
    expect(exit.status).toBe(1);
    const raised = wasmtime(await built(await project({ 'fabricks.toml': pyToml(), 'main.py': '\nraise KeyError("k")\n' })));
    expect(raised.stderr).toMatch(/File "main\.py", line 2, in <module>\n[\s\S]*KeyError: 'k'\n$/);
    expect(raised.status).toBe(1);
  });
});
