import { beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fabricks, project, pyToml, repoRoot } from '../helpers.js';
import { mcpPythonJson } from '../mcp-tools.js';
// @ts-expect-error plain JavaScript shared with scripts
import { servers } from '../corpus/python/servers.mjs';
// @ts-expect-error plain JavaScript shared with scripts
import { projectFiles } from '../corpus/python/corpus.mjs';

/**
 * Published Python MCP servers from the package index, unmodified (test/corpus/python), built by
 * fabricks (pydantic-core and rpds-py built for WebAssembly, once for the file) and driven over
 * stdio by the official Python client: initialize, list tools, tool calls that need no network,
 * and a denied call naming the `connect` capability.
 */
type Call = { name: string; arguments: Record<string, unknown>; expect: RegExp };
type Server = { id: string; requirements: string[]; main: [string, string]; args?: string[]; mount?: boolean; files?: Record<string, string>; env?: Record<string, string>; tools: string[]; calls: Call[]; denied?: { name: string; arguments: Record<string, unknown>; host: string } };

describe('published Python MCP servers, unmodified, with the official Python client', () => {
  let env: Record<string, string>;
  beforeAll(async () => {
    env = { FABRICKS_NATIVE_CACHE: process.env.FABRICKS_TEST_NATIVE_CACHE ?? (await mkdtemp(join(tmpdir(), 'fabricks-native-corpus-'))) };
    // the first build makes the runtime variant the others share
    const warm = await project({ 'fabricks.toml': pyToml(), 'requirements.txt': 'mcp==1.30.0\n', 'main.py': 'import mcp\n' });
    const r = await fabricks(['build', '-q', warm], { env });
    expect(r.status, r.stderr).toBe(0);
  }, 1_500_000);

  for (const server of servers as Server[]) {
    it(`${server.requirements[0]} (${server.id})`, async () => {
      const data = await mkdtemp(join(tmpdir(), `fabricks-corpus-${server.id}-`));
      await mkdir(data, { recursive: true });
      for (const [name, text] of Object.entries(server.files ?? {})) await writeFile(join(data, name), text);
      const capabilities = [
        server.mount ? `[capabilities.filesystem]\nmounts = [{ guest = "/data", host = ${JSON.stringify(data)}, mode = "rw" }]\n` : '',
        server.env ? `[capabilities.env]\nset = { ${Object.entries(server.env).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(', ')} }\n` : '',
      ].join('\n');
      const dir = await project(projectFiles(server, { name: `corpus-${server.id}`, capabilities }));
      const built = await fabricks(['build', '-q', dir], { env });
      expect(built.status, built.stderr).toBe(0);
      const steps = [['initialize'], ['tools'], ...server.calls.map((c) => ['call', c.name, c.arguments]), ...(server.denied ? [['call', server.denied.name, server.denied.arguments]] : [])];
      const out = await mcpPythonJson('mcp_steps.py', [JSON.stringify(steps), 'stdio', process.execPath, join(repoRoot, 'bin', 'fabricks.js'), 'run', '-q', dir, '--', ...(server.args ?? [])], { FABRICKS_HOME: inject('fabricksHome'), ...env });
      expect(out[0].protocolVersion).toBe('2025-11-25');
      expect(out[1].map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(server.tools));
      server.calls.forEach((c, i) => {
        const result = out[2 + i];
        expect(result.isError, JSON.stringify(result)).toBeFalsy();
        expect(result.content[0].text).toMatch(c.expect);
      });
      if (server.denied) {
        const text = JSON.stringify(out[2 + server.calls.length]);
        expect(text).toContain(`network access to ${server.denied.host} is not granted`);
        expect(text).toContain('[capabilities.network] connect');
      }
    }, 900_000);
  }
});
