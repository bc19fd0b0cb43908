import type { Command } from 'commander';
import type { InitResult } from '../../app/init.js';
import { FabricksError } from '../../util/errors.js';
import { displayPath } from '../../util/paths.js';
import { jsonOption, packageOptions, progressOptions, type Cli, type CommonOptions, type PackageCliOptions } from '../command.js';
import { json } from '../format.js';

export function register(program: Command, cli: Cli): void {
  const cmd = program
    .command('init')
    .description('write fabricks.toml for the code in a folder, or a project for a published package (fabricks.toml, and package.json or requirements.txt) to keep and build with fabricks build')
    .option('--from <PACKAGE>', 'the published package: npm:@scope/pkg@1.2.3, pypi:pkg==1.2.3 (#NAME picks its program)')
    .option('--entrypoint <FILE>', 'without --from: the file that starts the program (default: main, index, app or server with a runtime\'s extension)')
    .option('--dir <DIR>', 'the folder to write it into (made if absent)', '.')
    .addHelpText('after', '\nAn existing fabricks.toml (or package.json, requirements.txt) is never overwritten. The grant flags\nwrite [capabilities]: only what they name is granted.');
  packageOptions(cmd, { envAndMount: true });
  jsonOption(cmd);
  progressOptions(cmd).action(async (opts: CommonOptions & PackageCliOptions & { from?: string; dir: string; entrypoint?: string }, command: Command) => {
    if (command.args.length) throw new FabricksError('USAGE', `fabricks init takes no argument (${command.args[0]}); name the package with --from and the folder with --dir`);
    const { initFrom, initProject } = await import('../../app/init.js');
    if (opts.from === undefined) {
      const g = opts.connect.length ? '--connect' : opts.env.length ? '--env' : opts.mount.length ? '--mount' : opts.profile !== undefined ? '--profile' : opts.with.length ? '--with' : opts.bin !== undefined ? '--bin' : undefined;
      if (g) throw new FabricksError('USAGE', `${g} goes with --from (a published package); for your own code, write [capabilities] in the fabricks.toml that init writes`);
      const r = await initProject(opts.dir, opts.entrypoint !== undefined ? { entrypoint: opts.entrypoint } : {});
      cli.done({ stdout: opts.json ? json(r) : `wrote fabricks.toml in ${r.dir === process.cwd() ? '.' : displayPath(r.dir)} (entrypoint ${r.program}; granted nothing)\n  next      fabricks build${r.dir === process.cwd() ? '' : ` ${displayPath(r.dir)}`}   (tags ${r.reference})` });
      return;
    }
    if (opts.entrypoint !== undefined) throw new FabricksError('USAGE', '--entrypoint is for plain fabricks init; a package\'s entrypoint is its program (choose it with --bin)');
    const grants = { connect: opts.connect, env: opts.env, mount: opts.mount, ...(opts.profile !== undefined ? { profile: opts.profile } : {}) };
    const r = await initFrom(opts.from, opts.dir, { grants, with: opts.with, ...(opts.bin !== undefined ? { program: opts.bin } : {}) }, await cli.context(opts));
    cli.done({ stdout: opts.json ? json(r) : formatInit(r) });
  });
}

function formatInit(r: InitResult): string {
  const here = r.dir === process.cwd();
  return [
    `wrote ${r.files.join(', ')} in ${here ? '.' : displayPath(r.dir)}`,
    `  package   ${r.pinned}  ${r.program}  ${r.integrity}`,
    `  next      fabricks build${here ? '' : ` ${displayPath(r.dir)}`}   (tags ${r.reference})`,
  ].join('\n');
}
