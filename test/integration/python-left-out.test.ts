import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { events, fabricks, project, pyToml } from '../helpers.js';

// Optional compiled packages that fabricks cannot build, left out of a real build from the
// package index: fuzzywuzzy's speedup extra brings Levenshtein (imported as Levenshtein, not as
// its lower-case distribution name) and RapidFuzz (imported as rapidfuzz), which build with scikit-build-core; pytest-xdist's
// psutil extra brings psutil, whose C needs Linux's headers (its build fails in seconds).

type LeftOut = { name: string; version: string; 'left-out'?: string; reason?: string; modules?: string[]; 'required-by'?: string };
const lockOf = async (dir: string) => {
  const { parse } = await import('smol-toml');
  return (parse(await readFile(join(dir, 'fabricks.lock'), 'utf8')) as { python: { packages: LeftOut[] } }).python.packages;
};

const main = [
  'from fuzzywuzzy import fuzz',
  'print(fuzz.ratio("this is a test", "this is a test!"))',
  'for name in ("Levenshtein", "rapidfuzz", "psutil"):',
  '    try:',
  '        __import__(name)',
  '    except ModuleNotFoundError as e:',
  '        print(e)',
  '',
].join('\n');

describe('optional compiled packages left out', () => {
  it(
    'records why each was left out as data, and the names it is imported by as the package says; importing one by those names explains it',
    async () => {
      const env = { FABRICKS_NATIVE_CACHE: await mkdtemp(join(tmpdir(), 'fabricks-native-left-')) };
      const dir = await project({ 'fabricks.toml': pyToml(), 'requirements.txt': 'fuzzywuzzy[speedup]==0.18.0\npytest-xdist[psutil]==3.8.0\n', 'main.py': main });
      const built = await fabricks(['build', dir, '--progress', 'json'], { env });
      expect(built.status, built.stderr).toBe(0);
      const notes = events(built.stderr).filter((e) => e.event === 'note' && e.code === 'native-left-out') as Array<{ subject: string; detail: string }>;
      expect(notes.map((n) => n.subject.replace(/ [^ ]+$/, '')).sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()))).toEqual(['package Levenshtein', 'package psutil', 'package RapidFuzz']);

      const pins = await lockOf(dir);
      const pin = (name: string) => pins.find((p) => p.name.toLowerCase() === name.toLowerCase())!;
      // the reason, decided where the build failed: psutil's compiler named the header it lacks
      expect(pin('psutil')).toMatchObject({ reason: 'missing-header', modules: ['psutil'], 'required-by': 'pytest-xdist[psutil]' });
      expect(pin('psutil')['left-out']).toMatch(/^its build for WebAssembly failed: its C code includes [\w/]+\.h, which WASI's C library does not have \(\S+\.c:\d+:\d+: fatal error: '[\w/]+\.h' file not found\)$/);
      expect(pin('Levenshtein')).toMatchObject({ reason: 'build-system', modules: ['Levenshtein'], 'left-out': expect.stringMatching(/^its build backend is scikit_build_core/) });
      expect(pin('rapidfuzz')).toMatchObject({ reason: 'build-system', modules: ['rapidfuzz'] });

      const ran = await fabricks(['run', '-q', dir], { env });
      expect(ran.status, ran.stderr).toBe(0);
      const lines = ran.stdout.split('\n');
      // fuzzywuzzy falls back to difflib when importing Levenshtein fails
      expect(lines[0]).toBe('97');
      expect(lines[1]).toMatch(/^No module named 'Levenshtein': the Python package Levenshtein [\d.]+ \(required by fuzzywuzzy\[speedup\] → python-Levenshtein, an optional feature\) was left out of the fabricks build, which cannot build it for WebAssembly: its build backend is scikit_build_core/);
      expect(lines[2]).toMatch(/^No module named 'rapidfuzz': the Python package RapidFuzz [\d.]+ \(/);
      expect(lines[3]).toMatch(/^No module named 'psutil': the Python package psutil [\d.]+ \(required by pytest-xdist\[psutil\], an optional feature\) was left out of the fabricks build, which cannot build it for WebAssembly: its build for WebAssembly failed: its C code includes /);
    },
    600_000,
  );

  it(
    'is a build error with [source] strict-native = true (one the project requires itself always is: python-native.test.ts)',
    async () => {
      const env = { FABRICKS_NATIVE_CACHE: await mkdtemp(join(tmpdir(), 'fabricks-native-strict-')) };
      const strict = await project({ 'fabricks.toml': pyToml('main.py', 'strict-native = true\n'), 'requirements.txt': 'pytest-xdist[psutil]==3.8.0\n', 'main.py': 'import xdist\n' });
      const r = await fabricks(['build', strict], { env });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/error: the Python package psutil [\d.]+ \(required by pytest-xdist\[psutil\]\) has compiled code and no pure-Python wheel, and fabricks cannot build it for WebAssembly: its build for WebAssembly failed: its C code includes /);
      expect(r.stderr).toContain('hint: only an optional feature needs it (pytest-xdist[psutil]), so without [source] strict-native = true the build leaves it out');
    },
    600_000,
  );
});
