import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/oci/memory-store.js';
import { decodeManifest, fetchJson } from '../../src/oci/manifest.js';
import { checkWheelFile, checkWheelManifest, storeWheelArtifact, wheelAnnotations, wheelArtifactTag, type WheelIdentity } from '../../src/artifact/wheel.js';
import { wheelSharing } from '../../src/config/wheel-sharing.js';
import { sha256 } from '../../src/oci/digest.js';

const key = 'a'.repeat(64);
const id: WheelIdentity = {
  package: 'rpds-py',
  version: '2026.9.1',
  sdistSha256: 'b'.repeat(64),
  toolchain: 'rustc-web 1.96.0+dfsg1-1~deb12u2; lld-22 1:22.1.8-1~deb12u1; flags 1',
  runtime: 'python:3.14',
  key,
  file: 'rpds_py-2026.9.1-cp314-cp314-wasi_0_0_0_wasm32.whl',
};
const OCI_TAG = /^[\w][\w.-]{0,127}$/;

describe('a shared wheel as an OCI artifact', () => {
  it('is tagged name-version-key: readable, a valid OCI tag, and decided by the whole action key', () => {
    expect(wheelArtifactTag(id)).toBe(`rpds-py-2026.9.1-${key}`);
    // PEP 440 local versions and epochs hold characters a tag cannot
    expect(wheelArtifactTag({ package: 'pkg', version: '1!2.0+local.7', key })).toBe(`pkg-1_2.0_local.7-${key}`);
    // a long name is cut, the key never
    const long = wheelArtifactTag({ package: 'x'.repeat(200), version: '1', key });
    expect(long).toHaveLength(128);
    expect(long.endsWith(`-${key}`)).toBe(true);
    for (const t of [wheelArtifactTag(id), long, wheelArtifactTag({ package: '.hidden', version: '1', key })]) expect(t).toMatch(OCI_TAG);
    expect(wheelArtifactTag({ ...id, key: 'b'.repeat(64) })).not.toBe(wheelArtifactTag(id));
    expect(() => wheelArtifactTag({ ...id, key: 'not-a-key' })).toThrow(/not a sha256/);
  });

  it('one layer, the wheel, annotated with its file name and everything its key is made of; the same wheel gives the same manifest', async () => {
    expect(wheelAnnotations(id)).toEqual({
      'org.opencontainers.image.title': id.file,
      'fabricks.wheel.package': 'rpds-py',
      'fabricks.wheel.version': '2026.9.1',
      'fabricks.wheel.sdist-sha256': id.sdistSha256,
      'fabricks.wheel.toolchain': id.toolchain,
      'fabricks.runtime': 'python:3.14',
    });
    const wheel = new TextEncoder().encode('PK fake wheel');
    const store = new MemoryStore();
    const root = await storeWheelArtifact(store, id, wheel);
    const manifest = decodeManifest(root.desc, root.bytes, 'test');
    expect(manifest.artifactType).toBe('application/vnd.fabricks.wheel.config.v1+json');
    expect(manifest.config.mediaType).toBe('application/vnd.fabricks.wheel.config.v1+json');
    expect(manifest.layers).toEqual([{ mediaType: 'application/vnd.fabricks.wheel.v1+zip', digest: sha256(wheel), size: wheel.length, annotations: wheelAnnotations(id) }]);
    expect(await fetchJson(store, manifest.config)).toEqual({ package: 'rpds-py', version: '2026.9.1', sdist: { sha256: id.sdistSha256 }, toolchain: id.toolchain, runtime: 'python:3.14', key });
    expect((await storeWheelArtifact(new MemoryStore(), id, wheel)).desc.digest).toBe(root.desc.digest);

    // what a puller accepts: exactly these inputs, and the lock's wheel when it records one
    expect(checkWheelManifest(manifest, id, 'r:t').digest).toBe(sha256(wheel));
    expect(checkWheelManifest(manifest, id, 'r:t', sha256(wheel)).digest).toBe(sha256(wheel));
    expect(() => checkWheelManifest(manifest, id, 'r:t', sha256('other'))).toThrow(expect.objectContaining({ code: 'DIGEST_MISMATCH', message: expect.stringContaining(`fabricks.lock records ${sha256('other')}`) }));
    expect(() => checkWheelManifest(manifest, { ...id, toolchain: 'rustc 2' }, 'r:t')).toThrow(expect.objectContaining({ code: 'ARTIFACT_INVALID', message: expect.stringContaining('fabricks.wheel.toolchain is') }));
    expect(() => checkWheelManifest(manifest, { ...id, runtime: 'python:3.15' }, 'r:t')).toThrow(/fabricks\.runtime is "python:3\.14", not "python:3\.15"/);
    expect(() => checkWheelManifest({ ...manifest, config: { ...manifest.config, mediaType: 'application/vnd.fabricks.config.v1+json' } }, id, 'r:t')).toThrow(expect.objectContaining({ code: 'WRONG_KIND' }));
    expect(() => checkWheelManifest({ ...manifest, layers: [...manifest.layers, ...manifest.layers] }, id, 'r:t')).toThrow(/not one application\/vnd\.fabricks\.wheel\.v1\+zip layer/);
  });
});

