import type { Agent, RequestInit, Response } from 'undici';
import { FabricksError, interrupted, throwIfAborted } from '../../util/errors.js';
import { mergeScopes, parseChallenge, type Challenge } from './challenge.js';
import { findCredential, type Credential } from './credentials.js';
import { amount, cancelBody, capText, declaredLength, DEFAULT_TIMEOUTS, dispatcherFor, loadUndici, MAX_ERROR_BODY, MAX_TOKEN_RESPONSE, stallText, uploadBody, type Timeouts, type Undici } from './http.js';
import { backoffMs, DEFAULT_RETRY, errorCodes, isNetworkError, retryableStatus, type RetryPolicy } from './retry.js';

export type { Response, Timeouts };

export interface RegistryOptions {
  /** Speak HTTP instead of HTTPS (registries on loopback). */
  plainHttp?: boolean;
  retry?: RetryPolicy;
  /** Limits on waiting; unset ones come from FABRICKS_REGISTRY_*_TIMEOUT_MS, then the defaults. */
  timeouts?: Partial<Timeouts>;
  /** Where credentials come from; by default `fabricks login`, then Docker's config. */
  credential?: (registry: string) => Promise<Credential | undefined>;
  /** Stops requests under way and waits between tries (Ctrl-C): INTERRUPTED. */
  signal?: AbortSignal | undefined;
  /** Told before each wait to try again, so a struggling registry is never silent. */
  onRetry?: (notice: RetryNotice) => void;
}

/** A request that failed in a way worth trying again, and the wait before the next try. */
export interface RetryNotice {
  registry: string;
  what: string;
  /** The try that failed (1 = the first) and how many there are in all. */
  attempt: number;
  attempts: number;
  waitMs: number;
  /** An HTTP status or an error code (UND_ERR_HEADERS_TIMEOUT, ECONNRESET, ...). */
  reason: string;
}

export interface RegistryRequest {
  method: string;
  /** A path under the registry (/v2/...) or an absolute URL (upload locations). */
  url: string;
  /** Token scopes this request needs (Bearer registries). */
  scopes: string[];
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** What the request does, for messages: "push blob sha256:…", "pull manifest app:1". */
  what: string;
  /** False where a blind resend could do harm (a chunk of an upload); the caller recovers. */
  retry?: boolean;
}

const USER_AGENT = 'fabricks/0.1.0';
type ReadResult = { done: true; value?: undefined } | { done: false; value: Uint8Array };
/** Bodies up to this size go to fetch whole; larger ones in pieces, watched for stalls. */
const WHOLE_BODY = 64 * 1024;

/**
 * One registry host: its base URL, how it wants us to authenticate (learned from its first
 * challenge), cached Bearer tokens per scope set, and retries with backoff on 429, 5xx, dropped
 * connections and timeouts. Every request has a deadline for connecting, for the answer's
 * headers, and for a body that stops moving; every body read into memory has a cap. Secrets only
 * ever go into Authorization headers.
 */
export class RegistryClient {
  readonly base: string;
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, string>();
  private credential: Promise<Credential | undefined> | undefined;
  readonly retry: RetryPolicy;
  readonly timeouts: Timeouts;
  private network: Promise<{ fetch: Undici['fetch']; dispatcher: Agent }> | undefined;

  constructor(
    readonly host: string,
    private readonly options: RegistryOptions = {},
  ) {
    const apiHost = host === 'docker.io' ? 'registry-1.docker.io' : host;
    this.base = `${options.plainHttp ? 'http' : 'https'}://${apiHost}`;
    this.retry = options.retry ?? retryFromEnv();
    this.timeouts = { ...timeoutsFromEnv(), ...definedOnly(options.timeouts ?? {}) };
  }

  /** fetch and the connection pool with this registry's timeouts, made on the first request. */
  private http(): Promise<{ fetch: Undici['fetch']; dispatcher: Agent }> {
    this.network ??= loadUndici().then((u) => ({ fetch: u.fetch, dispatcher: dispatcherFor(u, this.timeouts) }));
    return this.network;
  }

  private getCredential(): Promise<Credential | undefined> {
    this.credential ??= (this.options.credential ?? findCredential)(this.host);
    return this.credential;
  }

