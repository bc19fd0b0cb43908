import { describe, expect, it } from 'vitest';
import { narrowingCasts, parameterCount } from '../../src/runtimes/python/native-casts.js';
import { unlinkable } from '../../src/runtimes/python/native-runtime.js';
import { unresolvedSymbols } from '../../src/tools/componentize-py.js';
import { FabricksError } from '../../src/util/errors.js';

describe('C extensions: what traps under WebAssembly', () => {
  it('counts the parameters of a function pointer type as clang spells it', () => {
    expect(parameterCount('struct _object *(*)(struct _object *, struct _object *)')).toBe(2);
    expect(parameterCount('PyObject *(*)(PYXXH32Object *)')).toBe(1);
    expect(parameterCount('int (*)(void)')).toBe(0);
    expect(parameterCount('void (*)(int (*)(int, int), char)')).toBe(2);
    expect(parameterCount('PyCFunction')).toBeUndefined();
  });

  it('reports the casts that give a function more parameters than it takes (xxhash, regex), not those that give it fewer (keyword methods)', () => {
    const log = [
      "2026-12-06T01:41:24,817   src/_xxhash.c:556:16: warning: cast from 'PyObject *(*)(PYXXH32Object *)' (aka 'struct _object *(*)(PYXXH32Object *)') to 'PyCFunction' (aka 'struct _object *(*)(struct _object *, struct _object *)') converts to incompatible function type [-Wcast-function-type-mismatch]",
      "src/_xxhash.c:556:16: warning: cast from 'PyObject *(*)(PYXXH32Object *)' (aka 'struct _object *(*)(PYXXH32Object *)') to 'PyCFunction' (aka 'struct _object *(*)(struct _object *, struct _object *)') converts to incompatible function type [-Wcast-function-type-mismatch]",
      "src/_regex.c:22904:20: warning: cast from 'PyObject *(*)(PyObject *)' (aka 'struct _object *(*)(struct _object *)') to 'getter' (aka 'struct _object *(*)(struct _object *, void *)') converts to incompatible function type [-Wcast-function-type-mismatch]",
      "src/m.c:10:5: warning: cast from 'PyObject *(*)(PyObject *, PyObject *, PyObject *)' (aka 'struct _object *(*)(struct _object *, struct _object *, struct _object *)') to 'PyCFunction' (aka 'struct _object *(*)(struct _object *, struct _object *)') converts to incompatible function type [-Wcast-function-type-mismatch]",
    ].join('\n');
    expect(narrowingCasts(log)).toEqual([
      { at: 'src/_xxhash.c:556:16', from: 'PyObject *(*)(PYXXH32Object *)', to: 'PyCFunction' },
      { at: 'src/_regex.c:22904:20', from: 'PyObject *(*)(PyObject *)', to: 'getter' },
    ]);
  });

  it("an extension module that needs functions the runtime lacks is NATIVE_BUILD_FAILED naming it and them (componentize-py's message, not its backtrace)", () => {
    const stderr = [
      'Traceback (most recent call last):',
      'AssertionError: unresolved symbol(s):',
      '\t/0/native/httptools/parser/parser.cpython-314-wasm32-wasi.so needs wasm_on_url (function [] -> [])',
      '\t/0/native/httptools/parser/parser.cpython-314-wasm32-wasi.so needs wasm_on_body (function [] -> [])',
      'Stack backtrace:',
      '   0: componentize_py::foo',
    ].join('\n');
    const lines = unresolvedSymbols(stderr)!;
    expect(lines).toEqual([
      'AssertionError: unresolved symbol(s):',
      '/0/native/httptools/parser/parser.cpython-314-wasm32-wasi.so needs wasm_on_url (function [] -> [])',
      '/0/native/httptools/parser/parser.cpython-314-wasm32-wasi.so needs wasm_on_body (function [] -> [])',
    ]);
    expect(unresolvedSymbols('thread main panicked\n')).toBeUndefined();
    const failed = new FabricksError('RUNTIME_BUILD_FAILED', 'building runtime x failed', { cause: new FabricksError('TOOL_FAILED', `componentize-py 0.25.1 failed (exit code 1): cmd\n${lines.join('\n')}`) });
    const e = unlinkable(failed)!;
    expect(e.code).toBe('NATIVE_BUILD_FAILED');
    expect(e.message).toContain('the extension module httptools/parser/parser.cpython-314-wasm32-wasi.so of the compiled dependencies cannot be linked into the runtime');
    expect(e.problems).toEqual(['httptools/parser/parser.cpython-314-wasm32-wasi.so needs wasm_on_url', 'httptools/parser/parser.cpython-314-wasm32-wasi.so needs wasm_on_body']);
    expect(unlinkable(new FabricksError('RUNTIME_BUILD_FAILED', 'x', { cause: new Error('other') }))).toBeUndefined();
  });
});
