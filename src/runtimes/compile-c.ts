import { runTool } from '../tools/run-tool.js';
import type { Reporter } from '../util/progress.js';

/**
 * Compiles one of the C helpers that make runtime builds byte-reproducible (build-tools/), with
 * the machine's compiler. Without one the runtime still builds, and a note says two builds may
 * differ in a few bytes.
 */
export async function compileHelper(args: string[], out: string, subject: string, reporter: Reporter): Promise<string | undefined> {
  try {
    await runTool('cc', process.env.CC || 'cc', [...args, '-o', out]);
    return out;
  } catch (e) {
    reporter({ event: 'note', code: 'not-reproducible', subject, detail: `no C compiler (${(e as Error).message.split('\n')[0]})` });
    return undefined;
  }
}
