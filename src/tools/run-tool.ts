import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { FabricksError } from '../util/errors.js';

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

/**
 * Runs an external tool. A failure names the command, its exit code and the end of its stderr;
 * aborting the signal kills the child.
 */
export function runTool(
  tool: string,
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; signal?: AbortSignal; input?: string } = {},
): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      signal: options.signal,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') {
        reject(new FabricksError('TOOL_MISSING', `${tool} is not installed (looked for ${command})`, { hint: 'run: npm run setup' }));
      } else reject(new FabricksError('TOOL_FAILED', `${tool} could not be started: ${e.message}`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      if (code === 0) resolve({ stdout, stderr });
      else {
        const tail = stderr.trim().split('\n').slice(-15).join('\n');
        reject(
          new FabricksError(
            'TOOL_FAILED',
            `${tool} failed (${signal ? `killed by ${signal}` : `exit code ${code}`}): ${[command, ...args].join(' ')}${tail ? `\n${tail}` : ''}`,
          ),
        );
      }
    });
    child.stdin.end(options.input ?? '');
  });
}
