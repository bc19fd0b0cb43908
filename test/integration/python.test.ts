import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fabricks, project, pyToml, copyExample, exists, storeSnapshot, repoRoot, runProject, copySuiteHome } from '../helpers.js';

/** Builds and runs a one-off Python project. */
const runPy = (files: Record<string, string>, args: string[] = [], options: { input?: string } = {}) => runProject(pyToml(), files, args, options);

async function buildJson(dir: string) {
  const r = await fabricks(['build', '-q', dir, '--json']);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('fabricks build and run (Python)', () => {
  it('runs examples/hello-python with its arguments; module layer under 4 KiB', async () => {
    const dir = await copyExample('hello-python');
    const built = await buildJson(dir);
    expect(built.runtime.ref).toBe('fabricks.dev/runtimes/python:3.14');
    expect(built.module.size).toBeLessThan(4096);
    const r = await fabricks(['run', '-q', dir, '--', 'Ada', '--flag', 'x y']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('Hello, Ada, from a WebAssembly component!\narguments: ["Ada", "--flag", "x y"]\n');
  });

  it('echoes stdin line by line until end of input (examples/echo-python)', async () => {
    const r = await fabricks(['run', '-q', await copyExample('echo-python'), '--', 'said'], { input: 'one\ntwo\n\nlast without newline' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('said: one\nsaid: two\nsaid: \nsaid: last without newline\n');
    expect(r.stderr).toBe('echoed 4 lines\n');
  });

  it('gives two different apps the same runtime layer, and names the real interpreter in its tag', async () => {
    const a = await buildJson(await project({ 'fabricks.toml': pyToml(), 'main.py': 'print(1)\n' }));
    const b = await buildJson(await project({ 'fabricks.toml': pyToml('app/server.py'), 'app/server.py': 'import sys\nprint(sys.version_info[:2])\n' }));
    expect(a.runtime.digest).toBe(b.runtime.digest);
    expect(a.module.digest).not.toBe(b.module.digest);
    const v = await runPy({ 'main.py': 'import sys\nprint("%d.%d" % sys.version_info[:2])\n' });
    expect(v.stdout.trim()).toBe(a.runtime.ref.split(':').pop());
  });

  it('imports modules, packages, relative imports and namespace packages from the module layer', async () => {
    const r = await runPy(
      {
        'main.py': [
          'import sys',
          'import helpers',
          'from app import config',
          'from app.sub.deep import where',
          'import ns.plain',
          'def main():',
          '    print(helpers.twice(21), config.NAME, where(), ns.plain.VALUE)',
          '    print(__name__, __file__, helpers.__file__, config.__package__)',
          '    print(sys.argv)',
          'if __name__ == "__main__":',
          '    main()',
          '',
        ].join('\n'),
        'helpers.py': 'def twice(x):\n    return x * 2\n',
        'app/__init__.py': 'from .config import NAME as _n\n',
        'app/config.py': 'NAME = "cfg"\n',
        'app/sub/__init__.py': '',
        'app/sub/deep.py': 'from ..config import NAME\nfrom . import __name__ as parent\ndef where():\n    return f"{__name__} under {parent} sees {NAME}"\n',
        'ns/plain.py': 'VALUE = "namespace"\n',
      },
      ['a', 'b c'],
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      '42 cfg app.sub.deep under app.sub sees cfg namespace\n' + '__main__ main.py helpers.py app\n' + "['main.py', 'a', 'b c']\n",
    );
  });

  it('runs an entrypoint in a subfolder with that folder as the import root', async () => {
    const dir = await project({ 'fabricks.toml': pyToml('src/server.py'), 'src/server.py': 'import util\nprint(util.X)\n', 'src/util.py': 'X = "from src"\n' });
    const r = await fabricks(['run', '-q', dir]);
    expect(r.stdout).toBe('from src\n');
    expect(r.status).toBe(0);
  });

  it('reads data files through importlib.resources, pkgutil and the fabricks helper', async () => {
    const r = await runPy({
      'main.py': [
        'import importlib.resources as res, pkgutil, fabricks',
        'data = res.files("pkg").joinpath("data.json")',
        'print(data.read_text().strip(), data.is_file(), res.files("pkg").is_dir())',
        'print(sorted(p.name for p in res.files("pkg").iterdir()))',
        'print((res.files("pkg") / "nested" / "b.bin").read_bytes())',
        'print(pkgutil.get_data("pkg", "data.json").decode().strip())',
        'print(res.files(__name__).joinpath("top.txt").read_text().strip())',
        'print(fabricks.read_text("pkg/data.json").strip(), fabricks.read_bytes("top.txt"), fabricks.exists("nope.txt"))',
        'print(fabricks.files())',
        'try:',
        '    fabricks.read_text("nope.txt")',
        'except FileNotFoundError as e:',
        '    print("missing:", e.filename)',
        '',
      ].join('\n'),
      'top.txt': 'top level\n',
      'pkg/__init__.py': '',
      'pkg/data.json': '{"k": 1}\n',
      'pkg/nested/b.bin': 'bytes',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      [
        '{"k": 1} True True',
        "['__init__.py', 'data.json', 'nested']",
        "b'bytes'",
        '{"k": 1}',
        'top level',
        "{\"k\": 1} b'top level\\n' False",
        "['main.py', 'pkg/__init__.py', 'pkg/data.json', 'pkg/nested/b.bin', 'top.txt']",
        'missing: nope.txt',
        '',
      ].join('\n'),
    );
  });

  it('reads stdin with read(), readline() and input()', async () => {
    const all = await runPy({ 'main.py': 'import sys\nprint(repr(sys.stdin.read()))\n' }, [], { input: 'a\nb' });
    expect(all.stdout).toBe("'a\\nb'\n");
    const lines = await runPy({ 'main.py': 'import sys\nfirst = input()\nsecond = sys.stdin.readline()\nprint([first, second, sys.stdin.readline()])\n' }, [], { input: 'x\ny\n' });
    expect(lines.stdout).toBe("['x', 'y\\n', '']\n");
  });

  it('gives the exit status of sys.exit and of a natural end, flushing output and running atexit', async () => {
    const status = async (code: string) => (await runPy({ 'main.py': code })).status;
    expect(await status('print("done")')).toBe(0);
    expect(await status('import sys\nsys.exit()')).toBe(0);
    expect(await status('import sys\nsys.exit(0)')).toBe(0);
    expect(await status('raise SystemExit(None)')).toBe(0);
    const one = await runPy({ 'main.py': 'import sys, atexit\natexit.register(lambda: print("atexit ran"))\nprint("before")\nsys.exit(1)\nprint("after")\n' });
    expect(one.status).toBe(1);
    expect(one.stdout).toBe('before\natexit ran\n');
    // WASI 0.2's exit carries success or failure only: every non-zero status ends as 1.
    expect(await status('import sys\nsys.exit(3)')).toBe(1);
    const message = await runPy({ 'main.py': 'import sys\nsys.exit("cannot go on")\n' });
    expect(message.status).toBe(1);
    expect(message.stderr).toBe('cannot go on\n');
  });

  it('prints a traceback with the user\'s files and lines for an uncaught exception, and fails', async () => {
    const r = await runPy({
      'main.py': 'from pkg.mod import divide\n\n\ndef main():\n    return divide(1, 0)\n\n\nmain()\n',
      'pkg/__init__.py': '',
      'pkg/mod.py': '# a comment\ndef divide(a, b):\n    return a / b\n',
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^Traceback \(most recent call last\):\n {2}File "main\.py", line 8, in <module>\n {4}main\(\)\n[\s\S]* {2}File "main\.py", line 5, in main\n {4}return divide\(1, 0\)\n[\s\S]* {2}File "pkg\/mod\.py", line 3, in divide\n {4}return a \/ b\n[\s\S]*ZeroDivisionError: division by zero\n$/,
    );
    expect(r.stderr).not.toMatch(/fabricks_runtime|importlib|trapped/);
  });

  it('fails an import outside the pre-imported standard library with an ImportError that names it', async () => {
    const r = await runPy({ 'main.py': 'print("start")\nimport wave\n' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('start\n');
    expect(r.stderr).toContain('File "main.py", line 2, in <module>');
    expect(r.stderr).toMatch(/ModuleNotFoundError: No module named 'wave': the fabricks runtime python:3\.14 does not include this standard library module/);
    const caught = await runPy({ 'main.py': 'try:\n    import tarfile\nexcept ImportError as e:\n    print(type(e).__name__, e.name, isinstance(e, ImportError))\n' });
    expect(caught.stdout).toBe('ModuleNotFoundError tarfile True\n');
    const third = await runPy({ 'main.py': 'import requests\n' });
    expect(third.stderr).toMatch(/No module named 'requests': fabricks imports modules from the files under \[source\] path/);
  });

  it('can import every module of the documented set at run time, and they work', async () => {
    const listed = (await readFile(join(repoRoot, 'guest', 'python', 'preimport.txt'), 'utf8'))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(listed.length).toBeGreaterThan(80);
    const required = 'json re asyncio dataclasses typing enum datetime time math random uuid hashlib base64 collections itertools functools pathlib logging textwrap string urllib.parse argparse traceback io struct copy inspect contextlib'.split(' ');
    const r = await runPy({
      'main.py': [
        'import importlib, sys',
        `for name in ${JSON.stringify([...listed, ...required])}:`,
        '    importlib.import_module(name)',
        'import asyncio, datetime, json, uuid, hashlib, base64, decimal, logging, argparse, urllib.parse, dataclasses, random',
        'import email.mime.text, xml.etree.ElementTree as ET',
        'async def later():',
        '    await asyncio.sleep(0.01)',
        '    return "async"',
        '@dataclasses.dataclass',
        'class P:',
        '    x: int',
        'logging.basicConfig(stream=sys.stderr, format="%(levelname)s %(message)s")',
        'logging.warning("logged")',
        'p = argparse.ArgumentParser(prog="t"); p.add_argument("--n", type=int)',
        'print(asyncio.run(later()), datetime.datetime.strptime("2024-02-03", "%Y-%m-%d").date(), json.dumps({"a": [1]}))',
        'print(len(str(uuid.uuid4())), hashlib.sha256(b"x").hexdigest()[:8], base64.b64encode(b"hi").decode(), decimal.Decimal("1.1") + 1)',
        'print(p.parse_args(["--n", "3"]).n, urllib.parse.quote("a b"), P(1), "é".encode("latin-1"), "bücher.de".encode("idna"))',
        'print(email.mime.text.MIMEText("x")["Content-Type"], ET.fromstring("<a><b/></a>")[0].tag, random.random() != random.random())',
        '',
      ].join('\n'),
    });
    expect(r.stderr).toBe('WARNING logged\n');
    expect(r.stdout).toBe(
      'async 2024-02-03 {"a": [1]}\n' + "36 2d711642 aGk= 2.1\n" + "3 a%20b P(x=1) b'\\xe9' b'xn--bcher-kva.de'\n" + 'text/plain; charset="us-ascii" b True\n',
    );
    expect(r.status).toBe(0);
  });

  it('seeds random from the host on every run', async () => {
    const dir = await project({ 'fabricks.toml': pyToml(), 'main.py': 'import random, uuid\nprint(random.random(), uuid.uuid4())\n' });
    const a = await fabricks(['run', '-q', dir]);
    const b = await fabricks(['run', '-q', dir]);
    expect(a.status, a.stderr).toBe(0);
    expect(a.stdout).not.toBe(b.stdout);
  });

  it('grants no filesystem, environment or network', async () => {
    const r = await runPy({
      'main.py': [
        'import os, socket',
        'print(dict(os.environ))',
        'for attempt in (lambda: open("main.py"), lambda: os.listdir("/"), lambda: socket.create_connection(("127.0.0.1", 80))):',
        '    try:',
        '        attempt()',
        '        print("allowed")',
        '    except OSError as e:',
        '        print("denied", type(e).__name__)',
        '',
      ].join('\n'),
    });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('{}');
    expect(lines.slice(1)).toEqual(['denied FileNotFoundError', 'denied FileNotFoundError', expect.stringMatching(/^denied /)]);
  });
});

describe('Python build errors', () => {
  it('reports syntax errors at build time with file, line and column, writing nothing', async () => {
    const home = await mkdtemp(join(tmpdir(), 'fabricks-home-'));
    await copySuiteHome(home);
    const before = await storeSnapshot(home);
    const dir = await project({
      'fabricks.toml': pyToml(),
      'main.py': 'import pkg.bad\n',
      'pkg/__init__.py': '',
      'pkg/bad.py': '\n\ndef f(:\n    pass\n',
      'other.py': 'x = 1\nprint(x))\n',
    });
    const r = await fabricks(['build', dir], { home });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('2 Python files do not compile');
    expect(r.stderr).toMatch(/other\.py:2:9: SyntaxError: unmatched '\)'\n\s+print\(x\)\)/);
    expect(r.stderr).toMatch(/pkg\/bad\.py:3:7: SyntaxError: invalid syntax\n\s+def f\(:/);
    expect(await exists(join(dir, '.fabricks'))).toBe(false);
    expect(await exists(join(dir, 'fabricks.lock'))).toBe(false);
    expect(await storeSnapshot(home)).toBe(before);
  });

  it('checks syntax with the runtime\'s Python 3.14, not the host\'s', async () => {
    // PEP 695 type parameters (3.12+) and PEP 758 except without brackets (3.14) compile here.
    const r = await runPy({ 'main.py': 'def first[T](xs: list[T]) -> T:\n    return xs[0]\ntry:\n    print(first([7]))\nexcept ValueError, TypeError:\n    pass\n' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('7\n');
  });

  it('rejects an entrypoint that is not a Python file', async () => {
    const dir = await project({ 'fabricks.toml': pyToml('main.js'), 'main.js': 'console.log(1)' });
    const r = await fabricks(['build', dir]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/\[source\] entrypoint: "main\.js" is not a file the python runtime runs \(\.py\)/);
  });
});
