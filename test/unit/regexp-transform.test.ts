import { describe, expect, it } from 'vitest';
import { decode } from '@jridgewell/sourcemap-codec';
import { transformRegExpLiterals } from '../../src/runtimes/node/regexp-transform.js';
import { buildPrelude } from '../../src/runtimes/node/bundle-prelude.js';

describe('Unicode property escapes for an engine without Unicode property data', () => {
  it('rewrites only the literals that use them, into classes that match the same characters', () => {
    const code = 'const a = /\\p{Lu}+/u, b = /x\\p{L}/g, c = /[\\p{Nd}_]/u; f(a);\n';
    const { code: out, rewritten } = transformRegExpLiterals(code, { sources: ['a.js'], mappings: 'AAAA,UAAU,sBAAsB,sBAAsB' });
    expect(rewritten).toBe(2);
    expect(out).not.toMatch(/\\p\{(Lu|Nd)\}/);
    expect(out).toContain('/x\\p{L}/g'); // no u flag: \p is a plain "p" there, left alone
    const [a, , c] = [...out.matchAll(/\/(?:\\.|[^/\n])+\/[gu]*/g)].map((m) => m[0]);
    const lu = eval(a!) as RegExp;
    expect(lu.test('ÉA') && !lu.test('é')).toBe(true);
    const nd = eval(c!) as RegExp;
    expect(nd.test('٣') && nd.test('_') && !nd.test('a')).toBe(true);
  });

  it('moves the source map columns after a rewritten literal by the length it gained', () => {
    const code = 'x(/\\p{Lu}/u, y);\n';
    const before = [[[0, 0, 0, 0], [2, 0, 0, 2], [12, 0, 0, 12]]] as const;
    const { code: out, map } = transformRegExpLiterals(code, { sources: ['a.js'], mappings: 'AAAA,EAAE,UAAU' });
    const after = decode(map.mappings)[0]!;
    const grown = out.length - code.length;
    expect(grown).toBeGreaterThan(0);
    expect(after.map((s) => s[0])).toEqual([before[0][0][0], before[0][1][0], before[0][2][0] + grown]);
    expect(out.slice(after[2]![0], after[2]![0] + 2)).toBe(' y'); // still the code it pointed at
  });

  it('puts a run-time RegExp in the prelude, with the property data the bundle names, only when it needs one', async () => {
    expect(await buildPrelude('const r = /abc/;')).toBeUndefined();
    const prelude = await buildPrelude('const r = new RegExp("\\\\p{Extended_Pictographic}", "u");');
    expect(prelude?.features).toEqual(['RegExp with Unicode property escapes (Binary_Property/Extended_Pictographic)']);
    const withNormalize = await buildPrelude('s.normalize("NFC")');
    expect(withNormalize?.features).toEqual(['String.prototype.normalize']);
  });
});
