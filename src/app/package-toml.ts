import { isAbsolute, relative } from 'node:path';
import type { ProjectCapabilities } from '../config/capabilities.js';
import type { PackageTarget } from '../runtimes/package-ref.js';
import type { PublishedPackage } from '../runtimes/kind.js';
import { BUILTIN_REGISTRY } from '../runtimes/catalogue.js';

const str = (s: string) => JSON.stringify(s);
const list = (xs: readonly string[]) => `[${xs.map(str).join(', ')}]`;

/** A mount's host folder as fabricks.toml writes it: relative to the project when it lies below it. */
function hostPath(host: string, dir: string): string {
  const rel = relative(dir, host);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : host;
}

/** The [capabilities] tables that grant `caps`, or nothing when it grants nothing. */
export function capabilitiesToml(caps: ProjectCapabilities, dir: string): string[] {
  const lines: string[] = [];
  const { network, env, filesystem } = caps;
  if (network.connect.length || network.listen.length) {
    lines.push('', '[capabilities.network]');
    if (network.connect.length) lines.push(`connect = ${list(network.connect)}`);
    if (network.listen.length) lines.push(`listen = [${network.listen.join(', ')}]`);
  }
  const set = Object.entries(env.set);
  if (env.allow.length || set.length) {
    lines.push('', '[capabilities.env]');
    if (env.allow.length) lines.push(`allow = ${list(env.allow)}`);
    if (set.length) lines.push(`set = { ${set.map(([k, v]) => `${k} = ${str(v)}`).join(', ')} }`);
  }
  if (filesystem.mounts.length) {
    lines.push('', '[capabilities.filesystem]', 'mounts = [');
    for (const m of filesystem.mounts) lines.push(`  { guest = ${str(m.guest)}, ${m.host ? `host = ${str(hostPath(m.host, dir))}, ` : ''}mode = ${str(m.mode)} },`);
    lines.push(']');
  }
  return lines;
}

/** fabricks.toml for a published package: its program as the entrypoint, on its language's runtime, granted `caps` (nothing when absent). */
export function projectToml(target: PackageTarget, pkg: PublishedPackage, app: { name: string; version: string }, dir: string, caps?: ProjectCapabilities): string {
  const lines = [
    `# ${pkg.pinned}, as published (its ${pkg.program}); ${target.packages.registry} vouches for it with ${pkg.integrity}`,
    '[package]',
    `name = ${str(app.name)}`,
    `version = ${str(app.version)}`,
    '',
    '[from]',
    `image = ${str(`${BUILTIN_REGISTRY}/${target.runtime.repository}`)}`,
    '',
    '[source]',
    `entrypoint = ${str(pkg.entrypoint)}`,
    ...(caps ? capabilitiesToml(caps, dir) : []),
  ];
  return lines.join('\n') + '\n';
}
