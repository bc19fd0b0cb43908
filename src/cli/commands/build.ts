import { Option, type Command } from 'commander';
import type { BuildResult } from '../../app/build.js';
import { displayPath } from '../../util/paths.js';
import { jsonOption, plainHttpOption, progressOptions, type Cli, type CommonOptions } from '../command.js';
import { bytes, json, short } from '../format.js';
import { formatPrepare } from './prepare.js';

export function register(program: Command, cli: Cli): void {
  const cmd = program
    .command('build')
    .description('build the project into .fabricks/app.wasm and the local store (tagged name:version)')
    .argument('[dir]', 'project folder holding fabricks.toml', '.');
  jsonOption(cmd);
  plainHttpOption(cmd);
  cmd
    .addOption(new Option('--wheels <repository>', 'share Python wheels built for the runtime through this OCI repository (registry/repository): pulled before building one; overrides FABRICKS_WHEELS and [source] wheels'))
    .addOption(new Option('--no-wheels', 'neither pull nor push built wheels in this build'))
    .addOption(new Option('--prepare', 'also ready the app to start at once on this machine, as fabricks prepare does (compiled, pre-initialized; adds seconds to a build)'))
    .addOption(new Option('--push-wheels', 'push wheels built here (or in this machine\'s cache) that the repository lacks; needs push access (also FABRICKS_PUSH_WHEELS=1)'));
  progressOptions(cmd).action(async (dir: string, opts: CommonOptions & { wheels?: string | boolean; pushWheels?: boolean; prepare?: boolean }) => {
    const { build } = await import('../../app/build.js');
    const wheels = { ...(typeof opts.wheels === 'string' || opts.wheels === false ? { wheels: opts.wheels } : {}), ...(opts.pushWheels ? { pushWheels: true } : {}) };
    const r = await build(dir, await cli.context(opts), { wheels, ...(opts.prepare ? { prepare: true } : {}) });
    if (opts.json) cli.done({ stdout: json({ ...buildJson(r), ...(opts.prepare ? { prepared: r.prepared } : {}) }) });
    else cli.done({ stdout: [formatBuild(r), ...(opts.prepare ? [formatPrepare(r.prepared)] : [])].join('\n') });
  });
}

export function formatBuild(r: BuildResult): string {
  return [
    `${r.cached ? 'up to date' : 'built'} ${r.reference}  ${r.manifest.digest}`,
    `  runtime   ${r.runtime.ref}  ${bytes(r.runtime.size)}  ${short(r.runtime.digest)}`,
    `  module    ${bytes(r.module.size)}  ${short(r.module.digest)}`,
    `  component ${displayPath(r.component.path)}  ${bytes(r.component.size)}  ${short(r.component.digest)}`,
    ...(r.built ?? []).map((w) => `  wheel     ${w.name} ${w.version}  ${bytes(w.size)}  ${short(w.digest)}  ${WHEEL_FROM[w.from]}${w.pulledFrom ? ` ${w.pulledFrom}` : ''}${w.pushed ? `; ${WHEEL_PUSHED[w.pushed]}` : ''}`),
  ].join('\n');
}

/** The shape `fabricks build --json` prints. */
export function buildJson(r: BuildResult) {
  return {
    reference: r.reference,
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
