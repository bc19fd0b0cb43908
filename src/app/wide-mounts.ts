import { realpath } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { FabricksError } from '../util/errors.js';
import { within } from '../util/paths.js';
import { FROM_PROJECT, type GrantedMount } from './grants.js';

/** A read-write mount too wide to grant without asking, and why, in words. */
export interface WideMount {
  mount: GrantedMount;
  /** The host folder with links and ".." resolved. */
  real: string;
  why: string;
}

/**
 * Why a real host folder is too wide to mount read-write, if it is: `/`, the user's home folder
 * or a folder holding it (`/home`). Through such a mount the service could change anything the
 * user can: their keys, shell start-up files, other projects.
 */
export function wideness(real: string, realHome: string): string | undefined {
  if (dirname(real) === real) return `${real} is the root of this machine's file system`;
  if (real === realHome) return `${real} is your home folder`;
  if (within(real, realHome)) return `${real} holds your home folder ${realHome}`;
  return undefined;
}

const realOr = (path: string) => realpath(path).catch(() => resolve(path));

/**
 * The granted read-write mounts that are too wide (wideness), decided on real paths (`/tmp/..`
 * and a link to `/` are `/`). Refused with an error naming the field or flag that gave the
 * folder, unless `allowed` (--allow-wide-mount); then returned, for the run to report.
 */
export async function checkWideMounts(mounts: GrantedMount[], allowed: boolean, home = homedir()): Promise<WideMount[]> {
  const realHome = await realOr(home);
  const wide: WideMount[] = [];
  for (const mount of mounts) {
    if (mount.mode !== 'rw') continue;
    const real = await realOr(mount.host);
    const why = wideness(real, realHome);
    if (!why) continue;
    if (!allowed) {
      const shown = real === mount.host ? mount.host : `${mount.host} (that is ${real})`;
      throw new FabricksError('USAGE', `${mount.from}: the mount at ${mount.guest} would let the service write to ${shown}, and ${why}`, {
        hint: mount.from === FROM_PROJECT
          ? `point host at a narrower folder, or set mode = "ro" for it; to grant it anyway for this run, pass --allow-wide-mount`
          : `mount a narrower folder, or read-only (${mount.host}:${mount.guest}:ro); to grant it anyway for this run, add --allow-wide-mount`,
      });
    }
    wide.push({ mount, real, why });
  }
  return wide;
}
