import { homedir } from 'node:os';
import { join, relative, resolve, dirname, sep, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The user's cache folder, following the XDG convention (and macOS's Library/Caches). */
function userCacheDir(): string {
  if (process.env.XDG_CACHE_HOME) return process.env.XDG_CACHE_HOME;
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Caches');
  return join(homedir(), '.cache');
}

/** `$FABRICKS_HOME`: the local OCI store and the caches keyed by content. */
export function fabricksHome(): string {
  return resolve(process.env.FABRICKS_HOME || join(userCacheDir(), 'fabricks'));
}


/**
 * Native tools (wac) installed by scripts/install-tools. Kept apart from FABRICKS_HOME so that
 * pointing FABRICKS_HOME at a fresh folder (tests, CI) does not mean compiling them again.
 */
export function toolsDir(): string {
  return resolve(process.env.FABRICKS_TOOLS_DIR || join(userCacheDir(), 'fabricks-tools'));
}

/** The installed fabricks package (holds guest/, polyfills/, build-tools/ and scripts/). */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `$FABRICKS_CONFIG_DIR`: user settings, such as the registry logins `fabricks login` saves. */
export function configDir(): string {
  if (process.env.FABRICKS_CONFIG_DIR) return resolve(process.env.FABRICKS_CONFIG_DIR);
  return resolve(process.env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'fabricks');
}

/** Docker's config.json, where users' existing registry logins and credential helpers live. */
export function dockerConfigFile(): string {
  return join(process.env.DOCKER_CONFIG ? resolve(process.env.DOCKER_CONFIG) : join(homedir(), '.docker'), 'config.json');
}

/** A path as users see it in messages: relative to the working folder when under it. */
export function displayPath(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith(`..${sep}`) && rel !== '..' ? rel : p;
}

/** Whether `child` is `parent` or inside it (paths as given; resolve links first where they matter). */
export function within(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && !rel.startsWith(`..${sep}`));
}