  async send(req: RegistryRequest): Promise<Response> {
    const url = new URL(req.url, this.base).toString();
    let authTried = false;
    for (let attempt = 1; ; attempt++) {
      const headers: Record<string, string> = { 'User-Agent': USER_AGENT, ...req.headers };
      const authorization = await this.authorization(req.scopes, req.what);
      if (authorization) headers.Authorization = authorization;
      let res: Response;
      try {
        res = await this.fetchOnce(url, { method: req.method, headers, redirect: 'follow' }, req);
      } catch (e) {
        if (req.retry !== false && isNetworkError(e) && attempt < this.retry.attempts) {
          await this.pause(attempt, req.what, e);
          continue;
        }
        throw e;
      }
      if (res.status === 401 && !authTried) {
        authTried = true;
        await discard(res);
        await this.authenticate(parseChallenge(res.headers.get('www-authenticate')), req);
        attempt--;
        continue;
      }
      if (req.retry !== false && retryableStatus(res.status) && attempt < this.retry.attempts) {
        await discard(res);
        await this.pause(attempt, req.what, res.status, res.headers.get('retry-after'));
        continue;
      }
      return res;
    }
  }

  /**
   * One fetch with this registry's timeouts; a body over 64 KiB goes in pieces so that a
   * registry that stops taking it is noticed. Failures are REGISTRY_UNREACHABLE with the
   * socket's error as the cause (retries read its code).
   */
  private async fetchOnce(url: string | URL, init: RequestInit, req: Pick<RegistryRequest, 'what' | 'body'>): Promise<Response> {
    const { fetch, dispatcher } = await this.http();
    const bytes = req.body;
    if (!bytes || bytes.length <= WHOLE_BODY) {
      try {
        return await fetch(url, { ...init, ...(bytes ? { body: bytes } : {}), dispatcher, ...(this.options.signal ? { signal: this.options.signal } : {}) });
      } catch (e) {
        throw this.unreachable(e, req.what);
      }
    }
    // fetch cannot replay a streamed body on a redirect: follow 307/308 here, with the bytes again
    let target = new URL(url);
    let headers: Record<string, string> = { ...(init.headers as Record<string, string>), 'Content-Length': String(bytes.length) };
    for (let hops = 0; ; hops++) {
      const body = uploadBody(bytes, this.timeouts.stallMs);
      let res: Response;
      try {
        const signal = this.options.signal ? AbortSignal.any([body.signal, this.options.signal]) : body.signal;
        res = await fetch(target, { ...init, headers, body: body.stream, duplex: 'half', redirect: 'manual', signal, dispatcher });
      } catch (e) {
        throw this.unreachable(e, req.what, { taken: body.taken(), total: bytes.length });
      } finally {
        body.done();
      }
      const location = res.headers.get('location');
      if ((res.status !== 307 && res.status !== 308) || !location || hops >= 5) return res;
      await discard(res);
      const next = new URL(location, target);
      // credentials stay with the registry that asked for them
      if (next.origin !== target.origin) headers = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
      target = next;
    }
  }

  /** Sends, then turns any status but the expected ones into a FabricksError naming the registry. */
  async expect(req: RegistryRequest, ok: number[]): Promise<Response> {
    const res = await this.send(req);
    if (ok.includes(res.status)) return res;
    throw await this.failure(res, req.what);
  }

  /** Checks that the registry answers and accepts the credentials (`fabricks login`). */
  async ping(scopes: string[] = []): Promise<void> {
    await discard(await this.expect({ method: 'GET', url: '/v2/', scopes, what: 'the login' }, [200]));
  }

  /**
   * Reads a body chunk by chunk into `onChunk`. A body that stops moving or a connection that
   * drops is REGISTRY_UNREACHABLE saying how far it got; an error from `onChunk` (too much, a
   * digest, a full disk) cancels the body and is thrown as it is. Returns the bytes read.
   */
  async readBody(res: Response, what: string, onChunk: (chunk: Uint8Array) => void | Promise<void>): Promise<number> {
    let received = 0;
    const reader = res.body?.getReader();
    if (!reader) return 0;
    for (;;) {
      let next: ReadResult;
      try {
        next = (await reader.read()) as ReadResult;
      } catch (e) {
        throw this.unreachable(e, what, { received });
      }
      if (next.done) return received;
      received += next.value.length;
      try {
        await onChunk(next.value);
      } catch (e) {
        await reader.cancel().catch(() => undefined);
        throw e;
      }
    }
  }

