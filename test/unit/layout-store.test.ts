import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LayoutStore } from '../../src/oci/layout-store.js';
import { describe as describeBlob } from '../../src/oci/manifest.js';
import { sha256 } from '../../src/oci/digest.js';

const newStore = async () => LayoutStore.open(await mkdtemp(join(tmpdir(), 'fabricks-store-')));

describe('OCI layout store', () => {
  it('writes an image layout and stores blobs under their digest', async () => {
    const store = await newStore();
    const bytes = new TextEncoder().encode('hello');
    const desc = describeBlob('application/octet-stream', bytes);
    await store.push(desc, bytes);
    expect(JSON.parse(await readFile(join(store.root, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    expect(await store.exists(desc)).toBe(true);
    expect(Buffer.from(await store.fetch(desc)).toString()).toBe('hello');
    expect(desc.digest).toBe(sha256('hello'));
  });

  it('refuses content that does not match its descriptor and leaves no temporary file', async () => {
    const store = await newStore();
    const desc = describeBlob('application/octet-stream', new TextEncoder().encode('hello'));
    await expect(store.push(desc, new TextEncoder().encode('HELLO'))).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(await readdir(join(store.root, 'blobs', 'sha256'))).toEqual([]);
  });

  it('detects a blob changed on disk', async () => {
    const store = await newStore();
    const bytes = new TextEncoder().encode('hello');
    const desc = describeBlob('application/octet-stream', bytes);
    await store.push(desc, bytes);
    await writeFile(store.blobPath(desc.digest), 'jello');
    await expect(store.fetch(desc)).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
  });

  it('tags and resolves references, replacing a tag that moves', async () => {
    const store = await newStore();
    const manifest = async (text: string) => {
      const bytes = new TextEncoder().encode(text);
      const desc = describeBlob('application/vnd.oci.image.manifest.v1+json', bytes);
      await store.push(desc, bytes);
      return desc;
    };
    const a = await manifest('{"a":1}');
    const b = await manifest('{"b":1}');
    await store.tag(a, 'app:1');
    await store.tag(b, 'app:1');
    await store.tag(a, 'app:2');
    expect((await store.resolve('app:1')).digest).toBe(b.digest);
    expect((await store.resolve('app:2')).digest).toBe(a.digest);
    expect(await store.references()).toHaveLength(2);
    await expect(store.resolve('app:3')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses to tag a manifest it does not hold', async () => {
    const store = await newStore();
    const missing = describeBlob('application/vnd.oci.image.manifest.v1+json', new TextEncoder().encode('{"c":1}'));
    await expect(store.tag(missing, 'app:1')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await store.references()).toEqual([]);
  });

  it('never turns a digest into a path outside the store', async () => {
    const store = await newStore();
    expect(() => store.blobPath('sha256:../../../etc/passwd' as never)).toThrow(expect.objectContaining({ code: 'ARTIFACT_INVALID' }));
    expect(await store.exists({ digest: 'sha256:../../oci-layout' as never, size: 30 })).toBe(false);
  });
});
