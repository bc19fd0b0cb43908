import { FabricksError } from '../util/errors.js';
import { RegistryClient, type RegistryOptions } from '../oci/registry/client.js';
import { removeCredential, saveCredential } from '../oci/registry/credentials.js';

export interface LoginResult {
  registry: string;
  username: string;
  /** Where the login was saved (never the secret itself). */
  file: string;
}

/** Registry hosts as users type them: no scheme, no path (docker login accepts both). */
export function registryHost(input: string): string {
  const host = input.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  if (!/^[a-zA-Z0-9.-]+(:\d+)?$/.test(host)) {
    throw new FabricksError('USAGE', `"${input}" is not a registry host (e.g. ghcr.io or localhost:5000)`);
  }
  return host;
}

/** Checks the credentials against the registry, then saves them; a refused login saves nothing. */
export async function login(registry: string, username: string, password: string, options: RegistryOptions): Promise<LoginResult> {
  const host = registryHost(registry);
  if (!username) throw new FabricksError('USAGE', 'a user name is needed: pass --username');
  if (!password) throw new FabricksError('USAGE', 'a password is needed: pass it on stdin with --password-stdin');
  const client = new RegistryClient(host, { ...options, credential: async () => ({ username, password, source: 'fabricks login', label: `user ${username}` }) });
  await client.ping();
  const file = await saveCredential(host, username, password);
  return { registry: host, username, file };
}

export async function logout(registry: string): Promise<{ registry: string; removed: boolean }> {
  const host = registryHost(registry);
  return { registry: host, removed: await removeCredential(host) };
}
