import { FabricksError } from '../util/errors.js';
import type { ImageManifest } from '../oci/content.js';
import { MediaType } from '../oci/media-types.js';

/** The artifacts fabricks knows, told apart by their config media type. */
export type ArtifactKind = 'app' | 'runtime' | 'wasm' | 'wheel';

const KINDS: Record<string, ArtifactKind> = {
  [MediaType.appConfig]: 'app',
  [MediaType.runtimeConfig]: 'runtime',
  [MediaType.wasmConfig]: 'wasm',
  [MediaType.wheelConfig]: 'wheel',
};

const NAMES: Record<ArtifactKind, string> = {
  app: `a fabricks app (${MediaType.appConfig})`,
  runtime: `a fabricks runtime (${MediaType.runtimeConfig})`,
  wasm: `a Wasm component (${MediaType.wasmConfig})`,
  wheel: `a Python wheel fabricks built for WebAssembly (${MediaType.wheelConfig})`,
};

export function artifactKind(manifest: ImageManifest): ArtifactKind | undefined {
  return KINDS[manifest.config.mediaType];
}

/**
 * The manifest's kind when it is one of `accepted`, else WRONG_KIND naming what it is: decided
 * from the manifest alone, before any layer is fetched.
 */
export function requireKind(manifest: ImageManifest, where: string, accepted: ArtifactKind[], hint?: string): ArtifactKind {
  const kind = artifactKind(manifest);
  if (kind && accepted.includes(kind)) return kind;
  const is = kind ? NAMES[kind] : `an artifact whose config is ${manifest.config.mediaType}`;
  throw new FabricksError('WRONG_KIND', `${where} is not ${accepted.map((k) => NAMES[k]).join(' or ')}: it is ${is}`, {
    hint: hint ?? defaultHint(kind),
  });
}

function defaultHint(kind: ArtifactKind | undefined): string | undefined {
  if (kind === 'runtime') return 'run or push an app built on it, or name it in [from] image';
  if (kind === 'wheel') return 'it is shared by builds that name its repository ([source] wheels, --wheels, FABRICKS_WHEELS); it is not an app';
  if (kind === 'wasm') return 'it is a single-component Wasm artifact: fabricks pull -o app.wasm fetches it, fabricks run runs it';
  return undefined;
}
