import { stat } from 'node:fs/promises';
import { FabricksError } from '../util/errors.js';
import { isRemoteReference, parseRemote, type Reference } from '../oci/reference.js';

export type Target =
  | { kind: 'project'; dir: string }
  | { kind: 'reference'; reference: string }
  | { kind: 'remote'; reference: Reference };

/**
 * `[dir | name:version | registry/repo:tag]`: an existing folder is a project; name:version
 * names a build in the local store; a reference with a registry host names a pushed artifact.
 */
export async function parseTarget(arg: string | undefined): Promise<Target> {
  const value = arg ?? '.';
  const isDir = await stat(value).then((s) => s.isDirectory(), () => false);
  if (isDir) return { kind: 'project', dir: value };
  if (isRemoteReference(value)) return { kind: 'remote', reference: parseRemote(value, 'reference') };
  if (/^[a-z0-9][a-z0-9._/-]*:[\w][\w.-]*$/.test(value)) return { kind: 'reference', reference: value };
  throw new FabricksError('USAGE', `"${value}" is neither a project folder, a name:version of a build in the local store, nor a registry reference`, {
    hint: 'pass a folder holding fabricks.toml, a name:version that fabricks build printed, or registry/repository:tag',
  });
}
