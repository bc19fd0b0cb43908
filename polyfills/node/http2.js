// node:http2 for bundles: packages name its classes and constants when they load (to tell an
// HTTP/2 request from an HTTP/1 one); using it fails, since the runtime's HTTP goes through
// fetch and the engine's listener.

import { refuse } from './unavailable.js';

const WHY = 'the runtime makes HTTP requests through fetch and serves through the engine: use fetch() or node:http for outgoing requests ([capabilities.network] connect), and node:http createServer() for serving ([capabilities.network] listen)';

export class Http2ServerRequest {}
export class Http2ServerResponse {}
export class Http2Session {}
export class ClientHttp2Session {}
export class ServerHttp2Session {}
export class Http2Stream {}

export const connect = refuse('node:http2 connect()', WHY, { capability: 'network.connect' });
export const createServer = refuse('node:http2 createServer()', WHY, { capability: 'network.listen' });
export const createSecureServer = refuse('node:http2 createSecureServer()', WHY, { capability: 'network.listen' });
export const getDefaultSettings = () => ({});
export const getPackedSettings = () => new Uint8Array(0);
export const getUnpackedSettings = () => ({});
export const sensitiveHeaders = Symbol('nodejs.http2.sensitiveHeaders');

export const constants = {
  NGHTTP2_NO_ERROR: 0, NGHTTP2_PROTOCOL_ERROR: 1, NGHTTP2_INTERNAL_ERROR: 2, NGHTTP2_CANCEL: 8, NGHTTP2_REFUSED_STREAM: 7,
  HTTP2_HEADER_STATUS: ':status', HTTP2_HEADER_METHOD: ':method', HTTP2_HEADER_AUTHORITY: ':authority', HTTP2_HEADER_SCHEME: ':scheme', HTTP2_HEADER_PATH: ':path', HTTP2_HEADER_PROTOCOL: ':protocol',
  HTTP2_HEADER_CONTENT_TYPE: 'content-type', HTTP2_HEADER_CONTENT_LENGTH: 'content-length', HTTP2_HEADER_ACCEPT_ENCODING: 'accept-encoding', HTTP2_HEADER_CONTENT_ENCODING: 'content-encoding', HTTP2_HEADER_AUTHORIZATION: 'authorization', HTTP2_HEADER_USER_AGENT: 'user-agent', HTTP2_HEADER_LOCATION: 'location', HTTP2_HEADER_COOKIE: 'cookie', HTTP2_HEADER_SET_COOKIE: 'set-cookie', HTTP2_HEADER_HOST: 'host',
  HTTP2_METHOD_GET: 'GET', HTTP2_METHOD_POST: 'POST', HTTP2_METHOD_PUT: 'PUT', HTTP2_METHOD_DELETE: 'DELETE', HTTP2_METHOD_HEAD: 'HEAD', HTTP2_METHOD_OPTIONS: 'OPTIONS', HTTP2_METHOD_PATCH: 'PATCH', HTTP2_METHOD_CONNECT: 'CONNECT',
  HTTP_STATUS_OK: 200, HTTP_STATUS_NO_CONTENT: 204, HTTP_STATUS_NOT_FOUND: 404, HTTP_STATUS_INTERNAL_SERVER_ERROR: 500,
};

export default { ClientHttp2Session, Http2ServerRequest, Http2ServerResponse, Http2Session, Http2Stream, ServerHttp2Session, connect, constants, createSecureServer, createServer, getDefaultSettings, getPackedSettings, getUnpackedSettings, sensitiveHeaders };
