import { describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toolsDir } from '../../src/util/paths.js';
import { events, fabricks, jsToml, project } from '../helpers.js';

/** Lists the folder mounted at /host, so a run that got that far shows it on stdout. */
const main = 'import fs from "node:fs";\nconsole.log(JSON.stringify(fs.readdirSync("/host")));\n';

describe('a read-write mount of /, the home folder or a folder holding it', () => {
  it('is refused from fabricks.toml (/tmp/.. is /), naming the field and --allow-wide-mount; with the flag it runs, with a warning', async () => {
    const toml = jsToml('main.js', '\n[capabilities.filesystem]\nmounts = [{ guest = "/host", host = "/tmp/..", mode = "rw" }]\n\n[package]\nname = "mount-root"\n');
    const dir = await project({ 'fabricks.toml': toml, 'main.js': main });
    const refused = await fabricks(['run', dir]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('error: [capabilities.filesystem] mounts in fabricks.toml: the mount at /host would let the service write to /tmp/.. (that is /), and / is the root of this machine\'s file system');
    expect(refused.stderr).toContain('hint: point host at a narrower folder, or set mode = "ro" for it; to grant it anyway for this run, pass --allow-wide-mount');
    expect(refused.stdout).toBe('');

    const allowed = await fabricks(['run', dir, '--allow-wide-mount', '--progress', 'json']);
    expect(allowed.status, allowed.stderr).toBe(0);
    expect(JSON.parse(allowed.stdout)).toEqual(expect.arrayContaining(['etc', 'tmp']));
    expect(events(allowed.stderr)).toContainEqual(expect.objectContaining({ event: 'note', code: 'wide-mount', subject: '/host is / (rw)' }));
    const human = await fabricks(['run', dir, '--allow-wide-mount']);
    expect(human.stderr).toMatch(/warning: mount \/host is \/ \(rw\): \/ is the root of this machine's file system: the service may change anything there; allowed by --allow-wide-mount/);
  });

  it('is refused from --allow-mount and --mount, naming the flag; read-only passes', async () => {
    const dir = await project({ 'fabricks.toml': jsToml('main.js', '\n[package]\nname = "mount-flags"\n'), 'main.js': main });
    const widened = await fabricks(['run', dir, '--allow-mount', '/:/host:rw']);
    expect(widened.status).toBe(2);
    expect(widened.stderr).toContain('error: --allow-mount /:/host:rw: the mount at /host would let the service write to /');
    expect(widened.stderr).toContain('hint: mount a narrower folder, or read-only (/:/host:ro); to grant it anyway for this run, add --allow-wide-mount');
    const readOnly = await fabricks(['run', '-q', dir, '--allow-mount', '/:/host:ro']);
    expect(readOnly.status, readOnly.stderr).toBe(0);
    expect(JSON.parse(readOnly.stdout)).toContain('etc');

    // a declared rw mount given the folder holding the home folder (a home of the test's own)
    const home = join(await mkdtemp(join(tmpdir(), 'fabricks-homes-')), 'me');
    const declared = await project({ 'fabricks.toml': jsToml('main.js', '\n[capabilities.filesystem]\nmounts = [{ guest = "/host", mode = "rw" }]\n\n[package]\nname = "mount-home"\n'), 'main.js': main });
    const env = { HOME: home, FABRICKS_TOOLS_DIR: toolsDir() };
    const holding = await fabricks(['run', declared, '--mount', `${join(home, '..')}:/host`], { env });
    expect(holding.status).toBe(2);
    expect(holding.stderr).toContain(`error: --mount ${join(home, '..')}:/host: the mount at /host would let the service write to ${join(home, '..')}`);
    expect(holding.stderr).toContain(`holds your home folder ${home}`);
  });
});
