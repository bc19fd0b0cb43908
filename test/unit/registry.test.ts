import { describe, expect, it, beforeEach } from 'vitest';
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeScopes, parseChallenge } from '../../src/oci/registry/challenge.js';
import { findCredential } from '../../src/oci/registry/credentials.js';
import { backoffMs, isNetworkError, retryableStatus } from '../../src/oci/registry/retry.js';
import { isRemoteReference } from '../../src/oci/reference.js';

describe('WWW-Authenticate challenges', () => {
  it('parses Bearer with quoted params, commas and escapes', () => {
    expect(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' },
    });
    expect(parseChallenge('basic realm="Registry \\"x\\""')).toEqual({ scheme: 'basic', params: { realm: 'Registry "x"' } });
    expect(parseChallenge('Negotiate abc')).toBeUndefined();
    expect(parseChallenge(null)).toBeUndefined();
  });

  it('merges scopes per repository, as a mount needs both', () => {
    expect(mergeScopes(['repository:apps/b:pull,push', 'repository:apps/a:pull', 'repository:apps/b:pull'])).toEqual(['repository:apps/a:pull', 'repository:apps/b:pull,push']);
  });
});

describe('retries', () => {
  it('retries 429, 408 and 5xx except 501 and 505', () => {
    expect([429, 408, 500, 502, 503, 504].every(retryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 501, 505].some(retryableStatus)).toBe(false);
  });
  it('honours Retry-After, capped', () => {
    const policy = { attempts: 5, baseMs: 100, maxMs: 2000 };
    expect(backoffMs(policy, 1, '1')).toBe(1000);
    expect(backoffMs(policy, 1, '3600')).toBe(2000);
    const d = backoffMs(policy, 3);
    expect(d).toBeGreaterThanOrEqual(200);
    expect(d).toBeLessThanOrEqual(400);
  });
  it('treats refused and reset connections as worth another try', () => {
    expect(isNetworkError(new TypeError('fetch failed', { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) }))).toBe(true);
    expect(isNetworkError(new Error('digest mismatch'))).toBe(false);
  });
});

describe('registry references', () => {
  it('tells registry references from local name:version', () => {
    expect(isRemoteReference('localhost:5000/apps/hello:1')).toBe(true);
    expect(isRemoteReference('ghcr.io/me/hello:1')).toBe(true);
    expect(isRemoteReference('localhost/hello')).toBe(true);
    expect(isRemoteReference('hello-js:0.1.0')).toBe(false);
    expect(isRemoteReference('apps/hello:1')).toBe(false);
  });
});

describe('credentials', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'fabricks-cred-'));
    process.env.FABRICKS_CONFIG_DIR = join(root, 'fabricks');
    process.env.DOCKER_CONFIG = join(root, 'docker');
    await mkdir(process.env.DOCKER_CONFIG, { recursive: true });
  });
  const docker = (config: unknown) => writeFile(join(process.env.DOCKER_CONFIG!, 'config.json'), JSON.stringify(config));
  const b64 = (s: string) => Buffer.from(s).toString('base64');

  it('reads Docker auths written with a scheme, and Docker Hub under its old name', async () => {
    await docker({ auths: { 'https://registry.example:5000': { auth: b64('u:p:with:colons') }, 'https://index.docker.io/v1/': { auth: b64('hub:secret') } } });
    expect(await findCredential('registry.example:5000')).toMatchObject({ username: 'u', password: 'p:with:colons' });
    expect(await findCredential('docker.io')).toMatchObject({ username: 'hub', password: 'secret' });
    expect(await findCredential('other.example')).toBeUndefined();
  });

  it('prefers fabricks login, then a per-host helper, then auths, then credsStore', async () => {
    const bin = join(root, 'bin');
    await mkdir(bin);
    for (const name of ['perhost', 'store']) {
      await writeFile(join(bin, `docker-credential-${name}`), `#!/bin/sh\nprintf '{"Username":"${name}","Secret":"s-${name}"}'\n`);
      await chmod(join(bin, `docker-credential-${name}`), 0o755);
    }
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      await docker({ credHelpers: { 'a.example': 'perhost' }, auths: { 'a.example': { auth: b64('x:y') }, 'b.example': { auth: b64('bu:bp') } }, credsStore: 'store' });
      expect(await findCredential('a.example')).toMatchObject({ username: 'perhost', password: 's-perhost' });
      expect(await findCredential('b.example')).toMatchObject({ username: 'bu', password: 'bp' });
      expect(await findCredential('c.example')).toMatchObject({ username: 'store', password: 's-store' });
      await mkdir(process.env.FABRICKS_CONFIG_DIR!, { recursive: true });
      await writeFile(join(process.env.FABRICKS_CONFIG_DIR!, 'auth.json'), JSON.stringify({ auths: { 'a.example': { auth: b64('mine:pw') } } }));
      expect(await findCredential('a.example')).toMatchObject({ username: 'mine', password: 'pw' });
    } finally {
      process.env.PATH = path;
    }
  });

  it('passes an identity token on, and names a broken config file', async () => {
    await docker({ auths: { 'a.example': { identitytoken: 'refresh-me' } } });
    expect(await findCredential('a.example')).toMatchObject({ identityToken: 'refresh-me' });
    await writeFile(join(process.env.DOCKER_CONFIG!, 'config.json'), '{ not json');
    await expect(findCredential('a.example')).rejects.toThrow(`${join(process.env.DOCKER_CONFIG!, 'config.json')} is not valid JSON`);
  });
});
