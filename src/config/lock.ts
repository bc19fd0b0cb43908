import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { FabricksError } from '../util/errors.js';
import { isDigest, type Digest } from '../oci/digest.js';
import { writeAtomic } from '../util/atomic.js';

export const LOCK_FILE = 'fabricks.lock';

/** One Python dependency, pinned to the exact wheel file and its hash. */
export interface PinnedWheel {
  name: string;
  version: string;
  /** The wheel's file name (its tags say it is pure Python). */
  wheel: string;
  sha256: string;
}

export interface LockFile {
  runtime: { image: string; digest: Digest; size: number };
  /** A Python project's dependencies, resolved once; `requirements` is the digest of what was resolved. */
  python?: { requirements: Digest; packages: PinnedWheel[] };
}

export async function readLock(projectDir: string): Promise<LockFile | undefined> {
  const file = join(projectDir, LOCK_FILE);
  const display = relative(process.cwd(), file) || file;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text);
  } catch (e) {
    const at = e instanceof TomlError ? `:${e.line}:${e.column}` : '';
    throw new FabricksError('LOCK_INVALID', `${display}${at}: not valid TOML`, {
      hint: `delete ${LOCK_FILE}; the next build writes it again`,
    });
  }
  const rt = doc.runtime as Record<string, unknown> | undefined;
  if (!rt || typeof rt.image !== 'string' || typeof rt.digest !== 'string' || !isDigest(rt.digest) || typeof rt.size !== 'number') {
    throw new FabricksError('LOCK_INVALID', `${display}: [runtime] needs image, digest (sha256:...) and size`, {
      hint: `delete ${LOCK_FILE}; the next build writes it again`,
    });
  }
  const python = readPython(doc.python, display);
  return { runtime: { image: rt.image, digest: rt.digest, size: rt.size }, ...(python ? { python } : {}) };
}

function readPython(value: unknown, display: string): LockFile['python'] {
  if (value === undefined) return undefined;
  const py = value as { requirements?: unknown; packages?: unknown };
  const bad = (what: string) =>
    new FabricksError('LOCK_INVALID', `${display}: [python] ${what}`, { hint: `delete the [python] entries from ${LOCK_FILE}; the next build resolves the dependencies again` });
  if (typeof py.requirements !== 'string' || !isDigest(py.requirements)) throw bad('needs requirements = "sha256:..."');
  const packages = py.packages ?? [];
  if (!Array.isArray(packages)) throw bad('packages must be an array of tables');
  return {
    requirements: py.requirements,
    packages: packages.map((p: Record<string, unknown>, i) => {
      for (const field of ['name', 'version', 'wheel', 'sha256']) if (typeof p[field] !== 'string') throw bad(`packages[${i}] needs ${field}`);
      if (!/^[0-9a-f]{64}$/.test(p.sha256 as string)) throw bad(`packages[${i}] sha256 must be 64 hex digits`);
      if (!/^[^/\\]+\.whl$/.test(p.wheel as string)) throw bad(`packages[${i}] wheel must be a .whl file name`);
      return { name: p.name as string, version: p.version as string, wheel: p.wheel as string, sha256: p.sha256 as string };
    }),
  };
}

export async function writeLock(projectDir: string, lock: LockFile): Promise<void> {
  const text =
    `# Written by fabricks build. Commit it: it pins the runtime this project builds on.\n` +
    `# Delete it (or change [from] image) to move to another runtime.\n` +
    `version = 1\n\n[runtime]\n` +
    `image = ${JSON.stringify(lock.runtime.image)}\n` +
    `digest = ${JSON.stringify(lock.runtime.digest)}\n` +
    `size = ${lock.runtime.size}\n` +
    (lock.python ? pythonSection(lock.python) : '');
  await writeAtomic(join(projectDir, LOCK_FILE), text);
}

function pythonSection(py: NonNullable<LockFile['python']>): string {
  let text = `\n# Python dependencies, resolved from the requirements whose digest this is; each wheel is\n# checked against its hash when it is downloaded.\n[python]\nrequirements = ${JSON.stringify(py.requirements)}\n`;
  for (const p of py.packages) {
    text += `\n[[python.packages]]\nname = ${JSON.stringify(p.name)}\nversion = ${JSON.stringify(p.version)}\nwheel = ${JSON.stringify(p.wheel)}\nsha256 = ${JSON.stringify(p.sha256)}\n`;
  }
  return text;
}
