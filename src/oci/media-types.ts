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
  /** A Python wheel fabricks built for the runtime (a native extension), shared through a registry. */
  wheelConfig: 'application/vnd.fabricks.wheel.config.v1+json',
  wheelLayer: 'application/vnd.fabricks.wheel.v1+zip',
} as const;

export const Annotation = {
  title: 'org.opencontainers.image.title',
  created: 'org.opencontainers.image.created',
  refName: 'org.opencontainers.image.ref.name',
  runtime: 'fabricks.runtime',
  entrypoint: 'fabricks.entrypoint',
  /** A shared wheel's inputs: the distribution, its version, the sdist's sha256 and the toolchain (the runtime is `runtime`). */
  wheelPackage: 'fabricks.wheel.package',
  wheelVersion: 'fabricks.wheel.version',
  wheelSdist: 'fabricks.wheel.sdist-sha256',
  wheelToolchain: 'fabricks.wheel.toolchain',
} as const;
