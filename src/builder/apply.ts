import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FabricksError, throwIfAborted } from '../util/errors.js';
import type { Descriptor } from '../oci/content.js';
import { describe } from '../oci/manifest.js';
import { MediaType } from '../oci/media-types.js';
import { writeAtomic } from '../util/atomic.js';
import { startStep } from '../util/progress.js';
import { writeLock } from '../config/lock.js';
import type { ProjectConfig } from '../config/project.js';
import type { Context } from '../home/context.js';
import { encodeApp, recordCapabilities, type AppConfig } from '../artifact/app.js';
import type { BuildRecord, BuildCache } from './cache.js';
import type { BuildInputs, BuildPlan } from './plan.js';
import type { ReadFile } from '../runtimes/kind.js';

export const OUTPUT_DIR = '.fabricks';
export const OUTPUT_COMPONENT = 'app.wasm';

export const outputPath = (config: ProjectConfig) => join(config.dir, OUTPUT_DIR, OUTPUT_COMPONENT);

/**
 * Carries out a build plan: the only step of a build that writes. Store writes are atomic and
 * content-addressed, the output file is replaced whole, and the interrupt signal is checked
 * between steps, so an interrupted build leaves nothing half-written.
 */
export async function applyBuild(plan: BuildPlan, inputs: BuildInputs, files: ReadFile[], previous: BuildRecord | undefined, cache: BuildCache, ctx: Context): Promise<BuildRecord> {
  const { config, runtime } = inputs;
  const { store } = ctx.home;
  let record = previous;
  let component: Uint8Array | undefined;
  for (const action of plan.actions) {
    throwIfAborted(ctx.signal);
    switch (action) {
      case 'compose': {
        const built = await composeApp(inputs, files, ctx);
        record = built.record;
        component = built.component;
        break;
      }
      case 'recompose': {
        const { composeLayers } = await import('../compose/compose.js');
        const { bytes } = await composeLayers(store, runtime.layer, moduleDescriptor(record!), ctx.home.scratchDir, { expect: record!.component.digest, signal: ctx.signal });
        component = bytes;
        break;
      }
      case 'tag':
        await store.tag(record!.manifest, plan.reference);
        break;
      case 'write-output':
        record = { ...record!, output: await writeOutput(config, component!) };
        break;
      case 'write-lock':
        await writeLock(config.dir, { image: config.from.image, digest: inputs.pinned.digest, size: inputs.pinned.size }, inputs.locked);
        break;
      case 'record':
        record = await cache.put(plan.key, record!);
        break;
    }
  }
  if (!record) throw new Error('a build plan without a record');
  return record;
}

const moduleDescriptor = (record: BuildRecord): Descriptor => ({ mediaType: MediaType.moduleLayer, ...record.module });

/** Packs, generates the module layer, composes (checking the packed files meanwhile) and stores the artifact. */
async function composeApp(inputs: BuildInputs, files: ReadFile[], ctx: Context): Promise<{ record: BuildRecord; component: Uint8Array }> {
  const { config, runtime } = inputs;
  const { store } = ctx.home;
  const { reporter, signal } = ctx;
  // loaded only when something is built: a no-op build (every `fabricks run` of a project) skips them
  const [{ generateModuleLayer }, { composeLayers }, { readComponentWorld }] = await Promise.all([
    import('../compose/module-layer.js'),
    import('../compose/compose.js'),
    import('../compose/component-info.js'),
  ]);
  const packed = await runtime.kind.pack({ config, files, reporter });
  const packDone = startStep(reporter, 'pack', config.source.entrypoint);
  const moduleBytes = await generateModuleLayer(config.source.entrypoint, packed.files);
  const moduleDesc = describe(MediaType.moduleLayer, moduleBytes);
  packDone({ digest: moduleDesc.digest, size: moduleDesc.size });

  // The kind's check (Python's: the runtime's own interpreter, on the engine) runs while wac
  // composes. Both finish before either error is reported, so no composition is left running.
  const composeDone = startStep(reporter, 'compose', plannedReference(config));
  const [composed, checked] = await Promise.allSettled([
    composeLayers(store, runtime.layer, moduleDesc, ctx.home.scratchDir, { moduleBytes, signal }),
    runtime.kind.check?.({ config, runtime, files: packed.files, ctx }),
  ]);
  if (checked.status === 'rejected') throw checked.reason;
  if (composed.status === 'rejected') throw composed.reason;
  const { bytes: component, digest } = composed.value;
  composeDone({ digest, size: component.length });
  const world = readComponentWorld(component, 'the composed component');
  if (!world.exports.some((e) => e.startsWith('wasi:cli/run@'))) {
    throw new FabricksError('COMPONENT_INVALID', `the composed component does not export wasi:cli/run (it exports ${world.exports.join(', ') || 'nothing'})`);
  }
  if (world.imports.some((i) => i.startsWith('fabricks:app/'))) {
    throw new FabricksError('COMPONENT_INVALID', "the module layer did not satisfy the runtime's fabricks:app/source import");
  }
  throwIfAborted(signal);
  const appConfig: AppConfig = {
    name: config.name,
    version: config.version,
    runtime: { reference: runtime.reference, digest: runtime.layer.digest, size: runtime.layer.size },
    entrypoint: config.source.entrypoint,
    capabilities: recordCapabilities(config.capabilities),
    ...(Object.keys(config.limits).length > 0 ? { limits: config.limits } : {}),
    component: { digest, size: component.length },
    wit: world,
    ...(inputs.created ? { created: inputs.created } : {}),
    ...(config.published ? { published: config.published } : {}),
  };
  const artifact = encodeApp(appConfig, runtime.layer, runtime.name, moduleDesc);
  // layers and config before the manifest that names them
  await store.push(moduleDesc, moduleBytes);
  await store.push(artifact.configDesc, artifact.configBytes);
  await store.push(artifact.manifest, artifact.manifestBytes);
  const record: BuildRecord = {
    manifest: artifact.manifest,
    module: { digest: moduleDesc.digest, size: moduleDesc.size },
    component: appConfig.component,
    external: packed.external,
    ...(inputs.wheels ? { wheels: inputs.wheels } : {}),
  };
  return { record, component };
}

const plannedReference = (config: ProjectConfig) => `${config.name}:${config.version}`;

/** .fabricks/app.wasm is replaced whole (rename), never left half-written. */
async function writeOutput(config: ProjectConfig, bytes: Uint8Array): Promise<{ size: number; mtimeMs: number }> {
  const path = outputPath(config);
  await mkdir(join(config.dir, OUTPUT_DIR), { recursive: true });
  await writeAtomic(path, bytes);
  const s = await stat(path);
  return { size: s.size, mtimeMs: s.mtimeMs };
}
