import { describe, expect, it } from 'vitest';
import { compilerLines } from '../../src/runtimes/python/native.js';
import { failureOfLines, failureText } from '../../src/runtimes/python/native-failure.js';

// Why a native build failed, as data made where it fails, from the build's own lines (real logs' lines).
describe('the reason a native build failed', () => {
  const pipFailed = 'pip wheel (wasm32-wasi) failed (exit code 1)';

  it('is a missing header when the compiler says a file is not found, after the probes that fail on purpose', () => {
    const log = [
      '2026-12-06T01:33:36,329   wasm-ld-22: error: cannot open crt1.o: No such file or directory',
      "2026-12-06T01:33:37,857   src/c/_cffi_backend.c:13:10: fatal error: 'dlfcn.h' file not found",
      '2026-12-06T01:33:37,978   1 error generated.',
      '2026-12-06T01:33:38,049   ERROR: Failed building wheel for cffi',
    ].join('\n');
    const f = failureOfLines(compilerLines(log), pipFailed);
    expect(f).toEqual({ kind: 'missing-header', why: pipFailed, header: 'dlfcn.h', line: "src/c/_cffi_backend.c:13:10: fatal error: 'dlfcn.h' file not found" });
    expect(failureText(f)).toBe("its build for WebAssembly failed: its C code includes dlfcn.h, which WASI's C library does not have (src/c/_cffi_backend.c:13:10: fatal error: 'dlfcn.h' file not found)");
    const psutil = failureOfLines(["psutil/_psutil_linux.c:13:10: fatal error: 'linux/ethtool.h' file not found"], pipFailed);
    expect(psutil).toMatchObject({ kind: 'missing-header', header: 'linux/ethtool.h' });
  });

  it('is a missing library when the linker or the setup names one', () => {
    expect(failureOfLines(['wasm-ld-22: error: unable to find library -lffi'], pipFailed)).toEqual({ kind: 'missing-library', why: pipFailed, library: 'ffi', line: 'wasm-ld-22: error: unable to find library -lffi' });
    // Pillow's setup looks for its libraries before it compiles
    const pillow = failureOfLines(['RequiredDependencyException: The headers or library files could not be found for jpeg,'], pipFailed);
    expect(pillow).toMatchObject({ kind: 'missing-library', library: 'jpeg' });
    expect(failureText(pillow)).toMatch(/^its build for WebAssembly failed: it needs the C library jpeg, which is not available for WebAssembly \(/);
  });

  it('is a crate the registry does not serve when cargo cannot select the version a Cargo.lock pins', () => {
    const cargo = 'cargo (wasm32-wasip1) failed (exit code 101)';
    // cryptography 51.0.1's lock on a machine whose crates.io stops at asn1 0.24.1
    const lines = [
      'error: failed to select a version for the requirement `asn1 = "^0.25.0"` (locked to 0.25.1)',
      'candidate versions found which didn\'t match: 0.24.1, 0.24.0, 0.23.1, ...',
      'location searched: crates.io index',
    ];
    const f = failureOfLines(lines, cargo);
    expect(f).toEqual({ kind: 'crate-unavailable', why: cargo, crate: 'asn1 ^0.25.0', line: lines[0] });
    expect(failureText(f)).toBe(`its build for WebAssembly failed: the Rust crate asn1 ^0.25.0 that its Cargo.lock pins is not served by the crate registry this machine reaches (${lines[0]})`);
    expect(failureOfLines(['error: no matching package named `pyo3-ffi-nightly` found'], cargo)).toMatchObject({ kind: 'crate-unavailable', crate: 'pyo3-ffi-nightly' });
  });

  it("is the compiler's or the linker's error otherwise, else the build's last line", () => {
    expect(failureOfLines(["src/a.c:5:3: error: unknown type name 'pthread_t'"], pipFailed)).toMatchObject({ kind: 'compile-error', line: "src/a.c:5:3: error: unknown type name 'pthread_t'" });
    const cargo = 'cargo (wasm32-wasip1) failed (exit code 101)';
    expect(failureOfLines(['   Compiling pyo3 v0.22.0', 'error[E0425]: cannot find value `x` in this scope', 'error: could not compile `pyo3`'], cargo)).toEqual({ kind: 'compile-error', why: cargo, line: 'error[E0425]: cannot find value `x` in this scope' });
    expect(failureOfLines(['wasm-ld-22: error: undefined symbol: foo'], pipFailed)).toMatchObject({ kind: 'link-error' });
    const other = failureOfLines(['running build_ext', 'something else'], 'pip made no wheel');
    expect(other).toEqual({ kind: 'build-failed', why: 'pip made no wheel', line: 'something else' });
    expect(failureText(other)).toBe('its build for WebAssembly failed: pip made no wheel (something else)');
    // a reason that is no build's (no sdist, a build system fabricks does not drive) is said as it is
    expect(failureText({ kind: 'build-system', why: 'its build backend is mesonpy' })).toBe('its build backend is mesonpy');
  });
});
