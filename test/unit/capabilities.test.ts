import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { parseProject } from '../../src/config/project.js';
import { parseConnectRule } from '../../src/config/connect-rules.js';
import { allowedVariable, globMatches } from '../../src/config/env-names.js';
import { credentialIn, looksSecret } from '../../src/config/secrets.js';
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
        '\n[capabilities.env]\nallow = ["LOG LEVEL"]\nset = { GITHUB_TOKEN = "ghp_x", "1X" = "y", PGPASSWORD = "p", DATABASE_URL = "postgres://app:hunter2@db/app", CACHE_URL = "redis://cache:6379" }\n' +
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
    expect(text).toMatch(/\[capabilities\.env\] set: PGPASSWORD looks like a secret/);
    expect(text).toMatch(/\[capabilities\.env\] set: the value of DATABASE_URL holds a URL with a user and password \(or token\) in it, and set values are recorded in the artifact/);
    expect(text).not.toContain('hunter2');
    expect(text).not.toMatch(/set: .*CACHE_URL/);
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

  // issue 17: each of these reached the guest through allow = ["*"]
  const issue17 = ['AWS_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'SECRET_KEY', 'STRIPE_SECRET_KEY', 'PGPASSWORD', 'MYSQL_PWD', 'GH_PAT', 'OPENAI_KEY', 'MYAPIKEY', 'MY_TOKEN_2', 'JWT_SIGNING_KEY', 'NPM_CONFIG__AUTH', 'SLACK_WEBHOOK_URL', 'SENTRY_DSN'];
  // the credentials the big providers document, by name
  const providers = [
    'AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_AUTHORIZATION_TOKEN', 'GITHUB_TOKEN', 'GH_TOKEN', 'GH_ENTERPRISE_TOKEN',
    'GITHUB_PAT', 'OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'STRIPE_API_KEY', 'SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SENTRY_AUTH_TOKEN', 'NPM_TOKEN',
    'NPM_CONFIG__AUTHTOKEN', 'npm_config_//registry.npmjs.org/:_authToken', 'PYPI_TOKEN', 'PYPI_API_TOKEN', 'TWINE_PASSWORD', 'DOCKER_PASSWORD', 'DOCKER_AUTH_CONFIG',
    'AZURE_CLIENT_SECRET', 'AZURE_STORAGE_KEY', 'AZURE_STORAGE_ACCOUNT_KEY', 'AZURE_STORAGE_CONNECTION_STRING', 'AZURE_STORAGE_SAS_TOKEN', 'GOOGLE_APPLICATION_CREDENTIALS',
    'GOOGLE_API_KEY', 'HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'VAULT_TOKEN', 'CI_JOB_TOKEN', 'CODECOV_TOKEN',
  ];
  // other spellings: a word anywhere, camelCase, digits after it, a word ending in TOKEN
  const spellings = ['DB_PASS', 'SMTP_PASS', 'DB_PW', 'githubPat', 'apiKey', 'dbPassword', 'authToken', 'GHTOKEN', 'TOKEN2', 'SESSION_ID', 'AOC_SESSION', 'MASTER_KEY', 'KEY', 'WP_AUTH_SALT', 'SSH_AUTH_SOCK', 'TLS_KEY_PEM', 'OAUTH_CLIENT_ID', 'STRIPE_COOKIE'];
  // not secrets, though close: CERT is public, TOKENS counts, KEY and TOKEN only as whole words
  const plain = [
    'PATH', 'HOME', 'LANG', 'PWD', 'OLDPWD', 'KEYBOARD_LAYOUT', 'TOKENIZERS_PARALLELISM', 'TOKENIZER_MODE', 'MAX_TOKENS', 'LOG_LEVEL', 'TERM', 'SHELL', 'USER', 'TZ', 'LC_ALL',
    'NODE_ENV', 'NODE_OPTIONS', 'PYTHONPATH', 'PYTHONHASHSEED', 'SSL_CERT_FILE', 'NODE_EXTRA_CA_CERTS', 'REQUESTS_CA_BUNDLE', 'HTTP_PROXY', 'CI', 'GITHUB_ACTIONS', 'GITHUB_REPOSITORY',
    'AWS_REGION', 'AWS_PROFILE', 'XDG_SESSION_TYPE', 'DBUS_SESSION_BUS_ADDRESS', 'DATABASE_URL', 'REDIS_URL', 'PATTERN', 'BYPASS_CACHE', 'COMPASS_HOME', 'WEATHER_API_URL',
    'GOOGLE_CLOUD_PROJECT', 'TWINE_USERNAME',
  ];

  it('treats a secret word anywhere in the name as a secret, and the providers\' credential names', () => {
    for (const n of [...issue17, ...providers, ...spellings]) expect(looksSecret(n), n).toBe(true);
    for (const n of plain) expect(looksSecret(n), n).toBe(false);
  });

  it('finds credentials in values: URLs with a password or token, key=value settings, private keys, providers\' tokens', () => {
    const carrying = [
      'postgres://u:p@h/db', 'https://user:tok@host', 'https://ghp_token@github.com/x.git', 'mongodb+srv://admin:pw@cluster0.x.net/?retryWrites=true', 'http://user:pw@proxy:3128',
      'Server=tcp:x;Database=d;User ID=u;Password=p;', 'host=h password=p', 'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=b;', 'https://hooks.example.com/x?token=abc',
      '-Djavax.net.ssl.keyStorePassword=x', '{"type": "service_account", "private_key": "x"}', '-----BEGIN OPENSSH PRIVATE KEY-----\nabc', `ghp_${'a'.repeat(36)}`, `Bearer sk-${'a'.repeat(40)}`,
      'AKIAABCDEFGHIJKLMNOP', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc',
    ];
    for (const v of carrying) expect(credentialIn(v), v).toBeDefined();
    const plainValues = [
      '/usr/local/bin:/usr/bin:/bin', 'en_US.UTF-8', 'sk_SK.UTF-8', 'postgres://localhost/db', 'https://api.weather.gov', 'http://127.0.0.1:8080/x?q=1&page=2', 'ssh://git@github.com/x.git',
      'git@github.com:x/y.git', 'https://example.com/a@b', 'rs=0:di=01;34:ln=01;36:*.tar=01;31', '--max-old-space-size=4096', '{"a": 1, "b": "c"}', 'production', '',
    ];
    for (const v of plainValues) expect(credentialIn(v), v).toBeUndefined();
    // a value never shows in the answer
    expect(credentialIn('postgres://u:hunter2@h/db')).not.toContain('hunter2');
  });

  it('looks at a value of the largest size Linux passes (128 KiB) in one pass', () => {
    for (const v of ['-a', 'a=', '://', ' eyJ', '"a":', ' ghp_', 'a'].map((unit) => unit.repeat(Math.floor(131072 / unit.length)))) {
      const started = performance.now();
      credentialIn(v);
      expect(performance.now() - started, v.slice(0, 8)).toBeLessThan(1000);
    }
  });

  it('lets a secret through only when named exactly, never through a pattern', () => {
    expect(allowedVariable(['*'], 'LOG_LEVEL', 'debug')).toBe(true);
    expect(allowedVariable(['*'], 'GITHUB_TOKEN', 'g')).toBe(false);
    expect(allowedVariable(['GITHUB_*'], 'GITHUB_TOKEN', 'g')).toBe(false);
    expect(allowedVariable(['GITHUB_TOKEN'], 'GITHUB_TOKEN', 'g')).toBe(true);
    expect(allowedVariable(['LOG_?EVEL'], 'LOG_LEVEL', 'debug')).toBe(true);
    expect(allowedVariable(['LOG_LEVEL'], 'LOG_LEVELS', 'debug')).toBe(false);
    for (const n of [...issue17, ...providers]) expect(allowedVariable(['*'], n, 'x'), n).toBe(false);
    for (const n of plain) expect(allowedVariable(['*'], n, 'x'), n).toBe(true);
  });

  it('lets a value that carries a credential through only when named exactly', () => {
    expect(allowedVariable(['*'], 'DATABASE_URL', 'postgres://app:hunter2@db/app')).toBe(false);
    expect(allowedVariable(['DATABASE_*'], 'DATABASE_URL', 'postgres://app:hunter2@db/app')).toBe(false);
    expect(allowedVariable(['DATABASE_URL'], 'DATABASE_URL', 'postgres://app:hunter2@db/app')).toBe(true);
    expect(allowedVariable(['*'], 'DATABASE_URL', 'postgres://db/app')).toBe(true);
    expect(allowedVariable(['*'], 'HTTPS_PROXY', 'http://me:pw@proxy:3128')).toBe(false);
    // the name alone decides when the value is not known
    expect(allowedVariable(['*'], 'DATABASE_URL', undefined)).toBe(true);
  });

  it('matches patterns in time linear in the name, however many stars (no backtracking)', () => {
    expect(globMatches('A*B?D*', 'AxxBcDyy')).toBe(true);
    expect(globMatches('A*B?D', 'AxxBcDyy')).toBe(false);
    expect(globMatches('**', '')).toBe(true);
    for (const [pattern, name] of [[`${'*A'.repeat(7)}B`, 'A'.repeat(44)], [`${'*A'.repeat(500)}B`, 'A'.repeat(2000)]] as const) {
      // the RegExp of ".*" this used to be took seconds on the first (minutes with one more "*A")
      const started = performance.now();
      expect(globMatches(pattern, name)).toBe(false);
      expect(performance.now() - started).toBeLessThan(500);
    }
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
    expect(g.mounts).toEqual([
      { guest: '/data', host: '/srv/data', mode: 'ro', from: '[capabilities.filesystem] mounts in fabricks.toml' },
      { guest: '/out', host: '/tmp/out', mode: 'rw', from: '--mount /tmp/out:/out' },
    ]);
    expect(g.widened).toEqual([]);
  });

  it('passes no secret through a pattern, by name or by value, and says why when --env asks for one', () => {
    const star = { ...caps, env: { allow: ['*'], set: {} }, filesystem: { mounts: [] } };
    const hostEnv = { LOG_LEVEL: 'debug', AWS_SECRET_ACCESS_KEY: 's', PGPASSWORD: 'p', SENTRY_DSN: 'https://k@sentry.io/1', DATABASE_URL: 'postgres://u:p@h/db', CACHE_URL: 'redis://cache:6379', LANG: 'C.UTF-8' };
    const g = resolveGrants(star, [], hostEnv, {}, '/work');
    expect(Object.fromEntries(g.env)).toEqual({ LOG_LEVEL: 'debug', CACHE_URL: 'redis://cache:6379', LANG: 'C.UTF-8' });
    expect(() => resolveGrants(star, [], hostEnv, { env: ['DATABASE_URL'] }, '/work')).toThrow(
      /--env DATABASE_URL: the service is not granted DATABASE_URL: only a pattern in \[capabilities\.env\] allow matches it, and its value holds a URL with a user and password/,
    );
    expect(() => resolveGrants(star, [], hostEnv, { env: ['PGPASSWORD=x'] }, '/work')).toThrow(/only a pattern .* matches it, and its name looks like a secret/);
    // a value given on the command line is looked at too, and never shown
    const thrown = (() => {
      try {
        resolveGrants(star, [], {}, { env: ['CACHE_URL=redis://u:hunter2@cache'] }, '/work');
      } catch (e) {
        return e as FabricksError;
      }
    })();
    expect(thrown?.message).toMatch(/its value holds a URL/);
    expect(`${thrown?.message} ${thrown?.hint}`).not.toContain('hunter2');
    expect(thrown?.hint).toContain('--allow-env CACHE_URL');
    // named exactly, or widened, it passes
    const named = resolveGrants({ ...star, env: { allow: ['*', 'DATABASE_URL'], set: {} } }, [], hostEnv, {}, '/work');
    expect(Object.fromEntries(named.env).DATABASE_URL).toBe('postgres://u:p@h/db');
    const widened = resolveGrants(star, [], hostEnv, { allowEnv: ['DATABASE_URL'] }, '/work');
    expect(widened.widened).toEqual(['env DATABASE_URL']);
  });

  it('never takes a host folder from the artifact: a reference run needs --mount for each', () => {
    expect(() => resolveGrants(caps, undefined, {}, {}, '/work')).toThrow(/needs a folder at \/data \(ro\), and nothing says which host folder it is/);
  });

  it('lets flags fill in and narrow, and only the --allow-* flags widen, listing what they widened', () => {
    const narrowed = resolveGrants(caps, undefined, {}, { mount: ['d:/data', 'o:/out:ro'], env: ['LOG_LEVEL=info'] }, '/work');
    expect(narrowed.mounts).toEqual([
      { guest: '/data', host: '/work/d', mode: 'ro', from: '--mount d:/data' },
      { guest: '/out', host: '/work/o', mode: 'ro', from: '--mount o:/out:ro' },
    ]);
    expect(Object.fromEntries(narrowed.env).LOG_LEVEL).toBe('info');
    expect(() => resolveGrants(caps, undefined, {}, { mount: ['d:/data:rw', 'o:/out'] }, '/work')).toThrow(/granted read-only/);
    expect(() => resolveGrants(caps, undefined, {}, { mount: ['d:/data', 'o:/out', '/etc:/etc'] }, '/work')).toThrow(/declares no folder at \/etc/);
    expect(() => resolveGrants(caps, [], host, { env: ['GITHUB_TOKEN'], mount: ['d:/data', 'o:/out'] }, '/work')).toThrow(/not granted GITHUB_TOKEN/);
    const widened = resolveGrants(caps, undefined, host, { mount: ['d:/data', 'o:/out'], allowEnv: ['GITHUB_TOKEN'], allowMount: ['/tmp/x:/x:rw'] }, '/work');
    expect(Object.fromEntries(widened.env).GITHUB_TOKEN).toBe('g');
    expect(widened.mounts).toContainEqual({ guest: '/x', host: '/tmp/x', mode: 'rw', from: '--allow-mount /tmp/x:/x:rw' });
    expect(widened.widened).toEqual(['env GITHUB_TOKEN', 'mount /tmp/x at /x (rw)']);
  });
});
