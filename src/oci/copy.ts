import { isMounter, verifyContent, type Descriptor, type Fetcher, type ManifestContent, type Mounter, type ReferencePusher, type Storage } from './content.js';
import { manifestBlobs } from './manifest.js';

// Callers that list a manifest's blobs have imported it from here.
export { manifestBlobs };

/** What a copy writes to: storage that can name a manifest; a Mounter too, where it can link blobs. */
export type CopyTarget = Storage & ReferencePusher;

export type BlobAction = 'sent' | 'skipped' | 'mounted';

export interface BlobOutcome {
  desc: Descriptor;
  action: BlobAction;
  /** The repository a mounted blob came from. */
  from?: string;
  /** Bytes of this blob that crossed between the stores (0 when skipped or mounted). */
  bytes: number;
}

export interface CopyHooks {
  onStart?(desc: Descriptor): void;
  onBytes?(desc: Descriptor, done: number): void;
  onDone?(outcome: BlobOutcome): void;
}

export interface CopyOptions {
  /** Repositories on the destination's registry known to hold a blob: tried as mount sources. */
  mountFrom?(desc: Descriptor): string[];
  hooks?: CopyHooks;
  /**
   * Fetch and verify every missing blob before writing any: a copy that fails leaves the
   * destination as it was (pulls into the local store).
   */
  stageFirst?: boolean;
}

export interface CopyResult {
  manifest: Descriptor;
  blobs: BlobOutcome[];
  /** Blob and manifest bytes that moved. */
  bytes: number;
}

/**
 * Copies one manifest and its blobs from `src` to `dst` (after oras-go's Copy): a blob the
 * destination has is skipped, one a sibling repository holds is mounted, the rest are sent.
 * The manifest goes last, so a reference never points at missing blobs, and a copy cut off
 * halfway completes when run again.
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
  const outcomes: BlobOutcome[] = [];
  const staged: Array<{ desc: Descriptor; bytes: Uint8Array }> = [];
  const seen = new Set<string>();
  const mounter = isMounter(dst) ? dst : undefined;
  for (const desc of blobs) {
    if (seen.has(desc.digest)) continue;
    seen.add(desc.digest);
    hooks.onStart?.(desc);
    let outcome: BlobOutcome | undefined;
    if (await dst.exists(desc)) outcome = { desc, action: 'skipped', bytes: 0 };
    if (!outcome && mounter) outcome = await mountFromAny(mounter, desc, options.mountFrom?.(desc) ?? []);
    if (!outcome) {
      const bytes = await src.fetch(desc, (n) => hooks.onBytes?.(desc, n));
      if (options.stageFirst) {
        // checked here, not at the push: a bad blob must stop the copy before anything is written
        verifyContent(desc, bytes, where);
        staged.push({ desc, bytes });
      } else await dst.push(desc, bytes, (n) => hooks.onBytes?.(desc, n));
      outcome = { desc, action: 'sent', bytes: desc.size };
    }
    outcomes.push(outcome);
    hooks.onDone?.(outcome);
  }
  for (const { desc, bytes } of staged) await dst.push(desc, bytes);
  await dst.pushReference(root.desc, root.bytes, reference);
  return { manifest: root.desc, blobs: outcomes, bytes: outcomes.reduce((n, o) => n + o.bytes, 0) + root.bytes.length };
}

/** The first of `sources` the destination agrees to mount the blob from, if any. */
async function mountFromAny(dst: Mounter, desc: Descriptor, sources: string[]): Promise<BlobOutcome | undefined> {
  for (const from of sources) {
    if (await dst.mount(desc, from)) return { desc, action: 'mounted', from, bytes: 0 };
  }
  return undefined;
}
