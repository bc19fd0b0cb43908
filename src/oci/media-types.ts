/** Media types of fabricks artifacts (DESIGN.md, "The OCI artifact"). */
export const MediaType = {
  imageManifest: 'application/vnd.oci.image.manifest.v1+json',
  imageIndex: 'application/vnd.oci.image.index.v1+json',
  appConfig: 'application/vnd.fabricks.config.v1+json',
  runtimeLayer: 'application/vnd.fabricks.runtime.v1+wasm',
  moduleLayer: 'application/vnd.fabricks.module.v1+wasm',
  runtimeConfig: 'application/vnd.fabricks.runtime.config.v1+json',
  /** The CNCF Wasm OCI layout: one component, for tools that take only that (wkg, wash). */
  wasmConfig: 'application/vnd.wasm.config.v0+json',
  wasmLayer: 'application/wasm',
} as const;

export const Annotation = {
  title: 'org.opencontainers.image.title',
  created: 'org.opencontainers.image.created',
  refName: 'org.opencontainers.image.ref.name',
  runtime: 'fabricks.runtime',
  entrypoint: 'fabricks.entrypoint',
} as const;
