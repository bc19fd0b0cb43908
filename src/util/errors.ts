/**
 * The one error type fabricks raises on purpose. Anything else that reaches the CLI's
 * error boundary is a bug and is reported as one.
 */
export type ErrorCode =
  /** fabricks.toml is absent or wrong; fabricks.lock is unreadable or pins another runtime. */
  | 'CONFIG_MISSING'
  | 'CONFIG_INVALID'
  | 'LOCK_INVALID'
  | 'LOCK_MISMATCH'
  /** The source folder cannot be packed as it is (links that leave it, clashing names). */
  | 'SOURCE_INVALID'
  | 'JS_SYNTAX'
  | 'JS_RESOLVE'
  | 'PY_SYNTAX'
  /** A Python dependency cannot be packed (no pure-Python wheel) or resolved. */
  | 'DEPENDENCY_INVALID'
  /** A Python dependency has compiled code fabricks cannot build for WebAssembly (a build system other than setuptools or maturin, no source distribution). */
  | 'NATIVE_UNSUPPORTED'
  /** Building a Python dependency's Rust or C extension for WebAssembly failed, or it cannot be linked into the runtime (the toolchain's lines say why). */
  | 'NATIVE_BUILD_FAILED'
  /** A published package cannot be built by name: no program to run, several and none chosen, files it does not hold. */
  | 'PACKAGE_INVALID'
  /** [from] image names no runtime fabricks knows, or something that is not a runtime. */
  | 'RUNTIME_UNKNOWN'
  | 'RUNTIME_UNSUPPORTED'
  | 'RUNTIME_BUILD_FAILED'
  /** An external tool (wac, componentize-js, componentize-py, cc) is missing or failed. */
  | 'TOOL_MISSING'
  | 'TOOL_FAILED'
  /** The local store's own files (index.json, a blob) are damaged. */
  | 'STORE_CORRUPT'
  /** What was named does not exist (in the local store or a registry). */
  | 'NOT_FOUND'
  /** It exists, but is another kind of artifact than the command takes. */
  | 'WRONG_KIND'
  /** A manifest or config that is not what its media type says. */
  | 'ARTIFACT_INVALID'
  | 'REFERENCE_INVALID'
  | 'DIGEST_MISMATCH'
  | 'COMPONENT_INVALID'
  | 'RUN_FAILED'
  | 'REGISTRY_AUTH'
  | 'REGISTRY_UNREACHABLE'
  /** The registry answered with an error status (see `status`). */
  | 'REGISTRY_REFUSED'
  /** Another live fabricks holds a lock this command waited for too long. */
  | 'LOCKED'
  /** The user stopped the command (Ctrl-C, SIGTERM). */
  | 'INTERRUPTED'
  /** An MCP client's configuration file (claude_desktop_config.json, mcp.json...) is not valid JSON (JSONC where the client allows it), or not shaped as the client reads it. */
  | 'CLIENT_CONFIG_INVALID'
  /** An MCP client's configuration file changed while fabricks was editing it; nothing was written. */
  | 'CLIENT_CONFIG_CHANGED'
  /** The command line itself is wrong. */
  | 'USAGE';

export interface ErrorOptions {
  hint?: string | undefined;
  cause?: unknown;
  /** Several problems found at once (config validation reports them all). */
  problems?: string[];
  /** The HTTP status a registry answered with, where one did. */
  status?: number | undefined;
}

export class FabricksError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly problems: string[];
  readonly status: number | undefined;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FabricksError';
    this.code = code;
    this.hint = options.hint;
    this.problems = options.problems ?? [];
    this.status = options.status;
  }
}

export function isFabricksError(e: unknown, code?: ErrorCode): e is FabricksError {
  return e instanceof FabricksError && (code === undefined || e.code === code);
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The chain of causes below an error, outermost first (for --verbose). */
export function causeChain(e: unknown, max = 8): unknown[] {
  const out: unknown[] = [];
  let cur = (e as { cause?: unknown } | undefined)?.cause;
  while (cur !== undefined && cur !== null && out.length < max) {
    out.push(cur);
    cur = (cur as { cause?: unknown }).cause;
  }
  return out;
}

/** The error a command ends with when the user interrupts it. */
export function interrupted(signal?: AbortSignal): FabricksError {
  const reason = signal?.reason;
  return new FabricksError('INTERRUPTED', `interrupted${typeof reason === 'string' ? ` (${reason})` : ''}; nothing was left half-written`);
}

/** Throws INTERRUPTED when the signal was aborted: call between steps that write. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw interrupted(signal);
}
