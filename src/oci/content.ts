import type { Digest } from './digest.js';

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

/** Reads blobs by descriptor; every read is checked against the descriptor's size and digest. */
export interface Fetcher {
  fetch(desc: Descriptor): Promise<Uint8Array>;
}

/** Stores blobs; a pusher refuses bytes that do not match the descriptor. */
export interface Pusher {
  push(desc: Descriptor, content: Uint8Array): Promise<void>;
}

export interface Storage extends Fetcher, Pusher {
  exists(desc: Descriptor): Promise<boolean>;
}

/** Storage with references (tags) that resolve to manifests. */
export interface Target extends Storage {
  resolve(reference: string): Promise<Descriptor>;
  tag(desc: Descriptor, reference: string): Promise<void>;
}
