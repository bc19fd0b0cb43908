import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { copyExample, exists, fabricks, machine } from '../helpers.js';
import { PASSWORD, startRegistry, USER, type RegistryAuth, type RegistryKind, type RegistryServer } from '../registry-servers.js';

const setups: Array<[RegistryKind, RegistryAuth]> = [
  ['docker-registry', 'basic'],
  ['distribution', 'bearer'],
];

let app: string;
beforeAll(async () => {
  app = await copyExample('hello-js', 'auth-app');
  expect((await fabricks(['build', '-q', app])).status).toBe(0);
});

describe.each(setups)('credentials with %s (%s)', (kind, auth) => {
  let registry: RegistryServer & { token?: { requests: Array<{ scopes: string[]; user: string | undefined }> } };
  let host: string;

  beforeAll(async () => {
    registry = await startRegistry(kind, auth);
    host = registry.host;
  });
  afterAll(async () => registry?.stop());

  it('refuses anonymous pushes with an error that names the registry and suggests fabricks login', async () => {
    const m = await machine({ shareStore: true });
    const r = await m.run(['push', app, `${host}/apps/auth:1`, '--plain-http']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`error: registry ${host} refused`);
    expect(r.stderr).toContain('anonymous access');
    expect(r.stderr).toContain(`hint: log in first: fabricks login ${host}`);
  });

  it('a wrong password is a clear error that shows no secret and saves nothing', async () => {
    const m = await machine({ shareStore: true });
    const wrong = 'not-the-password-5f3a';
    const r = await m.run(['login', host, '-u', USER, '--password-stdin', '--plain-http'], { input: wrong });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`error: registry ${host} refused`);
    expect(r.stderr).toContain(`fabricks login ${host}`);
    expect(r.stdout + r.stderr).not.toContain(wrong);
    expect(r.stdout + r.stderr).not.toContain(Buffer.from(`${USER}:${wrong}`).toString('base64'));
    expect(await exists(join(m.env.FABRICKS_CONFIG_DIR, 'auth.json'))).toBe(false);

    // a wrong password in Docker's config: the error says where the credentials came from
    await writeFile(join(m.env.DOCKER_CONFIG, 'config.json'), JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${USER}:${wrong}`).toString('base64') } } }));
    const push = await m.run(['push', app, `${host}/apps/auth:1`, '--plain-http']);
    expect(push.status).toBe(1);
    expect(push.stderr).toContain(`the credentials from ${join(m.env.DOCKER_CONFIG, 'config.json')}`);
    expect(push.stdout + push.stderr).not.toContain(wrong);
  });

  it('logs in, pushes, and logs out', async () => {
    const m = await machine({ shareStore: true });
    const login = await m.run(['login', host, '-u', USER, '--password-stdin', '--plain-http', '--json'], { input: PASSWORD });
    expect(login.status, login.stderr).toBe(0);
    expect(JSON.parse(login.stdout)).toMatchObject({ registry: host, username: USER });
    const push = await m.run(['push', app, `${host}/apps/auth:1`, '--plain-http', '-q']);
    expect(push.status, push.stderr).toBe(0);
    if (registry.token) {
      // the token flow asked for push rights on that repository, with the user's credentials
      expect(registry.token.requests.some((t) => t.user === USER && t.scopes.includes('repository:apps/auth:pull,push'))).toBe(true);
    }
    expect((await m.run(['logout', host])).stdout).toContain(`logged out of ${host}`);
    const after = await m.run(['pull', `${host}/apps/auth:1`, '--plain-http']);
    expect(after.status).toBe(1);
    expect(after.stderr).toContain('anonymous access');
  });

  it('takes credentials from a Docker credential helper', async () => {
    const m = await machine();
    const bin = join(m.root, 'bin');
    await mkdir(bin);
    const helper = join(bin, 'docker-credential-fabtest');
    const seen = join(m.root, 'helper-asked-for');
    await writeFile(helper, `#!/bin/sh\n[ "$1" = get ] || exit 1\ncat > ${seen}\nprintf '{"ServerURL":"%s","Username":"${USER}","Secret":"${PASSWORD}"}' "$(cat ${seen})"\n`);
    await chmod(helper, 0o755);
    await writeFile(join(m.env.DOCKER_CONFIG, 'config.json'), JSON.stringify({ credHelpers: { [host]: 'fabtest' } }));
    const r = await m.run(['pull', `${host}/apps/auth:1`, '--plain-http'], { env: { PATH: `${bin}:${process.env.PATH}` } });
    expect(r.status, r.stderr).toBe(0);
    expect(await readFile(seen, 'utf8')).toBe(host);
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  });
});
