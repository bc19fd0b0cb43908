import { isFileStager, isMounter, isVerifier, verifyContent, type Descriptor, type Fetcher, type FileStager, type ManifestContent, type Mounter, type OnBytes, type ReferencePusher, type Storage } from './content.js';
import pLimit from 'p-limit';
import { manifestBlobs } from './manifest.js';

// Callers that list a manifest's blobs have imported it from here.
export { manifestBlobs };

/** What a copy writes to: storage that can name a manifest; a Mounter too, where it can link blobs. */
export type CopyTarget = Storage & ReferencePusher;

/**
 * A source that can write a blob into a file, keeping what the file already holds (a registry:
 * the rest comes with a Range request). The file ends checked against size and digest; returns
 * the bytes that crossed.
 */
export interface FileFetcher {
  fetchToFile(desc: Descriptor, path: string, onBytes?: OnBytes): Promise<number>;
}

export function isFileFetcher(store: object): store is FileFetcher {
  return typeof (store as Partial<FileFetcher>).fetchToFile === 'function';
}

/** A destination that says how many bytes a push sent (fewer than the size when an upload resumed). */
export interface CountingPusher {
  pushCounted(desc: Descriptor, content: Uint8Array, onBytes?: OnBytes): Promise<number>;
}

function isCountingPusher(store: object): store is CountingPusher {
  return typeof (store as Partial<CountingPusher>).pushCounted === 'function';
}

/** A source whose blobs are files it can check without reading them out (the layout store). */
export interface FileSource {
  blobPath(digest: Descriptor['digest']): string;
  verify(desc: Descriptor): Promise<void>;
}

/** A destination that uploads a blob from a file a chunk at a time; returns the bytes sent. */
export interface FilePusher {
  pushFileCounted(desc: Descriptor, path: string, onBytes?: OnBytes): Promise<number>;
}

function isFileSource(store: object): store is FileSource {
  return typeof (store as Partial<FileSource>).blobPath === 'function' && isVerifier(store);
}

function isFilePusher(store: object): store is FilePusher {
  return typeof (store as Partial<FilePusher>).pushFileCounted === 'function';
}

export type BlobAction = 'sent' | 'skipped' | 'mounted';

export interface BlobOutcome {
  desc: Descriptor;
  action: BlobAction;
  /** The repository a mounted blob came from. */
  from?: string;
  /** Bytes of this blob that crossed between the stores (0 when skipped or mounted; less than its size when resumed). */
  bytes: number;
}

export interface CopyHooks {
  onStart?(desc: Descriptor): void;
  onBytes?(desc: Descriptor, done: number): void;
  onDone?(outcome: BlobOutcome): void;
}

/** A blob checked against its digest and not yet in the destination: a staged file, or bytes. */
export type StagedBlob = { path: string } | { bytes: Uint8Array };

export interface CopyOptions {
  /** Repositories on the destination's registry known to hold a blob: tried as mount sources. */
  mountFrom?(desc: Descriptor): string[];
  hooks?: CopyHooks;
  /**
   * Fetch and verify every missing blob before writing any: a copy that fails leaves the
   * destination as it was (pulls into the local store). Into a store that stages files, the
   * blobs wait as checked partial files, which a later copy reuses.
   */
  stageFirst?: boolean;
  /** Called for each blob fetched, after its digest check and before it enters the destination. */
  validate?(desc: Descriptor, blob: StagedBlob): Promise<void>;
  /** Called once every blob and the manifest are in the destination, before the reference names it. */
  check?(): Promise<void>;
  /** How many blobs move at once (default 3). */
  concurrency?: number;
}

/** Blobs of one artifact moved at once: enough to overlap a registry's latency, few enough for its rate limits. */
export const DEFAULT_CONCURRENCY = 3;

export interface CopyResult {
  manifest: Descriptor;
  blobs: BlobOutcome[];
  /** Blob and manifest bytes that moved. */
  bytes: number;
}

/**
 * Copies one manifest and its blobs from `src` to `dst` (after oras-go's Copy): a blob the
 * destination has is skipped, one a sibling repository holds is mounted (once the source has
 * verified its copy), the rest are sent. Between a registry and a store that stages files, blobs
 * travel as files and resume where an earlier copy stopped. The manifest goes last, so a
 * reference never points at missing blobs, and a copy cut off halfway completes when run again.
 */
