import type { Command } from 'commander';
import type { BuildResult } from '../../app/build.js';
import { displayPath } from '../../util/paths.js';
import { jsonOption, plainHttpOption, progressOptions, type Cli, type CommonOptions } from '../command.js';
import { bytes, json, short } from '../format.js';

export function register(program: Command, cli: Cli): void {
  const cmd = program
    .command('build')
    .description('build the project into .fabricks/app.wasm and the local store (tagged name:version)')
    .argument('[dir]', 'project folder holding fabricks.toml', '.');
  jsonOption(cmd);
  plainHttpOption(cmd);
  progressOptions(cmd).action(async (dir: string, opts: CommonOptions) => {
    const { build } = await import('../../app/build.js');
    const r = await build(dir, await cli.context(opts));
    cli.done({ stdout: opts.json ? json(buildJson(r)) : formatBuild(r) });
  });
}

export function formatBuild(r: BuildResult): string {
  return [
    `${r.cached ? 'up to date' : 'built'} ${r.reference}  ${r.manifest.digest}`,
    `  runtime   ${r.runtime.ref}  ${bytes(r.runtime.size)}  ${short(r.runtime.digest)}`,
    `  module    ${bytes(r.module.size)}  ${short(r.module.digest)}`,
    `  component ${displayPath(r.component.path)}  ${bytes(r.component.size)}  ${short(r.component.digest)}`,
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
  };
}
