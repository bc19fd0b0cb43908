"""sqlite3 on the granted folders ([capabilities.filesystem] mounts).

SQLite opens a database file itself (no Python audit event names the path), read-write first.
On a read-only mount the host refuses that, and SQLite's answer is a bare "access permission
denied", even for a read. So sqlite3.connect() places the path first: a database in a folder
that is not granted raises the FileNotFoundError fabricks_folders gives for any file there; one
in a read-only mount is opened read-only and without locks (mode=ro&nolock=1: the host refuses
the lock SQLite takes to read, SQLITE_PERM), so reads work (a writer outside the sandbox is not
waited for), and a write raises SQLite's OperationalError with the mount and what to change
added; a new database there is refused as a new file would be.
"""

import functools
import os
import sqlite3
import urllib.parse

import fabricks_folders

_READONLY = "attempt to write a readonly database"


def _explained(e: sqlite3.OperationalError, folder: str) -> sqlite3.OperationalError:
    if _READONLY not in str(e):
        return e
    error = sqlite3.OperationalError(f'{e}: the folder {folder} is granted read-only; to write to it, set mode = "rw" for it in {fabricks_folders.CONFIG}')
    for name in ("sqlite_errorcode", "sqlite_errorname"):
        if hasattr(e, name):
            setattr(error, name, getattr(e, name))
    return error


def _read_only_factory(base, folder: str):
    def wrap(call):
        @functools.wraps(call)
        def method(self, *args, **kwargs):
            try:
                return call(self, *args, **kwargs)
            except sqlite3.OperationalError as e:
                raise _explained(e, folder) from None

        return method

    class Cursor(sqlite3.Cursor):
        execute = wrap(sqlite3.Cursor.execute)
        executemany = wrap(sqlite3.Cursor.executemany)
        executescript = wrap(sqlite3.Cursor.executescript)

    class Connection(base):
        execute = wrap(base.execute)
        executemany = wrap(base.executemany)
        executescript = wrap(base.executescript)
        commit = wrap(base.commit)

        def cursor(self, factory=Cursor):
            return super().cursor(factory)

    return Connection


def _path(database, uri: bool):
    if uri or not isinstance(database, (str, bytes, os.PathLike)):
        return None
    path = os.fsdecode(database)
    if path in ("", ":memory:"):
        return None
    return os.path.abspath(path)


def _place(connect):
    @functools.wraps(connect)
    def place(database, *args, **kwargs):
        path = _path(database, kwargs.get("uri", False))
        if path is None:
            return connect(database, *args, **kwargs)
        folder = os.path.dirname(path)
        if not os.path.exists(path):
            # a new database: made as a new file would be (no mount, or a read-only one, is refused)
            fabricks_folders.check(path, writes=True)
        else:
            fabricks_folders.check(path, writes=False)
            if not os.access(path, os.W_OK) or not os.access(folder, os.W_OK):
                mount = fabricks_folders.mount_of(path) or folder
                database = "file:" + urllib.parse.quote(path) + "?mode=ro&nolock=1"
                kwargs["uri"] = True
                kwargs["factory"] = _read_only_factory(kwargs.get("factory", sqlite3.Connection), mount)
        return connect(database, *args, **kwargs)

    return place


def install() -> None:
    sqlite3.connect = sqlite3.dbapi2.connect = _place(sqlite3.connect)
