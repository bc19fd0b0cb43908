// node:os for bundles: what a WASI component can truthfully say about its host, which is
// little (no host name, CPUs or memory figures are visible to it).
export const EOL = '\n';
export const devNull = '/dev/null';
export const constants = { signals: {}, errno: {}, priority: {} };
export const platform = () => 'wasi';
export const type = () => 'WASI';
export const arch = () => 'wasm32';
export const machine = () => 'wasm32';
export const release = () => '0.2';
export const version = () => 'WASI 0.2';
export const endianness = () => 'LE';
export const hostname = () => 'localhost';
export const homedir = () => globalThis.process?.env?.HOME ?? '/';
export const tmpdir = () => globalThis.process?.env?.TMPDIR ?? '/tmp';
export const cpus = () => [];
export const availableParallelism = () => 1;
export const totalmem = () => 0;
export const freemem = () => 0;
export const loadavg = () => [0, 0, 0];
export const uptime = () => (globalThis.performance ? performance.now() / 1000 : 0);
export const networkInterfaces = () => ({});
export const userInfo = () => ({ uid: -1, gid: -1, username: 'fabricks', homedir: homedir(), shell: null });

export default { EOL, devNull, constants, platform, type, arch, machine, release, version, endianness, hostname, homedir, tmpdir, cpus, availableParallelism, totalmem, freemem, loadavg, uptime, networkInterfaces, userInfo };
