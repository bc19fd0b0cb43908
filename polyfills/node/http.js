// node:http for bundles: the client over the runtime's fetch (http-client.js), servers served
// through [capabilities.network] listen (http-server.js).

import { METHODS, STATUS_CODES, maxHeaderSize, validateHeaderName, validateHeaderValue } from './http-common.js';
import { Agent, ClientRequest, get, globalAgent, request } from './http-client.js';
import { IncomingMessage } from './http-incoming.js';
import { Server, ServerResponse, createServer } from './http-server.js';

// Node's OutgoingMessage is the base of both; frameworks only check the prototype chain
export const OutgoingMessage = ServerResponse;
export { Agent, ClientRequest, IncomingMessage, METHODS, STATUS_CODES, Server, ServerResponse, createServer, get, globalAgent, maxHeaderSize, request, validateHeaderName, validateHeaderValue };
export const setMaxIdleHTTPParsers = () => {};

export default { Agent, ClientRequest, IncomingMessage, METHODS, OutgoingMessage, STATUS_CODES, Server, ServerResponse, createServer, get, globalAgent, maxHeaderSize, request, setMaxIdleHTTPParsers, validateHeaderName, validateHeaderValue };
