import type { Command } from 'commander';
import { FabricksError } from '../../util/errors.js';
import { jsonOption, plainHttpOption, type Cli, type CommonOptions } from '../command.js';
import { json } from '../format.js';

export function register(program: Command, cli: Cli): void {
  const cmd = program
    .command('login')
    .description('check a user name and password with a registry and save them for push and pull')
    .argument('<registry>', 'registry host, e.g. ghcr.io or localhost:5000')
    .option('-u, --username <name>', 'user name')
    .option('--password-stdin', 'read the password from stdin (for scripts and CI)')
    .addHelpText('after', "\nWithout --password-stdin the password is asked for on the terminal. Logins are saved in\n$FABRICKS_CONFIG_DIR/auth.json (mode 600); Docker's config.json and its credential helpers are read too.");
  jsonOption(cmd);
  plainHttpOption(cmd).action(async (registry: string, opts: CommonOptions & { username?: string; passwordStdin?: boolean }) => {
    const { login } = await import('../../app/login.js');
    const username = opts.username ?? (opts.passwordStdin ? '' : await promptHidden('Username: ', true));
    const password = opts.passwordStdin ? await readPasswordStdin() : await promptHidden('Password: ');
    const r = await login(registry, username, password, { plainHttp: Boolean(opts.plainHttp) });
    cli.done({ stdout: opts.json ? json(r) : `logged in to ${r.registry} as ${r.username} (saved in ${r.file})` });
  });

  program
    .command('logout')
    .description('forget the login fabricks login saved for a registry')
    .argument('<registry>', 'registry host')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (registry: string, opts: { json?: boolean }) => {
      const { logout } = await import('../../app/login.js');
      const r = await logout(registry);
      cli.done({ stdout: opts.json ? json(r) : r.removed ? `logged out of ${r.registry}` : `no fabricks login for ${r.registry}` });
    });
}

/** The password from stdin (--password-stdin), without its trailing newline. */
async function readPasswordStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += (chunk as Buffer).toString('utf8');
  return text.replace(/\r?\n$/, '');
}

/** Asks on the terminal without echoing what is typed (unless `echo`, for the user name). */
function promptHidden(question: string, echo = false): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) throw new FabricksError('USAGE', 'no terminal to ask on: pass --username, and the password on stdin with --password-stdin');
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const onData = (d: Buffer) => {
      for (const ch of d.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          done();
          return resolve(value);
        }
        if (ch === '\u0003') {
          done();
          return reject(new FabricksError('INTERRUPTED', 'login cancelled'));
        }
        if (ch === '\u007f') value = value.slice(0, -1);
        else {
          value += ch;
          if (echo) process.stderr.write(ch);
        }
      }
    };
    const done = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    stdin.on('data', onData);
  });
}
