import { Option, type Command } from 'commander';
import type { BuildResult, PackageBuildResult } from '../../app/build.js';
import { displayPath } from '../../util/paths.js';
import { jsonOption, packageOptions, plainHttpOption, progressOptions, type Cli, type CommonOptions, type PackageCliOptions } from '../command.js';
import { bytes, json, short } from '../format.js';
import { formatPrepare } from './prepare.js';

export function register(program: Command, cli: Cli): void {
  const cmd = program
    .command('build')
    .description('build the project (or a published package, by name) into .fabricks/app.wasm and the local store (tagged name:version)')
    .argument('[target]', 'project folder holding fabricks.toml, or a published package: npm:@scope/pkg@1.2.3, pypi:pkg==1.2.3 (#NAME picks its program)', '.')
    .addHelpText('after', '\nA package is resolved to one version (shown), installed into $FABRICKS_HOME/cache/packages once, and\nbuilt granted only what --connect, --env, --mount and --profile name (docs/mcp.md).');
  packageOptions(cmd, { envAndMount: true });
  jsonOption(cmd);
  plainHttpOption(cmd);
  cmd
    .addOption(new Option('--wheels <repository>', 'share Python wheels built for the runtime through this OCI repository (registry/repository): pulled before building one; overrides FABRICKS_WHEELS and [source] wheels'))
    .addOption(new Option('--no-wheels', 'neither pull nor push built wheels in this build'))
    .addOption(new Option('--prepare', 'also ready the app to start at once on this machine, as fabricks prepare does (compiled, pre-initialized; adds seconds to a build)'))
    .addOption(new Option('--push-wheels', 'push wheels built here (or in this machine\'s cache) that the repository lacks; needs push access (also FABRICKS_PUSH_WHEELS=1)'));
  progressOptions(cmd).action(async (target: string, opts: CommonOptions & PackageCliOptions & { wheels?: string | boolean; pushWheels?: boolean; prepare?: boolean }) => {
    const { buildTarget } = await import('../../app/build.js');
    const wheels = { ...(typeof opts.wheels === 'string' || opts.wheels === false ? { wheels: opts.wheels } : {}), ...(opts.pushWheels ? { pushWheels: true } : {}) };
    const grants = { connect: opts.connect, env: opts.env, mount: opts.mount, ...(opts.profile !== undefined ? { profile: opts.profile } : {}) };
    const r = await buildTarget(target, await cli.context(opts), { wheels, grants, with: opts.with, ...(opts.bin !== undefined ? { program: opts.bin } : {}), ...(opts.prepare ? { prepare: true } : {}) });
    if (opts.json) cli.done({ stdout: json({ ...buildJson(r), ...(opts.prepare ? { prepared: r.prepared } : {}) }) });
    else cli.done({ stdout: [formatBuild(r), ...(opts.prepare ? [formatPrepare(r.prepared)] : [])].join('\n') });
  });
}

export function formatBuild(r: BuildResult | PackageBuildResult): string {
  const p = 'package' in r ? r.package : undefined;
  return [
    `${r.cached ? 'up to date' : 'built'} ${r.reference}  ${r.manifest.digest}`,
    ...(p ? [`  package   ${p.pinned}  ${p.program}  ${p.integrity}${p.installed ? '' : '  (installed before)'}`, `  project   ${displayPath(p.dir)}`] : []),
    `  runtime   ${r.runtime.ref}  ${bytes(r.runtime.size)}  ${short(r.runtime.digest)}`,
    `  module    ${bytes(r.module.size)}  ${short(r.module.digest)}`,
    `  component ${displayPath(r.component.path)}  ${bytes(r.component.size)}  ${short(r.component.digest)}`,
    ...(r.built ?? []).map((w) => `  wheel     ${w.name} ${w.version}  ${bytes(w.size)}  ${short(w.digest)}  ${WHEEL_FROM[w.from]}${w.pulledFrom ? ` ${w.pulledFrom}` : ''}${w.pushed ? `; ${WHEEL_PUSHED[w.pushed]}` : ''}`),
  ].join('\n');
}

/** The shape `fabricks build --json` prints. */
export function buildJson(r: BuildResult | PackageBuildResult) {
  return {
    reference: r.reference,
    ...('package' in r ? { package: r.package } : {}),
    manifest: r.manifest.digest,
    runtime: r.runtime,
    module: r.module,
    component: r.component,
    cached: r.cached,
    ...(r.built ? { wheels: r.built } : {}),
  };
}

const WHEEL_FROM = { cache: 'from the cache', built: 'built here', pulled: 'pulled from' } as const;
const WHEEL_PUSHED = { sent: 'pushed', present: 'the repository has it', failed: 'not pushed (see the warning)' } as const;
