import { describe, expect, it } from 'vitest';
import { events, fabricks, jsToml, project } from '../helpers.js';

describe('what the CLI prints where', () => {
  it('build --progress json prints one JSON object a line on stderr, and stdout is as without it', async () => {
    const dir = await project({ 'fabricks.toml': jsToml('main.js', '\n[package]\nname = "cli-progress"\n'), 'main.js': 'console.log("p");\n' });
    const cold = await fabricks(['build', dir, '--progress', 'json']);
    expect(cold.status, cold.stderr).toBe(0);
    const lines = cold.stderr.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(JSON.parse(line)).toHaveProperty('event');
    expect(events(cold.stderr).map((e) => e.event === 'step-done' && e.step).filter(Boolean)).toEqual(['bundle', 'pack', 'compose', 'build']);
    expect(cold.stdout).toMatch(/^built cli-progress:0\.1\.0 {2}sha256:[0-9a-f]{64}\n/);

    const json = await fabricks(['build', dir, '--progress', 'json']);
    const quiet = await fabricks(['build', dir, '-q']);
    const human = await fabricks(['build', dir]);
    expect(json.stdout).toBe(quiet.stdout);
    expect(human.stdout).toBe(quiet.stdout);
    expect(quiet.stderr).toBe('');
    expect(human.stderr.split('\n').some((l) => l.startsWith('{'))).toBe(false);
  });

  it('--verbose shows the error code and the causes behind an error; without it, only message and hint', async () => {
    const plain = await fabricks(['run', 'cli-nothing:9.9.9']);
    expect(plain.status).toBe(1);
    expect(plain.stderr).toMatch(/^error: cli-nothing:9\.9\.9 is not in the local store/);
    expect(plain.stderr).not.toMatch(/^(code|cause):/m);
    const verbose = await fabricks(['run', 'cli-nothing:9.9.9', '--verbose']);
    expect(verbose.status).toBe(1);
    expect(verbose.stderr).toMatch(/^code: NOT_FOUND$/m);
    expect(verbose.stderr).toMatch(/^cause: NOT_FOUND: cli-nothing:9\.9\.9 is not in the local store/m);
  });

  it('a wrong --progress mode is a usage error', async () => {
    const r = await fabricks(['build', '--progress', 'loud']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("argument 'loud' is invalid");
  });
});
