import { join } from 'node:path';
import { formatReference, manifestReference, withDefaultTag, type Reference } from './reference.js';
import type { Direction, Reporter } from '../util/progress.js';
import type { Descriptor, Fetcher, ImageManifest, ManifestContent } from './content.js';
import { copyManifest, DEFAULT_CONCURRENCY, type BlobOutcome, type CopyTarget, type StagedBlob } from './copy.js';
import { manifestBlobs } from './manifest.js';
import { BlobLocations } from './locations.js';
import { Annotation } from './media-types.js';
import { RegistryClient, type RegistryOptions } from './registry/client.js';
import { RemoteRepository, type RepositoryOptions } from './registry/repository.js';
import { UploadSessionFile } from './registry/upload-sessions.js';

/** One blob's part in a push or pull, as `--json` prints it. */
export interface LayerReport {
  title: string;
  mediaType: string;
  digest: string;
  size: number;
  action: BlobOutcome['action'];
  from?: string;
  /** Bytes of this blob that crossed the network. */
  bytes: number;
}

export interface TransferReport {
  reference: string;
  manifest: { digest: string; mediaType: string; size: number };
  layers: LayerReport[];
  /** Blob and manifest bytes that crossed the network. */
  bytes: number;
}

// One client per registry per options object: a command's Context holds one, so its tokens and
// connections are shared; other options (a test's short timeouts) get clients of their own.
const clients = new WeakMap<RegistryOptions, Map<string, RegistryClient>>();
const NO_OPTIONS: RegistryOptions = {};

/** A repository on a registry; one client (and token cache) per registry per process. */
export function remoteRepository(ref: Reference, options: RegistryOptions = NO_OPTIONS, repository: RepositoryOptions = {}): RemoteRepository {
  const key = `${options.plainHttp ? 'http' : 'https'}://${ref.registry}`;
  let byHost = clients.get(options);
  if (!byHost) clients.set(options, (byHost = new Map()));
  let client = byHost.get(key);
  if (!client) {
    client = new RegistryClient(ref.registry, options);
    byHost.set(key, client);
  }
  return new RemoteRepository(client, ref.repository, repository);
}

/** Blobs moved at once: FABRICKS_TRANSFER_CONCURRENCY (1 for a registry that limits connections), else 3. */
export function transferConcurrency(): number {
  const n = Number(process.env.FABRICKS_TRANSFER_CONCURRENCY);
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_CONCURRENCY;
}

/** Where unfinished uploads are remembered, so a push cut off resumes on the next run. */
export const uploadSessionsFile = (home: string) => join(home, 'uploads.json');

function title(desc: Descriptor, manifest: ImageManifest): string {
  if (desc.digest === manifest.config.digest) return 'config';
  return desc.annotations?.[Annotation.title] ?? desc.mediaType;
}

/** Progress per blob: what moved, what was skipped or mounted, and how many bytes. */
function progressHooks(reporter: Reporter, manifest: ImageManifest, direction: Direction) {
  const started = new Map<string, number>();
  const shown = new Map<string, number>();
  return {
    onStart: (desc: Descriptor) => started.set(desc.digest, Date.now()),
    onBytes: (desc: Descriptor, done: number) => {
      // large blobs report every quarter, so a long transfer shows it is moving
      const quarter = Math.floor((done / desc.size) * 4);
      if (desc.size > 4 * 1024 * 1024 && quarter < 4 && quarter > (shown.get(desc.digest) ?? 0)) {
        shown.set(desc.digest, quarter);
        reporter({ event: 'blob-bytes', direction, title: title(desc, manifest), digest: desc.digest, bytes: done, total: desc.size });
      }
    },
    onDone: (o: BlobOutcome) => {
      const action = o.action === 'sent' && direction === 'pull' ? 'received' : o.action;
      reporter({
        event: 'blob-done',
        direction,
        title: title(o.desc, manifest),
        digest: o.desc.digest,
        size: o.desc.size,
        action,
        ...(o.from ? { from: o.from } : {}),
        bytes: o.bytes,
        ms: Date.now() - (started.get(o.desc.digest) ?? Date.now()),
      });
    },
  };
}

