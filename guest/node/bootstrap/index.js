// The fabricks JavaScript runtime: built once into the runtime layer with componentize-js
// (StarlingMonkey). It holds no user code. On `wasi:cli/run` it reads the bundled entrypoint
// from the module layer (fabricks:app/source), gives it a small Node-like environment and runs it
// until nothing is left to do, as Node would. On `wasi:http/incoming-handler` (its own, over
// wasi:http/types) it loads the same entrypoint once and hands each request to its `export
// default { fetch }` or its `addEventListener('fetch', ...)` listeners, one after another.
//
// The modules of this folder are bundled into one script when the runtime is built
// (src/runtimes/node/bootstrap-bundle.ts). Their top level runs at build time (wizer
// pre-initialization), so it must not call any import there; everything that talks to the host
// happens inside run() and incomingHandler.handle(). Imports run one way (no cycles), so each
// module's top level finds what it uses already defined.

export { run } from './run.js';
export { incomingHandler } from './serve.js';
export { prepare } from './prepare.js';