  /**
   * A whole body, read only while it stays within `cap` bytes: past it (or with a Content-Length
   * over it) the body is cancelled at once and `tooLarge()` thrown, so memory stays bounded
   * whatever the registry sends.
   */
  async readCapped(res: Response, what: string, cap: number, tooLarge: () => FabricksError): Promise<Uint8Array> {
    const declared = declaredLength(res);
    if (declared !== undefined && declared > cap) {
      await cancelBody(res);
      throw tooLarge();
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    await this.readBody(res, what, (chunk) => {
      size += chunk.length;
      if (size > cap) throw tooLarge();
      chunks.push(chunk);
    });
    return new Uint8Array(Buffer.concat(chunks, size));
  }

  /** The error for an answer that was not the one wanted; `what` names the request. */
  async failure(res: Response, what: string): Promise<FabricksError> {
    const detail = await errorDetail(res);
    const where = `registry ${this.host}`;
    if (res.status === 401 || res.status === 403) {
      return this.authError(res.status, what, detail);
    }
    if (res.status === 404) {
      return new FabricksError('NOT_FOUND', `${where}: ${what}: not found${detail ? ` (${detail})` : ''}`, {
        hint: 'check the repository name and tag',
        status: 404,
      });
    }
    return new FabricksError('REGISTRY_REFUSED', `${where} answered ${res.status} ${res.statusText} to ${what}${detail ? `: ${detail}` : ''}`, {
      status: res.status,
      ...(res.status >= 500 || res.status === 429 ? { hint: 'the registry failed or is overloaded; run the command again later: what already arrived is skipped' } : {}),
    });
  }

  private async authError(status: number, what: string, detail?: string): Promise<FabricksError> {
    const credential = await this.getCredential().catch(() => undefined);
    const refused = status === 403 ? 'denied' : 'refused';
    const who = credential ? (credential.label ?? `the credentials from ${credential.source}`) : 'anonymous access';
    return new FabricksError('REGISTRY_AUTH', `registry ${this.host} ${refused} ${what} (${status}) with ${who}${detail ? `: ${detail}` : ''}`, {
      status,
      hint: credential
        ? `check the user name and password, then log in again: fabricks login ${this.host}`
        : `log in first: fabricks login ${this.host} (or docker login ${this.host}; fabricks reads Docker's config.json)`,
    });
  }

  private async authorization(scopes: string[], what: string): Promise<string | undefined> {
    if (!this.challenge) return undefined;
    if (this.challenge.scheme === 'basic') {
      const c = await this.getCredential();
      return c?.username !== undefined && c.password !== undefined ? basic(c.username, c.password) : undefined;
    }
    const key = mergeScopes(scopes).join(' ');
    let token = this.tokens.get(key);
    if (!token) {
      token = await this.fetchToken(mergeScopes(scopes), what);
      this.tokens.set(key, token);
    }
    return `Bearer ${token}`;
  }

  /** Handles a first 401: learn the scheme and get what it asks for; a second 401 is final. */
  private async authenticate(challenge: Challenge | undefined, req: RegistryRequest): Promise<void> {
    if (!challenge) throw await this.authError(401, req.what, 'it sent no Basic or Bearer challenge');
    this.challenge = challenge;
    if (challenge.scheme === 'basic') {
      const c = await this.getCredential();
      if (c?.username === undefined || c.password === undefined) throw await this.authError(401, req.what);
      return;
    }
    // a cached token may have expired: always ask again, for what the registry says it wants
    const scopes = mergeScopes([...req.scopes, ...(challenge.params.scope ? [challenge.params.scope] : [])]);
    this.tokens.set(mergeScopes(req.scopes).join(' '), await this.fetchToken(scopes, req.what));
  }

  /** The Bearer token flow: GET the realm (Basic with the credential, if any) for these scopes. */
  private async fetchToken(scopes: string[], forWhat: string): Promise<string> {
    const params = this.challenge?.params ?? {};
    if (!params.realm) throw new FabricksError('REGISTRY_AUTH', `registry ${this.host} asked for a Bearer token but named no realm to get it from`);
    const url = new URL(params.realm);
    const credential = await this.getCredential();
    const what = `a token for ${forWhat} from ${url.origin}`;
    let init: RequestInit;
    let body: Uint8Array | undefined;
    if (credential?.identityToken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credential.identityToken, client_id: 'fabricks', ...(params.service ? { service: params.service } : {}) });
      if (scopes.length) form.set('scope', scopes.join(' '));
      init = { method: 'POST', headers: { 'User-Agent': USER_AGENT, 'Content-Type': 'application/x-www-form-urlencoded' } };
      body = new TextEncoder().encode(form.toString());
    } else {
      if (params.service) url.searchParams.set('service', params.service);
      for (const s of scopes) url.searchParams.append('scope', s);
      const headers: Record<string, string> = { 'User-Agent': USER_AGENT };
      if (credential?.username !== undefined && credential.password !== undefined) headers.Authorization = basic(credential.username, credential.password);
      init = { headers };
    }
    let res: Response;
    for (let attempt = 1; ; attempt++) {
      try {
        res = await this.fetchOnce(url, init, { what, ...(body ? { body } : {}) });
      } catch (e) {
        if (isNetworkError(e) && attempt < this.retry.attempts) {
          await this.pause(attempt, what, e);
          continue;
        }
        throw e;
      }
      if (!retryableStatus(res.status) || attempt >= this.retry.attempts) break;
      await discard(res);
      await this.pause(attempt, what, res.status, res.headers.get('retry-after'));
    }
    if (!res.ok) {
      await discard(res);
      throw await this.authError(res.status, `a token for ${scopes.join(' ') || 'the registry'}`);
    }
    const bytes = await this.readCapped(res, what, MAX_TOKEN_RESPONSE, () => new FabricksError('REGISTRY_AUTH', `the token service of registry ${this.host} (${url.origin}) sent more than ${capText(MAX_TOKEN_RESPONSE)}, more than a token can be; stopped reading`));
    let parsed: { token?: unknown; access_token?: unknown } = {};
    try {
      parsed = JSON.parse(new TextDecoder().decode(bytes)) as typeof parsed;
    } catch {
      /* no token in it: said below */
    }
    const token = parsed.token ?? parsed.access_token;
    if (typeof token !== 'string' || !token) throw new FabricksError('REGISTRY_AUTH', `the token service of registry ${this.host} answered without a token`);
    return token;
  }

  /**
   * A request that got no (whole) answer: a timeout says what stalled and after how much; a
   * socket or TLS error says so. The socket error stays the cause: retries decide from its code.
   */
  /**
   * The wait before try `attempt + 1`: announced (onRetry), then slept, ending early with
   * INTERRUPTED when the signal aborts.
   */
  async pause(attempt: number, what: string, reason: unknown, retryAfter?: string | null): Promise<void> {
    const waitMs = backoffMs(this.retry, attempt, retryAfter);
    const why = typeof reason === 'number' ? String(reason) : (errorCodes(reason).find((c) => c !== 'REGISTRY_UNREACHABLE') ?? 'a dropped connection');
    this.options.onRetry?.({ registry: this.host, what, attempt, attempts: this.retry.attempts, waitMs, reason: why });
    throwIfAborted(this.options.signal);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, waitMs);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      const signal = this.options.signal;
      signal?.addEventListener('abort', done, { once: true });
    });
    throwIfAborted(this.options.signal);
  }

  private unreachable(e: unknown, what: string, progress: { taken?: number; total?: number; received?: number } = {}): FabricksError {
    if (e instanceof FabricksError) return e;
    if (this.options.signal?.aborted) return interrupted(this.options.signal);
    const stalled = stallText(e, this.timeouts, progress);
    if (stalled) {
      return new FabricksError('REGISTRY_UNREACHABLE', `registry ${this.host} ${stalled} (${what})`, {
        cause: e,
        hint: 'the registry or the network stalled; run the command again: a pull resumes from the bytes it kept, a push from what the registry holds. FABRICKS_REGISTRY_CONNECT_TIMEOUT_MS, _HEADERS_TIMEOUT_MS and _STALL_TIMEOUT_MS set the limits',
      });
    }
    const tls = errorCodes(e).find((code) => code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code === 'EPROTO');
    const shown = tls ? `the TLS handshake failed (${tls})` : causeText(e);
    const message = progress.received
      ? `registry ${this.host} (${this.base}) broke off ${what} after ${amount(progress.received)}: ${shown}`
      : `cannot reach registry ${this.host} (${this.base}) for ${what}: ${shown}`;
    return new FabricksError('REGISTRY_UNREACHABLE', message, {
      cause: e,
      hint: tls && !this.options.plainHttp
        ? 'the registry may speak plain HTTP; for a registry on loopback pass --plain-http'
        : 'check the registry address and that it is running; run the command again: a pull resumes from the bytes it kept, a push from what the registry holds',
    });
  }
}

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** A positive whole number of the environment, or undefined. */
function envNumber(name: string): number | undefined {
  const n = Number(process.env[name]);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

// The environment is read here only: tests shorten the waits, users with slow links lengthen them.
function retryFromEnv(): RetryPolicy {
  const attempts = envNumber('FABRICKS_REGISTRY_RETRIES');
  const baseMs = envNumber('FABRICKS_REGISTRY_BACKOFF_MS');
  return { ...DEFAULT_RETRY, ...(attempts ? { attempts } : {}), ...(baseMs ? { baseMs } : {}) };
}

export function timeoutsFromEnv(): Timeouts {
  return {
    connectMs: envNumber('FABRICKS_REGISTRY_CONNECT_TIMEOUT_MS') ?? DEFAULT_TIMEOUTS.connectMs,
    headersMs: envNumber('FABRICKS_REGISTRY_HEADERS_TIMEOUT_MS') ?? DEFAULT_TIMEOUTS.headersMs,
    stallMs: envNumber('FABRICKS_REGISTRY_STALL_TIMEOUT_MS') ?? DEFAULT_TIMEOUTS.stallMs,
  };
}

function causeText(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let i = 0; cur && i < 4; i++) {
    const code = (cur as { code?: string }).code;
    const message = cur instanceof Error ? cur.message : String(cur);
    parts.push(code && !message.includes(code) ? `${message} (${code})` : message);
    cur = (cur as { cause?: unknown }).cause;
  }
  return parts.filter((p) => p !== 'fetch failed').join(': ') || 'connection failed';
}

