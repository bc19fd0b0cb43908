import { join } from 'node:path';
import { toolsDir } from '../util/paths.js';
import { ensureTool, runTool } from './run-tool.js';

/** The wac-cli version fabricks composes with; scripts/install-tools installs exactly this one. */
export const WAC_VERSION = '0.12.0';

/** Where scripts/install-tools puts wac; FABRICKS_WAC overrides. */
export function wacPath(): string {
  return process.env.FABRICKS_WAC || join(toolsDir(), `wac-${WAC_VERSION}`, 'bin', 'wac');
}

export function ensureWac(): Promise<string> {
  return ensureTool(`wac ${WAC_VERSION}`, wacPath(), 'run: npm run setup (or scripts/install-tools), which builds it once with cargo');
}

/** `wac plug <socket> --plug <plug> -o <out>`: fills the socket's imports with the plug's exports. */
export async function wacPlug(socket: string, plug: string, out: string, signal?: AbortSignal): Promise<void> {
  const wac = await ensureWac();
  await runTool('wac plug', wac, ['plug', socket, '--plug', plug, '-o', out], signal ? { signal } : {});
}