function report(reference: string, root: Descriptor, manifest: ImageManifest, outcomes: BlobOutcome[], bytes: number): TransferReport {
  return {
    reference,
    manifest: { digest: root.digest, mediaType: root.mediaType, size: root.size },
    layers: outcomes.map((o) => ({
      title: title(o.desc, manifest),
      mediaType: o.desc.mediaType,
      digest: o.desc.digest,
      size: o.desc.size,
      action: o.action,
      ...(o.from ? { from: o.from } : {}),
      bytes: o.bytes,
    })),
    bytes,
  };
}

export interface PushOptions {
  registry: RegistryOptions;
  reporter: Reporter;
  home: string;
  /** Other repositories of the destination registry worth trying as mount sources. */
  mountHints?: string[];
}

/** Pushes a manifest (and its blobs) from a local source to `destination` (registry/repo:tag). */
export async function pushManifest(
  src: Fetcher,
  root: ManifestContent,
  destination: Reference,
  options: PushOptions,
): Promise<TransferReport> {
  const repo = remoteRepository(destination, options.registry, { uploads: new UploadSessionFile(uploadSessionsFile(options.home)) });
  const reference = formatReference(destination);
  const tag = destination.tag ?? 'latest';
  const { manifest, blobs } = manifestBlobs(root.desc, root.bytes, reference);
  const locations = BlobLocations.at(options.home);
  const known = await locations.repositories(blobs.map((b) => b.digest), destination.registry, destination.repository);
  const hinted = (options.mountHints ?? []).filter((r) => r !== destination.repository);
  options.reporter({ event: 'transfer-start', direction: 'push', reference });
  const result = await copyManifest(src, repo, root, tag, reference, {
    mountFrom: (d) => [...new Set([...(known.get(d.digest) ?? []), ...hinted])],
    hooks: progressHooks(options.reporter, manifest, 'push'),
    concurrency: transferConcurrency(),
  });
  await locations.record(blobs.map((b) => b.digest), repo.location);
  return report(reference, root.desc, manifest, result.blobs, result.bytes);
}

export interface PulledManifest extends TransferReport {
  manifestValue: ImageManifest;
  /** The reference the local store now holds it under (the full remote reference). */
  storeReference: string;
}

export interface PullOptions {
  registry: RegistryOptions;
  reporter: Reporter;
  home: string;
  /** Called on the manifest before any blob moves (the kind of artifact a command takes). */
  accept?: (manifest: ImageManifest, where: string) => void;
  /**
   * Called for each blob received, after its size and digest check and before it enters the
   * store: a file staged in the store (the layout store) or its bytes (other stores).
   */
  validate?: (desc: Descriptor, blob: StagedBlob) => Promise<void>;
  /** Called once every blob (and the manifest, unnamed) is in the store, before the reference is tagged. */
  check?: (manifest: ImageManifest, desc: Descriptor) => Promise<void>;
}

/**
 * Pulls a manifest and its blobs into a store (the local layout, or any Storage that names
 * manifests). Every blob is received and verified before any is written (into a store that
 * stages files, as partial files that a pull cut off resumes), and the reference is tagged last:
 * a failed pull, or a `validate` or `check` that throws, leaves the store's references as they were.
 */
export async function pullToStore(source: Reference, store: CopyTarget, options: PullOptions): Promise<PulledManifest> {
  const repo = remoteRepository(source, options.registry);
  const reference = formatReference(withDefaultTag(source));
  const root = await repo.fetchReference(manifestReference(source));
  const { manifest, blobs } = manifestBlobs(root.desc, root.bytes, reference);
  options.accept?.(manifest, reference);
  options.reporter({ event: 'transfer-start', direction: 'pull', reference });
  const { validate, check } = options;
  const result = await copyManifest(repo, store, root, reference, reference, {
    stageFirst: true,
    hooks: progressHooks(options.reporter, manifest, 'pull'),
    concurrency: transferConcurrency(),
    ...(validate ? { validate } : {}),
    ...(check ? { check: () => check(manifest, root.desc) } : {}),
  });
  await BlobLocations.at(options.home).record(blobs.map((b) => b.digest), repo.location);
  return { ...report(reference, root.desc, manifest, result.blobs, result.bytes), manifestValue: manifest, storeReference: reference };
}
