import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { FabricksError } from '../../util/errors.js';

/** A Python project's declared dependencies, as pip requirement lines. */
export interface PythonRequirements {
  /** The file they came from (absolute). */
  file: string;
  /** One requirement per line, as pip reads them (comments and blank lines dropped). */
  lines: string[];
}

/**
 * The dependencies next to the source: `requirements.txt`, else `[project] dependencies` in
 * `pyproject.toml`; the source folder is looked at first, then the project folder.
 */
export async function readPythonRequirements(sourceDir: string, projectDir: string): Promise<PythonRequirements | undefined> {
  for (const dir of sourceDir === projectDir ? [sourceDir] : [sourceDir, projectDir]) {
    const txt = join(dir, 'requirements.txt');
    const text = await readFile(txt, 'utf8').catch(() => undefined);
    if (text !== undefined) return { file: txt, lines: requirementLines(text, txt) };
    const pyproject = join(dir, 'pyproject.toml');
    const toml = await readFile(pyproject, 'utf8').catch(() => undefined);
    if (toml !== undefined) {
      const deps = projectDependencies(toml, pyproject);
      if (deps) return { file: pyproject, lines: deps };
    }
  }
  return undefined;
}

const shown = (file: string) => relative(process.cwd(), file) || file;

function requirementLines(text: string, file: string): string[] {
  const lines: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) return;
    // options that point pip elsewhere (another file, another index, a local path) would make
    // the build depend on more than this file says
    if (/^-(r|c|e|-requirement|-constraint|-editable|-index-url|-extra-index-url|i|f|-find-links)\b/.test(line)) {
      throw new FabricksError('CONFIG_INVALID', `${shown(file)}:${i + 1}: "${line}" is not supported`, {
        hint: 'list each dependency on its own line (name, version specifier, markers); fabricks resolves from the package index pip is configured with',
      });
    }
    lines.push(line);
  });
  return lines;
}

function projectDependencies(text: string, file: string): string[] | undefined {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text);
  } catch (e) {
    const at = e instanceof TomlError ? `:${e.line}:${e.column}` : '';
    throw new FabricksError('CONFIG_INVALID', `${shown(file)}${at}: not valid TOML`, { hint: 'fix the file, or remove it if the project has no Python dependencies' });
  }
  const project = doc.project as Record<string, unknown> | undefined;
  const deps = project?.dependencies;
  if (deps === undefined) return undefined;
  if (!Array.isArray(deps) || deps.some((d) => typeof d !== 'string')) {
    throw new FabricksError('CONFIG_INVALID', `${shown(file)}: [project] dependencies must be a list of requirement strings`, { hint: 'e.g. dependencies = ["httpx==0.28.1"]' });
  }
  return deps as string[];
}
