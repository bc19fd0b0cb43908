import { FabricksError } from '../util/errors.js';
import { parseSize } from './size.js';

/**
 * `[limits]`: what one run, or each request and instance of a service, may take. Recorded in the
 * artifact like the capabilities, so a pulled service keeps its author's bounds; `fabricks run`
 * flags may set them for one run.
 */
export interface Limits {
  /** Bytes of linear memory one instance may hold. */
  memory?: number;
  /** Milliseconds a run may take. */
  timeoutMs?: number;
  /** Milliseconds one request may take. */
  requestTimeoutMs?: number;
  /** Requests a service handles at once. */
  concurrency?: number;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/** A duration as users write it (`30s`, `500ms`, `2m`, `1h`; a bare number is seconds), in ms. */
export function parseDuration(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? (m[2] === '' ? 1000 : DURATION_UNITS[m[2]!.toLowerCase()]) : undefined;
  const ms = m && unit !== undefined ? Math.round(Number(m[1]) * unit) : NaN;
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new FabricksError('USAGE', `${what} is "${text}", not a duration`, { hint: 'write a number with a unit: 500ms, 30s, 5m, 1h' });
  }
  return ms;
}

/** The smallest memory limit that lets either runtime start. */
export const MIN_MEMORY = 32 * 1024 ** 2;
/** WebAssembly 32-bit memories end at 4 GiB. */
export const MAX_MEMORY = 4 * 1024 ** 3;

/** A memory limit, checked to be one an instance can run under. */
export function parseMemory(text: string, what: string): number {
  const bytes = parseSize(text, what);
  if (bytes < MIN_MEMORY || bytes > MAX_MEMORY) {
    throw new FabricksError('USAGE', `${what} is "${text}": give a size from 32MiB to 4GiB`, { hint: 'for example 256MiB or 1GiB' });
  }
  return bytes;
}

export function parseConcurrency(value: unknown, what: string): number {
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 1024) {
    throw new FabricksError('USAGE', `${what} is ${JSON.stringify(value)}: give a whole number from 1 to 1024`);
  }
  return n;
}

/** `[limits]` as written, each problem reported to `problem(field, message)`. */
export function parseLimits(table: unknown, problem: (field: string, message: string) => void): Limits {
  const t = (table ?? {}) as Record<string, unknown>;
  const out: Limits = {};
  const take = (key: string, parse: (v: unknown, what: string) => number, set: (n: number) => void) => {
    if (t[key] === undefined) return;
    try {
      set(parse(t[key], `[limits] ${key}`));
    } catch (e) {
      if (!(e instanceof FabricksError)) throw e;
      problem(`[limits] ${key}`, `${e.message.replace(/^\[limits\] \S+ is /, '')}${e.hint ? ` (${e.hint})` : ''}`);
    }
  };
  const text = (parse: (s: string, what: string) => number) => (v: unknown, what: string) => parse(String(v), what);
  take('memory', text(parseMemory), (n) => (out.memory = n));
  take('timeout', text(parseDuration), (n) => (out.timeoutMs = n));
  take('request-timeout', text(parseDuration), (n) => (out.requestTimeoutMs = n));
  take('concurrency', parseConcurrency, (n) => (out.concurrency = n));
  return out;
}

/** A duration in the form users write it, for messages. */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** A size in the form users write it, for messages. */
export function formatMemory(bytes: number): string {
  if (bytes % 1024 ** 3 === 0) return `${bytes / 1024 ** 3}GiB`;
  if (bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2}MiB`;
  return `${bytes}B`;
}
