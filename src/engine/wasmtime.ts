/**
 * `fabricks run` on wasmtime: hosts/wasmtime/run.py (wasmtime-py, a maintained binding with a
 * prebuilt engine and a serialized-component cache) runs the component, while this process
 * decides its outbound requests with the same policy as the in-process host (network-policy.ts).
 * A warm start costs a tenth of a second where jco + Node paid half a second (docs/architecture.md).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Duplex } from 'node:stream';
import { FabricksError } from '../util/errors.js';
import type { Descriptor } from '../oci/content.js';
import { digestHex } from '../oci/digest.js';
import type { LayoutStore } from '../oci/layout-store.js';
import { packageRoot, toolsDir } from '../util/paths.js';
import { startStep, type Reporter } from '../util/progress.js';
import type { Grants } from './host.js';
import { addressDenial, nameDenial, NetworkPolicy, requestTarget } from './network-policy.js';
import type { RunOutcome } from './run.js';
import { PROVIDED_IMPORTS } from './provided.js';
import { compiledKey, trimCaches, type TranspileCachePolicy } from './transpile-cache.js';

/** The wasmtime-py scripts/install-tools installs; its compiled components are kept per version. */
export const WASMTIME_PY_VERSION = '50.0.1';


/** The Python that has wasmtime-py (FABRICKS_WASMTIME_PYTHON overrides). */
export function wasmtimePython(): string {
  return process.env.FABRICKS_WASMTIME_PYTHON || join(toolsDir(), `wasmtime-py-${WASMTIME_PY_VERSION}`, 'bin', 'python');
}

export function wasmtimeAvailable(): boolean {
  return existsSync(wasmtimePython());
}

/** A component file and its digest's hex (its compiled form's cache key). */
export interface ComponentFile {
  path: string;
  hex: string;
}

/** A stored blob as the engine reads it, checked against its digest first. */
export async function storedComponent(store: LayoutStore, desc: Pick<Descriptor, 'digest' | 'size'>): Promise<ComponentFile> {
  await store.verify(desc);
  return { path: store.blobPath(desc.digest), hex: digestHex(desc.digest) };
}

export interface WasmtimeOptions {
  cacheDir: string;
  reporter: Reporter;
  /** Leases (a gc elsewhere spares the compiled entries) and the size the cache trims itself to. */
  policy?: TranspileCachePolicy;
  signal?: AbortSignal;
}

/** fabricks:app/source answered from memory (a build's syntax check), not from a module layer. */
export interface SourceProvider {
  entrypoint(): string;
  list(): string[];
  read(path: string): Uint8Array | undefined;
}

type HostMessage =
  | { source: ['entrypoint'] | ['list'] | ['read', string] }
  | { compiling: string }
  | { compiled: string; bytes: number; ms: number }
  | { connect: { scheme: string | null; authority: string | null } }
  | { exit: RunOutcome & { unlinked?: string } };

/** The host bin/fabricks.js started for this process, until a run takes it. */
let early: WasmtimeHost | undefined;

/**
 * The engine process, started as early as possible: it loads wasmtime while fabricks resolves
 * what to run, then waits for the run on its socket. Dropped (cancel) when the run goes elsewhere.
 */
export class WasmtimeHost {
  private readonly child: ChildProcess;
  private readonly channel: Duplex;
  private readonly exited: Promise<[number | null, NodeJS.Signals | null]>;

