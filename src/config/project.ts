import { readFile, stat, realpath } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { within } from '../util/paths.js';
import { FabricksError } from '../util/errors.js';
import { parseReference, type Reference } from '../oci/reference.js';
import { repositoryProblem } from './wheel-sharing.js';
import { closest } from './suggest.js';
import { MAX_PATTERN_LENGTH, patternEscapes } from './glob.js';
import { parseCapabilities, type ProjectCapabilities } from './capabilities.js';
import { parseLimits, type Limits } from './limits.js';

export const CONFIG_FILE = 'fabricks.toml';

export interface ProjectConfig {
  /** Absolute path of fabricks.toml. */
  file: string;
  /** The project folder (holds fabricks.toml). */
  dir: string;
  name: string;
  version: string;
  from: { image: string; reference: Reference };
  source: {
    /** As written, relative to the project folder. */
    path: string;
    /** Absolute. */
    dir: string;
    /** Relative to the source folder, '/'-separated. */
    entrypoint: string;
    include: string[];
    exclude: string[];
    /** JavaScript: a Node built-in the runtime does not serve is a build error, not a module whose functions throw when called. */
    strictBuiltins: boolean;
    /** Python: a compiled package only an optional feature needs, which cannot be built, is a build error, not left out. */
    strictNative: boolean;
    /** Python: the OCI repository (registry/repository) where wheels built for the runtime are shared (config/wheel-sharing.ts). */
    wheels?: string;
  };
  capabilities: ProjectCapabilities;
  /** `[limits]` as declared (what is not declared takes fabricks run's defaults). */
  limits: Limits;
  /** A project fabricks made for a published package built by name: the package, pinned, and its checksum (recorded in the artifact). */
  published?: { package: string; integrity: string };
}

/** The tag a project's builds carry in the local store: name:version. */
export function appReference(config: Pick<ProjectConfig, 'name' | 'version'>): string {
  return `${config.name}:${config.version}`;
}

type Table = Record<string, unknown>;

/** What fabricks.toml may hold: table name to its keys (a nested table is a key whose value is a schema). */
const SCHEMA: Record<string, Record<string, 'string' | 'int' | 'bool' | 'string[]' | 'int[]' | Record<string, string>>> = {
  package: { name: 'string', version: 'string' },
  from: { image: 'string' },
  source: { path: 'string', entrypoint: 'string', include: 'string[]', exclude: 'string[]', 'strict-builtins': 'bool', 'strict-native': 'bool', wheels: 'string' },
  capabilities: {
    network: { listen: 'int[]', connect: 'string[]' },
    env: { allow: 'string[]', set: 'string-table' },
    filesystem: { mounts: 'table[]' },
  },
  limits: { memory: 'string', timeout: 'string', 'request-timeout': 'string', concurrency: 'int' },
};

const NAME_RE = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const VERSION_RE = /^[\w][\w.-]{0,127}$/;

class Problems {
  readonly list: string[] = [];
  constructor(
    private readonly file: string,
    private readonly text: string,
  ) {}

  add(field: string, message: string): void {
    const line = locateField(this.text, field);
    this.list.push(`${this.file}${line ? `:${line}` : ''}: ${field}: ${message}`);
  }
}

/** Finds the folder holding fabricks.toml and loads it. */
export async function loadProject(dirOrFile = '.'): Promise<ProjectConfig> {
  const abs = resolve(dirOrFile);
  const file = abs.endsWith('.toml') ? abs : join(abs, CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FabricksError('CONFIG_MISSING', `no ${CONFIG_FILE} in ${resolve(file, '..')}${code === 'ENOENT' ? '' : ` (${code})`}`, {
      hint: `create one (fabricks.example.toml documents every field), or pass the project folder: fabricks build path/to/project`,
    });
  }
  return parseProject(text, file);
}

