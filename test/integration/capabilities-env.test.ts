import { describe, expect, it } from 'vitest';
import { fabricks, jsToml, project } from '../helpers.js';

const envTable = '\n[capabilities.env]\nallow = ["LOG_*", "OPENWEATHER_API_KEY", "APP_?"]\nset = { MODE = "production" }\n';
const hostEnv = { LOG_LEVEL: 'debug', LOG_TOKEN: 'leak-1', OPENWEATHER_API_KEY: 'k-123', GITHUB_TOKEN: 'leak-2', APP_X: 'x', HOME_DIR: '/home/me', MODE: 'dev' };

/**
 * What a service sees of [capabilities.env], in both runtimes, as a run and served, is the
 * capability conformance suite's (test/conformance); here, what the artifact records of it.
 */
describe('[capabilities.env]', () => {
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