  private constructor(python: string) {
    // the guest's environment is in the run config, never in the engine process's own
    this.child = spawn(python, ['-I', '-B', join(packageRoot, 'hosts', 'wasmtime', 'run.py')], { stdio: ['inherit', 'inherit', 'inherit', 'pipe'], env: {} });
    this.channel = this.child.stdio[3] as Duplex;
    this.exited = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('close', (c, s) => resolve([c, s]));
    });
    // a host that failed to start is reported by run(); cancel() must not see it as unhandled
    this.exited.catch(() => undefined);
  }

  /**
   * Started by bin/fabricks.js for `fabricks run`, before the CLI's modules load (about 50 ms
   * more for the host to load wasmtime in); not holding fabricks open until a run takes it.
   */
  static startEarly(argv: string[]): void {
    const command = argv.slice(2).find((a) => !a.startsWith('-'));
    if (command !== 'run' || process.env.FABRICKS_ENGINE === 'jco' || early || !wasmtimeAvailable()) return;
    early = new WasmtimeHost(wasmtimePython());
    early.child.unref();
    (early.channel as Duplex & { unref(): void }).unref();
    const host = early;
    process.once('exit', () => host.child.kill('SIGKILL'));
  }

  /** The host bin/fabricks.js started, if any, or a new one. */
  static take(): WasmtimeHost {
    const host = early;
    early = undefined;
    if (!host) return WasmtimeHost.start();
    host.child.ref();
    (host.channel as Duplex & { ref(): void }).ref();
    return host;
  }

  /** Drops the host bin/fabricks.js started, when the run goes in-process. */
  static dropEarly(): void {
    early?.cancel();
    early = undefined;
  }

  /** Starts the engine process, or throws TOOL_MISSING when wasmtime-py is not installed. */
  static start(): WasmtimeHost {
    const python = wasmtimePython();
    if (!existsSync(python)) {
      throw new FabricksError('TOOL_MISSING', `wasmtime-py ${WASMTIME_PY_VERSION} is not installed (${python})`, { hint: 'run: npm run setup (or scripts/install-tools)' });
    }
    return new WasmtimeHost(python);
  }

  /** Ends an engine process that will not run anything (it exits when its socket closes). */
  cancel(): void {
    this.channel.end();
    this.child.kill('SIGKILL');
  }

  /**
   * Runs `main`'s wasi:cli/run with `grants`. With `source`, main is a fabricks runtime layer
   * and source the app's module layer answering its fabricks:app/source (so the compiled runtime
   * is shared by every app on it); without, main is a whole component.
   */
  async run(main: ComponentFile, source: ComponentFile | SourceProvider | undefined, grants: Grants, opts: WasmtimeOptions): Promise<RunOutcome> {
    const layer = source && 'hex' in source ? source : undefined;
    const served = source && !('hex' in source) ? source : undefined;
    await opts.policy?.leases.hold([main, ...(layer ? [layer] : [])].map((c) => compiledKey(c.hex)));
    const policy = new NetworkPolicy(grants.connect ?? []);
    const send = (message: unknown) => this.channel.write(`${JSON.stringify(message)}\n`);
    send({
      cache: opts.cacheDir,
      // compiling the runtime takes seconds (shown); a module layer, milliseconds
      main: { ...main, announce: true },
      source: layer ?? null,
      served_source: Boolean(served),
      args: grants.args,
      env: grants.env,
      mounts: (grants.mounts ?? []).map((m) => ({ guest: m.guest, host: m.host, mode: m.mode })),
    });
    const onAbort = () => this.child.kill('SIGTERM');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let outcome: (RunOutcome & { unlinked?: string }) | undefined;
    let compiledAny = false;
    const compiling = new Map<string, (data: { digest: string; size: number }) => void>();
    const lines = createInterface({ input: this.channel });
    // one question at a time: the guest waits for each answer
    let queue = Promise.resolve();
    lines.on('line', (line) => {
      const message = JSON.parse(line) as HostMessage;
      if ('source' in message) {
        const [what, path] = message.source;
        const value = what === 'entrypoint' ? served?.entrypoint() : what === 'list' ? served?.list() : served?.read(path ?? '');
        send({ value: value instanceof Uint8Array ? Buffer.from(value).toString('base64') : (value ?? null) });
      } else if ('compiling' in message) compiling.set(message.compiling, startStep(opts.reporter, 'compile', `sha256:${message.compiling}`));
      else if ('compiled' in message) {
        compiledAny = true;
        compiling.get(message.compiled)?.({ digest: `sha256:${message.compiled}`, size: message.bytes });
      } else if ('connect' in message) {
        const { scheme, authority } = message.connect;
        queue = queue.then(async () => {
          send(await judge(policy, scheme, authority));
        });
      } else if ('exit' in message) outcome = message.exit;
    });
    const [code, signal] = await this.exited
      .catch((cause: unknown) => {
        throw new FabricksError('RUN_FAILED', `the wasmtime host could not start: ${String((cause as Error)?.message ?? cause)}`, { cause, hint: 'run: npm run setup, which reinstalls wasmtime-py' });
      })
      .finally(() => opts.signal?.removeEventListener('abort', onAbort));
    if (compiledAny && opts.policy) await trimCaches(opts.policy.caches ?? [{ name: 'compiled', dir: opts.cacheDir, key: compiledKey }], opts.policy.limit, opts.policy.leases.dir).catch(() => undefined);
    if (outcome?.unlinked) {
      throw new FabricksError('RUN_FAILED', `the component cannot run here: ${outcome.unlinked}`, {
        hint: `fabricks run provides ${PROVIDED_IMPORTS}`,
      });
    }
    if (outcome) return outcome;
    if (signal) return { status: 128 + (osConstants.signals[signal] ?? 1) };
    throw new FabricksError('RUN_FAILED', `the wasmtime host stopped without an exit status (exit code ${code})`, { hint: 'run: npm run setup, which reinstalls wasmtime-py' });
  }
}

/** Starts an engine process and runs on it (see WasmtimeHost.run). */
export function runOnWasmtime(main: ComponentFile, source: ComponentFile | SourceProvider | undefined, grants: Grants, opts: WasmtimeOptions): Promise<RunOutcome> {
  return WasmtimeHost.start().run(main, source, grants, opts);
}

/** The answer to "may this request go out?": allowed, refused (with the message), or malformed. */
async function judge(policy: NetworkPolicy, scheme: string | null, authority: string | null): Promise<unknown> {
  const target = requestTarget(scheme === null ? undefined : scheme === 'HTTP' || scheme === 'HTTPS' ? { tag: scheme } : { tag: 'other', val: scheme }, authority ?? undefined);
  if ('error' in target) return { error: target.error };
  const { host, port } = target;
  let why = nameDenial(policy, host, port);
  if (!why && isIP(host) === 0) {
    // a name that does not resolve fails as it would anyway (a DNS error), with nothing to grant
    const addresses = await lookup(host, { all: true, verbatim: true }).then((all) => all.map((a) => a.address), () => []);
    why = addressDenial(policy, host, addresses, port);
  }
  return why ? { deny: why, target: `${host}:${port}` } : { allow: true };
}
