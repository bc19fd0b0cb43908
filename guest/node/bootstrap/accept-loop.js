// The accept loop (crates/engine/src/accept.rs): a Node server handles its requests
// concurrently on one event loop and keeps state between them (an MCP session, an SSE stream
// held open while other requests come and go). fabricks' engine offers this instance the loop
// with a `/start` request to a reserved authority; once the app's server listens, the instance
// takes every request from the engine's bridge, reached with fetch, in this one call. A host
// that never offers it (wasmtime serve) gets one request per call instead.

import { encoder, nativeFetch } from './natives.js';
import { stderrStream, writeAll } from './output.js';
import { formatError } from './error-format.js';
import { headerPairs } from './http-messages.js';

export const BRIDGE_AUTHORITY = 'fabricks-serve.invalid';
const BRIDGE = `http://${BRIDGE_AUTHORITY}`;
const decoder = new TextDecoder();

function decodeHead(value) {
  const binary = atob(value);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return JSON.parse(decoder.decode(bytes));
}

function encodeHead(head) {
  const bytes = encoder.encode(JSON.stringify(head));
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function logError(e) {
  writeAll(stderrStream(), encoder.encode(formatError(e) + '\n'));
}

async function bridge(path, init) {
  const r = await nativeFetch(`${BRIDGE}${path}`, init);
  await r.arrayBuffer().catch(() => undefined);
  return r.status;
}

// The bodies being written, by request id: a client that leaves cancels its body's source.
const writing = new Map();

/** One of the bridge's long polls: its answer, or undefined once serving stops (or the bridge fails). */
async function poll(path) {
  let r;
  try {
    r = await nativeFetch(`${BRIDGE}${path}`);
  } catch (e) {
    logError(e);
    return undefined;
  }
  if (r.status === 200) return r;
  await r.arrayBuffer().catch(() => undefined);
  return undefined;
}

/** Cancels the bodies whose clients the engine says have left, until serving stops. */
async function watchClients() {
  for (let r; (r = await poll('/gone')); ) for (const id of await r.json()) writing.get(id)?.();
}

/** Sends `response` for request `id`: its head with nothing, then each chunk as it comes. */
async function sendResponse(id, response) {
  const head = { 'fabricks-response': encodeHead({ status: response.status, headers: headerPairs(response.headers) }) };
  if (!response.body) {
    await bridge(`/respond/${id}`, { method: 'POST', headers: { ...head, 'fabricks-end': '1' } });
    return;
  }
  if ((await bridge(`/respond/${id}`, { method: 'POST', headers: head })) !== 200) {
    await response.body.cancel().catch(() => undefined);
    return;
  }
  const reader = response.body.getReader();
  let left = false;
  writing.set(id, () => {
    left = true;
    reader.cancel(new Error('the client closed the connection')).catch(() => undefined);
  });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if ((await bridge(`/body/${id}`, { method: 'POST', body: value })) !== 200) {
        // the client has gone: the body's source hears it (a Node server's response emits 'close')
        await reader.cancel(new Error('the client closed the connection')).catch(() => undefined);
        return;
      }
    }
  } catch (e) {
    if (!left) logError(e);
    await bridge(`/abort/${id}`, { method: 'POST' }).catch(() => undefined);
    return;
  } finally {
    writing.delete(id);
  }
  if (!left) await bridge(`/body/${id}`, { method: 'POST', headers: { 'fabricks-end': '1' } });
}

async function serveOne(next, handler) {
  const head = decodeHead(next.headers.get('fabricks-request'));
  let response;
  try {
    const headers = new Headers();
    for (const [k, v] of head.headers) headers.append(k, v);
    const init = { method: head.method, headers };
    if (head.method !== 'GET' && head.method !== 'HEAD') init.body = new Uint8Array(await next.arrayBuffer());
    else await next.arrayBuffer();
    const request = new Request(`http://${headers.get('host') ?? 'localhost'}${head.path}`, init);
    const serverHandler = handler();
    if (!serverHandler) response = new Response('the server has closed\n', { status: 503 });
    else response = await serverHandler(request);
    if (!(response instanceof Response)) throw new TypeError(`the server's handler returned ${response === null ? 'null' : typeof response}, not a Response`);
  } catch (e) {
    logError(e);
    response = new Response('Internal Server Error\n', { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  }
  await sendResponse(head.id, response);
}

/**
 * Takes requests from the engine until it stops serving, each handed to the server that listens
 * (`handler()`) as it comes, and returns once those under way have ended.
 */
export async function acceptLoop(handler) {
  const underWay = new Set([watchClients()]);
  for (let next; (next = await poll('/next')); ) {
    const one = serveOne(next, handler).catch(logError);
    underWay.add(one);
    one.finally(() => underWay.delete(one));
  }
  await Promise.allSettled([...underWay]);
}