export async function copyManifest(
  src: Fetcher,
  dst: CopyTarget,
  root: ManifestContent,
  reference: string,
  where: string,
  options: CopyOptions = {},
): Promise<CopyResult> {
  const { blobs } = manifestBlobs(root.desc, root.bytes, where);
  const hooks = options.hooks ?? {};
  const unique = blobs.filter((d, i) => blobs.findIndex((b) => b.digest === d.digest) === i);
  const outcomes: Array<BlobOutcome | undefined> = unique.map(() => undefined);
  const staged: Array<({ desc: Descriptor } & StagedBlob) | undefined> = unique.map(() => undefined);
  const mounter = isMounter(dst) ? dst : undefined;
  const files = isFileStager(dst) && isFileFetcher(src) ? { stager: dst, fetcher: src } : undefined;

  const copyOne = async (desc: Descriptor, i: number): Promise<void> => {
    hooks.onStart?.(desc);
    let outcome: BlobOutcome | undefined;
    const onBytes = (n: number) => hooks.onBytes?.(desc, n);
    if (await dst.exists(desc)) outcome = { desc, action: 'skipped', bytes: 0 };
    if (!outcome && mounter) outcome = await mountFromAny(src, mounter, desc, options.mountFrom?.(desc) ?? []);
    if (!outcome && files) {
      // streamed to a file on the destination's disk: a large blob never sits in memory
      const path = await files.stager.partialPath(desc);
      const bytes = await files.fetcher.fetchToFile(desc, path, onBytes);
      await options.validate?.(desc, { path });
      if (options.stageFirst) staged[i] = { desc, path };
      else await adopt(files.stager, dst, path, desc);
      outcome = { desc, action: 'sent', bytes };
    }
    if (!outcome && !options.stageFirst && !options.validate && isFileSource(src) && isFilePusher(dst)) {
      // a push from the store: checked in place (remembered checks make that cheap), then sent
      // from the file, so blobs moving side by side do not each sit in memory whole
      await src.verify(desc);
      const sent = await dst.pushFileCounted(desc, src.blobPath(desc.digest), onBytes);
      outcome = { desc, action: 'sent', bytes: sent };
    }
    if (!outcome) {
      const bytes = await src.fetch(desc, onBytes);
      // checked here, not at the push: a bad blob must stop the copy before anything is written
      if (options.stageFirst || options.validate) verifyContent(desc, bytes, where);
      await options.validate?.(desc, { bytes });
      let sent = desc.size;
      if (options.stageFirst) staged[i] = { desc, bytes };
      else if (isCountingPusher(dst)) sent = await dst.pushCounted(desc, bytes, onBytes);
      else await dst.push(desc, bytes, onBytes);
      outcome = { desc, action: 'sent', bytes: sent };
    }
    outcomes[i] = outcome;
    hooks.onDone?.(outcome);
  };

  // a few blobs at once; after a failure no new one starts, and the copy fails once those under
  // way have stopped (none is left writing behind the caller's back)
  const limit = pLimit(options.concurrency ?? DEFAULT_CONCURRENCY);
  let failure: { error: unknown } | undefined;
  await Promise.all(
    unique.map((desc, i) =>
      limit(async () => {
        if (failure) return;
        try {
          await copyOne(desc, i);
        } catch (error) {
          failure ??= { error };
        }
      }),
    ),
  );
  if (failure) throw failure.error;
  const done = outcomes.filter((o): o is BlobOutcome => o !== undefined);
  for (const blob of staged) {
    if (!blob) continue;
    if ('path' in blob) await adopt(files!.stager, dst, blob.path, blob.desc);
    else await dst.push(blob.desc, blob.bytes);
  }
  if (options.check) {
    // the manifest is content-addressed, so storing it unnamed is harmless; the check may read it
    await dst.push(root.desc, root.bytes);
    await options.check();
  }
  await dst.pushReference(root.desc, root.bytes, reference);
  return { manifest: root.desc, blobs: done, bytes: done.reduce((n, o) => n + o.bytes, 0) + root.bytes.length };
}

/** Moves a checked file into the store; another copy of the same blob may have moved it first. */
async function adopt(stager: FileStager, dst: Storage, path: string, desc: Descriptor): Promise<void> {
  try {
    await stager.adoptFile(path, desc);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && (await dst.exists(desc))) return;
    throw e;
  }
}

/**
 * The first of `sources` the destination agrees to mount the blob from, if any. No bytes move in
 * a mount, so nothing else would check the blob: a source that can verify its copy does so first,
 * and a damaged one stops the copy (STORE_CORRUPT).
 */
async function mountFromAny(src: Fetcher, dst: Mounter, desc: Descriptor, sources: string[]): Promise<BlobOutcome | undefined> {
  if (sources.length === 0) return undefined;
  if (isVerifier(src)) await src.verify(desc);
  for (const from of sources) {
    if (await dst.mount(desc, from)) return { desc, action: 'mounted', from, bytes: 0 };
  }
  return undefined;
}
