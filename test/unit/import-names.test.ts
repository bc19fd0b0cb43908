import { describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import { topLevelOfPaths, topLevelOfText, wheelImportNames } from '../../src/runtimes/python/import-names.js';

const text = (s: string) => new TextEncoder().encode(s);

describe('the names a package is imported by', () => {
  it('are the top of the files its wheel installs: packages, modules beside them, purelib and platlib data', () => {
    expect(
      topLevelOfPaths([
        'PIL/__init__.py',
        'PIL/_imaging.cpython-314-x86_64-linux-gnu.so',
        '_cffi_backend.cpython-314-x86_64-linux-gnu.so',
        'six.py',
        'ujson.abi3.so',
        'pillow-12.0.0.dist-info/RECORD',
        'pillow.libs/libjpeg.so.62',
        'pkg-1.0.data/platlib/Levenshtein/__init__.py',
        'pkg-1.0.data/scripts/tool',
        'pkg-1.0.data/headers/x.h',
        '__pycache__/x.pyc',
        'docs/',
        'distutils-precedence.pth',
      ]),
    ).toEqual(['Levenshtein', 'PIL', '_cffi_backend', 'six', 'ujson']);
  });

  it('are what top_level.txt lists when the wheel has one', async () => {
    expect(topLevelOfText('_cffi_backend\ncffi\n\ngoogle/protobuf\n')).toEqual(['_cffi_backend', 'cffi', 'google']);
    const withTop = zipSync({ 'cffi/__init__.py': text(''), 'cffi-2.0.0.dist-info/top_level.txt': text('_cffi_backend\ncffi\n'), 'extra/__init__.py': text('') });
    expect(await wheelImportNames(withTop)).toEqual(['_cffi_backend', 'cffi']);
    const without = zipSync({ 'Levenshtein/__init__.py': text(''), 'levenshtein-0.27.3.dist-info/RECORD': text('') });
    expect(await wheelImportNames(without)).toEqual(['Levenshtein']);
    expect(await wheelImportNames(zipSync({ 'x-1.dist-info/METADATA': text('') }))).toEqual([]);
  });
});
