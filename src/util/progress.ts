/**
 * Typed progress events: the core emits data, the CLI chooses how (or whether) to show them
 * (human lines on stderr, newline-delimited JSON, nothing). No event carries prose.
 */
export type Step =
  /** Building a runtime fabricks provides (subject: its reference). */
  | 'runtime-build'
  /** Bundling a JavaScript entrypoint (subject: the entrypoint). */
  | 'bundle'
  /** Resolving a published package to one version (subject: the reference; on step-done, the pinned reference; tool: the integrity checked). */
  | 'resolve'
  /** Installing a published package's dependencies into its cached project (subject: name@version; tool: the installer; size: packages). */
  | 'install'
  /** Resolving and fetching a Python project's dependencies (subject: the requirements file; size: wheel count). */
  | 'dependencies'
  /** Building a compiled Python dependency for WebAssembly from its source distribution (subject: name and version; size: the wheel). */
  | 'native-build'
  /** Building a C library fabricks provides for such builds, for WebAssembly (subject: name and version, OpenSSL 3.5.5; size: its main archive). */
  | 'c-library-build'
  /** Taking such a wheel, built elsewhere, from the repository that shares them (subject: name and version; tool: the reference; digest, size: the wheel). */
  | 'native-pull'
  /** Pushing a wheel built here to that repository (as native-pull). */
  | 'native-push'
  /** Generating the module layer (digest, size). */
  | 'pack'
  /** Composing runtime and module with wac (digest, size of the component). */
  | 'compose'
  /** Checking Python sources with the runtime's own interpreter. */
  | 'check'
  /** Preparing a component to run on this machine (jco transpile; subject: digest). */
  | 'transpile'
  /** Compiling a component for this machine with wasmtime, once (subject: digest; size: compiled bytes). */
  | 'compile'
  /** Making an app's pre-initialized form on this machine, once (subject: its cache key). */
  | 'prepare'
  /** Recomposing a stored or pulled app and checking its digest. */
  | 'recompose'
  /** A whole build (subject: name:version; digest: the manifest). */
  | 'build'
  /** The program itself starts (subject: its name); from here it owns stdin, stdout and the terminal. */
  | 'run'
  /** Checking every blob of the store (subject: the store; size: bytes checked). */
  | 'verify';

export type Direction = 'push' | 'pull';
export type BlobAction = 'sent' | 'received' | 'skipped' | 'mounted';

export type ProgressEvent =
  | { event: 'step-start'; step: Step; subject: string; tool?: string }
  | { event: 'step-done'; step: Step; subject: string; ms: number; digest?: string; size?: number; cached?: boolean; tool?: string }
  /** Waiting for another process (a lock it holds). */
  | { event: 'wait'; step: Step; subject: string; holder?: string }
  /** Something the user may want to know that does not stop the command. */
  | { event: 'note'; code: 'not-reproducible' | 'link-skipped' | 'damaged-blob' | 'widened' | 'wide-mount' | 'not-granted' | 'engine'
    /** A run started without the app's pre-initialized form (engine/prepared.ts). */
    | 'not-prepared' | 'unavailable-builtin' | 'native-left-out' | 'native-older-release' | 'native-cast' | 'wheel-share' | 'wheel-missing'; subject: string; detail: string }
  | { event: 'transfer-start'; direction: Direction; reference: string }
  /** A registry request failed in a way worth trying again (reason: an HTTP status or an error code). */
  | { event: 'retry'; registry: string; what: string; attempt: number; attempts: number; waitMs: number; reason: string }
  | { event: 'blob-bytes'; direction: Direction; title: string; digest: string; bytes: number; total: number }
  /** A service serves HTTP (subject: its name) at address:port with this many workers. */
  | { event: 'serving'; subject: string; address: string; port: number; workers: number }
  /** One request a served service answered (error: why fabricks answered it instead). */
  | { event: 'request'; method: string; path: string; status: number; ms: number; error?: string }
  /** A server behind `fabricks mcp serve` started (pid of its `fabricks run`), failed to start, or ended (detail: why). */
  | { event: 'mcp-server'; server: string; state: 'started' | 'failed' | 'exited'; pid?: number; ms?: number; tools?: number; detail?: string }
  /** A line a server behind the gateway wrote on its stderr. */
  | { event: 'server-output'; server: string; line: string }
  /** `fabricks mcp serve --listen` serves Streamable HTTP at url. */
  | { event: 'mcp-gateway'; url: string; servers: number }
  | { event: 'blob-done'; direction: Direction; title: string; digest: string; size: number; action: BlobAction; from?: string; bytes: number; ms: number };

export type Reporter = (event: ProgressEvent) => void;

export const silentReporter: Reporter = () => {};

/** Times a step: emits step-start now and returns the function that emits step-done. */
export function startStep(reporter: Reporter, step: Step, subject: string, tool?: string) {
  const started = Date.now();
  reporter({ event: 'step-start', step, subject, ...(tool ? { tool } : {}) });
  return (data: { digest?: string; size?: number; cached?: boolean } = {}) =>
    reporter({ event: 'step-done', step, subject, ms: Date.now() - started, ...data });
}
