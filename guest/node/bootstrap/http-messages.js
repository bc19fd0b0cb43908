// wasi:http/types requests and responses as the Fetch API's Request and Response, and back.

import { Fields, IncomingBody, OutgoingBody, OutgoingResponse, ResponseOutparam } from './host.js';
import { encoder } from './natives.js';
import { concatBytes } from './bytes.js';
import { drop } from './resources.js';

const METHODS = { get: 'GET', head: 'HEAD', post: 'POST', put: 'PUT', delete: 'DELETE', connect: 'CONNECT', options: 'OPTIONS', trace: 'TRACE', patch: 'PATCH' };

function readBody(incoming) {
  const body = incoming.consume();
  const stream = body.stream();
  const chunks = [];
  let size = 0;
  for (;;) {
    let chunk;
    try {
      chunk = stream.blockingRead(65536n);
    } catch (e) {
      // an import's error arrives as a ComponentError with the variant in payload
      const err = e?.payload ?? e;
      if (err?.tag === 'closed') break;
      drop(stream);
      throw new Error(`reading the request body failed: ${err?.tag ?? e}`);
    }
    if (chunk.length) {
      chunks.push(chunk);
      size += chunk.length;
    }
  }
  drop(stream); // the child stream before its body
  drop(IncomingBody.finish(body));
  return concatBytes(chunks, size);
}

export function toRequest(incoming) {
  const m = incoming.method();
  const method = m.tag === 'other' ? m.val : METHODS[m.tag];
  const fields = incoming.headers();
  const headers = new Headers();
  for (const [k, v] of fields.entries()) headers.append(k, new TextDecoder().decode(v));
  drop(fields);
  const s = incoming.scheme();
  const scheme = !s ? 'http' : s.tag === 'other' ? s.val : s.tag.toLowerCase();
  const authority = incoming.authority() ?? headers.get('host') ?? 'localhost';
  const init = { method, headers };
  if (method !== 'GET' && method !== 'HEAD') init.body = readBody(incoming);
  return new Request(`${scheme}://${authority}${incoming.pathWithQuery() ?? '/'}`, init);
}

/** A response's headers as [name, value] pairs, each Set-Cookie apart (Headers joins them). */
export function headerPairs(headers) {
  const pairs = [];
  headers.forEach((v, k) => {
    if (k !== 'set-cookie') pairs.push([k, v]);
  });
  for (const c of headers.getSetCookie?.() ?? []) pairs.push(['set-cookie', c]);
  return pairs;
}

export async function writeResponse(response, out) {
  const res = new OutgoingResponse(Fields.fromList(headerPairs(response.headers).map(([k, v]) => [k, encoder.encode(v)])));
  res.setStatusCode(response.status);
  const body = res.body();
  ResponseOutparam.set(out, { tag: 'ok', val: res });
  const stream = body.write();
  try {
    if (response.body) {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        try {
          for (let o = 0; o < value.length; o += 4096) stream.blockingWriteAndFlush(value.subarray(o, o + 4096));
        } catch (e) {
          // the client has gone: the body's source hears it (a Node server's response emits 'close')
          await reader.cancel(e).catch(() => undefined);
          throw e;
        }
      }
    }
  } finally {
    drop(stream); // the child stream before its body
  }
  OutgoingBody.finish(body, undefined);
}
