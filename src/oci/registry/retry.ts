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

const RETRYABLE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED']);

/** A dropped or refused connection (fetch wraps the socket error in `cause`). */
export function isNetworkError(e: unknown): boolean {
  let cur: unknown = e;
  for (let depth = 0; cur && depth < 4; depth++) {
    const code = (cur as { code?: string }).code;
    if (code && RETRYABLE_CODES.has(code)) return true;
    if (cur instanceof TypeError && /fetch failed|terminated|other side closed/i.test(cur.message)) return true;
    if (cur instanceof Error && /terminated|other side closed|socket hang up/i.test(cur.message)) return true;
    cur = (cur as { cause?: unknown }).cause;
  }
  return false;
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
