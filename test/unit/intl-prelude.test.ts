import { describe, expect, it } from 'vitest';
import { buildPrelude } from '../../src/runtimes/node/bundle-prelude.js';
import { usesIntl } from '../../src/runtimes/node/intl-prelude.js';

describe('the Intl prelude, decided from the bundle text', () => {
  it('is wanted where the bundle names Intl, calls a locale-aware method with arguments, or localeCompare', () => {
    for (const code of ['new Intl.DateTimeFormat("en", { timeZone: tz })', 'typeof Intl', 'd.toLocaleString("en-US", { timeZone })', 'd.toLocaleDateString(undefined, opts)', 'n.toLocaleString(locale)', 'a.localeCompare(b)', 'xs.sort((a, b) => a.name.localeCompare(b.name))']) {
      expect(usesIntl(code), code).toBe(true);
    }
    for (const code of ['console.log("hello")', 'n.toLocaleString()', 'd.toLocaleTimeString( )', 'new IntlProvider()', 'const intl = 1;']) {
      expect(usesIntl(code), code).toBe(false);
    }
  });

  it('holds the formatjs polyfills, their English and time zone data, and records them as inputs', async () => {
    const prelude = await buildPrelude('new Intl.NumberFormat("en").format(1)');
    expect(prelude?.features).toEqual(['Intl (formatjs polyfills, English, all IANA time zones), locale-aware toLocale*String and localeCompare']);
    expect(prelude!.inputs.some((p) => p.endsWith('intl-datetimeformat/add-all-tz.js'))).toBe(true);
    expect(prelude!.inputs.some((p) => p.endsWith('intl-numberformat/locale-data/en.js'))).toBe(true);
    expect(prelude!.code).toContain('Asia/Kolkata');
    // held as a string, evaluated on first use: no formatjs code to parse at start-up
    expect(prelude!.code).toContain('(0,eval)(');
    // the offset names patched in formatjs (see OFFSET_NAMES)
    expect(prelude!.code).toMatch(/==="long"\|\|[\w$]+==="longOffset"/);
    expect(prelude!.code.length).toBeGreaterThan(2_000_000);
    expect(await buildPrelude('console.log((1).toLocaleString())')).toBeUndefined();
  });
});
