import type { Command } from 'commander';
import type { InspectResult } from '../../app/inspect.js';
import { jsonOption, plainHttpOption, type Cli, type CommonOptions } from '../command.js';
import { json } from '../format.js';

export function register(program: Command, cli: Cli): void {
  const cmd = program
    .command('inspect')
    .description('show a build: manifest, layers, runtime, entrypoint, component digest, WIT imports and exports')
    .argument('[target]', 'project folder, name:version, registry/repository:tag (fetches only manifest and config), or a published package (npm:..., pypi:...; its stored build, built first if there is none)', '.');
  jsonOption(cmd);
  cmd
    .option('--with <REQ>', 'package (PyPI): the requirements it was built with (--with of build and run); repeatable', (v: string, p: string[]) => [...p, v], [])
    .option('--bin <NAME>', 'package: the program it was built to run (--bin of build and run)');
  plainHttpOption(cmd).action(async (target: string, opts: CommonOptions & { with: string[]; bin?: string }) => {
    const { inspect } = await import('../../app/inspect.js');
    const r = await inspect(target, await cli.context({ ...opts, quiet: true }), { with: opts.with, ...(opts.bin !== undefined ? { program: opts.bin } : {}) });
    cli.done({ stdout: opts.json ? json(r) : formatInspect(r) });
  });
}

function formatCapabilities(c: InspectResult['capabilities']): string[] {
  const lines = [
    c.network.listen.length ? `    listen   ${c.network.listen.join(', ')}` : '',
    c.network.connect.length ? `    connect  ${c.network.connect.join(', ')}` : '',
    c.env.allow.length ? `    env      ${c.env.allow.join(', ')} (from the host)` : '',
    Object.keys(c.env.set).length ? `    env set  ${Object.keys(c.env.set).join(', ')}` : '',
    ...c.filesystem.mounts.map((m) => `    mount    ${m.guest} (${m.mode})`),
  ].filter(Boolean);
  return lines.length ? lines : ['    none: arguments and stdio only'];
}

export function formatInspect(r: InspectResult): string {
  return [
    `${r.reference}`,
    `  manifest   ${r.manifest.digest}  (${r.manifest.size} bytes)`,
    `  runtime    ${r.runtime.reference}`,
    `  entrypoint ${r.entrypoint}`,
    ...(r.published ? [`  package    ${r.published.package}  ${r.published.integrity}`] : []),
    `  component  ${r.component.digest}  (${r.component.size.toLocaleString('en')} bytes)`,
    `  layers`,
    ...r.layers.map((l) => `    ${l.mediaType}  ${l.size.toLocaleString('en')} bytes  ${l.digest}`),
    `  capabilities`,
    ...formatCapabilities(r.capabilities),
    `  imports`,
    ...r.wit.imports.map((i) => `    ${i}`),
    `  exports`,
    ...r.wit.exports.map((e) => `    ${e}`),
  ].join('\n');
}
