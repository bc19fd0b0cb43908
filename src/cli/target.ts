import { stat } from 'node:fs/promises';
import { FabricksError } from '../errors.js';

export type Target = { kind: 'project'; dir: string } | { kind: 'reference'; reference: string };

/** `[dir | name:version]`: an existing folder is a project; name:version names a stored build. */
export async function parseTarget(arg: string | undefined): Promise<Target> {
  const value = arg ?? '.';
  const isDir = await stat(value).then((s) => s.isDirectory(), () => false);
  if (isDir) return { kind: 'project', dir: value };
  if (/^[a-z0-9][a-z0-9._/-]*:[\w][\w.-]*$/.test(value)) return { kind: 'reference', reference: value };
  throw new FabricksError('USAGE', `"${value}" is neither a project folder nor a name:version of a build in the local store`, {
    hint: 'pass a folder holding fabricks.toml, or a name:version that fabricks build printed',
  });
}
