import { resolve } from 'node:path';
import { FabricksError } from '../util/errors.js';
import { MCP_CLIENTS, mcpClient } from '../clients/catalogue.js';
import { here, type McpClient, type Scope, type ServerEntry, type Where } from '../clients/client.js';
import { readClientFile, writeClientFile } from '../clients/config-file.js';
import { fileServers, withServer, withoutServer } from '../clients/servers.js';
import { absoluteGrants, defaultServerName, entryReference, fabricksArgs, runArgs, runReference, type Launcher, type McpGrantFlags } from './mcp-entry.js';

/**
 * `fabricks mcp add | ls | rm`: fabricks-run servers in the configuration files of MCP clients
 * (src/clients), edited in place with every other byte kept, a backup of the old file beside it.
 */

/** Which file: a client's, for a scope (its default if not given), or the file `--config` names. */
export interface FileChoice {
  client: string;
  scope?: Scope | undefined;
  config?: string | undefined;
  where?: Where | undefined;
}

interface ChosenFile {
  client: McpClient;
  scope: Scope | undefined;
  path: string;
}

function chooseFile(o: FileChoice): ChosenFile {
  const client = mcpClient(o.client);
  const where = o.where ?? here();
  if (o.config !== undefined) return { client, scope: o.scope, path: resolve(where.cwd, o.config) };
  const scope = o.scope ?? client.defaultScope;
  const path = client.file(scope, where);
  if (!path) throw new FabricksError('USAGE', `${client.title} has no ${scope}-scope configuration file`, { hint: `leave out --scope (${client.title} keeps its servers in ${client.file(client.defaultScope, where)})` });
  return { client, scope, path };
}

export interface McpAddOptions extends FileChoice {
  ref: string;
  name?: string | undefined;
  grants: McpGrantFlags;
  /** Arguments for the program after `--`. */
  passthrough: string[];
  launcher: Launcher;
  /** Only say what would be written. */
  dryRun?: boolean | undefined;
  /** Replace an entry of that name that does not start fabricks. */
  force?: boolean | undefined;
}

export interface McpAddResult {
  action: 'added' | 'updated' | 'unchanged';
  /** Whether the file was written (false for --print, and when nothing changed). */
  written: boolean;
  client: string;
  title: string;
  scope: Scope | undefined;
  file: string;
  backup?: string;
  name: string;
  entry: ServerEntry;
  /** What the entry runs, and the grant flags it passes, as it passes them (paths made absolute). */
  reference: string;
  grants: McpGrantFlags;
  /** The entry inside its servers' object, as it would stand alone in a new file. */
  snippet: string;
}

export async function mcpAdd(o: McpAddOptions): Promise<McpAddResult> {
  const where = o.where ?? here();
  const { client, scope, path } = chooseFile({ ...o, where });
  const ref = await entryReference(o.ref, where.cwd, where.home);
  const name = o.name ?? defaultServerName(ref);
  if (name.trim() === '' || /[\u0000-\u001f]/.test(name)) throw new FabricksError('USAGE', `--name ${JSON.stringify(name)}: a server name needs visible characters`);
  const entry = client.entry(o.launcher.command, [...o.launcher.prefix, ...runArgs(ref, o.grants, o.passthrough, where.cwd)]);
  const snippet = JSON.stringify({ [client.serversKey]: { [name]: { ...entry, ...(client.newEntryExtras ?? {}) } } }, null, 2);

  const file = await readClientFile(path, client);
  const existing = fileServers(file, client).find((s) => s.name === name);
  if (existing && !fabricksArgs(existing.value) && !o.force) {
    throw new FabricksError('USAGE', `${path} already has a server "${name}" that does not run fabricks; it was left as it is`, { hint: 'choose another --name, or pass --force to replace it' });
  }
  const { text, changed } = withServer(file, client, name, entry);
  const action = !existing ? 'added' : changed ? 'updated' : 'unchanged';
  const base = { action, client: client.id, title: client.title, scope, file: path, name, entry, reference: ref, grants: absoluteGrants(o.grants, where.cwd), snippet } as const;
  if (!changed || o.dryRun) return { ...base, written: false };
  const { backup } = await writeClientFile(file, text);
  return { ...base, written: true, ...(backup ? { backup } : {}) };
}

