import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { parseProject } from '../../src/config/project.js';
import { parseConnectRule } from '../../src/config/connect-rules.js';
import { allowedName, looksSecret } from '../../src/config/env-names.js';
import { recordCapabilities, capabilitiesOf } from '../../src/artifact/app.js';
import { resolveGrants } from '../../src/app/grants.js';
import { FabricksError } from '../../src/util/errors.js';
import { jsToml, project } from '../helpers.js';

const load = async (extra: string) => {
  const dir = await project({ 'main.js': '' });
  return { dir, config: await parseProject(jsToml('main.js', extra), join(dir, 'fabricks.toml')) };
};

async function problems(extra: string): Promise<string> {
  const e = await load(extra).then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(FabricksError);
  return (e as FabricksError).problems.join('\n');
}

describe('[capabilities] in fabricks.toml', () => {
  it('reads every field, with host paths relative to the project', async () => {
    const { dir, config } = await load(
      '\n[capabilities.network]\nlisten = [8080]\nconnect = ["api.weather.gov", "*.githubusercontent.com:443", "127.0.0.1:8081", "10.0.0.0/8", "10.1.2.0/24:5432"]\n' +
        '\n[capabilities.env]\nallow = ["LOG_LEVEL", "OPENWEATHER_API_KEY", "APP_*"]\nset = { MODE = "production" }\n' +
        '\n[capabilities.filesystem]\nmounts = [{ guest = "/data", host = "./data", mode = "ro" }, { guest = "/out", mode = "rw" }, { guest = "/cfg/" }]\n',
    );
    expect(config.capabilities).toEqual({
      network: { listen: [8080], connect: ['api.weather.gov', '*.githubusercontent.com:443', '127.0.0.1:8081', '10.0.0.0/8', '10.1.2.0/24:5432'] },
      env: { allow: ['LOG_LEVEL', 'OPENWEATHER_API_KEY', 'APP_*'], set: { MODE: 'production' } },
      filesystem: { mounts: [{ guest: '/data', host: join(dir, 'data'), mode: 'ro' }, { guest: '/out', mode: 'rw' }, { guest: '/cfg', mode: 'ro' }] },
    });
    // the artifact records where and how, never a host path
    expect(recordCapabilities(config.capabilities).filesystem.mounts).toEqual([{ guest: '/data', mode: 'ro' }, { guest: '/out', mode: 'rw' }, { guest: '/cfg', mode: 'ro' }]);
  });

  it('reports every problem at once, with line and field', async () => {
    const text = await problems(
      '\n[capabilities.network]\nlisten = [0]\nconnect = ["https://api.x.com", "h:99999", "10.0.0.0/40", "a*b.com", "ok.example"]\n' +
        '\n[capabilities.env]\nallow = ["LOG LEVEL"]\nset = { GITHUB_TOKEN = "ghp_x", "1X" = "y" }\n' +
        '\n[capabilities.filesystem]\nmounts = [{ guest = "data" }, { guest = "/a/../b" }, { guest = "/x", mode = "write" }, { guest = "/x" }, { guest = "/y", hots = "." }]\n' +
        '\n[capabilities.fs]\n',
    );
    expect(text).toMatch(/fabricks\.toml:\d+: \[capabilities\.network\] listen: port 0 is not between 1 and 65535/);
    expect(text).toMatch(/\[capabilities\.network\] connect: "https:\/\/api\.x\.com" is a URL or path/);
    expect(text).toMatch(/"h:99999" has port 99999, not between 1 and 65535/);
    expect(text).toMatch(/"10\.0\.0\.0\/40" has a prefix length that is not between 0 and 32/);
    expect(text).toMatch(/"a\*b\.com" may only start with "\*\."/);
    expect(text).not.toMatch(/ok\.example/);
    expect(text).toMatch(/\[capabilities\.env\] allow: "LOG LEVEL" is not a variable name or pattern/);
    expect(text).toMatch(/\[capabilities\.env\] set: GITHUB_TOKEN looks like a secret, and set values are recorded in the artifact/);
    expect(text).toMatch(/\[capabilities\.env\] set: "1X" is not a variable name/);
    expect(text).toMatch(/mounts: entry 1 needs guest, an absolute path/);
    expect(text).toMatch(/mounts: entry 2: guest "\/a\/\.\.\/b" must be a plain absolute path/);
    expect(text).toMatch(/mounts: entry 3: mode "write" must be "ro" or "rw"/);
    expect(text).toMatch(/mounts: entry 4: guest "\/x" is mounted twice/);
    expect(text).toMatch(/mounts: entry 5 has an unknown key "hots"/);
    expect(text).toMatch(/\[capabilities\] fs: unknown key; \[capabilities\] has network, env, filesystem/);
  });

  it('takes an artifact from before these fields as granting nothing more', () => {
    expect(capabilitiesOf({ capabilities: { network: { listen: [] } } as never })).toEqual({
      network: { listen: [], connect: [] },
      env: { allow: [], set: {} },
      filesystem: { mounts: [] },
    });
  });
});

