import { FabricksError } from '../util/errors.js';
import { sha256, type Digest } from './digest.js';

/**
 * The content model (after oras-go's `content` package): small interfaces that stores compose.
 * The local layout, memory and a registry repository implement the same ones and fail the same
 * way (NOT_FOUND, DIGEST_MISMATCH), so operations such as copy work on any pair of them.
 */

/** An OCI content descriptor. */
export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** A manifest as a reference names it: its descriptor and its exact bytes. */
export interface ManifestContent {
  desc: Descriptor;
  bytes: Uint8Array;
}

/** Called with the bytes of one blob moved so far. */
export type OnBytes = (done: number) => void;

/**
 * Reads blobs by descriptor. Every read is checked against the descriptor's size and digest:
 * a blob the store lacks is NOT_FOUND, bytes that do not match are never returned.
 */
export interface Fetcher {
  fetch(desc: Descriptor, onBytes?: OnBytes): Promise<Uint8Array>;
}

/** Stores blobs; content that does not match its descriptor is DIGEST_MISMATCH and is not stored. */
export interface Pusher {
  push(desc: Descriptor, content: Uint8Array, onBytes?: OnBytes): Promise<void>;
}

export interface Storage extends Fetcher, Pusher {
  /** True when the store holds a blob of this digest and size. */
  exists(desc: Descriptor): Promise<boolean>;
}

/** Names (tags) to manifest descriptors, whatever kind of manifest they name. */
export interface Resolver {
  /** NOT_FOUND when nothing has that name. */
  resolve(reference: string): Promise<Descriptor>;
}

export interface Tagger {
  /** Points a name at a manifest the store holds (NOT_FOUND if it does not). */
  tag(desc: Descriptor, reference: string): Promise<void>;
}

/** The image manifest a name points to, decoded once (see decodeManifest). */
export interface ReferenceFetcher {
  fetchReference(reference: string): Promise<ManifestContent>;
}

/** Stores a manifest and names it in one step. */
export interface ReferencePusher {
  pushReference(desc: Descriptor, content: Uint8Array, reference: string): Promise<void>;
}

/** Storage with references: what a copy can read a whole artifact from, or write one to. */
export interface Target extends Storage, Resolver, Tagger, ReferenceFetcher, ReferencePusher {}

/** A backend that can link a blob it holds elsewhere without moving its bytes (registry mounts). */
export interface Mounter {
  /** False when it would not (then send the bytes); `from` is a repository of the same registry. */
  mount(desc: Descriptor, from: string): Promise<boolean>;
}

export function isMounter(store: object): store is Mounter {
  return typeof (store as Partial<Mounter>).mount === 'function';
}

/**
 * A store that can check a blob it holds without handing its bytes out: before a blob is
 * mounted elsewhere (no bytes move, so nothing else would check it). NOT_FOUND when absent,
 * STORE_CORRUPT when damaged (a damaged blob is moved aside, so the next write restores it).
 */
export interface Verifier {
  verify(desc: Descriptor): Promise<void>;
}

export function isVerifier(store: object): store is Verifier {
  return typeof (store as Partial<Verifier>).verify === 'function';
}

/**
 * A store that takes blobs as files staged on its own disk: large downloads never sit in memory
 * whole, and a download cut off resumes from the partial file on the next run.
 */
export interface FileStager {
  /** Where the partial download of this blob lives; it survives the process. */
  partialPath(desc: Descriptor): Promise<string>;
  /** Moves a staged file, whose size and digest the caller has checked, into the store. */
  adoptFile(path: string, desc: Descriptor): Promise<void>;
}

export function isFileStager(store: object): store is FileStager {
  return typeof (store as Partial<FileStager>).adoptFile === 'function';
}

/**
 * The one integrity check of a push: the content is exactly what the descriptor names.
 * `where` names the store, for the message.
 */
export function verifyContent(desc: Descriptor, content: Uint8Array, where: string): void {
  // size first: it costs nothing and catches truncation before hashing
  const actual = content.length === desc.size ? sha256(content) : undefined;
  if (actual === desc.digest) return;
  const got = actual ? `bytes whose digest is ${actual}` : `${content.length} bytes`;
  throw new FabricksError('DIGEST_MISMATCH', `blob ${desc.digest} (${desc.size} bytes) for ${where} does not match its content: ${got}`, {
    hint: 'nothing was stored; the content was changed or damaged after it was described',
  });
}

/** What a reference resolves to: a descriptor without the annotations of the entry that named it. */
export function plainDescriptor(desc: Descriptor): Descriptor {
  return { mediaType: desc.mediaType, digest: desc.digest, size: desc.size, ...(desc.artifactType ? { artifactType: desc.artifactType } : {}) };
}
