import { createServer, type IncomingMessage, type Server } from 'node:http';

/** Python HTTP services and a recording upstream server, shared by the serving tests. */

/** A WSGI app that exercises what a server must keep: bodies, repeated headers, streaming, failures, outbound HTTP. */
export const wsgiApp = `
import http.client, socket, sys, urllib.error, urllib.parse, urllib.request

def app(environ, start_response):
    path = environ["PATH_INFO"]
    query = urllib.parse.parse_qs(environ["QUERY_STRING"])
    if path == "/echo":
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", [("Content-Type", environ.get("CONTENT_TYPE", "")), ("X-Method", environ["REQUEST_METHOD"])])
        return [body]
    if path == "/cookies":
        start_response("200 OK", [("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2; Path=/")])
        return [b"two cookies"]
    if path == "/stream":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return (f"chunk {i}\\n".encode() for i in range(3))
    if path == "/boom":
        raise ValueError("the app failed on purpose")
    if path == "/fetch":
        try:
            req = urllib.request.Request(query["url"][0], data=b"from the guest", headers={"X-Guest": "yes"})
            with urllib.request.urlopen(req, timeout=10) as r:
                text = f"{r.status} {r.read().decode()}"
        except urllib.error.URLError as e:
            text = f"URLError: {e.reason}"
        start_response("200 OK", [])
        return [text.encode()]
    if path == "/client":
        try:
            c = http.client.HTTPConnection(query["host"][0], int(query["port"][0]), timeout=10)
            c.request("GET", "/via-http-client")
            r = c.getresponse()
            text = f"{r.status} {r.read().decode()}"
        except OSError as e:
            text = f"{type(e).__name__}: {e}"
        start_response("200 OK", [])
        return [text.encode()]
    if path == "/socket":
        try:
            s = socket.socket()
            s.connect(("127.0.0.1", int(query["port"][0])))
            text = "connected"
        except OSError as e:
            text = f"{type(e).__name__}: {e}"
        start_response("200 OK", [])
        return [text.encode()]
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [f"no route for {path}".encode()]
`;

/** The same exchanges as an ASGI 3 app, with a lifespan that sets state. */
export const asgiApp = `
started = []

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                started.append("yes")
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    if path == "/boom":
        raise RuntimeError("the ASGI app failed on purpose")
    if path == "/cookies":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")]})
        await send({"type": "http.response.body", "body": b"two cookies"})
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    headers = dict(scope["headers"])
    await send({"type": "http.response.start", "status": 201, "headers": [(b"content-type", headers.get(b"content-type", b""))]})
    await send({"type": "http.response.body", "body": scope["method"].encode() + b" " + scope["path"].encode() + b" ", "more_body": True})
    await send({"type": "http.response.body", "body": body + b" lifespan=" + ",".join(started).encode()})
`;

/** A real HTTP server on loopback that records what reached it. */
export async function upstream(): Promise<{ server: Server; port: number; seen: Array<{ url: string; headers: IncomingMessage['headers']; body: string }> }> {
  const seen: Array<{ url: string; headers: IncomingMessage['headers']; body: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', headers: req.headers, body });
      res.setHeader('content-type', 'text/plain');
      res.end(`upstream saw ${req.method} ${req.url}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0, seen };
}