/** The registry's own words: the first message of an OCI error body (read up to 64 KiB), if it sent one. */
async function errorDetail(res: Response): Promise<string | undefined> {
  const text = new TextDecoder().decode(await readSome(res, MAX_ERROR_BODY));
  try {
    const body = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> };
    const first = body.errors?.[0];
    if (first) return [first.code, first.message].filter(Boolean).join(': ');
  } catch {
    /* not JSON, or cut at the cap */
  }
  return text.trim().slice(0, 200) || undefined;
}

/** Up to `cap` bytes of a body, the rest cancelled; a body that fails to arrive reads as empty. */
async function readSome(res: Response, cap: number): Promise<Uint8Array> {
  const declared = declaredLength(res);
  if (declared !== undefined && declared > cap) {
    await cancelBody(res);
    return new Uint8Array();
  }
  const reader = res.body?.getReader();
  if (!reader) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size <= cap) {
      const next = (await reader.read()) as ReadResult;
      if (next.done) return new Uint8Array(Buffer.concat(chunks, size));
      chunks.push(next.value);
      size += next.value.length;
    }
    await reader.cancel();
  } catch {
    /* the detail is only for the message */
  }
  return new Uint8Array(Buffer.concat(chunks, Math.min(size, cap)));
}

/**
 * Done with an answer: a small body is read (so the connection is reused), a large or endless
 * one cancelled.
 */
export async function discard(res: Response): Promise<void> {
  await readSome(res, MAX_ERROR_BODY);
}
