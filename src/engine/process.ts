/**
 * fabricks' one engine: `fabricks-engine` (crates/engine, on the wasmtime crate), started as a
 * process with the program's stdio and a socket on fd 3 that carries JSON lines
 * (docs/host-protocol.md). It runs or serves one component with exactly the grants sent in the
 * job, and enforces every one of them itself; this side only starts it, sends the job, and turns
 * what it reports into progress events and an outcome.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Duplex } from 'node:stream';
import { FabricksError } from '../util/errors.js';
import type { Descriptor } from '../oci/content.js';
import { digestHex } from '../oci/digest.js';
import type { LayoutStore } from '../oci/layout-store.js';
import { toolsDir } from '../util/paths.js';
import { startStep, type Reporter } from '../util/progress.js';
import { parseConnectRule, type ConnectRule } from '../config/connect-rules.js';
import type { Grants, RunOutcome } from './grants.js';
import { PROVIDED_IMPORTS } from './provided.js';
import { compiledKey, trimCache, type CachePolicy } from './compiled-cache.js';

/** The engine scripts/install-tools builds (FABRICKS_ENGINE_BIN overrides, for development). */
export function engineBinary(): string {
  return process.env.FABRICKS_ENGINE_BIN || join(toolsDir(), 'fabricks-engine', 'bin', 'fabricks-engine');
}

/** A component file and its digest's hex (its compiled form's cache key). */
export interface ComponentFile {
  path: string;
  hex: string;
  /** Only its compiled form in the cache will do (a prepared form: `path` cannot remake it). */
  cachedOnly?: boolean;
}

/** What preparing an app did (crates/engine/src/prepare.rs). */
export interface PrepareOutcome {
  prepared: boolean;
  /** Why there is no snapshot: what the app's code did while it loaded. */
  refused?: string;
  /** Made earlier (or refused earlier) and found in the cache. */
  cached?: boolean;
  bytes?: number;
  ms?: number;
  /** What the snapshot holds ready: `ahead` (JavaScript: the dependencies evaluated), `compiled`, ... (the runtime's word). */
  stage?: string;
  /** Why the dependencies were not evaluated ahead (stage B given up for the compile-only form). */
  aheadRefused?: string;
}

/** A stored blob as the engine reads it, checked against its digest first. */
export async function storedComponent(store: LayoutStore, desc: Pick<Descriptor, 'digest' | 'size'>): Promise<ComponentFile> {
  await store.verify(desc);
  return { path: store.blobPath(desc.digest), hex: digestHex(desc.digest) };
}

/** The app's files, sent with the job instead of read from a module layer (a build's check). */
export interface SourceFiles {
  entrypoint: string;
  files: Map<string, Uint8Array>;
}

export interface EngineOptions {
  cacheDir: string;
  reporter: Reporter;
  /** Leases (a gc elsewhere spares the compiled entries) and the size the cache trims itself to. */
  policy?: CachePolicy;
  signal?: AbortSignal;
  /** PEM files of certificate roots to trust besides the built-in ones. */
  extraRoots?: string[];
  /** Keep the program's stdout and return it with the outcome. */
  captureStdout?: boolean;
}

export interface ServeOptions extends EngineOptions {
  name: string;
  host: string;
  port: number;
  /** Keep an instance from request to request (fabricks' own runtimes). */
  reuseInstances: boolean;
  /** Offer the first instance the accept loop (its runtime's guest answers the offer). */
  acceptLoop?: boolean;
}

type EngineMessage =
  | { compiling: string }
  | { compiled: string; bytes: number; ms: number }
  | { serving: { address: string; port: number; concurrency: number } }
  | { request: { method: string; path: string; status: number; ms: number; error?: string } }
  | { note: string }
  | { preparing: string }
  | { exit: EngineExit };

interface EngineExit {
  status: number;
  trap?: string;
  limit?: 'memory' | 'timeout';
  stdout?: string;
  unlinked?: string;
  failed?: boolean;
  no_handler?: boolean;
  listen_failed?: string;
  errno?: number;
  phases?: Record<string, number>;
  /** Filled in here: the digests (hex) the engine compiled during the job. */
  compiled?: string[];
  prepared?: boolean;
  refused?: string;
  cached?: boolean;
  bytes?: number;
  ms?: number;
  stage?: unknown;
  ahead_refused?: unknown;
}

/** The engine bin/fabricks.js started for this process, until a run takes it. */
let early: EngineProcess | undefined;

export class EngineProcess {
  private readonly child: ChildProcess;
  private readonly channel: Duplex;
  private readonly exited: Promise<[number | null, NodeJS.Signals | null]>;

