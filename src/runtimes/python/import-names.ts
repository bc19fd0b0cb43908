/**
 * The names a package is imported by, as the package itself says: its wheel's top_level.txt
 * (setuptools writes one), else the top of the files the wheel installs (what its RECORD lists:
 * the zip's central directory, read without decompressing anything else). A distribution's name
 * often differs from its modules' (Pillow is PIL, Levenshtein is Levenshtein, not levenshtein),
 * so a left-out package's import error is raised for the names it really has.
 */

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The top-level modules and packages of the files a wheel installs (paths inside it), sorted. */
export function topLevelOfPaths(paths: string[]): string[] {
  const out = new Set<string>();
  for (const raw of paths) {
    if (raw.endsWith('/')) continue;
    let path = raw;
    const data = /^[^/]+\.data\/([^/]+)\/(.*)$/.exec(path);
    if (data) {
      // only purelib and platlib land in site-packages
      if (data[1] !== 'purelib' && data[1] !== 'platlib') continue;
      path = data[2]!;
    }
    const [first, ...rest] = path.split('/');
    if (!first || first.endsWith('.dist-info')) continue;
    if (rest.length) {
      if (IDENTIFIER.test(first) && first !== '__pycache__') out.add(first);
      continue;
    }
    // a module beside the packages: name.py, name.cpython-314-x86_64-linux-gnu.so, name.abi3.so, name.pyd
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(\.[\w-]+)?\.(py|so|pyd)$/.exec(first);
    if (m) out.add(m[1]!);
  }
  return [...out].sort();
}

/** What top_level.txt lists (one name a line; a nested name such as google/protobuf counts by its top). */
export function topLevelOfText(text: string): string[] {
  const names = text
    .split(/\r?\n/)
    .map((l) => l.trim().split('/')[0]!)
    .filter((n) => IDENTIFIER.test(n));
  return [...new Set(names)].sort();
}

/**
 * The import names of a wheel (its bytes): top_level.txt when it has one, else the top of its
 * files; empty when neither names a module. Only the central directory is read, and the one
 * entry top_level.txt is decompressed.
 */
export async function wheelImportNames(wheel: Uint8Array): Promise<string[]> {
  const { unzipSync } = await import('fflate');
  const paths: string[] = [];
  const picked = unzipSync(wheel, {
    filter: (f) => {
      paths.push(f.name);
      return /^[^/]+\.dist-info\/top_level\.txt$/.test(f.name);
    },
  });
  const [topLevel] = Object.values(picked);
  const listed = topLevel ? topLevelOfText(new TextDecoder().decode(topLevel)) : [];
  return listed.length ? listed : topLevelOfPaths(paths);
}
