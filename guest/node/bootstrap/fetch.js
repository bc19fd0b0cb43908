// fetch as the runtime gives it. Redirects: StarlingMonkey's fetch never follows them (wasi:http
// leaves that to the caller): they are followed here as the Fetch standard says, each hop a
// request of its own that the host judges against [capabilities.network] connect like any other.
// And a response keeps the program alive while its body is read.

import { nativeFetch } from './natives.js';
import { ref, unref } from './liveness.js';
import { deniedError } from './fetch-denials.js';

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 20;

export async function fetchFollowing(input, init) {
  const first = new Request(input, init);
  // StarlingMonkey's Request does not keep the redirect mode: it is read from what was given
  const mode = init?.redirect ?? (input instanceof Request ? input.redirect : undefined) ?? 'follow';
  // a body goes again with a 307 or 308: read once, it can be sent as often as needed
  let body = first.body ? await first.arrayBuffer() : null;
  let url = first.url;
  let method = first.method;
  const headers = new Headers(first.headers);
  const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined);
  for (let hops = 0; ; hops++) {
    let response;
    try {
      response = await abortable(nativeFetch(url, { method, headers, body, ...(signal ? { signal } : {}) }), signal);
    } catch (e) {
      throw deniedError(url) ?? e;
    }
    const location = response.headers.get('location');
    if (mode === 'manual' || !REDIRECT_STATUSES.has(response.status) || location === null) {
      if (hops > 0) {
        Object.defineProperty(response, 'url', { value: url, configurable: true });
        Object.defineProperty(response, 'redirected', { value: true, configurable: true });
      }
      return response;
    }
    await response.body?.cancel().catch(() => undefined);
    if (mode === 'error') throw new TypeError(`fetch failed: ${url} redirects to ${location}, and the request's redirect mode is "error"`);
    if (hops === MAX_REDIRECTS) throw new TypeError(`fetch failed: more than ${MAX_REDIRECTS} redirects, the last to ${location}`);
    const next = new URL(location, url);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new TypeError(`fetch failed: ${url} redirects to ${next.href}, which is not http(s)`);
    if (response.status === 303 ? method !== 'HEAD' : (response.status === 301 || response.status === 302) && method === 'POST') {
      method = 'GET';
      body = null;
      for (const name of ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']) headers.delete(name);
    }
    // credentials meant for one origin do not travel to another
    if (new URL(url).origin !== next.origin) headers.delete('authorization');
    url = next.href;
  }
}

/**
 * StarlingMonkey's fetch does not give up when its signal aborts: the promise rejects here with
 * the signal's reason at once (the request itself ends on its own, unread).
 */
function abortable(promise, signal) {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (r) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) r.body?.cancel().catch(() => undefined);
        resolve(r);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function abortReason(signal) {
  if (signal.reason !== undefined) return signal.reason;
  const e = new Error('This operation was aborted');
  e.name = 'AbortError';
  return e;
}

/**
 * A response's body arrives after fetch resolves: reading it with json(), text()... holds a
 * reference too, or a program waiting on stdin (an MCP server over stdio) would block there and
 * the body would never come.
 */
export function keepAliveWhileRead(response) {
  for (const name of ['arrayBuffer', 'blob', 'bytes', 'formData', 'json', 'text']) {
    const read = response[name];
    if (typeof read !== 'function') continue;
    response[name] = (...args) => {
      ref();
      return read.apply(response, args).finally(unref);
    };
  }
  // wrapped when the program asks for it, so that json() and text() read as they always did
  const body = Object.getOwnPropertyDescriptor(Response.prototype, 'body')?.get;
  if (body) {
    let kept;
    Object.defineProperty(response, 'body', {
      get() {
        const stream = body.call(this);
        if (stream && kept !== stream) kept = keepReadsAlive(stream);
        return stream;
      },
      configurable: true,
    });
  }
  return response;
}

/**
 * The body read as a stream (a reader's read(), for await, pipeTo, pipeThrough: node:http's
 * client and node-fetch read it so) holds a reference while a read waits, as json() and text() do.
 */
function keepReadsAlive(stream) {
  const { getReader, pipeTo, pipeThrough } = stream;
  stream.getReader = function (...args) {
    const reader = getReader.apply(this, args);
    const read = reader?.read;
    if (typeof read === 'function') {
      reader.read = function (...readArgs) {
        ref();
        return read.apply(this, readArgs).finally(unref);
      };
    }
    return reader;
  };
  // for await: through the reader above (the engine's own iterator would bypass it)
  const values = function values({ preventCancel = false } = {}) {
    const reader = this.getReader();
    return {
      next: () => reader.read(),
      async return(value) {
        if (preventCancel) reader.releaseLock();
        else await reader.cancel(value);
        return { done: true, value };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  };
  Object.defineProperty(stream, 'values', { value: values, writable: true, configurable: true });
  Object.defineProperty(stream, Symbol.asyncIterator, { value: values, writable: true, configurable: true });
  if (typeof pipeTo === 'function') {
    stream.pipeTo = function (...args) {
      ref();
      return pipeTo.apply(this, args).finally(unref);
    };
  }
  if (typeof pipeThrough === 'function') {
    stream.pipeThrough = function (...args) {
      return keepReadsAlive(pipeThrough.apply(this, args));
    };
  }
  return stream;
}
