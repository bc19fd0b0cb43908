import { FabricksError } from '../util/errors.js';
import { hostPython } from './pip.js';
import { runTool } from './run-tool.js';

/**
 * The source distributions on the package index pip is configured with, read through the
 * index's JSON API (PEP 691). pip itself cannot fetch an sdist without preparing its metadata,
 * which for a Rust package runs maturin and `cargo metadata` on the host, and fails for some
 * (cryptography) before anything is known; fabricks needs only the file and its hash.
 */

export interface SdistFile {
  filename: string;
  url: string;
  sha256: string;
}

/** PEP 503 normalized name: runs of -_. become -, lower case. */
export const normalizeName = (name: string) => name.replace(/[-_.]+/g, '-').toLowerCase();

let indexUrl: Promise<string> | undefined;

/** PIP_INDEX_URL, else pip's configured global.index-url, else PyPI. */
export function packageIndexUrl(signal?: AbortSignal): Promise<string> {
  if (process.env.PIP_INDEX_URL) return Promise.resolve(process.env.PIP_INDEX_URL.replace(/\/+$/, ''));
  indexUrl ??= runTool('pip', hostPython(), ['-m', 'pip', 'config', 'get', 'global.index-url'], { signal })
    .then((r) => r.stdout.trim() || 'https://pypi.org/simple')
    .catch(() => 'https://pypi.org/simple')
    .then((u) => u.replace(/\/+$/, ''));
  return indexUrl;
}

/** The .tar.gz sdist of name==version on the index, or undefined when it has none. */
export async function findSdist(name: string, version: string, signal?: AbortSignal): Promise<SdistFile | undefined> {
  const page = await projectPage(name, signal);
  if (!page) return undefined;
  const body = page.body as { files?: Array<{ filename: string; url: string; hashes?: Record<string, string>; yanked?: unknown }> };
  const wanted = normalizeName(name);
  for (const f of body.files ?? []) {
    const m = /^(.+)-([^-]+)\.tar\.gz$/.exec(f.filename);
    if (!m || normalizeName(m[1]!) !== wanted || m[2] !== version || !f.hashes?.sha256) continue;
    return { filename: f.filename, url: new URL(f.url, page.url).href, sha256: f.hashes.sha256 };
  }
  return undefined;
}

/** The file's bytes, checked against its sha256. */
export async function downloadChecked(file: SdistFile, signal?: AbortSignal): Promise<Uint8Array> {
  const { createHash } = await import('node:crypto');
  let res: Response;
  try {
    res = await fetch(file.url, signal ? { signal } : {});
  } catch (cause) {
    throw new FabricksError('REGISTRY_UNREACHABLE', `${file.url} could not be downloaded`, { cause });
  }
  if (!res.ok) throw new FabricksError('DEPENDENCY_INVALID', `${file.url} answered ${res.status}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const got = createHash('sha256').update(bytes).digest('hex');
  if (got !== file.sha256) {
    throw new FabricksError('DIGEST_MISMATCH', `${file.filename} does not match its sha256 (${file.sha256}; got ${got})`, {
      hint: 'someone changed the file on the index, or the lock was edited; check it, then delete its [[python.packages]] entry from fabricks.lock to resolve again',
    });
  }
  return bytes;
}

/**
 * The versions the index has of a project (PEP 691's JSON, with PEP 700's `versions`, else from
 * its files' names), or undefined when the index does not know the project.
 */
export async function projectVersions(name: string, signal?: AbortSignal): Promise<string[] | undefined> {
  const page = await projectPage(name, signal);
  if (!page) return undefined;
  const body = page.body as { versions?: string[]; files?: Array<{ filename: string }> };
  if (Array.isArray(body.versions)) return body.versions;
  const found = new Set<string>();
  for (const f of body.files ?? []) {
    const m = /^[^-]+-([^-]+?)(?:-.*\.whl|\.tar\.gz|\.zip)$/.exec(f.filename);
    if (m) found.add(m[1]!);
  }
  return [...found];
}

/** A project's page on the index (PEP 691's JSON), or undefined when the index does not know the project. */
async function projectPage(name: string, signal?: AbortSignal): Promise<{ url: string; body: unknown } | undefined> {
  const index = await packageIndexUrl(signal);
  const url = `${index}/${normalizeName(name)}/`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { Accept: 'application/vnd.pypi.simple.v1+json' }, ...(signal ? { signal } : {}) });
  } catch (cause) {
    throw new FabricksError('REGISTRY_UNREACHABLE', `the package index ${index} could not be reached for ${name}`, { cause, hint: 'check the network, or PIP_INDEX_URL' });
  }
  if (res.status === 404) return undefined;
  if (!res.ok || !/json/.test(res.headers.get('content-type') ?? '')) {
    throw new FabricksError('REGISTRY_REFUSED', `the package index ${index} answered ${res.status} (${res.headers.get('content-type') ?? 'no content type'}) for ${name}`, {
      status: res.status,
      hint: 'fabricks reads the index through the JSON API of PEP 691, which PyPI and most mirrors serve',
    });
  }
  return { url, body: await res.json() };
}
