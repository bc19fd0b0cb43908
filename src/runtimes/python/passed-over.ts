import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NativeFailure } from './native-failure.js';

/**
 * Releases passed over on this machine because they cannot be built here for want of what they
 * pin (a crate the registry does not serve), remembered in the native cache for a day (a
 * registry may catch up), so that the next resolution leaves them out at once.
 */
export interface PassedOver {
  pkg: string;
  version: string;
  failure: NativeFailure;
  toolchain?: string;
  at?: number;
}

const PASSED_OVER_FILE = 'passed-over.json';
const PASSED_OVER_FOR_MS = 24 * 60 * 60 * 1000;

async function passedOverFile(nativeDir: string): Promise<PassedOver[]> {
  try {
    const list = JSON.parse(await readFile(join(nativeDir, PASSED_OVER_FILE), 'utf8')) as unknown;
    return Array.isArray(list) ? (list as PassedOver[]).filter((p) => typeof p?.pkg === 'string' && typeof p.version === 'string' && typeof p.failure?.kind === 'string') : [];
  } catch {
    // none yet, or unreadable: found again by the next build that needs it
    return [];
  }
}

/** The releases remembered for this toolchain, younger than a day. */
export async function passedOverHere(nativeDir: string): Promise<PassedOver[]> {
  const { NATIVE_TOOLCHAIN } = await import('../../tools/cargo-wasm.js');
  const now = Date.now();
  return (await passedOverFile(nativeDir)).filter((p) => p.toolchain === NATIVE_TOOLCHAIN.id && typeof p.at === 'number' && now - p.at < PASSED_OVER_FOR_MS);
}

/** Remembers one (written whole or not at all; a cache: losing it costs one failed build). */
export async function rememberPassedOver(nativeDir: string, p: PassedOver): Promise<void> {
  const { NATIVE_TOOLCHAIN } = await import('../../tools/cargo-wasm.js');
  const now = Date.now();
  const kept = (await passedOverFile(nativeDir)).filter((o) => !(o.pkg === p.pkg && o.version === p.version) && typeof o.at === 'number' && now - o.at < PASSED_OVER_FOR_MS);
  const file = join(nativeDir, PASSED_OVER_FILE);
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await mkdir(nativeDir, { recursive: true });
    await writeFile(tmp, JSON.stringify([...kept, { ...p, toolchain: NATIVE_TOOLCHAIN.id, at: now }], null, 2) + '\n');
    await rename(tmp, file);
  } catch {
    await rm(tmp, { force: true });
  }
}
