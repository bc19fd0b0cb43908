import { readFile } from 'node:fs/promises';
import { FabricksError } from '../util/errors.js';
import type { Descriptor } from '../oci/content.js';
import { Annotation, MediaType } from '../oci/media-types.js';
import { readComponentWorld } from '../compose/component-info.js';

const WASM_LAYERS = new Set<string>([MediaType.runtimeLayer, MediaType.moduleLayer, MediaType.wasmLayer]);

/**
 * A layer that claims to be a Wasm component is parsed as one before it enters the store: its
 * preamble and top-level sections (every layer), and for a single-component artifact, which runs
 * as it is with no composition to catch it, its whole type structure (wasm-tools' decoder).
 */
export async function validateLayer(desc: Descriptor, content: { path: string } | { bytes: Uint8Array }, where: string): Promise<void> {
  if (!WASM_LAYERS.has(desc.mediaType)) return;
  const bytes = 'bytes' in content ? content.bytes : await readFile(content.path);
  const what = `layer ${desc.annotations?.[Annotation.title] ?? desc.mediaType} (${desc.digest.slice(0, 19)}) of ${where}`;
  readComponentWorld(bytes, what);
  if (desc.mediaType !== MediaType.wasmLayer) return;
  const { componentWit } = await import('@bytecodealliance/jco-transpile/wasm-tools');
  try {
    await componentWit(bytes);
  } catch (cause) {
    throw new FabricksError('COMPONENT_INVALID', `${what} is not a valid WebAssembly component: ${String((cause as Error)?.message ?? cause).split('\n')[0]}`, {
      cause,
      hint: 'nothing was stored; the artifact was pushed broken, or by a tool that does not make components',
    });
  }
}
