import { FabricksError } from '../../util/errors.js';
import { mergeScopes, parseChallenge, type Challenge } from './challenge.js';
import { findCredential, type Credential } from './credentials.js';
import { backoffMs, DEFAULT_RETRY, errorCodes, isNetworkError, retryableStatus, sleep, type RetryPolicy } from './retry.js';

export interface RegistryOptions {
  /** Speak HTTP instead of HTTPS (registries on loopback). */
  plainHttp?: boolean;
  retry?: RetryPolicy;
  /** Where credentials come from; by default `fabricks login`, then Docker's config. */
  credential?: (registry: string) => Promise<Credential | undefined>;
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

/**
 * One registry host: its base URL, how it wants us to authenticate (learned from its first
 * challenge), cached Bearer tokens per scope set, and retries with backoff on 429, 5xx and
 * dropped connections. Secrets only ever go into Authorization headers.
 */
export class RegistryClient {
  readonly base: string;
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, string>();
  private credential: Promise<Credential | undefined> | undefined;
  readonly retry: RetryPolicy;

  constructor(
    readonly host: string,
    private readonly options: RegistryOptions = {},
  ) {
    const apiHost = host === 'docker.io' ? 'registry-1.docker.io' : host;
    this.base = `${options.plainHttp ? 'http' : 'https'}://${apiHost}`;
    this.retry = options.retry ?? retryFromEnv();
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
      const authorization = await this.authorization(req.scopes);
      if (authorization) headers.Authorization = authorization;
      let res: Response;
      try {
        res = await fetch(url, { method: req.method, headers, body: req.body, redirect: 'follow' });
      } catch (e) {
        if (req.retry !== false && isNetworkError(e) && attempt < this.retry.attempts) {
          await sleep(backoffMs(this.retry, attempt));
          continue;
        }
        throw this.unreachable(e, req);
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
        await sleep(backoffMs(this.retry, attempt, res.headers.get('retry-after')));
        continue;
      }
      return res;
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
    await this.expect({ method: 'GET', url: '/v2/', scopes, what: 'the login' }, [200]);
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

  private async authorization(scopes: string[]): Promise<string | undefined> {
    if (!this.challenge) return undefined;
    if (this.challenge.scheme === 'basic') {
      const c = await this.getCredential();
      return c?.username !== undefined && c.password !== undefined ? basic(c.username, c.password) : undefined;
    }
    const key = mergeScopes(scopes).join(' ');
    let token = this.tokens.get(key);
    if (!token) {
      token = await this.fetchToken(mergeScopes(scopes));
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
    this.tokens.set(mergeScopes(req.scopes).join(' '), await this.fetchToken(scopes));
  }

  /** The Bearer token flow: GET the realm (Basic with the credential, if any) for these scopes. */
  private async fetchToken(scopes: string[]): Promise<string> {
    const params = this.challenge?.params ?? {};
    if (!params.realm) throw new FabricksError('REGISTRY_AUTH', `registry ${this.host} asked for a Bearer token but named no realm to get it from`);
    const url = new URL(params.realm);
    const credential = await this.getCredential();
    let res: Response;
    try {
      if (credential?.identityToken) {
        const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credential.identityToken, client_id: 'fabricks', ...(params.service ? { service: params.service } : {}) });
        if (scopes.length) form.set('scope', scopes.join(' '));
        res = await fetch(url, { method: 'POST', headers: { 'User-Agent': USER_AGENT, 'Content-Type': 'application/x-www-form-urlencoded' }, body: form });
      } else {
        if (params.service) url.searchParams.set('service', params.service);
        for (const s of scopes) url.searchParams.append('scope', s);
        const headers: Record<string, string> = { 'User-Agent': USER_AGENT };
        if (credential?.username !== undefined && credential.password !== undefined) headers.Authorization = basic(credential.username, credential.password);
        res = await fetch(url, { headers });
      }
    } catch (e) {
      throw new FabricksError('REGISTRY_UNREACHABLE', `cannot reach the token service of registry ${this.host} at ${url.origin}: ${causeText(e)}`);
    }
    if (!res.ok) {
      await discard(res);
      throw await this.authError(res.status, `a token for ${scopes.join(' ') || 'the registry'}`);
    }
    const body = (await res.json().catch(() => ({}))) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new FabricksError('REGISTRY_AUTH', `the token service of registry ${this.host} answered without a token`);
    return token;
  }

  private unreachable(e: unknown, req: RegistryRequest): FabricksError {
    const tls = errorCodes(e).find((code) => code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code === 'EPROTO');
    const shown = tls ? `the TLS handshake failed (${tls})` : causeText(e);
    // the socket error stays the cause: retries decide from its code
    return new FabricksError('REGISTRY_UNREACHABLE', `cannot reach registry ${this.host} (${this.base}) for ${req.what}: ${shown}`, {
      cause: e,
      hint: tls && !this.options.plainHttp
        ? 'the registry may speak plain HTTP; for a registry on loopback pass --plain-http'
        : 'check the registry address and that it is running; pushes and pulls resume where they stopped when run again',
    });
  }
}

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

function retryFromEnv(): RetryPolicy {
  // Tests shorten the waits; users keep the defaults.
  const attempts = Number(process.env.FABRICKS_REGISTRY_RETRIES);
  const baseMs = Number(process.env.FABRICKS_REGISTRY_BACKOFF_MS);
  return {
    ...DEFAULT_RETRY,
    ...(Number.isInteger(attempts) && attempts > 0 ? { attempts } : {}),
    ...(Number.isFinite(baseMs) && baseMs > 0 ? { baseMs } : {}),
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

/** The registry's own words: the first message of an OCI error body, if it sent one. */
async function errorDetail(res: Response): Promise<string | undefined> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> };
    const first = body.errors?.[0];
    if (first) return [first.code, first.message].filter(Boolean).join(': ');
  } catch {
    /* not JSON */
  }
  return text.trim().slice(0, 200) || undefined;
}

export async function discard(res: Response): Promise<void> {
  await res.arrayBuffer().catch(() => undefined);
}