describe('connect entries', () => {
  it('parses hosts, wildcards, addresses and blocks, with and without ports', () => {
    expect(parseConnectRule('api.weather.gov')).toEqual({ kind: 'host', host: 'api.weather.gov', wildcard: false });
    expect(parseConnectRule('*.githubusercontent.com:443')).toEqual({ kind: 'host', host: 'githubusercontent.com', wildcard: true, port: 443 });
    expect(parseConnectRule('127.0.0.1:8081')).toEqual({ kind: 'cidr', address: '127.0.0.1', prefix: 32, family: 4, port: 8081 });
    expect(parseConnectRule('10.1.2.0/24:5432')).toEqual({ kind: 'cidr', address: '10.1.2.0', prefix: 24, family: 4, port: 5432 });
    expect(parseConnectRule('[::1]:8080')).toEqual({ kind: 'cidr', address: '::1', prefix: 128, family: 6, port: 8080 });
    expect(parseConnectRule('fd00::/8')).toEqual({ kind: 'cidr', address: 'fd00::', prefix: 8, family: 6 });
  });
});

describe('environment names', () => {
  it('treats key, token, secret, password and credential names as secrets, in any case', () => {
    for (const n of ['OPENWEATHER_API_KEY', 'GITHUB_TOKEN', 'AWS_SECRET', 'DB_PASSWORD', 'GCP_CREDENTIALS', 'api_key', 'my_token']) expect(looksSecret(n), n).toBe(true);
    for (const n of ['LOG_LEVEL', 'HOME', 'TOKENIZER_MODE', 'PATH']) expect(looksSecret(n), n).toBe(false);
  });

  it('lets a secret through only when named exactly, never through a pattern', () => {
    expect(allowedName(['*'], 'LOG_LEVEL')).toBe(true);
    expect(allowedName(['*'], 'GITHUB_TOKEN')).toBe(false);
    expect(allowedName(['GITHUB_*'], 'GITHUB_TOKEN')).toBe(false);
    expect(allowedName(['GITHUB_TOKEN'], 'GITHUB_TOKEN')).toBe(true);
    expect(allowedName(['LOG_?EVEL'], 'LOG_LEVEL')).toBe(true);
    expect(allowedName(['LOG_LEVEL'], 'LOG_LEVELS')).toBe(false);
  });
});

describe('the grants of one run', () => {
  const caps = {
    network: { listen: [], connect: [] },
    env: { allow: ['LOG_*', 'OPENWEATHER_API_KEY', '*'], set: { MODE: 'production' } },
    filesystem: { mounts: [{ guest: '/data', mode: 'ro' as const }, { guest: '/out', mode: 'rw' as const }] },
  };
  const host = { LOG_LEVEL: 'debug', OPENWEATHER_API_KEY: 'k', GITHUB_TOKEN: 'g', DB_PASSWORD: 'p', HOME: '/root', MODE: 'dev' };

  it('passes allowed variables (secrets only when named), with set values over them', () => {
    const g = resolveGrants(caps, [{ guest: '/data', host: '/srv/data', mode: 'ro' }], host, { mount: ['/tmp/out:/out'] }, '/work');
    expect(Object.fromEntries(g.env)).toEqual({ LOG_LEVEL: 'debug', OPENWEATHER_API_KEY: 'k', HOME: '/root', MODE: 'production' });
    expect(g.mounts).toEqual([{ guest: '/data', host: '/srv/data', mode: 'ro' }, { guest: '/out', host: '/tmp/out', mode: 'rw' }]);
    expect(g.widened).toEqual([]);
  });

  it('never takes a host folder from the artifact: a reference run needs --mount for each', () => {
    expect(() => resolveGrants(caps, undefined, {}, {}, '/work')).toThrow(/needs a folder at \/data \(ro\), and nothing says which host folder it is/);
  });

  it('lets flags fill in and narrow, and only the --allow-* flags widen, listing what they widened', () => {
    const narrowed = resolveGrants(caps, undefined, {}, { mount: ['d:/data', 'o:/out:ro'], env: ['LOG_LEVEL=info'] }, '/work');
    expect(narrowed.mounts).toEqual([{ guest: '/data', host: '/work/d', mode: 'ro' }, { guest: '/out', host: '/work/o', mode: 'ro' }]);
    expect(Object.fromEntries(narrowed.env).LOG_LEVEL).toBe('info');
    expect(() => resolveGrants(caps, undefined, {}, { mount: ['d:/data:rw', 'o:/out'] }, '/work')).toThrow(/granted read-only/);
    expect(() => resolveGrants(caps, undefined, {}, { mount: ['d:/data', 'o:/out', '/etc:/etc'] }, '/work')).toThrow(/declares no folder at \/etc/);
    expect(() => resolveGrants(caps, [], host, { env: ['GITHUB_TOKEN'], mount: ['d:/data', 'o:/out'] }, '/work')).toThrow(/not granted GITHUB_TOKEN/);
    const widened = resolveGrants(caps, undefined, host, { mount: ['d:/data', 'o:/out'], allowEnv: ['GITHUB_TOKEN'], allowMount: ['/tmp/x:/x:rw'] }, '/work');
    expect(Object.fromEntries(widened.env).GITHUB_TOKEN).toBe('g');
    expect(widened.mounts).toContainEqual({ guest: '/x', host: '/tmp/x', mode: 'rw' });
    expect(widened.widened).toEqual(['env GITHUB_TOKEN', 'mount /tmp/x at /x (rw)']);
  });
});
