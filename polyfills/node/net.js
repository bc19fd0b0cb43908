// node:net for bundles: the address checks packages call at load (isIP, isIPv4, isIPv6) work;
// sockets are refused when used, as a WASI component here has none: the network is reached by
// HTTP, to the hosts [capabilities.network] connect grants.
import { isIP, isIPv4, isIPv6 } from './ip.js';
import { refuse, refuseClass } from './unavailable.js';

export { isIP, isIPv4, isIPv6 };

const WHY = 'the runtime has no TCP sockets; reach other services over HTTP (fetch, http.request) and grant their hosts in [capabilities.network] connect in fabricks.toml';
const extra = { capability: 'network.connect' };

export const Socket = refuseClass('node:net Socket', WHY, extra);
export const Stream = Socket;
export const connect = refuse('node:net connect()', WHY, extra);
export const createConnection = refuse('node:net createConnection()', WHY, extra);
const LISTEN_WHY = 'the runtime has no TCP sockets; a service answers HTTP through [capabilities.network] listen in fabricks.toml';
export const Server = refuseClass('node:net Server', LISTEN_WHY, { capability: 'network.listen' });
export const createServer = refuse('node:net createServer()', LISTEN_WHY, { capability: 'network.listen' });
export const BlockList = refuseClass('node:net BlockList', WHY, extra);
export const SocketAddress = refuseClass('node:net SocketAddress', WHY, extra);

let autoSelectFamily = true;
let autoSelectFamilyTimeout = 250;
export const getDefaultAutoSelectFamily = () => autoSelectFamily;
export const setDefaultAutoSelectFamily = (v) => void (autoSelectFamily = Boolean(v));
export const getDefaultAutoSelectFamilyAttemptTimeout = () => autoSelectFamilyTimeout;
export const setDefaultAutoSelectFamilyAttemptTimeout = (v) => void (autoSelectFamilyTimeout = Math.max(10, Number(v) || 250));

export default { isIP, isIPv4, isIPv6, Socket, Stream, connect, createConnection, Server, createServer, BlockList, SocketAddress, getDefaultAutoSelectFamily, setDefaultAutoSelectFamily, getDefaultAutoSelectFamilyAttemptTimeout, setDefaultAutoSelectFamilyAttemptTimeout };
