import { describe, expect, it, inject } from 'vitest';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fabricks, jsToml, project, repoRoot } from '../helpers.js';

const fixture = join(repoRoot, 'test', 'fixtures', 'intl');
const blob = (digest: string) => join(inject('fabricksHome'), 'store', 'blobs', 'sha256', digest.slice(7));

async function buildJson(dir: string): Promise<{ module: { digest: string; size: number } }> {
  const r = await fabricks(['build', dir, '--json']);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('Intl in the JavaScript runtime', () => {
  it('formats dates in ten time zones, numbers, plural rules, relative times, lists and collation byte for byte as Node does', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fabricks-intl-'));
    await cp(fixture, dir, { recursive: true });
    const r = await fabricks(['run', dir]);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    // the same program under Node on the host, whose local time zone is set to the runtime's (UTC)
    const native = join(dir, 'native');
    await mkdir(native);
    await cp(join(dir, 'main.js'), join(native, 'main.mjs'));
    const { stdout: expected } = await promisify(execFile)(process.execPath, [join(native, 'main.mjs')], { env: { ...process.env, TZ: 'UTC' } });
    const lines = expected.split('\n');
    expect(lines.length).toBeGreaterThan(150);
    expect(r.stdout.split('\n')).toEqual(lines);
    // what the comparison rests on, in case Node's own answers change
    expect(expected).toContain('2024-03-10T07:00:00.000Z America/New_York: Mar 10, 2024, 3:00:00 AM EDT');
    expect(expected).toContain('default time zone: UTC');
    expect(expected).toContain('Date hours agree: true');
  });

  it('puts no prelude in a bundle that does not use Intl, and a lazy one in a bundle that does', async () => {
    const plainMain = 'console.log((1234.5).toLocaleString(), new Date(0).toISOString(), ["b", "a"].sort().join());\n';
    const plain = await project({ 'fabricks.toml': jsToml(), 'main.js': plainMain });
    const plainBuild = await buildJson(plain);
    const plainLayer = await readFile(blob(plainBuild.module.digest));
    expect(plainLayer.toString('latin1')).not.toMatch(/Intl|formatjs/);
    expect(plainBuild.module.size).toBeLessThan(4096);

    const intl = await project({
      'fabricks.toml': jsToml(),
      'main.js': [
        // until a program touches Intl (or calls a locale-aware method) it is a getter that has loaded nothing
        'console.log(`lazy=${typeof Object.getOwnPropertyDescriptor(globalThis, "Intl").get}`);',
        plainMain.trim(),
        'console.log(new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).format(1234.5));',
        'console.log(`loaded=${"value" in Object.getOwnPropertyDescriptor(globalThis, "Intl")}`);',
        'console.log(new Date(Date.UTC(2025, 0, 1)).toLocaleString("en-US", { timeZone: "Asia/Tokyo" }));',
      ].join('\n'),
    });
    const r = await fabricks(['run', intl]);
    expect(r.status, r.stderr).toBe(0);
    // with the prelude, toLocaleString() answers as Node does: localized
    expect(r.stdout.split('\n')).toEqual(['lazy=function', '1,234.5 1970-01-01T00:00:00.000Z a,b', '$1,234.50', 'loaded=true', '1/1/2025, 9:00:00 AM', '']);
    const intlBuild = await buildJson(intl);
    // the polyfills with English and every IANA time zone: megabytes, which the plain bundle is spared
    expect(intlBuild.module.size).toBeGreaterThan(plainBuild.module.size + 1_000_000);
  });
});
