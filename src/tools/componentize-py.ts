import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { toolsDir } from '../util/paths.js';
import { ensureTool, runTool } from './run-tool.js';

/** The componentize-py version the Python runtime is built with; scripts/install-tools installs it. */
export const COMPONENTIZE_PY_VERSION = '0.25.1';

/** Where scripts/install-tools puts componentize-py (a venv); FABRICKS_COMPONENTIZE_PY overrides. */
export function componentizePyPath(): string {
  return process.env.FABRICKS_COMPONENTIZE_PY || join(toolsDir(), `componentize-py-${COMPONENTIZE_PY_VERSION}`, 'bin', 'fabricks-componentize-py');
}

export function ensureComponentizePy(): Promise<string> {
  return ensureTool(`componentize-py ${COMPONENTIZE_PY_VERSION}`, componentizePyPath(), 'run: npm run setup (or scripts/install-tools), which installs it once with pip');
}

export interface ComponentizePyOptions {
  /** Folder holding the app module and everything it imports at build time. */
  appDir: string;
  appModule: string;
  witPath: string;
  worldName: string;
  outPath: string;
  /** Scratch folder for componentize-py's temporary files. */
  tmpDir: string;
  /** Shared object preloaded to pin entropy, clocks and file metadata while the interpreter pre-initializes. */
  preload?: string;
  /** The folder whose files' metadata the preload pins (holds the app folder and the scratch folder). */
  fixedMetadataRoot?: string;
  /** Program componentize-py runs under (its command line follows): pins stat results the preload cannot reach. */
  wrapper?: string;
  /**
   * An empty virtual environment: without one, componentize-py asks the machine's python3 for its
   * site-packages and mounts them into the snapshot (their listings end up in import caches).
   */
  emptyVenv?: string;
  signal?: AbortSignal;
}

/** `componentize-py -d <wit> -w <world> componentize <app> -p <dir> -o <out>`. */
export async function componentizePy(o: ComponentizePyOptions): Promise<void> {
  const tool = await ensureComponentizePy();
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: o.tmpDir, TMP: o.tmpDir, TEMP: o.tmpDir };
  // componentize-py mounts the active venv's site-packages, else pipenv's, else python3's own:
  // the runtime must see none of the machine's packages, so it gets an empty venv.
  delete env.VIRTUAL_ENV;
  if (o.emptyVenv) {
    await mkdir(join(o.emptyVenv, 'lib', 'site-packages'), { recursive: true });
    env.VIRTUAL_ENV = o.emptyVenv;
  }
  if (o.preload) env.LD_PRELOAD = o.preload;
  if (o.preload && o.fixedMetadataRoot) env.FABRICKS_FIXED_TIME_ROOT = o.fixedMetadataRoot;
  const args = ['--quiet', '-d', o.witPath, '-w', o.worldName, 'componentize', o.appModule, '-p', o.appDir, '-o', o.outPath];
  await runTool(
    `componentize-py ${COMPONENTIZE_PY_VERSION}`,
    o.wrapper ?? tool,
    o.wrapper ? [tool, ...args] : args,
    { cwd: o.appDir, env, ...(o.signal ? { signal: o.signal } : {}), failureLines: unresolvedSymbols },
  );
}

/**
 * When componentize-py cannot link an extension module, its message ("unresolved symbol(s):" and
 * one line per symbol) comes before a long backtrace: the error shows the message, not the trace.
 */
export function unresolvedSymbols(stderr: string): string[] | undefined {
  const lines = stderr.split('\n');
  const at = lines.findIndex((l) => l.includes('unresolved symbol(s):'));
  if (at < 0) return undefined;
  const needs = lines.slice(at + 1).filter((l) => / needs /.test(l));
  return [lines[at]!.trim(), ...needs.slice(0, 20).map((l) => l.trim())];
}
