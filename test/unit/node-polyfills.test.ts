import { describe, expect, it } from 'vitest';
import zlib from 'node:zlib';
import net from 'node:net';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers.js';
// @ts-expect-error: plain JavaScript, bundled into guests; run here under Node
import * as ours from '../../polyfills/node/zlib.js';
// @ts-expect-error: plain JavaScript
import * as ip from '../../polyfills/node/ip.js';

/**
 * The polyfills' logic under Node on the host, against Node's own modules: many more cases than
 * the runtime's integration test (test/integration/js-node-builtins.test.ts) can afford.
 */
const text = readFileSync(join(repoRoot, 'docs', 'javascript.md'));
const noise = Buffer.from(Array.from({ length: 20_000 }, (_, i) => (i * 7919) % 251));

async function streamed(transform: NodeJS.ReadWriteStream, chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from(chunks), transform, new Writable({ write: (c: Buffer, _e, cb) => (out.push(c), cb()) }));
  return Buffer.concat(out);
}

describe('polyfills/node/zlib.js (pako) against Node 20 zlib', () => {
  it('compresses to the same bytes for every level, strategy, window and memory level', () => {
    for (const input of [text, noise, Buffer.alloc(0), Buffer.from('a')]) {
      for (const level of [0, 1, 4, 6, 9]) {
        for (const strategy of [0, 1, 2, 3, 4]) {
          for (const [windowBits, memLevel] of [[15, 8], [12, 9], [9, 1]] as const) {
            const opts = { level, strategy, windowBits, memLevel };
            for (const f of ['gzipSync', 'deflateSync', 'deflateRawSync'] as const) {
              expect(Buffer.compare(ours[f](input, opts), zlib[f](input, opts)), `${f} ${JSON.stringify(opts)} of ${input.length} bytes`).toBe(0);
            }
          }
        }
      }
    }
  });

  it('streams to the same bytes, however the input is cut; with sync flushes between writes, to what decodes to the input', async () => {
    for (const size of [1, 100, 4096, 70_000]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < text.length; i += size) chunks.push(text.subarray(i, i + size));
      for (const make of ['createGzip', 'createDeflate', 'createDeflateRaw'] as const) {
        expect(Buffer.compare(await streamed(ours[make](), chunks), await streamed(zlib[make](), chunks)), `${make} in ${size}-byte chunks`).toBe(0);
        // with a flush after each write, where the finishing flush lands depends on timing, in
        // Node as here (its threadpool): the output decodes to the input
        const flushed = await streamed(ours[make]({ flush: zlib.constants.Z_SYNC_FLUSH }), chunks);
        const back = make === 'createGzip' ? zlib.gunzipSync(flushed) : make === 'createDeflate' ? zlib.inflateSync(flushed) : zlib.inflateRawSync(flushed);
        expect(back.equals(text), `${make} flushing`).toBe(true);
      }
    }
  });

  it('inflates what Node compresses, in pieces, and fails as Node fails', async () => {
    const gz = zlib.gzipSync(text);
    const pieces = [gz.subarray(0, 3), gz.subarray(3, 500), gz.subarray(500)];
    expect((await streamed(ours.createGunzip(), pieces)).equals(text)).toBe(true);
    expect((await streamed(ours.createUnzip(), [zlib.deflateSync(text)])).equals(text)).toBe(true);
    // node-fetch's way: a sync finish flush accepts a body cut short
    const cut = await streamed(ours.createGunzip({ finishFlush: zlib.constants.Z_SYNC_FLUSH }), [gz.subarray(0, gz.length - 100)]);
    expect(text.subarray(0, cut.length).equals(cut)).toBe(true);
    for (const [f, bad] of [['inflateSync', Buffer.from('garbage')], ['gunzipSync', gz.subarray(0, 40)], ['inflateRawSync', Buffer.from([0xff, 0xff])]] as const) {
      const theirs = (() => { try { zlib[f](bad); } catch (e) { return { message: (e as Error).message, code: (e as { code: string }).code }; } })();
      const mine = (() => { try { ours[f](bad); } catch (e) { return { message: (e as Error).message, code: (e as { code: string }).code }; } })();
      expect(mine, f).toEqual(theirs);
    }
  });

  it('decodes Brotli from Node, and crc32 matches', () => {
    expect(ours.brotliDecompressSync(zlib.brotliCompressSync(text)).equals(text)).toBe(true);
    for (const input of [text, noise, Buffer.alloc(0)]) expect(ours.crc32(input)).toBe(zlib.crc32(input));
  });
});

describe('polyfills/node/ip.js against node:net', () => {
  it('answers isIP as Node does for addresses, near-addresses and names', () => {
    const cases = ['0.0.0.0', '255.255.255.255', '256.0.0.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.04', '1..2.3', ' 1.2.3.4', '::', '::1', '1::', ':1', '1:', ':::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1::2::3', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '::ffff:1.2.3.4', '::ffff:1.2.3.256', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', 'fe80::1%eth0', 'fe80::1%', 'fe80::1%25en0', '12345::', 'g::1', 'a:b:c:d:e:f:0:1', 'ABCD:EF01::', 'localhost', 'example.com', '[::1]', '', '1.2.3.4/8'];
    for (let i = 0; i < 300; i++) {
      const groups = Array.from({ length: 1 + (i % 9) }, (_, j) => ((i * 31 + j * 17) % 0x1ffff).toString(16));
      cases.push(groups.join(':'), groups.join('::'), `${groups.slice(0, 3).join(':')}::${(i % 300)}.${i % 256}.1.2`);
    }
    expect(cases.filter((c) => ip.isIP(c) !== net.isIP(c))).toEqual([]);
  });
});
