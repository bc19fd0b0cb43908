import { describe, expect, it } from 'vitest';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fabricks, project, pyToml } from '../helpers.js';

// sqlite3 in the Python runtime: componentize-py's CPython has SQLite (3.51.2) built in; the
// runtime pre-imports it, and databases live in granted folders.
const main = [
  'import sqlite3, sys',
  'what = sys.argv[1]',
  'if what == "write":',
  '    db = sqlite3.connect("/data/notes.db")',
  '    db.execute("create table notes (id integer primary key, body text)")',
  '    db.executemany("insert into notes (body) values (?)", [("hello",), ("world",)])',
  '    db.commit()',
  '    db.close()',
  '    print(sqlite3.sqlite_version)',
  'elif what == "read":',
  '    print(sqlite3.connect("/data/notes.db").execute("select id, body from notes").fetchall())',
  'else:',
  '    db = sqlite3.connect("/ro/notes.db")',
  '    print(db.execute("select body from notes order by id").fetchall())',
  '    attempts = [',
  '        lambda: db.execute("insert into notes (body) values (\'x\')"),',
  '        lambda: db.cursor().execute("delete from notes"),',
  '        lambda: sqlite3.connect("/ro/new.db"),',
  '        lambda: sqlite3.connect("/nowhere/x.db"),',
  '    ]',
  '    for attempt in attempts:',
  '        try:',
  '            attempt()',
  '        except Exception as e:',
  '            print(type(e).__name__, e)',
  '',
].join('\n');

describe('Python sqlite3', () => {
  it('keeps a database in a read-write mount from one run to the next, reads it from a read-only one and refuses writes there, saying why', async () => {
    const data = await mkdtemp(join(tmpdir(), 'fabricks-sqlite-'));
    const mounts = `\n[capabilities.filesystem]\nmounts = [{ guest = "/data", host = ${JSON.stringify(data)}, mode = "rw" }, { guest = "/ro", host = ${JSON.stringify(data)}, mode = "ro" }]\n`;
    const dir = await project({ 'fabricks.toml': pyToml('main.py', mounts), 'main.py': main });
    const write = await fabricks(['run', '-q', dir, '--', 'write']);
    expect(write.status, write.stderr).toBe(0);
    expect(write.stdout).toBe('3.51.2\n');
    expect(await readdir(data)).toEqual(['notes.db']);
    const read = await fabricks(['run', '-q', dir, '--', 'read']);
    expect(read.status, read.stderr).toBe(0);
    expect(read.stdout).toBe("[(1, 'hello'), (2, 'world')]\n");
    const ro = await fabricks(['run', '-q', dir, '--', 'ro']);
    expect(ro.status, ro.stderr).toBe(0);
    const readOnly = 'the folder /ro is granted read-only; to write to it, set mode = "rw" for it in [capabilities.filesystem] mounts in fabricks.toml';
    expect(ro.stdout.split('\n')).toEqual([
      "[('hello',), ('world',)]",
      `OperationalError attempt to write a readonly database: ${readOnly}`,
      `OperationalError attempt to write a readonly database: ${readOnly}`,
      `PermissionError [Errno 69] ${readOnly}: '/ro/new.db'`,
      "FileNotFoundError [Errno 44] no folder is granted at /nowhere; add a mount for it to [capabilities.filesystem] mounts in fabricks.toml (files packed with the service are read with fabricks.read_text() or importlib.resources): '/nowhere/x.db'",
      '',
    ]);
    expect(await readdir(data)).toEqual(['notes.db']);
  });
});
