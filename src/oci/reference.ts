import { FabricksError } from '../util/errors.js';
import { isDigest, type Digest } from './digest.js';

/** A parsed OCI reference: `[registry/]repository[:tag][@digest]`. */
export interface Reference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: Digest;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
export const DEFAULT_REGISTRY = 'docker.io';

/** Returns the reason a reference is invalid, or the parsed reference. */
export function parseReference(input: string): Reference | { error: string } {
  if (input.trim() !== input || input === '') return { error: 'a reference cannot be empty or have spaces around it' };
  let rest = input;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) return { error: `"${d}" is not a sha256 digest (sha256: and 64 lowercase hex digits)` };
    digest = d;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return { error: `tag "${tag}" may only hold letters, digits, "_", "." and "-" (at most 128)` };
  }
  const parts = rest.split('/');
  let registry = DEFAULT_REGISTRY;
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first;
    parts.shift();
  }
  for (const p of parts) {
    if (!COMPONENT.test(p)) {
      return { error: `"${p}" is not a valid repository name part (lowercase letters, digits, and ".", "_", "-" between them)` };
    }
  }
  return { registry, repository: parts.join('/'), ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

export function mustParseReference(input: string, what: string): Reference {
  const r = parseReference(input);
  if ('error' in r) throw new FabricksError('REFERENCE_INVALID', `${what} "${input}" is not a valid OCI reference: ${r.error}`);
  return r;
}

export function formatReference(r: Reference): string {
  const base = r.registry === DEFAULT_REGISTRY ? r.repository : `${r.registry}/${r.repository}`;
  return `${base}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** A reference with no tag and no digest means its `latest` tag, as docker and oras read it. */
export function withDefaultTag(r: Reference): Reference {
  return r.tag || r.digest ? r : { ...r, tag: 'latest' };
}

/** What a registry's manifests endpoint takes for a reference: its digest, else its tag. */
export function manifestReference(r: Reference): string {
  return r.digest ?? r.tag ?? 'latest';
}

/** `host[:port]/repo[:tag]`: a reference that names a registry (not a local name:version). */
export function isRemoteReference(arg: string): boolean {
  const first = arg.split('/')[0] ?? '';
  return arg.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
}

/** Parses a registry reference given on the command line, naming the argument at fault. */
export function parseRemote(input: string, what: string): Reference {
  const ref = mustParseReference(input, what);
  if (!isRemoteReference(input)) {
    throw new FabricksError('REFERENCE_INVALID', `${what} "${input}" names no registry`, {
      hint: 'write it as registry/repository:tag, e.g. localhost:5000/apps/hello:1.0 or ghcr.io/you/hello:1.0',
    });
  }
  return ref;
}
