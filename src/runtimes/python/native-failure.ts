import { FabricksError, type ErrorOptions } from '../../util/errors.js';

/**
 * Why a compiled dependency cannot be built for WebAssembly, as data, decided where the build
 * fails (native.ts, from the sdist or the tool's own lines): what leaves an optional package out
 * (dependencies.ts), and what its note and the lock say, are made from it, never read back out
 * of an error message.
 */
export type NativeFailureKind =
  /** The index has only compiled wheels of it, no source distribution. */
  | 'no-sdist'
  /** Its source distribution cannot be used (not a .tar.gz, empty, no manifest, a module without its package). */
  | 'sdist-unusable'
  /** It builds with something fabricks does not drive (meson, CMake, maturin with cffi bindings, ...). */
  | 'build-system'
  /** Its C code includes a header WASI's C library lacks (dlfcn.h, pthread.h, linux/...). */
  | 'missing-header'
  /** It links a C library that is not there for WebAssembly (libffi, libjpeg, ...). */
  | 'missing-library'
  /** The compiler refused its code. */
  | 'compile-error'
  /** The linker refused it. */
  | 'link-error'
  /** A Rust crate its Cargo.lock pins is not served by the crate registry this machine reaches. */
  | 'crate-unavailable'
  /** The build ended without a wheel, or failed without saying how. */
  | 'build-failed'
  /** (Left out only) it requires another optional package that cannot be built (cryptography needs cffi). */
  | 'requires-left-out';

export interface NativeFailure {
  kind: NativeFailureKind;
  /** Why, in words: the end of the error's message. */
  why: string;
  /** The header that is missing (missing-header). */
  header?: string;
  /** The library that is missing (missing-library), as the linker names it: ffi for -lffi. */
  library?: string;
  /** The tool's line that shows it, when a tool said so. */
  line?: string;
  /** The package it requires that cannot be built (requires-left-out). */
  requires?: string;
  /** The crate and the version its lock asks for (crate-unavailable), e.g. `asn1 ^0.25.0`. */
  crate?: string;
}

/** NATIVE_UNSUPPORTED or NATIVE_BUILD_FAILED with its reason as data. */
export class NativeBuildError extends FabricksError {
  constructor(
    code: 'NATIVE_UNSUPPORTED' | 'NATIVE_BUILD_FAILED',
    message: string,
    readonly failure: NativeFailure,
    options: ErrorOptions = {},
  ) {
    super(code, message, options);
  }
}

/**
 * What a failed build's own lines say went wrong (compilerLines' pick of clang's, wasm-ld's,
 * setuptools' or cargo's lines): a missing header or library when a line names one, else the
 * compiler's or linker's first error, else the last line. `why` is what the build as a whole said.
 */
export function failureOfLines(lines: string[], why: string): NativeFailure {
  for (const line of lines) {
    // cargo, resolving the sdist's Cargo.lock against the registry it reaches
    const crate = /failed to select a version for the requirement `([^`\s]+) = "([^"]+)"`|no matching package named `([^`]+)` found/.exec(line);
    if (crate) return { kind: 'crate-unavailable', why, crate: crate[3] ?? `${crate[1]} ${crate[2]}`, line };
  }
  for (const line of lines) {
    const header = /fatal error: '([^']+)' file not found/.exec(line);
    if (header) return { kind: 'missing-header', why, header: header[1]!, line };
  }
  for (const line of lines) {
    // wasm-ld's "unable to find library -lffi"; a setup that looks for its library first and says so
    const library = /unable to find library -l(\S+)|cannot find -l(\S+)|could not be found for (\w[\w.+-]*)/.exec(line);
    if (library) return { kind: 'missing-library', why, library: (library[1] ?? library[2] ?? library[3])!, line };
  }
  const compile = lines.find((l) => /:\d+:\d+: (fatal )?error: |^error(\[E\d+\])?: /.test(l));
  if (compile) return { kind: 'compile-error', why, line: compile };
  const link = lines.find((l) => /^(wasm-ld[-\d]*|ld(\.lld)?): error: /.test(l));
  if (link) return { kind: 'link-error', why, line: link };
  const last = lines.filter((l) => /error/i.test(l)).at(-1) ?? lines.at(-1);
  return { kind: 'build-failed', why, ...(last ? { line: last } : {}) };
}

/** The reason a left-out package was left out, in the words its note, the lock and its import error give. */
export function failureText(f: NativeFailure): string {
  const at = f.line ? ` (${f.line})` : '';
  switch (f.kind) {
    case 'missing-header':
      return `its build for WebAssembly failed: its C code includes ${f.header}, which WASI's C library does not have${at}`;
    case 'missing-library':
      return `its build for WebAssembly failed: it needs the C library ${f.library}, which is not available for WebAssembly${at}`;
    case 'crate-unavailable':
      return `its build for WebAssembly failed: the Rust crate ${f.crate} that its Cargo.lock pins is not served by the crate registry this machine reaches${at}`;
    case 'compile-error':
    case 'link-error':
    case 'build-failed':
      return `its build for WebAssembly failed: ${f.why}${at}`;
    default:
      return f.why;
  }
}
