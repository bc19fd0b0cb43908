import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/oci/memory-store.js';
import { decodeManifest, fetchJson } from '../../src/oci/manifest.js';
import { checkWheelManifest, storeWheelArtifact, wheelAnnotations, wheelArtifactTag, type WheelIdentity } from '../../src/artifact/wheel.js';
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
