import { ReadableStream } from 'node:stream/web';
import type { Agent, Response } from 'undici';
import { errorCodes } from './retry.js';

/**
 * The network under the registry client: how long it waits (connect, response headers, a body
 * that stops moving either way) and how much of a response it is willing to hold. Built on the
 * pinned undici, whose Agent enforces the connect, headers and body timeouts.
 */

export interface Timeouts {
  /** For the TCP (and TLS) connection to be set up. */
  connectMs: number;
  /** For the response headers once the request is sent; also while the registry takes no upload bytes. */
  headersMs: number;
  /** Without a byte moving while a body streams, in either direction. */
  stallMs: number;
}

/** Long enough that a healthy registry never meets them, short enough that a dead one is noticed. */
export const DEFAULT_TIMEOUTS: Timeouts = { connectMs: 30_000, headersMs: 60_000, stallMs: 60_000 };

/** Caps on what is read into memory (blobs have their descriptor's size as the cap). */
export const MAX_TOKEN_RESPONSE = 1024 * 1024;
export const MAX_ERROR_BODY = 64 * 1024;

export interface Undici {
  fetch: typeof import('undici').fetch;
  Agent: typeof import('undici').Agent;
}
let undici: Promise<Undici> | undefined;

/** undici is loaded on the first request: commands that never reach a registry (a build) do not pay for it. */
export function loadUndici(): Promise<Undici> {
  undici ??= import('undici').then((u) => ({ fetch: u.fetch, Agent: u.Agent }));
  return undici;
}

export function dispatcherFor(u: Undici, timeouts: Timeouts): Agent {
  return new u.Agent({ connect: { timeout: timeouts.connectMs }, headersTimeout: timeouts.headersMs, bodyTimeout: timeouts.stallMs });
}

/** An upload body that stopped moving: the registry took no bytes for the stall timeout. */
export class UploadStalled extends Error {
  // read by isNetworkError: a stalled upload is retried like a dropped connection
  readonly code = 'ERR_UPLOAD_STALLED';
  constructor(readonly taken: number) {
    super('the registry stopped taking the upload');
  }
}

/** Pieces small enough that a registry that stops reading is noticed within one stall timeout. */
const PIECE = 64 * 1024;

/**
 * A request body handed to fetch in pieces: `taken` says how much fetch has taken (the registry
 * has it, or the socket's buffers do), and a watchdog aborts the request when no piece is taken
 * for `stallMs` (undici's own timer for this is the headers timeout). Call `done()` once fetch
 * has returned.
 */
export function uploadBody(bytes: Uint8Array, stallMs: number) {
  const controller = new AbortController();
  let taken = 0;
  let timer: NodeJS.Timeout | undefined;
  const stop = () => clearTimeout(timer);
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        stop();
        if (taken >= bytes.length) {
          c.close();
          return;
        }
        const piece = bytes.subarray(taken, taken + PIECE);
        taken += piece.length;
        c.enqueue(piece);
        timer = setTimeout(() => controller.abort(new UploadStalled(taken)), stallMs);
      },
      cancel: stop,
    },
    { highWaterMark: 0 },
  );
  return { stream, signal: controller.signal, taken: () => taken, done: stop };
}

/** What a timeout error says stalled, in words; undefined for other errors. */
export function stallText(e: unknown, timeouts: Timeouts, progress: { taken?: number; total?: number; received?: number }): string | undefined {
  const codes = errorCodes(e);
  const { taken = 0, total = 0, received = 0 } = progress;
  const uploading = total > 0 && taken < total;
  if (codes.includes('UND_ERR_CONNECT_TIMEOUT')) return `accepted no connection within ${seconds(timeouts.connectMs)}`;
  if (codes.includes('ERR_UPLOAD_STALLED')) return `stopped taking the upload after ${amount(taken)} of ${amount(total)} for ${seconds(timeouts.stallMs)}`;
  if (codes.includes('UND_ERR_HEADERS_TIMEOUT')) {
    return uploading ? `stopped taking the upload after ${amount(taken)} of ${amount(total)} for ${seconds(timeouts.headersMs)}` : `sent no response headers within ${seconds(timeouts.headersMs)}`;
  }
  if (codes.includes('UND_ERR_BODY_TIMEOUT')) return `stopped sending after ${amount(received)} for ${seconds(timeouts.stallMs)}`;
  return undefined;
}

export function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

export function amount(bytes: number): string {
  if (bytes < 1000) return `${bytes} bytes`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/** A cap in words: 4 MiB, 64 KiB. */
export function capText(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MiB` : `${bytes / 1024} KiB`;
}

/** Content-Length as a number, when the registry sent a valid one. */
export function declaredLength(res: Response): number | undefined {
  const value = res.headers.get('content-length');
  const n = value === null ? NaN : Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** Drops a body without reading it: the connection closes, no matter how much was coming. */
export async function cancelBody(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => undefined);
}
