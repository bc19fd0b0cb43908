import type { Descriptor } from '../oci/content.js';
import type { Digest } from '../oci/digest.js';
import type { ProjectConfig } from '../config/project.js';
import type { LockFile, LockSection } from '../config/lock.js';
import type { PackedFile } from '../compose/module-layer.js';
import type { Context } from '../home/context.js';
import type { Reporter } from '../util/progress.js';
import type { WheelSharing } from '../config/wheel-sharing.js';

/** A file of the project as the builder read it. */
export interface ReadFile {
  /** '/'-separated, relative to [source] path. */
  path: string;
  abs: string;
  bytes: Uint8Array;
}

export interface Packed {
  files: PackedFile[];
  /** Files packing read from outside the packed set (e.g. node_modules), with their digests. */
  external: Array<[string, Digest]>;
}

export interface Dependencies {
  /** The dependencies' files, packed with the project's. */
  files: Array<ReadFile & { size: number }>;
  /** Their pins: the sections of fabricks.lock beside [runtime]. */
  lock: LockSection[];
  /**
   * The runtime the app is built on instead of the one [from] image resolved to: a variant of it
   * that holds compiled dependencies (Python's native extensions). fabricks.lock still pins the base.
   */
  runtime?: { reference: string; name: string; layer: Descriptor };
  /** The dependencies built for the runtime from source (Python's native extensions), and where each came from. */
  built?: BuiltDependency[];
}

/** A dependency built for the runtime from source: its wheel, and whether it came from this machine's cache, a build here, or the repository that shares them. */
export interface BuiltDependency {
  name: string;
  version: string;
  digest: string;
  size: number;
  from: 'cache' | 'built' | 'pulled';
  /** The repository's tag it was pulled from. */
  pulledFrom?: string;
  /** What pushing it did (with pushing allowed): sent, already there, or failed (a warning said why). */
  pushed?: 'sent' | 'present' | 'failed';
}

/** The runtime an app is built on, as far as a runtime kind needs it. */
export interface BuildTarget {
  /** Its short name, e.g. python:3.14. */
  name: string;
  layer: Descriptor;
}

/** One runtime build: the sources staged in `src`, the component to write at `out`. */
export interface RuntimeBuildJob {
  /** The scratch folder of this build (fixed, so that snapshots hold the same paths everywhere). */
  root: string;
  /** The staged inputs: the guest sources, wit/ with its WASI packages, and build/ (what the kind adds). */
  src: string;
  out: string;
  tmpDir: string;
  /** The compiled preload that pins entropy and clocks (build-runtime.ts), when this machine has one. */
  preload: string | undefined;
  reference: string;
  reporter: Reporter;
  signal: AbortSignal | undefined;
}

/** How a kind's runtime is built: the tool, the WASI version its output speaks, and the build. */
export interface RuntimeBuilder {
  /** The Bytecode Alliance tool that builds it, recorded in the runtime's config. */
  tool: string;
  version: string;
  /** The WASI version the tool's output speaks (a world at another version fails to merge with it). */
  wasi: string;
  /** The guest files (by name) the build takes; the rest of the guest folder stays out. */
  sources: RegExp;
  /** Files the build needs beyond the guest sources, as [path under the staged folder, text]; they count in the runtime's inputs. */
  inputs(): Promise<Array<[string, string]>>;
  /** Builds the runtime component at job.out. */
  build(job: RuntimeBuildJob): Promise<void>;
}

/**
 * Everything fabricks knows about one language: the files it runs, how a project's files are
 * packed into the module layer, its dependencies, its build-time check and how its runtime is
 * built. One per folder of src/runtimes/, registered in catalogue.ts; the builder and the
 * runtime build ask the kind and never name a language themselves.
 */
