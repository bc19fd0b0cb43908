// node:https for bundles: node:http's client with https: URLs (the host does TLS, judged by the
// same [capabilities.network] connect rules), and servers served like http's (TLS, if any, is
// the engine's listener's business, not the service's).

import { Agent as HttpAgent, ClientRequest, requestOptions } from './http-client.js';
import { Server as HttpServer } from './http-server.js';

export class Agent extends HttpAgent {
  constructor(options = {}) {
    super({ defaultPort: 443, protocol: 'https:', ...options });
  }
}

export const globalAgent = new Agent();

const HTTPS = { protocol: 'https:', defaultPort: 443 };

export function request(...args) {
  const { options, callback } = requestOptions(args, {});
  if (!options.protocol) options.protocol = 'https:';
  if (!options.agent && options.agent !== false) options.agent = globalAgent;
  return new ClientRequest(options, callback, HTTPS);
}

export function get(...args) {
  const req = request(...args);
  req.end();
  return req;
}

export class Server extends HttpServer {}
export const createServer = (options, listener) => new Server(options, listener);

export default { Agent, Server, createServer, get, globalAgent, request };
