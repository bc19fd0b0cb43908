"""A small WSGI app: `fabricks run` serves it on the port in [capabilities.network] listen."""

import json

visits = 0  # kept between requests: one instance serves them one after another


def app(environ, start_response):
    global visits
    method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
    if method == "GET" and path == "/":
        visits += 1
        return reply(start_response, "200 OK", "text/plain", f"Hello from a WebAssembly component! (visit {visits})\n")
    if method == "POST" and path == "/echo":
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(size)
        start_response("200 OK", [("Content-Type", environ.get("CONTENT_TYPE", "application/octet-stream"))])
        return [body]
    if method == "GET" and path == "/json":
        data = {"path": path, "query": environ["QUERY_STRING"], "agent": environ.get("HTTP_USER_AGENT")}
        return reply(start_response, "200 OK", "application/json", json.dumps(data) + "\n")
    return reply(start_response, "404 Not Found", "text/plain", f"no route for {method} {path}\n")


def reply(start_response, status, content_type, text):
    body = text.encode("utf-8")
    start_response(status, [("Content-Type", f"{content_type}; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


if __name__ == "__main__":
    # `python app.py` serves it locally with the standard library's WSGI server.
    from wsgiref.simple_server import make_server

    make_server("127.0.0.1", 8080, app).serve_forever()
