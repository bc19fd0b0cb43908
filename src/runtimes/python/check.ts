import { FabricksError } from '../../util/errors.js';
import type { Descriptor } from '../../oci/content.js';
import type { LayoutStore } from '../../oci/layout-store.js';
import { startStep, type Reporter } from '../../util/progress.js';
import { displayPath } from '../../util/paths.js';
import type { PackedFile } from '../../compose/module-layer.js';
import { EngineProcess, storedComponent } from '../../engine/process.js';
import { cachePolicy, type CachePolicy } from '../../engine/compiled-cache.js';
import type { ProjectConfig } from '../../config/project.js';
import type { Context } from '../../home/context.js';
import type { BuildTarget } from '../kind.js';
import { PACKAGES_ROOT } from './dependencies.js';

export interface SyntaxProblem {
  file: string;
  line: number | null;
  column: number | null;
  message: string;
  text: string;
}

/** The entrypoint the runtime's bootstrap reads as "check, do not run" (no path holds NUL). */
const CHECK = '\0check';

/** Where the check runs: the engine's cache, and what a gc elsewhere must spare. */
export interface CheckEngine {
  compiledCacheDir: string;
  policy?: CachePolicy;
}

/**
 * Compiles every .py file with the runtime's own interpreter (the Python in the runtime layer,
 * not the host's), so syntax errors are reported at build time with the version that will run
 * them. The runtime layer runs on the engine `fabricks run` uses (so the runtime compiled for the
 * check is the one runs start from) with the files sent along; the entrypoint CHECK, which no
 * packed path can be, asks for the check, whose report comes back as the program's stdout.
 */
async function checkPythonSyntax(store: LayoutStore, runtimeLayer: Descriptor, engine: CheckEngine, files: PackedFile[], reporter: Reporter): Promise<SyntaxProblem[]> {
  const source = { entrypoint: CHECK, files: new Map(files.map((f) => [f.path, f.bytes])) };
  const grants = { args: ['fabricks-check'], env: [] };
  const { status, stdout } = await EngineProcess.start().run(await storedComponent(store, runtimeLayer), source, grants, {
    cacheDir: engine.compiledCacheDir,
    reporter,
    captureStdout: true,
    ...(engine.policy ? { policy: engine.policy } : {}),
  });
  let report: SyntaxProblem[] | undefined;
  try {
    report = JSON.parse(Buffer.from(stdout ?? []).toString('utf8')) as SyntaxProblem[];
  } catch {
    report = undefined;
  }
  if (status !== 0 || !Array.isArray(report)) {
    throw new FabricksError('RUNTIME_BUILD_FAILED', `the Python runtime could not check the sources (exit status ${status})`, {
      hint: 'rebuild the runtime with: fabricks runtime build python --force',
    });
  }
  return report;
}

/** The project's own packed files, checked on the runtime it is built on (dependencies are checked by their own authors). */
export function checkProject(config: ProjectConfig, runtime: BuildTarget, files: PackedFile[], ctx: Context): Promise<void> {
  const { home } = ctx;
  const own = files.filter((f) => !f.path.startsWith(`${PACKAGES_ROOT}/`));
  return checkPython(config.source.dir, home.store, runtime.layer, { compiledCacheDir: home.compiledCacheDir, policy: cachePolicy(home) }, own, ctx.reporter);
}

/** Fails with PY_SYNTAX listing every file that does not compile. */
export async function checkPython(sourceDir: string, store: LayoutStore, runtimeLayer: Descriptor, engine: CheckEngine, files: PackedFile[], reporter: Reporter): Promise<void> {
  const done = startStep(reporter, 'check', displayPath(sourceDir));
  const syntax = await checkPythonSyntax(store, runtimeLayer, engine, files, reporter);
  if (syntax.length > 0) {
    throw new FabricksError('PY_SYNTAX', `${syntax.length === 1 ? 'a Python file does' : `${syntax.length} Python files do`} not compile (${displayPath(sourceDir)})`, {
      problems: formatSyntaxProblems(syntax),
      hint: 'fix the syntax errors above and build again',
    });
  }
  done();
}

/** "file:line:column: message" lines, each followed by the offending line. */
function formatSyntaxProblems(problems: SyntaxProblem[]): string[] {
  return problems.map((p) => {
    const where = [p.file, p.line, p.column].filter((x) => x !== null && x !== undefined).join(':');
    return `${where}: SyntaxError: ${p.message}${p.text ? `\n      ${p.text.trim()}` : ''}`;
  });
}
