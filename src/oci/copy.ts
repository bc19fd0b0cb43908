import { FabricksError } from '../util/errors.js';
import type { Descriptor, ImageManifest } from './content.js';
import { MediaType } from './media-types.js';

/** Where a copy reads from: any store (local layout, registry repository, memory). */
export interface CopySource {
  fetch(desc: Descriptor, onBytes?: (done: number) => void): Promise<Uint8Array>;
}

/** Where a copy writes to; `mount` only where the backend can link a blob without its bytes. */
export interface CopyDestination {
  exists(desc: Descriptor): Promise<boolean>;
  push(desc: Descriptor, content: Uint8Array, onBytes?: (done: number) => void): Promise<void>;
  pushReference(desc: Descriptor, content: Uint8Array, reference: string): Promise<void>;
  mount?(desc: Descriptor, from: string): Promise<boolean>;
}

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

/** The blobs an image manifest points to, config first. Indexes are not fabricks artifacts. */
export function manifestBlobs(root: Descriptor, bytes: Uint8Array, where: string): { manifest: ImageManifest; blobs: Descriptor[] } {
  let manifest: ImageManifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(bytes)) as ImageManifest;
  } catch (cause) {
    throw new FabricksError('REGISTRY_ERROR', `${where}: the manifest is not JSON`, { cause });
  }
  if (root.mediaType !== MediaType.imageManifest || !manifest.config || !Array.isArray(manifest.layers)) {
    throw new FabricksError('NOT_FOUND', `${where} is a ${root.mediaType || 'manifest of unknown type'}, not an OCI image manifest`, {
      hint: 'fabricks moves OCI image manifests (what fabricks push and oras push write)',
    });
  }
  return { manifest, blobs: [manifest.config, ...manifest.layers] };
}

/**
 * Copies one manifest and its blobs from `src` to `dst` (after oras-go's Copy): a blob the
 * destination has is skipped, one a sibling repository holds is mounted, the rest are sent.
 * The manifest goes last, so a reference never points at missing blobs, and a copy cut off
 * halfway completes when run again.
 */
export async function copyManifest(
  src: CopySource,
  dst: CopyDestination,
  root: { desc: Descriptor; bytes: Uint8Array },
  reference: string,
  where: string,
  options: CopyOptions = {},
): Promise<CopyResult> {
  const { blobs } = manifestBlobs(root.desc, root.bytes, where);
  const hooks = options.hooks ?? {};
  const outcomes: BlobOutcome[] = [];
  const staged: Array<{ desc: Descriptor; bytes: Uint8Array }> = [];
  const seen = new Set<string>();
  for (const desc of blobs) {
    if (seen.has(desc.digest)) continue;
    seen.add(desc.digest);
    hooks.onStart?.(desc);
    let outcome: BlobOutcome | undefined;
    if (await dst.exists(desc)) outcome = { desc, action: 'skipped', bytes: 0 };
    for (const from of outcome || !dst.mount ? [] : (options.mountFrom?.(desc) ?? [])) {
      if (await dst.mount!(desc, from)) {
        outcome = { desc, action: 'mounted', from, bytes: 0 };
        break;
      }
    }
    if (!outcome) {
      const bytes = await src.fetch(desc, (n) => hooks.onBytes?.(desc, n));
      if (options.stageFirst) staged.push({ desc, bytes });
      else await dst.push(desc, bytes, (n) => hooks.onBytes?.(desc, n));
      outcome = { desc, action: 'sent', bytes: desc.size };
    }
    outcomes.push(outcome);
    hooks.onDone?.(outcome);
  }
  for (const { desc, bytes } of staged) await dst.push(desc, bytes);
  await dst.pushReference(root.desc, root.bytes, reference);
  return { manifest: root.desc, blobs: outcomes, bytes: outcomes.reduce((n, o) => n + o.bytes, 0) + root.bytes.length };
}