describe('which repository shares wheels', () => {
  const file = 'fabricks.toml';
  it('--wheels, then FABRICKS_WHEELS, then [source] wheels; --no-wheels turns it off; pushing only when asked', () => {
    const toml = { file, wheels: 'ghcr.io/team/wheels' };
    expect(wheelSharing(toml, {}, {})).toMatchObject({ location: 'ghcr.io/team/wheels', from: '[source] wheels', push: false, repository: { registry: 'ghcr.io', repository: 'team/wheels' } });
    expect(wheelSharing(toml, {}, { FABRICKS_WHEELS: 'localhost:5000/ci' })).toMatchObject({ location: 'localhost:5000/ci', from: 'FABRICKS_WHEELS' });
    expect(wheelSharing(toml, { wheels: 'r.example/x' }, { FABRICKS_WHEELS: 'localhost:5000/ci' })).toMatchObject({ location: 'r.example/x', from: '--wheels' });
    expect(wheelSharing(toml, { wheels: false }, { FABRICKS_WHEELS: 'localhost:5000/ci' })).toBeUndefined();
    expect(wheelSharing({ file }, {}, {})).toBeUndefined();
    expect(wheelSharing(toml, { pushWheels: true }, {})?.push).toBe(true);
    expect(wheelSharing(toml, {}, { FABRICKS_PUSH_WHEELS: '1' })?.push).toBe(true);
    expect(wheelSharing(toml, {}, { FABRICKS_PUSH_WHEELS: '0' })?.push).toBe(false);
    expect(() => wheelSharing({ file }, { pushWheels: true }, {})).toThrow(expect.objectContaining({ code: 'USAGE', message: '--push-wheels needs a repository to push to' }));
    expect(() => wheelSharing(toml, { wheels: false, pushWheels: true }, {})).toThrow(/contradict/);
    expect(() => wheelSharing(toml, { wheels: 'ghcr.io/team/wheels:1' }, {})).toThrow(/--wheels: "ghcr.io\/team\/wheels:1" names a tag or digest/);
    expect(() => wheelSharing(toml, {}, { FABRICKS_WHEELS: 'wheels' })).toThrow(/FABRICKS_WHEELS: "wheels" names no registry/);
  });
});

describe('a pulled wheel, checked before the cache keeps it', () => {
  const so = 'rpds/rpds.cpython-314-wasm32-wasi.so';
  const wasm = new Uint8Array(64 * 1024).map((_, i) => (i * 7919) % 251);

  it('must be a zip of stored or deflated entries holding an extension module for WebAssembly', async () => {
    const { zipSync } = await import('fflate');
    await expect(checkWheelFile(zipSync({ [so]: wasm, 'rpds/__init__.py': new Uint8Array(1) }), id, 'r:t')).resolves.toBeUndefined();
    await expect(checkWheelFile(new TextEncoder().encode('PK not a zip at all'), id, 'r:t')).rejects.toMatchObject({ code: 'ARTIFACT_INVALID', message: `r:t: ${id.file} is not a readable wheel (zip)` });
    await expect(checkWheelFile(zipSync({ 'rpds/__init__.py': new Uint8Array(1) }), id, 'r:t')).rejects.toThrow(/holds no extension module for WebAssembly/);
    // an entry compressed with a method pip cannot read (bzip2 is 12): the central directory says so
    const bz = zipSync({ [so]: [wasm, { level: 0 }] });
    const view = new DataView(bz.buffer, bz.byteOffset, bz.byteLength);
    for (let i = 0; i + 4 <= bz.length; i++) if (view.getUint32(i, true) === 0x02014b50) view.setUint16(i + 10, 12, true);
    await expect(checkWheelFile(bz, id, 'r:t')).rejects.toThrow(`${so} is compressed with method 12, not stored or deflated`);
  });

  it('reads only the central directory: no entry is decompressed (one whose data is damaged passes; its digest was checked on arrival)', async () => {
    const { zipSync, unzipSync } = await import('fflate');
    const bytes = zipSync({ [so]: [wasm, { level: 6 }] });
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // the first entry's data starts after its local header (30 bytes), its name and its extra field
    const data = 30 + view.getUint16(26, true) + view.getUint16(28, true);
    bytes[data] = 0xff; // a deflate block of the reserved type
    expect(() => unzipSync(bytes)).toThrow();
    await expect(checkWheelFile(bytes, id, 'r:t')).resolves.toBeUndefined();
  });
});
