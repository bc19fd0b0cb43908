import { fileURLToPath } from 'node:url';
import { runTool } from './run-tool.js';

export const COMPONENTIZE_JS_VERSION = '0.23.0';

export interface ComponentizeJsOptions {
  /** The module to componentize; its folder becomes the working folder. */
  sourcePath: string;
  witPath: string;
  worldName: string;
  outPath: string;
  /** Fixed scratch folder: componentize-js embeds its paths in the snapshot. */
  tmpDir: string;
  disableFeatures?: string[];
  /** Shared object preloaded into wizer to pin its entropy and clocks (reproducible snapshots). */
  preload?: string;
  signal?: AbortSignal;
}

/**
 * Runs componentize-js in a child process (componentize-js-worker.js). The child makes the
 * build reproducible: componentize-js 0.23 names its work folder from Math.random() under
 * os.tmpdir() and the wizer snapshot keeps that path, so the child fixes both.
 */
export async function componentizeJs(o: ComponentizeJsOptions): Promise<void> {
  const worker = fileURLToPath(new URL('./componentize-js-worker.js', import.meta.url));
  const request = JSON.stringify({
    sourcePath: o.sourcePath,
    witPath: o.witPath,
    worldName: o.worldName,
    outPath: o.outPath,
    disableFeatures: o.disableFeatures ?? [],
    ...(o.preload ? { preload: o.preload } : {}),
  });
  await runTool(`componentize-js ${COMPONENTIZE_JS_VERSION}`, process.execPath, [worker], {
    cwd: fileURLToPath(new URL('.', `file://${o.sourcePath}`)),
    env: { ...process.env, TMPDIR: o.tmpDir, TMP: o.tmpDir, TEMP: o.tmpDir },
    input: request,
    ...(o.signal ? { signal: o.signal } : {}),
  });
}
