import type { ProgressEvent, Reporter } from '../util/progress.js';
import { bytes, mb, ms, short } from './format.js';

export type ProgressMode = 'human' | 'json' | 'none';

/** The display chosen at the edge: human lines, newline-delimited JSON, or nothing; always on stderr. */
export function reporterFor(mode: ProgressMode, stream: NodeJS.WritableStream = process.stderr): Reporter {
  if (mode === 'none') return () => {};
  if (mode === 'json') return (e) => stream.write(`${JSON.stringify(e)}\n`);
  return (e) => {
    const line = humanLine(e);
    if (line !== undefined) stream.write(`  ${line}\n`);
  };
}

/** One line for a person, or nothing for events only machines care about. */
export function humanLine(e: ProgressEvent): string | undefined {
  switch (e.event) {
    case 'step-start':
      switch (e.step) {
        case 'runtime-build':
          return `building runtime ${e.subject} with ${e.tool ?? 'its builder'} (once per machine, about 20 s) ...`;
        case 'resolve':
          return `resolving ${e.subject} ...`;
        case 'install':
          return `installing ${e.subject} with ${e.tool ?? 'its installer'} (install scripts not run) ...`;
        case 'bundle':
          return `bundling ${e.subject} ...`;
        case 'dependencies':
          return `resolving the Python dependencies in ${e.subject} with pip ...`;
        case 'native-build':
          return `building ${e.subject} for WebAssembly from its source distribution (once per machine; seconds for a small C extension, about a minute for a small Rust extension, 3 for pydantic-core) ...`;
        case 'c-library-build':
          return `building ${e.subject} for WebAssembly, a C library a compiled dependency links (once per machine, about a minute) ...`;
        case 'native-push':
          return `pushing the wheel of ${e.subject} to ${e.tool ?? 'the repository'} ...`;
        case 'transpile':
          return `preparing ${short(e.subject)} to run on this machine (once per component) ...`;
        case 'compile':
          return `compiling ${short(e.subject)} for this machine with wasmtime (once per runtime) ...`;
        case 'prepare':
          return `making the app's pre-initialized form for this machine (once per build; seconds) ...`;
        case 'verify':
          return `checking every blob of ${e.subject} ...`;
        default:
          return undefined;
      }
    case 'step-done':
      switch (e.step) {
        case 'runtime-build':
          return `built runtime ${e.subject}: ${bytes(e.size ?? 0)}, ${short(e.digest ?? '')} (${ms(e.ms)})`;
        case 'build':
          return e.cached ? undefined : `built ${e.subject} (${ms(e.ms)})`;
        case 'resolve':
          return `resolved ${e.subject}${e.tool ? ` (${e.tool})` : ''} (${ms(e.ms)})`;
        case 'install':
          return `installed ${e.subject}${e.size !== undefined ? ` and ${e.size} dependencies` : ''} (${ms(e.ms)})`;
        case 'transpile':
          return `prepared it (${ms(e.ms)})`;
        case 'compile':
          return `compiled it (${ms(e.ms)})`;
        case 'prepare':
          return `made it (${ms(e.ms)})`;
        case 'dependencies':
          return `${e.size ?? 0} Python package(s) pinned in fabricks.lock (${ms(e.ms)})`;
        case 'native-build':
          return `built ${e.subject}: ${bytes(e.size ?? 0)} (${ms(e.ms)})`;
        case 'c-library-build':
          return `built ${e.subject}: libcrypto ${bytes(e.size ?? 0)} (${ms(e.ms)})`;
        case 'native-pull':
          return `took ${e.subject} built elsewhere: ${bytes(e.size ?? 0)}, ${short(e.digest ?? '')} (${ms(e.ms)}; no Rust build here)`;
        case 'native-push':
          return `shared ${e.subject}: ${bytes(e.size ?? 0)}, ${short(e.digest ?? '')} (${ms(e.ms)})`;
        case 'recompose':
          return `recomposed the component; its digest ${short(e.digest ?? '')} is the one recorded at build time (${ms(e.ms)})`;
        default:
          return undefined;
      }
    case 'wait':
      return `waiting for ${e.holder ?? 'another fabricks'} to finish ${e.step === 'runtime-build' ? 'building' : 'with'} ${e.subject}`;
    case 'note':
      if (e.code === 'widened') return `widened: ${e.subject} (${e.detail})`;
      if (e.code === 'wide-mount') return `warning: mount ${e.subject}: ${e.detail}`;
      if (e.code === 'native-left-out' || e.code === 'native-older-release') return `warning: ${e.subject}: ${e.detail}`;
      if (e.code === 'wheel-share') return `warning: ${e.subject}: ${e.detail}`;
      return `note: ${e.subject}: ${e.detail}${e.code === 'not-reproducible' ? '; this build will not be byte-reproducible' : ''}`;
    case 'retry':
      return `registry ${e.registry}: ${e.what} failed (${e.reason}); trying again in ${ms(e.waitMs)} (${e.attempt + 1} of ${e.attempts})`;
    case 'serving':
      return `serving ${e.subject} on http://${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port} (${e.workers} workers; Ctrl-C stops it)`;
    case 'mcp-server':
      if (e.state === 'started') return `server ${e.server} started (pid ${e.pid ?? '?'}, ${e.tools ?? 0} tools, ${ms(e.ms ?? 0)})`;
      if (e.state === 'failed') return `error: server ${e.server} did not start: ${e.detail ?? 'unknown reason'}; its tools, prompts and resources are left out`;
      return `server ${e.server} ended${e.detail ? ` (${e.detail})` : ''}; it is started again on its next call`;
    case 'server-output':
      return `[${e.server}] ${e.line.trimStart()}`;
    case 'mcp-gateway':
      return `serving ${e.servers} MCP server(s) as one on ${e.url} (Streamable HTTP; Ctrl-C stops it)`;
    case 'request':
      return `${e.method} ${e.path} ${e.status} ${ms(e.ms)}${e.error ? ` (${e.error})` : ''}`;
    case 'transfer-start':
      return `${e.direction === 'push' ? 'pushing' : 'pulling'} ${e.reference}`;
    case 'blob-bytes':
      return `${e.title}  ${mb(e.bytes)} of ${mb(e.total)}`;
    case 'blob-done': {
      const what =
        e.action === 'skipped'
          ? `skipped (${e.direction === 'push' ? 'the registry has it' : 'already in the local store'})`
          : e.action === 'mounted'
            ? `mounted from ${e.from} (no bytes sent)`
            : `${e.action} ${bytes(e.bytes)} (${ms(e.ms)})`;
      return `${e.title.padEnd(12)} ${e.size.toLocaleString('en').padStart(12)} bytes  ${what}`;
    }
  }
}
