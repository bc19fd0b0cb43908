/**
 * The one error type fabricks raises on purpose. Anything else that reaches the CLI's
 * error boundary is a bug and is reported as one.
 */
export type ErrorCode =
  | 'CONFIG_MISSING'
  | 'CONFIG_INVALID'
  | 'LOCK_INVALID'
  | 'LOCK_MISMATCH'
  | 'SOURCE_INVALID'
  | 'JS_SYNTAX'
  | 'JS_RESOLVE'
  | 'PY_SYNTAX'
  | 'RUNTIME_UNKNOWN'
  | 'RUNTIME_UNSUPPORTED'
  | 'RUNTIME_BUILD_FAILED'
  | 'TOOL_MISSING'
  | 'TOOL_FAILED'
  | 'STORE_CORRUPT'
  | 'NOT_FOUND'
  | 'REFERENCE_INVALID'
  | 'DIGEST_MISMATCH'
  | 'COMPONENT_INVALID'
  | 'RUN_FAILED'
  | 'REGISTRY_AUTH'
  | 'REGISTRY_UNREACHABLE'
  | 'REGISTRY_ERROR'
  | 'USAGE';

export class FabricksError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  /** Several problems found at once (config validation reports them all). */
  readonly problems: string[];

  constructor(
    code: ErrorCode,
    message: string,
    options: { hint?: string; cause?: unknown; problems?: string[] } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FabricksError';
    this.code = code;
    this.hint = options.hint;
    this.problems = options.problems ?? [];
  }
}

export function isFabricksError(e: unknown, code?: ErrorCode): e is FabricksError {
  return e instanceof FabricksError && (code === undefined || e.code === code);
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
