import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { findNodeAtLocation, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { FabricksError } from '../util/errors.js';
import type { McpClient } from './client.js';

/** A client's configuration file as read: its bytes, and jsonc-parser's tree of them. */
export interface ClientFile {
  /** The file as named. */
  path: string;
  /** The file that is read and written: `path` with symbolic links resolved (a dotfiles link stays a link). */
  target: string;
  exists: boolean;
  bytes: Buffer;
  text: string;
  /** The top-level object; undefined for a missing or empty file. */
  root: Node | undefined;
  /** Permission bits of the existing file, kept when it is rewritten. */
  mode: number | undefined;
}

const errnoOf = (e: unknown) => (e as NodeJS.ErrnoException).code;

/** Line and column (from 1) of an offset, as editors show them. */
function position(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return `${line}:${offset - (before.lastIndexOf('\n') + 1) + 1}`;
}

const words = (code: string) => code.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();

function invalid(file: { path: string }, client: McpClient, what: string): FabricksError {
  return new FabricksError('CLIENT_CONFIG_INVALID', `${file.path}: ${what}`, {
    hint: `fix the file by hand (fabricks left it as it was)${client.comments ? '' : `; ${client.title} reads it as plain JSON: no comments, no trailing commas`}`,
  });
}

/**
 * Reads a client's file and checks it is what the client reads: JSON (or JSONC where the client
 * allows comments) whose top level is an object, with its servers' object an object if present.
 * A missing file (or an empty one) reads as no servers.
 */
export async function readClientFile(path: string, client: McpClient): Promise<ClientFile> {
  const target = await realpath(path).catch(() => path);
  let bytes: Buffer;
  let mode: number | undefined;
  try {
    bytes = await readFile(target);
    mode = (await stat(target)).mode & 0o7777;
  } catch (e) {
    if (errnoOf(e) !== 'ENOENT') throw new FabricksError('CLIENT_CONFIG_INVALID', `${path}: cannot be read (${errnoOf(e) ?? String(e)})`, { cause: e });
    return { path, target, exists: false, bytes: Buffer.alloc(0), text: '', root: undefined, mode: undefined };
  }
  const text = bytes.toString('utf8');
  const file = { path, target, exists: true, bytes, text, mode };
  if (text.trim() === '') return { ...file, root: undefined };
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: client.comments, disallowComments: !client.comments });
  const first = errors[0];
  if (first) {
    const what = !client.comments && printParseErrorCode(first.error) === 'InvalidCommentToken' ? 'a comment, which plain JSON does not allow' : words(printParseErrorCode(first.error));
    // one mistake can make two errors at one place (a trailing comma: no name, no value)
    const more = new Set(errors.map((e) => e.offset)).size - 1;
    throw invalid(file, client, `${position(text, first.offset)}: ${what}${more > 0 ? ` (and ${more} more problem${more > 1 ? 's' : ''})` : ''}`);
  }
  if (root?.type !== 'object') throw invalid(file, client, `the top level is ${root ? `a${root.type === 'array' ? 'n' : ''} ${root.type}` : 'empty'}, not an object`);
  const servers = findNodeAtLocation(root, [client.serversKey]);
  if (servers && servers.type !== 'object') throw invalid(file, client, `${position(text, servers.offset)}: "${client.serversKey}" is a${servers.type === 'array' ? 'n' : ''} ${servers.type}, not an object of servers`);
  return { ...file, root };
}

/** Writes `bytes` to `path` so that readers see the old or the new content, never a part, with exactly `mode` (or the default for a new file). */
async function writeWhole(path: string, bytes: string | Buffer, mode: number | undefined): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.fabricks-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const fh = await open(tmp, 'wx', mode ?? 0o666);
    try {
      // the umask may have narrowed the mode: the file keeps what it had
      if (mode !== undefined) await fh.chmod(mode);
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * Replaces the file's content with `text`: first the old bytes go to `<file>.bak` (same mode),
 * then the new content replaces the file in one rename. Refused, with nothing written, if the
 * file changed since it was read (the client itself may have saved it meanwhile).
 */
export async function writeClientFile(file: ClientFile, text: string): Promise<{ backup?: string }> {
  const current = await readFile(file.target).catch((e) => (errnoOf(e) === 'ENOENT' ? undefined : Promise.reject(e)));
  if (file.exists ? !current?.equals(file.bytes) : current !== undefined) {
    throw new FabricksError('CLIENT_CONFIG_CHANGED', `${file.path} changed while fabricks was editing it; nothing was written`, { hint: 'run the command again' });
  }
  if (!file.exists) {
    await mkdir(dirname(file.target), { recursive: true });
    await writeWhole(file.target, text, undefined);
    return {};
  }
  const backup = `${file.target}.bak`;
  await writeWhole(backup, file.bytes, file.mode);
  await writeWhole(file.target, text, file.mode);
  return { backup };
}
