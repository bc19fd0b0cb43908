import { execFile } from 'node:child_process';
import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { toolsDir } from '../src/util/paths.js';
import { repoRoot } from './helpers.js';

/** The official MCP Python SDK's venv that scripts/install-tools makes (mcp 1.30.0). */
export const mcpPython = join(toolsDir(), 'mcp-py-1.30.0', 'bin', 'python');

/** A copy of test/fixtures/<name> in a new temporary folder. */
export async function copyFixture(name: string): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'fabricks-mcp-')), name);
  await cp(join(repoRoot, 'test', 'fixtures', name), dir, { recursive: true, filter: (s) => !s.includes('.fabricks') && !s.includes('__pycache__') && !s.endsWith('fabricks.lock') });
  return dir;
}

/** Runs a script under test/hosts with the official SDK's Python and parses its JSON output. */
export async function mcpPythonJson(script: string, args: string[], env: Record<string, string> = {}): Promise<any> {
  const { stdout } = await promisify(execFile)(mcpPython, [join(repoRoot, 'test', 'hosts', script), ...args], {
    cwd: repoRoot,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', ...env },
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout);
}