/** A fabricks entry found in a client's file. */
export interface McpListedServer {
  name: string;
  command: string;
  args: string[];
  /** What it runs, when it is a `fabricks run`. */
  reference?: string;
}

export interface McpListedFile {
  client: string;
  title: string;
  scope: Scope | undefined;
  file: string;
  servers: McpListedServer[];
  /** Why the file could not be read (it is listed, not fixed). */
  error?: string;
}

/**
 * The fabricks entries (entries whose command starts fabricks) in each client's files that exist:
 * every scope of every client, or of one client, or the one file `config` names.
 */
export async function mcpList(o: { client?: string | undefined; scope?: Scope | undefined; config?: string | undefined; where?: Where | undefined } = {}): Promise<McpListedFile[]> {
  const where = o.where ?? here();
  if (o.config !== undefined && o.client === undefined) throw new FabricksError('USAGE', '--config needs --client: which client reads that file decides its format');
  const files: ChosenFile[] =
    o.client !== undefined && (o.config !== undefined || o.scope !== undefined)
      ? [chooseFile({ client: o.client, scope: o.scope, config: o.config, where })]
      : (o.client !== undefined ? [mcpClient(o.client)] : MCP_CLIENTS).flatMap((client) =>
          (['user', 'project'] as const).flatMap((scope) => {
            const path = client.file(scope, where);
            return path ? [{ client, scope, path }] : [];
          }),
        );
  const out: McpListedFile[] = [];
  for (const { client, scope, path } of files) {
    const head = { client: client.id, title: client.title, scope, file: path };
    try {
      const file = await readClientFile(path, client);
      if (!file.exists) continue;
      const servers = fileServers(file, client).flatMap((s) => {
        const args = fabricksArgs(s.value);
        if (!args) return [];
        const reference = runReference(args);
        return [{ name: s.name, command: String((s.value as { command: string }).command), args: ((s.value as { args?: unknown[] }).args ?? []).map(String), ...(reference ? { reference } : {}) }];
      });
      out.push({ ...head, servers });
    } catch (e) {
      if (!(e instanceof FabricksError)) throw e;
      out.push({ ...head, servers: [], error: e.message });
    }
  }
  return out;
}

export interface McpRemoveResult {
  client: string;
  title: string;
  scope: Scope | undefined;
  file: string;
  name: string;
  backup?: string;
  written: boolean;
}

/** Removes server `name` from a client's file, if it starts fabricks (or with `force`). */
export async function mcpRemove(o: FileChoice & { name: string; force?: boolean | undefined; dryRun?: boolean | undefined }): Promise<McpRemoveResult> {
  const { client, scope, path } = chooseFile(o);
  const file = await readClientFile(path, client);
  const servers = fileServers(file, client);
  const found = servers.find((s) => s.name === o.name);
  if (!found) {
    const ours = servers.filter((s) => fabricksArgs(s.value)).map((s) => s.name);
    throw new FabricksError('NOT_FOUND', `${path} has no server "${o.name}"${file.exists ? '' : ' (the file does not exist)'}`, {
      hint: ours.length ? `fabricks servers there: ${ours.join(', ')}` : `fabricks mcp ls --client ${client.id} lists what there is`,
    });
  }
  if (!fabricksArgs(found.value) && !o.force) {
    throw new FabricksError('USAGE', `server "${o.name}" in ${path} does not run fabricks; it was left as it is`, { hint: 'pass --force to remove it all the same' });
  }
  const base = { client: client.id, title: client.title, scope, file: path, name: o.name };
  if (o.dryRun) return { ...base, written: false };
  const { text } = withoutServer(file, client, o.name);
  const { backup } = await writeClientFile(file, text);
  return { ...base, written: true, ...(backup ? { backup } : {}) };
}
