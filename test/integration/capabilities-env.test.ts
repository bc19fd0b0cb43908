import { describe, expect, it } from 'vitest';
import { events, fabricks, jsToml, project, pyToml } from '../helpers.js';

const envTable = '\n[capabilities.env]\nallow = ["LOG_*", "OPENWEATHER_API_KEY", "APP_?"]\nset = { MODE = "production" }\n';
const hostEnv = { LOG_LEVEL: 'debug', LOG_TOKEN: 'leak-1', OPENWEATHER_API_KEY: 'k-123', GITHUB_TOKEN: 'leak-2', APP_X: 'x', HOME_DIR: '/home/me', MODE: 'dev' };
const granted = { LOG_LEVEL: 'debug', OPENWEATHER_API_KEY: 'k-123', APP_X: 'x', MODE: 'production' };

describe('[capabilities.env]', () => {
  it('JavaScript sees exactly the allowed variables (secrets only when named exactly) and the set values', async () => {
    const dir = await project({ 'fabricks.toml': jsToml('main.js', envTable), 'main.js': 'console.log(JSON.stringify(process.env));\n' });
    const r = await fabricks(['run', '-q', dir], { env: hostEnv });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(granted);
  });

  it('Python sees the same, and a missing variable is a KeyError that names the capability to add', async () => {
    const main = 'import os, json\nprint(json.dumps(dict(os.environ)))\ntry:\n    os.environ["GITHUB_TOKEN"]\nexcept KeyError as e:\n    print(str(e))\nprint(os.environ.get("GITHUB_TOKEN", "absent"), "GITHUB_TOKEN" in os.environ)\n';
    const dir = await project({ 'fabricks.toml': pyToml('main.py', envTable), 'main.py': main });
    const r = await fabricks(['run', '-q', dir], { env: hostEnv });
    expect(r.status, r.stderr).toBe(0);
    const [env, keyError, getLine] = r.stdout.trim().split('\n');
    expect(JSON.parse(env!)).toEqual(granted);
    expect(keyError).toContain('GITHUB_TOKEN');
    expect(keyError).toContain('[capabilities.env] allow');
    expect(getLine).toBe('absent False');
  });

  it('--env fills in an allowed variable, refuses an undeclared one, and --allow-env widens it, saying so', async () => {
    const dir = await project({ 'fabricks.toml': jsToml('main.js', envTable + '\n[package]\nname = "env-flags"\n'), 'main.js': 'console.log(JSON.stringify(process.env));\n' });
    const filled = await fabricks(['run', '-q', dir, '--env', 'LOG_LEVEL=warn'], { env: hostEnv });
    expect(JSON.parse(filled.stdout).LOG_LEVEL).toBe('warn');
    const refused = await fabricks(['run', dir, '--env', 'GITHUB_TOKEN'], { env: hostEnv });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('error: --env GITHUB_TOKEN: the service is not granted GITHUB_TOKEN');
    expect(refused.stderr).toContain('--allow-env GITHUB_TOKEN');
    const widened = await fabricks(['run', dir, '--allow-env', 'GITHUB_TOKEN', '--progress', 'json'], { env: hostEnv });
    expect(widened.status, widened.stderr).toBe(0);
    expect(JSON.parse(widened.stdout).GITHUB_TOKEN).toBe('leak-2');
    expect(events(widened.stderr)).toContainEqual(expect.objectContaining({ event: 'note', code: 'widened', subject: 'env GITHUB_TOKEN' }));
  });

  it('records what is granted in the artifact (names and set values, never host values or host paths), and inspect shows it', async () => {
    const toml = jsToml('main.js', envTable + '\n[capabilities.filesystem]\nmounts = [{ guest = "/data", host = "./data", mode = "ro" }]\n\n[capabilities.network]\nconnect = ["api.weather.gov"]\n\n[package]\nname = "env-recorded"\n');
    const dir = await project({ 'fabricks.toml': toml, 'main.js': 'console.log(1);\n', 'data/x.txt': 'x' });
    expect((await fabricks(['build', '-q', dir], { env: hostEnv })).status).toBe(0);
    const shown = await fabricks(['inspect', '--json', dir]);
    const caps = JSON.parse(shown.stdout).capabilities;
    expect(caps).toEqual({
      network: { listen: [], connect: ['api.weather.gov'] },
      env: { allow: ['LOG_*', 'OPENWEATHER_API_KEY', 'APP_?'], set: { MODE: 'production' } },
      filesystem: { mounts: [{ guest: '/data', mode: 'ro' }] },
    });
    expect(shown.stdout).not.toContain('k-123');
    expect(shown.stdout).not.toContain(dir);
    const human = await fabricks(['inspect', dir]);
    expect(human.stdout).toMatch(/capabilities\n {4}connect {2}api\.weather\.gov\n {4}env {6}LOG_\*, OPENWEATHER_API_KEY, APP_\? \(from the host\)\n {4}env set {2}MODE\n {4}mount {4}\/data \(ro\)/);
    // run from its stored name, no project around: the host folder must be given, never guessed
    const stored = await fabricks(['run', 'env-recorded:0.1.0']);
    expect(stored.status).toBe(2);
    expect(stored.stderr).toContain('the service needs a folder at /data (ro), and nothing says which host folder it is');
    expect(stored.stderr).toContain('hint: pass --mount HOST:/data:ro');
  });
});
