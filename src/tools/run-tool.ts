import { spawn, type ChildProcess } from 'node:child_process';
import { access } from 'node:fs/promises';
import { FabricksError, interrupted } from '../util/errors.js';

/** The path of an installed native tool, or a TOOL_MISSING error saying how to install it. */
export async function ensureTool(tool: string, path: string, hint: string): Promise<string> {
  try {
    await access(path);
  } catch {
    throw new FabricksError('TOOL_MISSING', `${tool} is not installed at ${path}`, { hint });
  }
  return path;
}

export interface ToolRun {
  stdout: string;
  stderr: string;
}

/** Children still running, each the leader of its own process group. */
const live = new Set<ChildProcess>();

/** Ends a child's whole process group (the tool and whatever it started). */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
}

// However fabricks ends (an error, process.exit after a signal), no tool outlives it.
process.once('exit', () => {
  for (const child of live) killGroup(child, 'SIGKILL');
});

/**
 * Even a fabricks that is killed outright (SIGKILL, a crash) takes its tools with it: each tool
 * runs under a watcher that reads a lifeline pipe (fd 3) from fabricks, and when the pipe ends,
 * because fabricks is gone or the tool is done, ends the tool's whole process group. The
 * watcher holds no stdio, so the tool's output closes when the tool exits.
 */
const WATCHED = '( while read -r _ <&3; do :; done; kill -KILL 0 ) </dev/null >/dev/null 2>&1 & exec "$0" "$@" 3<&-';

/**
 * Runs an external tool in a process group of its own. A failure names the command, its exit
 * code and the end of its stderr; aborting the signal ends the whole group and rejects with
 * INTERRUPTED.
 */
export function runTool(
  tool: string,
  command: string,
  args: string[],
  options: {
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    signal?: AbortSignal | undefined;
    input?: string;
    /** The lines of a failed tool's stderr that the error shows (its last 15 unless this picks others). */
    failureLines?: (stderr: string) => string[] | undefined;
  } = {},
): Promise<ToolRun> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(interrupted(signal));
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', WATCHED, command, ...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const lifeline = child.stdio[3] as NodeJS.WritableStream & { destroy(): void };
    live.add(child);
    let stdout = '';
    let stderr = '';
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      killGroup(child, 'SIGTERM');
      // a tool that ignores SIGTERM is not allowed to keep the user waiting
      killTimer = setTimeout(() => killGroup(child, 'SIGKILL'), 2000);
      killTimer.unref();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin!.on('error', () => undefined); // a tool that exits without reading its input
    child.on('error', (e: NodeJS.ErrnoException) => {
      live.delete(child);
      lifeline.destroy();
      signal?.removeEventListener('abort', onAbort);
      if (e.code === 'ENOENT') {
        reject(new FabricksError('TOOL_MISSING', `${tool} is not installed (looked for ${command})`, { hint: 'run: npm run setup' }));
      } else reject(new FabricksError('TOOL_FAILED', `${tool} could not be started: ${e.message}`, { cause: e }));
    });
    // 'close' waits for every pipe, the lifeline too: end it when the tool exits, and the watcher
    // ends the group (nothing the tool started lives on) and lets go of it
    child.on('exit', () => lifeline.destroy());
    child.on('close', (code, sig) => {
      live.delete(child);
      if (killTimer) clearTimeout(killTimer);
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) return reject(interrupted(signal));
      if (code === 0) return resolve({ stdout, stderr });
      const tail = (options.failureLines?.(stderr) ?? stderr.trim().split('\n').slice(-15)).join('\n');
      reject(
        new FabricksError('TOOL_FAILED', `${tool} failed (${sig ? `killed by ${sig}` : `exit code ${code}`}): ${[command, ...args].join(' ')}${tail ? `\n${tail}` : ''}`),
      );
    });
    child.stdin!.end(options.input ?? '');
  });
}