export interface RuntimeKind {
  /** The language, as a runtime's config records it (e.g. javascript). */
  language: string;
  /** Entrypoint file extensions its runtimes run. */
  extensions: string[];
  /** The dependencies a project declares, pinned in fabricks.lock and fetched; none when it declares none. */
  dependencies?(project: { config: ProjectConfig; runtime: BuildTarget; lock: LockFile | undefined; ctx: Context; wheels?: WheelSharing | undefined }): Promise<Dependencies | undefined>;
  /** The files the module layer holds, made from the project's files (and its dependencies'). */
  pack(project: { config: ProjectConfig; files: ReadFile[]; reporter: Reporter }): Promise<Packed>;
  /** Checks the packed files at build time (runs beside composition); throws what it finds. */
  check?(project: { config: ProjectConfig; runtime: BuildTarget; files: PackedFile[]; ctx: Context }): Promise<void>;
  /** How its runtimes are built; its code loads only when a built-in runtime is looked for or built. */
  builder(): Promise<RuntimeBuilder>;
  /**
   * Its guest can take the engine's accept loop when serving (crates/engine/src/accept.rs): one
   * instance handles every request concurrently, as one Node process does, so sessions and
   * streams held open work. Offered only to runtimes whose guest answers the offer.
   */
  acceptLoop?: boolean;
  /**
   * Its runtime layer exports `prepare` (crates/engine/src/prepare.rs): the engine can make a
   * pre-initialized form of it for each app, so that a start skips what `prepare` did.
   */
  preparable?: boolean;
  /** Its language's package registry: how a published package is resolved and installed to build it by name (npm:, pypi:). */
  published?: PublishedPackages;
}

/** A published package as a command names it: `npm:@scope/pkg@1.2.3#bin`, `pypi:pkg==1.2.3`. */
export interface PackageRef {
  /** As written. */
  text: string;
  scheme: string;
  /** The package's name, as the registry spells it. */
  name: string;
  /** The version or range asked for, as written after the name; '' asks for the newest. */
  spec: string;
  /** The one version the ref names, when it names exactly one: then a cached install answers without the registry. */
  exact?: string;
  /** The program to run, for a package that has several (`#name` or --bin). */
  program?: string;
}

/** A package resolved to one version, its files' checksum, and the program to run. */
export interface PublishedPackage {
  name: string;
  version: string;
  /** The reference pinned to that version, e.g. npm:@scope/pkg@1.2.3. */
  pinned: string;
  /** What the registry vouches for its files with: npm's integrity (sha512-...), the wheel's sha256:... */
  integrity: string;
  /** The program it runs: the bin or console script chosen. */
  program: string;
  /** The project's entrypoint, relative to its folder. */
  entrypoint: string;
  /** The project's files beside fabricks.toml, as [name, text]: the dependency list, a launcher. */
  files: Array<[string, string]>;
}

/** A language's registry of published packages, as fabricks builds them by name. */
export interface PublishedPackages {
  /** The scheme of references it takes (before the colon). */
  scheme: string;
  /** The registry in words, for messages. */
  registry: string;
  /** Splits what follows the scheme (without #program) into name and version; an error says what is wrong. */
  parse(body: string): Pick<PackageRef, 'name' | 'spec' | 'exact'> | { error: string };
  /** How a ref with a program reads: e.g. npm:pkg@1.2.3#bin. */
  example: string;
  /**
   * Resolves the ref to one version (checking that it exists), fetches what it needs to find its
   * program, and writes nothing. `extra`: more requirements to install beside it (--with).
   */
  resolve(ref: PackageRef, extra: string[], ctx: Context): Promise<PublishedPackage>;
  /** Installs what the project's files ask for into `dir` (which holds them), when the build does not fetch them itself. */
  install?(pkg: PublishedPackage, dir: string, ctx: Context): Promise<void>;
}

/** A runtime fabricks builds itself, from its guest sources. */
export interface BuiltinRuntime {
  name: string;
  /** The registry/repository users write in [from] image. */
  repository: string;
  tag: string;
  kind: RuntimeKind;
  /** The code that runs inside the component (guest/<name>): bootstrap and WIT world. */
  guestDir: string;
  description: string;
  /**
   * The most linear memory the runtime can use, in bytes: fabricks run caps [limits] memory there, so that the
   * program runs out of memory cleanly instead of breaking the runtime. None: the 4 GiB of wasm32.
   */
  memoryLimit?: number;
}
