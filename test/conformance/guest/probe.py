"""The capability conformance suite's probe program for Python (test/conformance).

A probe is {"op": ..., arguments}; its outcome is {"ok": value} or {"err": {type, code, message}},
the same shape probe.js gives, so that one table of expectations judges both runtimes.
  a run:     fabricks run <dir> -- '<JSON list of probes>'  prints the JSON list of outcomes
  a request: POST /<op> with the probe's arguments as JSON  answers its outcome as JSON (WSGI)
"""

import errno
import json
import os
import shutil
import socket
import sys
import time
import urllib.error
import urllib.request


def read(path):
    with open(path) as f:
        return f.read()


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return read(path)


def mkdir(path, recursive=False):
    (os.makedirs if recursive else os.mkdir)(path)
    return os.path.exists(path)


def rename_trick(dir, moved, link, file):
    os.rename(dir, moved)
    os.rename(link, dir)
    return read(f"{dir}/{file}")


def move(src, dst):
    shutil.move(src, dst)
    return [read(dst), os.path.exists(src)]


def fetch(url, method="GET", body=None):
    request = urllib.request.Request(url, method=method, data=None if body is None else body.encode())
    with urllib.request.urlopen(request, timeout=10) as r:
        return {"status": r.status, "url": r.url, "body": r.read().decode()}


def connect_socket(host, port):
    s = socket.socket()
    s.connect((host, port))
    return "connected"


def race_swap(root, ms):
    swaps, end = 0, time.monotonic() + ms / 1000
    while time.monotonic() < end:
        try:
            os.rename(f"{root}/d", f"{root}/d_real")
            os.rename(f"{root}/escape", f"{root}/d")
            os.rename(f"{root}/d", f"{root}/escape")
            os.rename(f"{root}/d_real", f"{root}/d")
            swaps += 1
        except OSError:
            pass
        try:
            os.rename(f"{root}/a/b/up", f"{root}/a/up")
            os.rename(f"{root}/a/up", f"{root}/a/b/up")
        except OSError:
            pass
    return {"swaps": swaps}


def race_probe(root, ms, outside):
    seen, i, end = {"inside": 0, "outside": 0, "refused": 0, "written": 0}, 0, time.monotonic() + ms / 1000
    while time.monotonic() < end:
        for path in (f"{root}/d/secret.txt", f"{root}/a/up/secret.txt"):
            try:
                seen["outside" if read(path) == outside else "inside"] += 1
            except OSError:
                seen["refused"] += 1
        try:
            write(f"{root}/d/made-{i}.txt", "x")
            seen["written"] += 1
        except OSError:
            pass
        i += 1
    return seen


OPS = {
    "env": lambda: dict(os.environ),
    "env-get": lambda name: os.environ[name],
    "env-has": lambda name: [name in os.environ, os.environ.get(name)],
    "read": read,
    "write": write,
    "mkdir": mkdir,
    "list": lambda path: sorted(os.listdir(path)),
    "symlink": lambda target, path: os.symlink(target, path),
    "rename": lambda **a: os.rename(a["from"], a["to"]),
    "rename-trick": rename_trick,
    "move": lambda **a: move(a["from"], a["to"]),
    "fetch": fetch,
    "socket": connect_socket,
    "race-swap": race_swap,
    "race-probe": race_probe,
}


def spin():
    while True:
        pass


def hog():
    kept = []
    while True:
        kept.append(bytearray(1 << 20))


# Probes that reach a limit: run unguarded, so that the limit, not an except, ends them.
LIMITS = {"spin": spin, "wait": lambda: time.sleep(3600), "hog": hog}


def error(e):
    # urllib wraps what http.client raised (a refusal is a PermissionError) in a URLError
    via = None
    if isinstance(e, urllib.error.URLError) and isinstance(e.reason, BaseException):
        via, e = "URLError", e.reason
    err = {"type": type(e).__name__, "message": e.strerror if isinstance(e, OSError) and e.strerror else str(e)}
    if isinstance(e, OSError) and e.errno is not None:
        err["code"] = errno.errorcode.get(e.errno, str(e.errno))
    if via:
        err["via"] = via
    return err


def probe(p):
    args = {k: v for k, v in p.items() if k != "op"}
    if p["op"] in LIMITS:
        return {"ok": LIMITS[p["op"]](**args)}
    if p["op"] not in OPS:
        return {"err": {"type": "unsupported", "message": f"no probe {p['op']} in Python"}}
    try:
        return {"ok": OPS[p["op"]](**args)}
    except Exception as e:  # noqa: BLE001 - every failure is an outcome
        return {"err": error(e)}


def app(environ, start_response):
    size = int(environ.get("CONTENT_LENGTH") or 0)
    args = json.loads(environ["wsgi.input"].read(size) or b"{}") if size else {}
    body = json.dumps(probe({**args, "op": environ["PATH_INFO"][1:]})).encode()
    start_response("200 OK", [("content-type", "application/json")])
    return [body]


if __name__ == "__main__":
    print(json.dumps([probe(p) for p in json.loads(sys.argv[1])]))
