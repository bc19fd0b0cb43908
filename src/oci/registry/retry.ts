/** When and how long to wait before trying a registry request again. */
export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  /** Wait before the second try; doubled for each later one, with jitter. */
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseMs: 250, maxMs: 8000 };

/** 429 and 5xx are worth a retry; other statuses are answers. */
export const retryableStatus = (status: number) => status === 429 || status === 408 || (status >= 500 && status !== 501 && status !== 505);

const RETRYABLE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED', 'ERR_UPLOAD_STALLED']);

/** The `code`s along an error's chain of causes (fetch wraps the socket error in `cause`). */
export function errorCodes(e: unknown): string[] {
  const codes: string[] = [];
  let cur: unknown = e;
  for (let depth = 0; cur && depth < 4; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    cur = (cur as { cause?: unknown }).cause;
  }
  return codes;
}

/**
 * A dropped, reset or refused connection, or one that timed out (connecting, waiting for the
 * headers, a body that stopped moving). Decided by error codes only: undici's "fetch failed" and
 * "terminated" carry the socket's code (UND_ERR_SOCKET, ECONNRESET, ...) in their cause.
 */
export function isNetworkError(e: unknown): boolean {
  return errorCodes(e).some((code) => RETRYABLE_CODES.has(code));
}

/** The wait before try number `attempt` (1 = the first retry); Retry-After wins when given. */
export function backoffMs(policy: RetryPolicy, attempt: number, retryAfter?: string | null): number {
  if (retryAfter) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, policy.maxMs);
  }
  const exp = Math.min(policy.baseMs * 2 ** (attempt - 1), policy.maxMs);
  return exp / 2 + Math.random() * (exp / 2);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
