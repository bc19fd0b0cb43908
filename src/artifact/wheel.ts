import { FabricksError } from '../util/errors.js';
import type { Descriptor, ImageManifest, ManifestContent, Pusher } from '../oci/content.js';
import { describe, pushImageManifest } from '../oci/manifest.js';
import { Annotation, MediaType } from '../oci/media-types.js';
import { requireKind } from './kind.js';

/**
 * A wheel fabricks built for the runtime (a Python dependency's native extension), as an OCI
 * artifact: an image manifest whose config says what the wheel was built from, and one layer, the
 * wheel. Its tag in the repository the user names is derived from the build's action key, so a
 * build on any machine with the same inputs looks for exactly this name.
 */

/** What a built wheel is keyed by, and its file name. */
export interface WheelIdentity {
  /** The distribution as the index names it (rpds-py). */
  package: string;
  version: string;
  /** The sdist's sha256, hex. */
  sdistSha256: string;
  /** The toolchain that built it (tools/cargo-wasm.ts NATIVE_TOOLCHAIN.id). */
  toolchain: string;
  /** The runtime's CPython it is for, as layers name runtimes: python:3.14. */
  runtime: string;
  /** The action key of the build: sha256 hex of the inputs above (runtimes/python/native.ts). */
  key: string;
  /** The wheel's file name (rpds_py-2026.9.1-cp314-cp314-wasi_0_0_0_wasm32.whl). */
  file: string;
}

/** The config blob of a wheel artifact. */
export interface WheelConfig {
  package: string;
  version: string;
  sdist: { sha256: string };
  toolchain: string;
  runtime: string;
  key: string;
}

/** OCI tags: at most 128 of [A-Za-z0-9_.-], not starting with . or -. */
const TAG_MAX = 128;

/**
 * The tag of a built wheel: name and version for people (characters a tag cannot hold become _,
 * cut to fit), then the whole action key, which alone decides what the tag names.
 */
export function wheelArtifactTag(id: Pick<WheelIdentity, 'package' | 'version' | 'key'>): string {
  if (!/^[0-9a-f]{64}$/.test(id.key)) throw new FabricksError('ARTIFACT_INVALID', `the action key of ${id.package} ${id.version} is not a sha256 in hex: ${id.key}`);
  const readable = `${id.package}-${id.version}`.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^[.-]+/, '_');
  return `${readable.slice(0, TAG_MAX - id.key.length - 1)}-${id.key}`;
}

/** The wheel layer's annotations: its file name and everything its key is made of. */
export function wheelAnnotations(id: WheelIdentity): Record<string, string> {
  return {
    [Annotation.title]: id.file,
    [Annotation.wheelPackage]: id.package,
    [Annotation.wheelVersion]: id.version,
    [Annotation.wheelSdist]: id.sdistSha256,
    [Annotation.wheelToolchain]: id.toolchain,
    [Annotation.runtime]: id.runtime,
  };
}

function wheelConfig(id: WheelIdentity): WheelConfig {
  return { package: id.package, version: id.version, sdist: { sha256: id.sdistSha256 }, toolchain: id.toolchain, runtime: id.runtime, key: id.key };
}

/** Stores the wheel, its config and the manifest over them; the same wheel gives the same manifest. */
export async function storeWheelArtifact(store: Pusher, id: WheelIdentity, wheel: Uint8Array): Promise<ManifestContent> {
  const layer = describe(MediaType.wheelLayer, wheel, { annotations: wheelAnnotations(id) });
  await store.push(layer, wheel);
  return pushImageManifest(store, { artifactType: MediaType.wheelConfig, config: { mediaType: MediaType.wheelConfig, value: wheelConfig(id) }, layers: [layer] });
}

/** The most a shared wheel may be: it is read into memory (pydantic-core's is 4.6 MB). */
export const MAX_WHEEL = 256 * 1024 * 1024;

/**
 * The wheel layer of a manifest found under a wheel's tag, when it is exactly the wheel this
 * build needs: a wheel artifact (WRONG_KIND otherwise), one wheel layer whose annotations name
 * the same package, version, sdist, toolchain and runtime (ARTIFACT_INVALID otherwise), and, when
 * fabricks.lock records the wheel built for it, that very wheel (DIGEST_MISMATCH otherwise).
 * Decided from the manifest alone, before the wheel is downloaded.
 */
export function checkWheelManifest(manifest: ImageManifest, id: WheelIdentity, where: string, pinned?: string): Descriptor {
  requireKind(manifest, where, ['wheel'], 'the tag names something else than a wheel fabricks pushed: delete it from the repository, or name another repository');
  const [layer, ...rest] = manifest.layers;
  if (!layer || rest.length > 0 || layer.mediaType !== MediaType.wheelLayer) {
    throw new FabricksError('ARTIFACT_INVALID', `${where} is not one ${MediaType.wheelLayer} layer`);
  }
  const expected = wheelAnnotations(id);
  const differ = Object.entries(expected).filter(([k, v]) => layer.annotations?.[k] !== v);
  if (differ.length > 0) {
    throw new FabricksError('ARTIFACT_INVALID', `${where} is not the wheel this build needs: ${differ.map(([k, v]) => `${k} is ${JSON.stringify(layer.annotations?.[k] ?? null)}, not ${JSON.stringify(v)}`).join('; ')}`, {
      hint: 'the tag was written by something else than fabricks for these inputs: delete it from the repository',
    });
  }
  if (layer.size > MAX_WHEEL) throw new FabricksError('ARTIFACT_INVALID', `${where}: its wheel is ${layer.size} bytes, more than the ${MAX_WHEEL} fabricks takes`);
  if (pinned !== undefined && layer.digest !== pinned) {
    throw new FabricksError('DIGEST_MISMATCH', `${where} holds the wheel ${layer.digest}, but fabricks.lock records ${pinned} for ${id.package} ${id.version}`, {
      hint: `the lock was written by a build whose wheel was not shared, or the tag was replaced; to take the shared wheel, delete the built = line of ${id.package} from fabricks.lock`,
    });
  }
  return { mediaType: layer.mediaType, digest: layer.digest, size: layer.size };
}

/**
 * A pulled wheel goes into the cache, where a broken one would fail every later build: it must be
 * a zip whose entries pip can read (stored or deflated) and that holds an extension module for
 * WebAssembly before it is kept. Its bytes were checked against the layer's digest already; this
 * reads only the zip's central directory (and each entry's local header), decompressing nothing.
 */
export async function checkWheelFile(bytes: Uint8Array, id: Pick<WheelIdentity, 'file'>, where: string): Promise<void> {
  const { unzipSync } = await import('fflate');
  const entries: Array<{ name: string; compression: number }> = [];
  try {
    unzipSync(bytes, {
      filter: (f) => {
        entries.push({ name: f.name, compression: f.compression });
        return false;
      },
    });
  } catch (cause) {
    throw new FabricksError('ARTIFACT_INVALID', `${where}: ${id.file} is not a readable wheel (zip)`, { cause });
  }
  const odd = entries.find((e) => e.compression !== 0 && e.compression !== 8);
  if (odd) throw new FabricksError('ARTIFACT_INVALID', `${where}: ${id.file} is not a readable wheel (zip): ${odd.name} is compressed with method ${odd.compression}, not stored or deflated`);
  if (!entries.some((e) => e.name.endsWith('-wasm32-wasi.so'))) throw new FabricksError('ARTIFACT_INVALID', `${where}: ${id.file} holds no extension module for WebAssembly (*-wasm32-wasi.so)`);
}
