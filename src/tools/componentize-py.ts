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
  signal?: AbortSignal;
}

/** `componentize-py -d <wit> -w <world> componentize <app> -p <dir> -o <out>`. */
export async function componentizePy(o: ComponentizePyOptions): Promise<void> {
  const tool = await ensureComponentizePy();
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: o.tmpDir, TMP: o.tmpDir, TEMP: o.tmpDir };
  // componentize-py looks for site-packages in an active venv; the runtime must not pick up any.
  delete env.VIRTUAL_ENV;
  if (o.preload) env.LD_PRELOAD = o.preload;
  if (o.preload && o.fixedMetadataRoot) env.FABRICKS_FIXED_TIME_ROOT = o.fixedMetadataRoot;
  await runTool(
    `componentize-py ${COMPONENTIZE_PY_VERSION}`,
    tool,
    ['--quiet', '-d', o.witPath, '-w', o.worldName, 'componentize', o.appModule, '-p', o.appDir, '-o', o.outPath],
    { cwd: o.appDir, env, ...(o.signal ? { signal: o.signal } : {}) },
  );
}
