import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isDigest, type Digest } from './digest.js';
import type { Descriptor, ImageManifest } from './content.js';
import type { LayoutStore } from './layout-store.js';
import { fetchManifest } from './manifest.js';
import { liveLeases } from '../util/lease.js';
import { isGone, type LockOwner } from '../util/file-lock.js';

/** A tagged manifest with what it holds (its manifest undefined when missing or damaged). */
export interface TaggedArtifact {
  reference: string;
  descriptor: Descriptor;
  manifest: ImageManifest | undefined;
  /** Manifest, config and layers: every blob the reference keeps. */
  blobs: Array<{ digest: Digest; size: number }>;
}

/** Every reference in index.json with the blobs it keeps. */
export async function taggedArtifacts(store: LayoutStore): Promise<TaggedArtifact[]> {
  const out: TaggedArtifact[] = [];
  for (const { reference, descriptor } of await store.references()) {
    const manifest = await fetchManifest(store, descriptor, reference).catch(() => undefined);
    const blobs = [descriptor, ...(manifest ? [manifest.config, ...manifest.layers] : [])].map((d) => ({ digest: d.digest, size: d.size }));
    out.push({ reference, descriptor, manifest, blobs });
  }
  return out;
}

export interface FileRemoved {
  path: string;
  bytes: number;
}

export interface StoreSweep {
  /** Blobs no reference keeps and no live process leases: removed (or, dry, that would be). */
  blobs: Array<{ digest: Digest; size: number }>;
  /** Unreferenced blobs kept because a live process uses them (a build or pull under way). */
  leased: number;
  /** Partial downloads no live pull is writing, and lock folders their holders left. */
  partial: FileRemoved[];
  quarantine: FileRemoved[];
  /** Temporary files of writes whose process is gone. */
  temporary: FileRemoved[];
  /** Digests of every blob the store holds afterwards. */
  present: Set<string>;
  /** The references and what they keep, as the sweep saw them. */
  tagged: TaggedArtifact[];
}

const hexOf = (d: string) => d.slice('sha256:'.length);

/**
 * Removes what nothing refers to from a layout store. It holds index.json's lock throughout, so no
 * reference is added while it decides. A blob in use elsewhere is spared through its lease:
 * processes lease a blob before they check it exists (LayoutStore.use), and the sweep moves each
 * candidate aside, then reads the leases again and puts back any leased meanwhile. So a build
 * that found a blob before the sweep keeps it, and one that looks after the move finds it gone
 * and writes it again, as it would after any loss. Partial downloads of live pulls (leased, their
 * lock held) and writes under way (temporary files of live processes) are never touched.
 */
export async function sweepStore(store: LayoutStore, options: { dryRun?: boolean } = {}): Promise<StoreSweep> {
  const dry = Boolean(options.dryRun);
  return store.withIndexLock(async () => {
    const tagged = await taggedArtifacts(store);
    const reachable = new Set(tagged.flatMap((t) => t.blobs.map((b) => b.digest as string)));
    const all = await store.blobs();
    const leased1 = await liveLeases(store.leaseDir);
    const isLeased = (set: Set<string>, digest: string) => set.has(`blob:${hexOf(digest)}`);
    const unreferenced = all.filter((b) => !reachable.has(b.digest));
    let candidates = unreferenced.filter((b) => !isLeased(leased1, b.digest));
    const trash = join(store.stateDir, 'trash');
    if (!dry) {
      // a gc that died halfway left these: they were unreferenced and unleased then
      await rm(trash, { recursive: true, force: true });
      await mkdir(trash, { recursive: true });
      const moved: typeof candidates = [];
      for (const b of candidates) {
        if (await rename(store.blobPath(b.digest), join(trash, hexOf(b.digest))).then(() => true, () => false)) moved.push(b);
      }
      const leased2 = await liveLeases(store.leaseDir);
      candidates = [];
      for (const b of moved) {
        if (isLeased(leased2, b.digest)) await rename(join(trash, hexOf(b.digest)), store.blobPath(b.digest)).catch(() => undefined);
        else candidates.push(b);
      }
      await rm(trash, { recursive: true, force: true });
      await store.forget(candidates.map((b) => b.digest));
    }
    const gone = new Set(candidates.map((b) => b.digest as string));
    const present = new Set(all.map((b) => b.digest as string).filter((d) => !gone.has(d)));
    const leasedNow = await liveLeases(store.leaseDir);
    return {
      blobs: candidates,
      leased: unreferenced.length - candidates.length,
      partial: await sweepPartial(store.partialDir, (hex) => leasedNow.has(`blob:${hex}`), dry),
      quarantine: await sweepFolder(store.quarantineDir, () => true, dry),
      temporary: await sweepFolder(join(store.root, 'blobs', 'sha256'), (name) => deadTemp(name), dry),
      present,
      tagged,
    };
  });
}

/** `.tmp-<pid>-…` of a process that is gone. */
function deadTemp(name: string): boolean {
  const m = /^\.tmp-(\d+)-/.exec(name);
  if (!m) return false;
  try {
    process.kill(Number(m[1]), 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function sizeOf(path: string): Promise<number> {
  const s = await stat(path).catch(() => undefined);
  return s?.isFile() ? s.size : 0;
}

async function sweepFolder(dir: string, pick: (name: string) => boolean, dry: boolean): Promise<FileRemoved[]> {
  const out: FileRemoved[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!pick(name)) continue;
    const path = join(dir, name);
    out.push({ path, bytes: await sizeOf(path) });
    if (!dry) await rm(path, { recursive: true, force: true });
  }
  return out;
}

async function lockOwner(dir: string): Promise<LockOwner | undefined> {
  return readFile(join(dir, 'owner.json'), 'utf8').then((t) => JSON.parse(t) as LockOwner, () => undefined);
}

/**
 * Partial downloads (`<hex>`) and their lock folders (`<hex>.lock`): a file whose blob a live
 * process leases, or whose lock a live process holds, is a download under way and stays.
 */
async function sweepPartial(dir: string, leased: (hex: string) => boolean, dry: boolean): Promise<FileRemoved[]> {
  const out: FileRemoved[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const hex = name.slice(0, 64);
    if (!isDigest(`sha256:${hex}`) || leased(hex)) continue;
    const lock = join(dir, `${hex}.lock`);
    const owner = await lockOwner(lock);
    const lockAge = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => Infinity);
    // a lock without an owner file is being taken (file-lock.ts gives that 5 s)
    const held = owner ? !isGone(owner) : lockAge < 5000;
    if (held) continue;
    const path = join(dir, name);
    out.push({ path, bytes: await sizeOf(path) });
    if (!dry) await rm(path, { recursive: true, force: true });
  }
  return out;
}
