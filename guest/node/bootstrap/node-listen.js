// Node HTTP servers (`http.createServer(...).listen(port)`, polyfills/node/http-server.js) are
// served like `export default { fetch }`: listen() hands this runtime a fetch-style handler,
// which serve.js calls for each request. Only an instance started by the incoming handler,
// that is one that [capabilities.network] listen granted, may listen; a program run as a
// command gets Node's listen error (EACCES) naming the capability to add.

let serving = false;
let handler;
let listened; // resolves when a server listens (made on first use: nothing is created at wizer time)
let onListen = () => {};

/** serve.js starts the bundle: listen() may succeed from now on. */
export function startServing() {
  serving = true;
}

/** A promise that settles once a Node server has listened. */
export function whenListening() {
  listened ??= new Promise((resolve) => {
    onListen = resolve;
    if (handler) resolve();
  });
  return listened;
}

/** The handler of the server that listened, if any. */
export const listeningHandler = () => handler;

/** Called by a Node server's listen(); throws Node's listen error when it cannot be served. */
export function listen(fetchHandler, port) {
  if (!serving) {
    const asked = typeof port === 'number' && port > 0 ? port : 8080;
    const e = new Error(
      `listen EACCES: serving HTTP is not granted; add listen = [${asked}] to [capabilities.network] in fabricks.toml (or run with --allow-listen ${asked})`,
    );
    Object.assign(e, { code: 'EACCES', errno: -13, syscall: 'listen', port, capability: '[capabilities.network] listen' });
    throw e;
  }
  if (handler) {
    const e = new Error('listen EADDRINUSE: another HTTP server is already listening; a fabricks service serves one server, on the port [capabilities.network] listen grants');
    Object.assign(e, { code: 'EADDRINUSE', errno: -98, syscall: 'listen', port });
    throw e;
  }
  handler = fetchHandler;
  onListen();
}

/** A server's close(): requests are no longer handed to it. */
export function unlisten(fetchHandler) {
  if (handler === fetchHandler) handler = undefined;
}
