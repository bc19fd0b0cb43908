import { FabricksError } from '../util/errors.js';
import type { Descriptor } from '../oci/content.js';
import type { LayoutStore } from '../oci/layout-store.js';
import { startStep, type Reporter } from '../util/progress.js';
import { displayPath } from '../util/paths.js';
import type { PackedFile } from '../compose/module-layer.js';
import { runOnWasmtime, storedComponent, wasmtimeAvailable } from '../engine/wasmtime.js';
import type { TranspileCachePolicy } from '../engine/transpile-cache.js';

export interface SyntaxProblem {
  file: string;
  line: number | null;
  column: number | null;
  message: string;
  text: string;
}

/** The entrypoint the runtime's bootstrap reads as "check, do not run" (no path holds NUL). */
const CHECK = '\0check';

/** Where the check runs: the caches of either engine, and what a gc elsewhere must spare. */
export interface CheckEngine {
  transpileCacheDir: string;
  compiledCacheDir: string;
  policy?: TranspileCachePolicy;
}

/**
 * Compiles every .py file with the runtime's own interpreter (the Python in the runtime layer,
 * not the host's), so syntax errors are reported at build time with the version that will run
 * them. The runtime layer runs on its own, its fabricks:app/source served from here; the
 * bootstrap answers through one read of a NUL-prefixed path, which no packed file can have. It
 * runs on the engine `fabricks run` uses (wasmtime, so the runtime compiled for the check is the
 * one runs start from), else in-process.
 */
async function checkPythonSyntax(store: LayoutStore, runtimeLayer: Descriptor, engine: CheckEngine, files: PackedFile[], reporter: Reporter): Promise<SyntaxProblem[]> {
  const byPath = new Map(files.map((f) => [f.path, f.bytes]));
  let report: SyntaxProblem[] | undefined;
  const source = {
    entrypoint: () => CHECK,
    list: () => [...byPath.keys()],
    read(path: string): Uint8Array | undefined {
      if (path.startsWith(`${CHECK}\0`)) {
        report = JSON.parse(path.slice(CHECK.length + 1)) as SyntaxProblem[];
        return undefined;
      }
      return byPath.get(path);
    },
  };
  const grants = { args: ['fabricks-check'], env: [] };
  let status: number;
  if (process.env.FABRICKS_ENGINE !== 'jco' && wasmtimeAvailable()) {
    ({ status } = await runOnWasmtime(await storedComponent(store, runtimeLayer), source, grants, { cacheDir: engine.compiledCacheDir, reporter, ...(engine.policy ? { policy: engine.policy } : {}) }));
  } else {
    const { transpiled } = await import('../engine/transpile.js');
    const { runComponent } = await import('../engine/run.js');
    const t = await transpiled(engine.transpileCacheDir, runtimeLayer.digest, () => store.fetch(runtimeLayer), reporter, engine.policy);
    ({ status } = await runComponent(t, grants, { 'fabricks:app/source': source }));
  }
  if (status !== 0 || !report) {
    throw new FabricksError('RUNTIME_BUILD_FAILED', `the Python runtime could not check the sources (exit status ${status})`, {
      hint: 'rebuild the runtime with: fabricks runtime build python --force',
    });
  }
  return report;
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
