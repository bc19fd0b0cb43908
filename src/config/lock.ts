import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { FabricksError } from '../util/errors.js';
import { isDigest, type Digest } from '../oci/digest.js';
import { writeAtomic } from '../util/atomic.js';

export const LOCK_FILE = 'fabricks.lock';

/** A value in a lock section: a scalar, or an array of flat tables (`[[name.key]]`) whose values are scalars or arrays of strings. */
export type LockValue = string | number | boolean | Array<Record<string, string | number | boolean | string[]>>;

/**
 * A table fabricks.lock holds beside [runtime] for the runtime kind that wrote it, e.g. [python]
 * with a Python project's pinned dependencies. fabricks.lock keeps it as it is; the kind reads
 * and checks it (src/runtimes/<name>/).
 */
export interface LockSection {
  name: string;
  table: Record<string, LockValue>;
  /** Comment lines written above it, saying what it pins. */
  note?: string;
}

export interface LockFile {
  runtime: { image: string; digest: Digest; size: number };
  /** The tables beside [runtime], by name, as parsed (the kind that owns one checks it). */
  sections: Record<string, Record<string, unknown>>;
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
  const sections: LockFile['sections'] = {};
  for (const [name, value] of Object.entries(doc)) {
    if (name === 'version' || name === 'runtime') continue;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new FabricksError('LOCK_INVALID', `${display}: ${name} is not a table`, { hint: `delete ${LOCK_FILE}; the next build writes it again` });
    }
    sections[name] = value as Record<string, unknown>;
  }
  return { runtime: { image: rt.image, digest: rt.digest, size: rt.size }, sections };
}

/** Where a project's lock file is, as messages name it. */
export const lockDisplayPath = (projectDir: string) => relative(process.cwd(), join(projectDir, LOCK_FILE)) || join(projectDir, LOCK_FILE);

export async function writeLock(projectDir: string, runtime: LockFile['runtime'], sections: LockSection[]): Promise<void> {
  const text =
    `# Written by fabricks build. Commit it: it pins the runtime this project builds on.\n` +
    `# Delete it (or change [from] image) to move to another runtime.\n` +
    `version = 1\n\n[runtime]\n` +
    `image = ${JSON.stringify(runtime.image)}\n` +
    `digest = ${JSON.stringify(runtime.digest)}\n` +
    `size = ${runtime.size}\n` +
    sections.map(sectionText).join('');
  await writeAtomic(join(projectDir, LOCK_FILE), text);
}

/** A section as TOML: its note, its scalars, then each array of tables. */
function sectionText(section: LockSection): string {
  const toml = (v: string | number | boolean | string[]): string => (Array.isArray(v) ? `[${v.map((s) => JSON.stringify(s)).join(', ')}]` : typeof v === 'string' ? JSON.stringify(v) : String(v));
  const comment = section.note ? `\n${section.note.split('\n').map((l) => `# ${l}`).join('\n')}` : '';
  let text = `${comment}\n[${section.name}]\n`;
  const entries = Object.entries(section.table);
  for (const [key, value] of entries) if (!Array.isArray(value)) text += `${key} = ${toml(value)}\n`;
  for (const [key, value] of entries) {
    if (!Array.isArray(value)) continue;
    for (const item of value) text += `\n[[${section.name}.${key}]]\n${Object.entries(item).map(([k, v]) => `${k} = ${toml(v)}\n`).join('')}`;
  }
  return text;
}
