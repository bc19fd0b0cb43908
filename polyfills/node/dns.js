// node:dns and node:dns/promises for bundles. The engine gives a component no name lookups
// (wasi:sockets ip-name-lookup is turned off: crates/engine/src/host.rs), so each lookup fails
// as Node's lookups fail, through the callback or the promise, with an error that says so; the
// host resolves the names of the HTTP requests it makes for the program, under its policy.
// IP addresses need no lookup and are answered, as Node answers them.
import { isIP } from './ip.js';
import { unavailable } from './unavailable.js';

const WHY = 'the engine does no name lookups for a program; make HTTP requests (fetch, http.request) to the host by name instead, granted in [capabilities.network] connect in fabricks.toml, and the host resolves it';

function denied(syscall, hostname) {
  return unavailable(`dns ${syscall}${hostname === undefined ? '' : ` "${hostname}"`}`, WHY, { syscall, hostname, capability: 'network.connect' });
}

function lookupNow(hostname, options) {
  const opts = typeof options === 'number' ? { family: options } : (options ?? {});
  const family = isIP(hostname);
  if (!family) throw denied('lookup', hostname);
  const address = { address: hostname, family };
  return opts.all ? [address] : address;
}

export function lookup(hostname, options, callback) {
  if (typeof options === 'function') [options, callback] = [{}, options];
  let result;
  try {
    result = lookupNow(hostname, options);
  } catch (e) {
    return void process.nextTick(callback, e);
  }
  if (Array.isArray(result)) process.nextTick(callback, null, result);
  else process.nextTick(callback, null, result.address, result.family);
}

const RESOLVERS = ['resolve', 'resolve4', 'resolve6', 'resolveAny', 'resolveCaa', 'resolveCname', 'resolveMx', 'resolveNaptr', 'resolveNs', 'resolvePtr', 'resolveSoa', 'resolveSrv', 'resolveTxt', 'reverse', 'lookupService'];

const callbackApi = Object.fromEntries(
  RESOLVERS.map((name) => [
    name,
    (hostname, ...rest) => {
      const callback = rest[rest.length - 1];
      const e = denied(name, hostname);
      if (typeof callback !== 'function') throw e;
      process.nextTick(callback, e);
    },
  ]),
);
const promiseApi = Object.fromEntries(RESOLVERS.map((name) => [name, (hostname) => Promise.reject(denied(name, hostname))]));

let servers = [];
const getServers = () => [...servers];
const setServers = (list) => void (servers = [...list]);
let order = 'verbatim';
const getDefaultResultOrder = () => order;
const setDefaultResultOrder = (o) => void (order = o);

class CallbackResolver {
  constructor() {
    Object.assign(this, callbackApi, { getServers, setServers });
  }
  cancel() {}
  setLocalAddress() {}
}
class PromiseResolver {
  constructor() {
    Object.assign(this, promiseApi, { getServers, setServers });
  }
  cancel() {}
  setLocalAddress() {}
}

export const promises = {
  lookup: (hostname, options) => new Promise((resolve) => resolve(lookupNow(hostname, options))),
  ...promiseApi,
  getServers,
  setServers,
  getDefaultResultOrder,
  setDefaultResultOrder,
  Resolver: PromiseResolver,
};

export const {
  resolve, resolve4, resolve6, resolveAny, resolveCaa, resolveCname, resolveMx, resolveNaptr, resolveNs, resolvePtr, resolveSoa, resolveSrv, resolveTxt, reverse, lookupService,
} = callbackApi;
export { getServers, setServers, getDefaultResultOrder, setDefaultResultOrder, CallbackResolver as Resolver };

// Node's error codes, which packages compare with
export const NODATA = 'ENODATA', FORMERR = 'EFORMERR', SERVFAIL = 'ESERVFAIL', NOTFOUND = 'ENOTFOUND', NOTIMP = 'ENOTIMP', REFUSED = 'EREFUSED', BADQUERY = 'EBADQUERY', BADNAME = 'EBADNAME', BADFAMILY = 'EBADFAMILY', BADRESP = 'EBADRESP', CONNREFUSED = 'ECONNREFUSED', TIMEOUT = 'ETIMEOUT', EOF = 'EOF', FILE = 'EFILE', NOMEM = 'ENOMEM', DESTRUCTION = 'EDESTRUCTION', BADSTR = 'EBADSTR', BADFLAGS = 'EBADFLAGS', NONAME = 'ENONAME', BADHINTS = 'EBADHINTS', NOTINITIALIZED = 'ENOTINITIALIZED', LOADIPHLPAPI = 'ELOADIPHLPAPI', ADDRGETNETWORKPARAMS = 'EADDRGETNETWORKPARAMS', CANCELLED = 'ECANCELLED';
export const ADDRCONFIG = 1024, V4MAPPED = 2048, ALL = 256;

export default {
  lookup, ...callbackApi, getServers, setServers, getDefaultResultOrder, setDefaultResultOrder, Resolver: CallbackResolver, promises,
  NODATA, FORMERR, SERVFAIL, NOTFOUND, NOTIMP, REFUSED, BADQUERY, BADNAME, BADFAMILY, BADRESP, CONNREFUSED, TIMEOUT, EOF, FILE, NOMEM, DESTRUCTION, BADSTR, BADFLAGS, NONAME, BADHINTS, NOTINITIALIZED, LOADIPHLPAPI, ADDRGETNETWORKPARAMS, CANCELLED, ADDRCONFIG, V4MAPPED, ALL,
};