  private constructor(binary: string) {
    // the guest's environment is in the job, never in the engine process's own
    this.child = spawn(binary, [], { stdio: ['inherit', 'inherit', 'inherit', 'pipe'], env: {} });
    this.channel = this.child.stdio[3] as Duplex;
    this.exited = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('close', (c, s) => resolve([c, s]));
    });
    // an engine that failed to start is reported by run(); cancel() must not see it as unhandled
    this.exited.catch(() => undefined);
  }

  /** Started by bin/fabricks.js for `fabricks run`, before the CLI's modules load. */
  static startEarly(argv: string[]): void {
    const command = argv.slice(2).find((a) => !a.startsWith('-'));
    if (command !== 'run' || early || !existsSync(engineBinary())) return;
    early = new EngineProcess(engineBinary());
    early.child.unref();
    (early.channel as Duplex & { unref(): void }).unref();
    const engine = early;
    process.once('exit', () => engine.child.kill('SIGKILL'));
  }

  /** The engine bin/fabricks.js started, if any, or a new one. */
  static take(): EngineProcess {
    const engine = early;
    early = undefined;
    if (!engine) return EngineProcess.start();
    engine.child.ref();
    (engine.channel as Duplex & { ref(): void }).ref();
    return engine;
  }

  /** Starts the engine, or throws TOOL_MISSING when it is not installed. */
  static start(): EngineProcess {
    const binary = engineBinary();
    if (!existsSync(binary)) {
      throw new FabricksError('TOOL_MISSING', `fabricks' engine is not installed (${binary})`, { hint: 'run: npm run setup (or scripts/install-tools), which builds it' });
    }
    return new EngineProcess(binary);
  }

  /** Ends an engine that will not run anything (it exits when its socket closes). */
  cancel(): void {
    this.channel.end();
    this.child.kill('SIGKILL');
  }

  /**
   * Compiles `main` (and `source`) for this machine into the compiled cache, and runs nothing:
   * after a pull, or for `fabricks prepare`, so that no client's spawn waits for it. Returns the
   * digests (hex) compiled now; what was compiled already is left as it is.
   */
  async compile(main: ComponentFile, source: ComponentFile | undefined, opts: EngineOptions): Promise<string[]> {
    const exit = await this.execute('compile', main, source, { args: [], env: [] }, opts, {});
    if (exit.status !== 0) throw new FabricksError('RUN_FAILED', `the engine could not compile the component: ${exit.trap ?? `status ${exit.status}`}`);
    return exit.compiled ?? [];
  }

  /**
   * Makes the pre-initialized form of the runtime layer `main` for the app whose module layer is
   * `source`, compiled into the compiled cache under `key`, or records why it cannot be made.
   */
  async prepare(main: ComponentFile, source: ComponentFile, key: string, opts: EngineOptions): Promise<PrepareOutcome> {
    const exit = await this.execute('prepare', main, source, { args: [], env: [] }, opts, { prepared: key });
    if (exit.status !== 0) throw new FabricksError('RUN_FAILED', `the engine could not prepare the app: ${exit.trap ?? `status ${exit.status}`}`);
    return {
      prepared: exit.prepared === true,
      ...(exit.refused !== undefined ? { refused: exit.refused } : {}),
      ...(exit.cached ? { cached: true } : {}),
      ...(exit.bytes !== undefined ? { bytes: exit.bytes } : {}),
      ...(exit.ms !== undefined ? { ms: exit.ms } : {}),
      ...(typeof exit.stage === 'string' ? { stage: exit.stage } : {}),
      ...(typeof exit.ahead_refused === 'string' ? { aheadRefused: exit.ahead_refused } : {}),
    };
  }

  /**
   * Runs `main`'s wasi:cli/run with `grants`. With `source`, main is a fabricks runtime layer
   * and source the app's module layer (or its files) answering fabricks:app/source, so the
   * compiled runtime is shared by every app on it; without, main is a whole component.
   */
  async run(main: ComponentFile, source: ComponentFile | SourceFiles | undefined, grants: Grants, opts: EngineOptions): Promise<RunOutcome> {
    const exit = await this.execute('run', main, source, grants, opts, {});
    return outcomeOf(exit);
  }

  /**
   * Serves `main`'s wasi:http/incoming-handler on opts.host:opts.port until opts.signal aborts;
   * each request is reported as a `request` event. Resolves once the engine has stopped.
   */
  async serve(main: ComponentFile, source: ComponentFile | undefined, grants: Grants, opts: ServeOptions): Promise<void> {
    const exit = await this.execute('serve', main, source, grants, opts, { listen: { host: opts.host, port: opts.port }, reuse_instances: opts.reuseInstances, accept_loop: opts.acceptLoop === true });
    if (exit.no_handler) {
      throw new FabricksError('RUN_FAILED', `${opts.name} asks to listen, and its component does not export wasi:http/incoming-handler`, {
        hint: 'a JavaScript service serves with `export default { fetch(request) { ... } }` or addEventListener("fetch", ...); a Python one with a WSGI or ASGI `app`; or remove [capabilities.network] listen to run it as a command',
      });
    }
    if (exit.listen_failed !== undefined) {
      const why = exit.errno === osConstants.errno.EADDRINUSE ? 'the port is in use' : exit.errno === osConstants.errno.EACCES ? 'permission denied' : exit.listen_failed;
      throw new FabricksError('RUN_FAILED', `cannot listen on ${opts.host}:${opts.port}: ${why}`, { hint: 'stop what uses it, or map the service to another port with --listen PORT' });
    }
    if (exit.status !== 0) {
      throw new FabricksError('RUN_FAILED', `${opts.name} could not be served: ${exit.trap ?? `the engine stopped (status ${exit.status})`}`);
    }
  }

  private async execute(mode: 'run' | 'serve' | 'compile' | 'prepare', main: ComponentFile, source: ComponentFile | SourceFiles | undefined, grants: Grants, opts: EngineOptions, extra: Record<string, unknown>): Promise<EngineExit> {
    const layer = source && 'hex' in source ? source : undefined;
    const files = source && 'files' in source ? source : undefined;
    await opts.policy?.leases.hold([main, ...(layer ? [layer] : [])].map((c) => compiledKey(c.hex)));
    const send = (message: unknown) => this.channel.write(`${JSON.stringify(message)}\n`);
    send({
      mode,
      cache: opts.cacheDir,
      // compiling the runtime takes seconds (shown); a module layer, milliseconds
      main: { path: main.path, hex: main.hex, announce: true, cached_only: main.cachedOnly === true },
      source: layer ?? null,
      files: files ? { entrypoint: files.entrypoint, files: Object.fromEntries([...files.files].map(([p, b]) => [p, Buffer.from(b).toString('base64')])) } : null,
      capture_stdout: Boolean(opts.captureStdout),
      args: grants.args,
      env: grants.env,
      mounts: (grants.mounts ?? []).map((m) => ({ guest: m.guest, host: m.host, mode: m.mode })),
      connect: (grants.connect ?? []).map(parseConnectRule).filter((r): r is ConnectRule => !('error' in r)),
      extra_roots: opts.extraRoots ?? [],
      limits: {
        memory: grants.limits?.memory ?? null,
        timeout_ms: grants.limits?.timeoutMs ?? null,
        request_timeout_ms: grants.limits?.requestTimeoutMs ?? null,
        concurrency: grants.limits?.concurrency ?? null,
      },
      ...extra,
    });
    const onAbort = () => {
      // a service stops when asked; a run is stopped as Ctrl-C would stop it
      if (mode === 'serve') send({ stop: true });
      else this.child.kill('SIGTERM');
    };
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    let exit: EngineExit | undefined;
    const compiledNow: string[] = [];
    const compiling = new Map<string, (data: { digest: string; size: number }) => void>();
    const lines = createInterface({ input: this.channel });
    lines.on('line', (line) => {
      const message = JSON.parse(line) as EngineMessage;
      if ('preparing' in message) compiling.set(message.preparing, startStep(opts.reporter, 'prepare', `sha256:${message.preparing}`));
      else if ('compiling' in message) compiling.set(message.compiling, startStep(opts.reporter, 'compile', `sha256:${message.compiling}`));
      else if ('compiled' in message) {
        compiledNow.push(message.compiled);
        compiling.get(message.compiled)?.({ digest: `sha256:${message.compiled}`, size: message.bytes });
      } else if ('serving' in message) {
        const s = message.serving;
        opts.reporter({ event: 'serving', subject: (opts as ServeOptions).name, address: s.address, port: s.port, workers: s.concurrency });
      } else if ('request' in message) {
        const r = message.request;
        opts.reporter({ event: 'request', method: r.method, path: r.path, status: r.status, ms: r.ms, ...(r.error ? { error: r.error } : {}) });
      } else if ('note' in message) opts.reporter({ event: 'note', code: 'engine', subject: (opts as ServeOptions).name ?? 'the service', detail: message.note });
      else if ('exit' in message) exit = message.exit;
    });
    const [code, signal] = await this.exited
      .catch((cause: unknown) => {
        throw new FabricksError('RUN_FAILED', `fabricks' engine could not start: ${String((cause as Error)?.message ?? cause)}`, { cause, hint: 'run: npm run setup, which builds it again' });
      })
      .finally(() => opts.signal?.removeEventListener('abort', onAbort));
    if (compiledNow.length > 0 && opts.policy) await trimCache(opts.policy.dir, opts.policy.limit, opts.policy.leases.dir).catch(() => undefined);
    if (exit?.unlinked) {
      throw new FabricksError('RUN_FAILED', `the component cannot run here: ${exit.unlinked}`, { hint: `fabricks run provides ${PROVIDED_IMPORTS}` });
    }
    if (exit?.failed) throw new FabricksError('RUN_FAILED', `the engine could not run the component: ${exit.trap ?? 'no reason given'}`);
    if (exit) return { ...exit, compiled: compiledNow };
    if (signal) return { status: 128 + (osConstants.signals[signal] ?? 1) };
    throw new FabricksError('RUN_FAILED', `fabricks' engine stopped without an exit status (exit code ${code})`, { hint: 'run: npm run setup, which builds it again' });
  }
}

function outcomeOf(exit: EngineExit): RunOutcome {
  return {
    status: exit.status,
    ...(exit.trap ? { trap: exit.trap } : {}),
    ...(exit.limit ? { limit: exit.limit } : {}),
    ...(exit.stdout !== undefined ? { stdout: Buffer.from(exit.stdout, 'base64') } : {}),
    ...(exit.phases ? { phases: exit.phases } : {}),
  };
}