export async function parseProject(text: string, file: string): Promise<ProjectConfig> {
  const display = relative(process.cwd(), file) || file;
  let doc: Table;
  try {
    doc = parseToml(text) as Table;
  } catch (e) {
    if (e instanceof TomlError) {
      const reason = e.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
      throw new FabricksError('CONFIG_INVALID', `${display}:${e.line}:${e.column}: TOML syntax error: ${reason}`, {
        hint: 'fix the syntax at that line and column; fabricks.example.toml shows every field',
      });
    }
    throw e;
  }
  const problems = new Problems(display, text);
  checkShape(doc, problems);

  const dir = resolve(file, '..');
  const pkg = (doc.package ?? {}) as Table;
  const from = (doc.from ?? {}) as Table;
  const source = (doc.source ?? {}) as Table;

  const name = typeof pkg.name === 'string' ? pkg.name : defaultName(dir);
  if (typeof pkg.name === 'string' && !NAME_RE.test(pkg.name)) {
    problems.add('[package] name', `"${pkg.name}" must be lowercase letters and digits, with ".", "_" or "-" between them`);
  }
  const version = typeof pkg.version === 'string' ? pkg.version : '0.1.0';
  if (!VERSION_RE.test(version)) {
    problems.add('[package] version', `"${version}" must be letters, digits, "_", "." and "-" (it becomes an OCI tag)`);
  }

  let reference: Reference | undefined;
  if (doc.from === undefined) problems.add('[from]', 'missing; add [from] with image = "fabricks.dev/runtimes/node"');
  else if (typeof from.image !== 'string') {
    if (from.image === undefined) problems.add('[from] image', 'missing; for example image = "fabricks.dev/runtimes/node"');
  } else {
    const r = parseReference(from.image);
    if ('error' in r) problems.add('[from] image', `"${from.image}" is not a valid OCI reference: ${r.error}`);
    else reference = r;
  }

  const sourcePath = typeof source.path === 'string' ? source.path : '.';
  const sourceDir = resolve(dir, sourcePath);
  let sourceOk = true;
  if (isAbsolute(sourcePath) || !within(dir, sourceDir)) {
    problems.add('[source] path', `"${sourcePath}" leaves the project folder; use a folder inside ${dir}`);
    sourceOk = false;
  } else if (!(await isDir(sourceDir))) {
    problems.add('[source] path', `"${sourcePath}" is not a folder`);
    sourceOk = false;
  } else if (!within(await realpath(dir), await realpath(sourceDir))) {
    problems.add('[source] path', `"${sourcePath}" is a link that leaves the project folder`);
    sourceOk = false;
  }

  let entrypoint = '';
  if (doc.source === undefined) problems.add('[source]', 'missing; add [source] with entrypoint = "main.js"');
  else if (typeof source.entrypoint !== 'string') {
    if (source.entrypoint === undefined) problems.add('[source] entrypoint', 'missing; name the file that starts the program, e.g. "main.js"');
  } else {
    entrypoint = source.entrypoint.replace(/\\/g, '/').replace(/^\.\//, '');
    const why = patternEscapes(entrypoint);
    if (why) problems.add('[source] entrypoint', `"${source.entrypoint}" ${why}; name a file inside the source folder`);
    else if (sourceOk && !(await isFile(join(sourceDir, entrypoint)))) {
      problems.add('[source] entrypoint', `"${source.entrypoint}" does not exist in ${relative(process.cwd(), sourceDir) || '.'}`);
    }
  }

  const include = (source.include as string[] | undefined) ?? ['**'];
  const exclude = (source.exclude as string[] | undefined) ?? [];
  for (const [field, list] of [['include', include], ['exclude', exclude]] as const) {
    if (!Array.isArray(list)) continue;
    for (const p of list) {
      if (typeof p !== 'string') continue;
      if (p.length > MAX_PATTERN_LENGTH) {
        // shown shortened: the pattern itself may be thousands of characters
        problems.add(`[source] ${field}`, `pattern "${p.slice(0, 40)}..." is ${p.length} characters long; a pattern may be at most ${MAX_PATTERN_LENGTH}: shorten it, or split it into several patterns`);
        continue;
      }
      const why = patternEscapes(p);
      if (why) problems.add(`[source] ${field}`, `pattern "${p}" ${why}: patterns are relative to the source folder and cannot leave it`);
    }
  }

  if (typeof source.wheels === 'string') {
    const why = repositoryProblem(source.wheels);
    if (why) problems.add('[source] wheels', `"${source.wheels}" ${why}`);
  }

  const capabilities = parseCapabilities(doc.capabilities, dir, (field, message) => problems.add(field, message));
  const limits = parseLimits(doc.limits, (field, message) => problems.add(field, message));

  if (problems.list.length > 0) {
    const n = problems.list.length;
    throw new FabricksError('CONFIG_INVALID', `${display} has ${n} problem${n === 1 ? '' : 's'}`, { problems: problems.list });
  }
  return {
    file,
    dir,
    name,
    version,
    from: { image: from.image as string, reference: reference! },
    source: { path: sourcePath, dir: sourceDir, entrypoint, include, exclude, strictBuiltins: source['strict-builtins'] === true, strictNative: source['strict-native'] === true, ...(typeof source.wheels === 'string' ? { wheels: source.wheels } : {}) },
    capabilities,
    limits,
  };
}

/** Stage one for a [capabilities] table alone (a --profile file's): `add` gets each problem with its field. */
export function checkCapabilitiesShape(value: unknown, add: (field: string, message: string) => void): void {
  checkTable('[capabilities]', value, SCHEMA.capabilities!, { add } as Problems);
}

/** Stage one: every table and key is known and has the right type. */
function checkShape(doc: Table, problems: Problems): void {
  for (const [table, value] of Object.entries(doc)) {
    const schema = SCHEMA[table];
    if (!schema) {
      const s = closest(table, Object.keys(SCHEMA));
      problems.add(`[${table}]`, `unknown table${s ? `; did you mean [${s}]?` : `; fabricks.toml has ${Object.keys(SCHEMA).map((k) => `[${k}]`).join(', ')}`}`);
      continue;
    }
    checkTable(`[${table}]`, value, schema, problems);
  }
}

function checkTable(where: string, value: unknown, schema: Record<string, unknown>, problems: Problems): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.add(where, 'must be a table');
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    const type = schema[key];
    if (type === undefined) {
      const s = closest(key, Object.keys(schema));
      problems.add(`${where} ${key}`, `unknown key${s ? `; did you mean "${s}"?` : `; ${where} has ${Object.keys(schema).join(', ')}`}`);
    } else if (typeof type === 'object' && !Array.isArray(type)) {
      checkTable(`[${where.slice(1, -1)}.${key}]`, v, type as Record<string, unknown>, problems);
    } else if (type === 'string' && typeof v !== 'string') {
      problems.add(`${where} ${key}`, `must be a string, not ${describe(v)}`);
    } else if (type === 'bool' && typeof v !== 'boolean') {
      problems.add(`${where} ${key}`, `must be true or false, not ${describe(v)}`);
    } else if (type === 'int' && !(Number.isInteger(v) || typeof v === 'bigint')) {
      problems.add(`${where} ${key}`, `must be a whole number, not ${describe(v)}`);
    } else if (type === 'string[]' && !(Array.isArray(v) && v.every((x) => typeof x === 'string'))) {
      problems.add(`${where} ${key}`, `must be a list of strings, not ${describe(v)}`);
    } else if (type === 'int[]' && !(Array.isArray(v) && v.every((x) => Number.isInteger(x) || typeof x === 'bigint'))) {
      problems.add(`${where} ${key}`, `must be a list of whole numbers, not ${describe(v)}`);
    } else if (type === 'string-table' && !(v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date) && Object.values(v).every((x) => typeof x === 'string'))) {
      problems.add(`${where} ${key}`, `must be a table of strings, such as { MODE = "production" }, not ${describe(v)}`);
    } else if (type === 'table[]' && !(Array.isArray(v) && v.every((x) => x && typeof x === 'object' && !Array.isArray(x)))) {
      problems.add(`${where} ${key}`, `must be a list of tables, such as [{ guest = "/data", host = "./data", mode = "ro" }], not ${describe(v)}`);
    }
  }
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return `a list (${JSON.stringify(v)})`;
  if (v instanceof Date || (typeof v === 'object' && v !== null)) return 'a table or date';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** The line of `key` inside `[table]` (or of the table header), for messages. Best effort. */
export function locateField(text: string, field: string): number | undefined {
  const m = /^\[([^\]]+)\](?: (.+))?$/.exec(field);
  if (!m) return undefined;
  const [, table, key] = m;
  const lines = text.split(/\r?\n/);
  let current = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    const header = /^\[\s*([^\]]+?)\s*\]/.exec(line);
    if (header) {
      current = header[1]!.replace(/\s+/g, '');
      if (!key && current === table) return i + 1;
      continue;
    }
    if (key && current === table && new RegExp(`^"?${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"?\\s*=`).test(line)) return i + 1;
  }
  return undefined;
}

function defaultName(dir: string): string {
  const n = basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return n || 'app';
}

async function isDir(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isDirectory(), () => false);
}
async function isFile(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isFile(), () => false);
}
