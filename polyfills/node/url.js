// node:url for bundles: the WHATWG URL the runtime has, the legacy parse/format/resolve of the
// `url` package, and the file-URL helpers Node adds (paths are POSIX in the guest).
import legacy from 'url/url.js';

export const URL = globalThis.URL;
export const URLSearchParams = globalThis.URLSearchParams;
export const { parse, format, resolve, resolveObject, Url } = legacy;

export function fileURLToPath(url) {
  const u = typeof url === 'string' ? new URL(url) : url;
  if (u.protocol !== 'file:') throw new TypeError('The URL must be of scheme file');
  if (u.hostname !== '' && u.hostname !== 'localhost') throw new TypeError('File URL host must be "localhost" or empty');
  if (/%2f/i.test(u.pathname)) throw new TypeError('File URL path must not include encoded / characters');
  return decodeURIComponent(u.pathname);
}

export function pathToFileURL(path) {
  const cwd = globalThis.process?.cwd?.() ?? '/';
  let abs = path.startsWith('/') ? path : `${cwd.replace(/\/$/, '')}/${path}`;
  const u = new URL('file://');
  u.pathname = abs.replace(/%/g, '%25').replace(/\?/g, '%3F').replace(/#/g, '%23');
  return u;
}

export function domainToASCII(domain) {
  return new URL(`http://${domain}`).hostname;
}

export function urlToHttpOptions(u) {
  return { protocol: u.protocol, hostname: u.hostname, hash: u.hash, search: u.search, pathname: u.pathname, path: `${u.pathname}${u.search}`, href: u.href, ...(u.port ? { port: Number(u.port) } : {}) };
}

export default { URL, URLSearchParams, parse, format, resolve, resolveObject, Url, fileURLToPath, pathToFileURL, domainToASCII, urlToHttpOptions };
