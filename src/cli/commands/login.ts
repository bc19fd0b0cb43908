import { FabricksError } from '../../util/errors.js';
import { RegistryClient, type RegistryOptions } from '../../oci/registry/client.js';
import { removeCredential, saveCredential } from '../../oci/registry/credentials.js';

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
export async function loginCommand(registry: string, username: string, password: string, options: RegistryOptions): Promise<LoginResult> {
  const host = registryHost(registry);
  if (!username) throw new FabricksError('USAGE', 'a user name is needed: pass --username');
  if (!password) throw new FabricksError('USAGE', 'a password is needed: pass it on stdin with --password-stdin');
  const client = new RegistryClient(host, { ...options, credential: async () => ({ username, password, source: "fabricks login", label: `user ${username}` }) });
  await client.ping();
  const file = await saveCredential(host, username, password);
  return { registry: host, username, file };
}

export async function logoutCommand(registry: string): Promise<{ registry: string; removed: boolean }> {
  const host = registryHost(registry);
  return { registry: host, removed: await removeCredential(host) };
}

/** The password from stdin (--password-stdin), without its trailing newline. */
export async function readPasswordStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += (chunk as Buffer).toString('utf8');
  return text.replace(/\r?\n$/, '');
}

/** Asks on the terminal without echoing what is typed. */
export async function promptHidden(question: string, echo = false): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) throw new FabricksError('USAGE', 'no terminal to ask on: pass --username, and the password on stdin with --password-stdin');
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const onData = (d: Buffer) => {
      for (const ch of d.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          done();
          return resolve(value);
        }
        if (ch === '\u0003') {
          done();
          return reject(new FabricksError('USAGE', 'login cancelled'));
        }
        if (ch === '\u007f') value = value.slice(0, -1);
        else {
          value += ch;
          if (echo) process.stderr.write(ch);
        }
      }
    };
    const done = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    stdin.on('data', onData);
  });
}
