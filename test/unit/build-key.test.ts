import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { parseProject } from '../../src/config/project.js';
import { buildKey, type BuildInputs } from '../../src/builder/plan.js';
import { buildCodeDigest } from '../../src/builder/code-digest.js';
import type { ResolvedRuntime } from '../../src/runtimes/resolve.js';
import { project, jsToml } from '../helpers.js';

describe('the build cache key', () => {
  it("changes with fabricks' own bundling code, so a fixed bundler never reuses the old outputs", async () => {
    const dir = await project({ 'main.js': '' });
    const config = await parseProject(jsToml(), join(dir, 'fabricks.toml'));
    const runtime = { reference: 'fabricks.dev/runtimes/node:0.1', layer: { digest: `sha256:${'1'.repeat(64)}` } } as unknown as ResolvedRuntime;
    const inputs = (code: string): BuildInputs => ({ config, runtime, files: [], created: undefined, locked: [], code: code as BuildInputs['code'] });
    const code = await buildCodeDigest();
    expect(code).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await buildCodeDigest()).toBe(code);
    expect(buildKey(inputs(code))).toBe(buildKey(inputs(code)));
    expect(buildKey(inputs(code))).not.toBe(buildKey(inputs(`sha256:${'2'.repeat(64)}`)));
  });
});
