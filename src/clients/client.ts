import { homedir } from 'node:os';

/** Where a client keeps servers for one user (everywhere), or for one project (the folder it is started in). */
export type Scope = 'user' | 'project';

/** What a client's file location depends on: the user's home, the platform, its variables, the project folder. */
export interface Where {
  home: string;
  platform: NodeJS.Platform;
  env: Record<string, string | undefined>;
  cwd: string;
}

export function here(): Where {
  return { home: homedir(), platform: process.platform, env: process.env, cwd: process.cwd() };
}

/** A stdio server entry as a client writes it: the fields fabricks sets (others the user added are kept). */
export type ServerEntry = Record<string, unknown> & { command: string; args: string[] };

/**
 * An MCP client, as far as its configuration file goes: where the file is, the object its
 * servers live in, whether it reads comments, and the shape of a stdio server's entry.
 */
export interface McpClient {
  id: string;
  /** Its name for people ("Claude Desktop"). */
  title: string;
  /** The top-level object that maps server names to entries. */
  serversKey: string;
  /** The client reads the file as JSON with comments and trailing commas (VS Code's JSONC); else plain JSON. */
  comments: boolean;
  defaultScope: Scope;
  /** The file for a scope; undefined when the client has no file for it. */
  file(scope: Scope, where: Where): string | undefined;
  /** The fields of an entry that runs `command args` (what an update rewrites). */
  entry(command: string, args: string[]): ServerEntry;
  /** Fields a new entry also gets, as the client's own tools write them (an update leaves them be). */
  newEntryExtras?: Record<string, unknown>;
}

/** Electron's appData folder, where desktop apps built on it (Claude Desktop, VS Code) keep their settings. */
export function appData(where: Where): string {
  const { home, platform, env } = where;
  if (platform === 'win32') return env.APPDATA || joinFor(where, home, 'AppData', 'Roaming');
  if (platform === 'darwin') return joinFor(where, home, 'Library', 'Application Support');
  return env.XDG_CONFIG_HOME || joinFor(where, home, '.config');
}

/** Joins path parts with the platform's separator (a Windows file named on any machine, for tests). */
export function joinFor(where: Where, ...parts: string[]): string {
  const sep = where.platform === 'win32' ? '\\' : '/';
  return parts.map((p, i) => (i === 0 ? p.replace(/[\\/]+$/, '') : p)).join(sep);
}
