import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateModuleLayer, SOURCE_INTERFACE } from '../../src/compose/module-layer.js';
import { readComponentWorld, isComponent } from '../../src/compose/component-info.js';

const enc = new TextEncoder();
const files = [
  { path: 'main.js', bytes: enc.encode('console.log("hi")') },
  { path: 'data/blob.bin', bytes: new Uint8Array([0, 1, 2, 0x22, 0x5c, 255, 10]) },
  { path: 'data/empty.txt', bytes: new Uint8Array(0) },
];

/** Instantiates a component with jco's transpiler: an independent check of what it exports. */
async function instantiate(bytes: Uint8Array): Promise<Record<string, any>> {
  const { transpileBytes } = await import('@bytecodealliance/jco-transpile');
  const out = await transpileBytes(bytes, { name: 'm', instantiation: 'async' } as never);
  const dir = await mkdtemp(join(tmpdir(), 'fabricks-module-'));
  for (const [name, content] of Object.entries(out.files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), content);
  }
  await writeFile(join(dir, 'package.json'), '{"type":"module"}');
  const mod = await import(pathToFileURL(join(dir, 'm.js')).href);
  const { readFile } = await import('node:fs/promises');
  const wasm = (globalThis as any).WebAssembly;
  return mod.instantiate(async (n: string) => wasm.compile(await readFile(join(dir, n))), {});
}

describe('module layer', () => {
  it('is a component exporting fabricks:app/source and nothing else, importing nothing', async () => {
    const bytes = await generateModuleLayer('main.js', files);
    expect(isComponent(bytes)).toBe(true);
    expect(readComponentWorld(bytes)).toEqual({ imports: [], exports: [SOURCE_INTERFACE] });
  });

  it('answers entrypoint, list and read from its data segments', async () => {
    const inst = await instantiate(await generateModuleLayer('main.js', files));
    const source = inst[SOURCE_INTERFACE] ?? inst.source;
    expect(source.entrypoint()).toBe('main.js');
    expect(source.list()).toEqual(['data/blob.bin', 'data/empty.txt', 'main.js']);
    expect(Array.from(source.read('data/blob.bin'))).toEqual([0, 1, 2, 0x22, 0x5c, 255, 10]);
    expect(new TextDecoder().decode(source.read('main.js'))).toBe('console.log("hi")');
    expect(source.read('data/empty.txt')).toHaveLength(0);
    expect(source.read('missing.js')).toBeUndefined();
    expect(source.read('main.j')).toBeUndefined();
    // a long argument exercises the allocator's growth
    expect(source.read('x'.repeat(200_000))).toBeUndefined();
  });

  it('is deterministic whatever the order of the files', async () => {
    const a = await generateModuleLayer('main.js', files);
    const b = await generateModuleLayer('main.js', [...files].reverse());
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it('costs the packed bytes plus at most 2 KiB', async () => {
    const big = new Uint8Array(300_000).map((_, i) => i % 251);
    const packed = [{ path: 'main.js', bytes: enc.encode('x') }, { path: 'big.bin', bytes: big }];
    const bytes = await generateModuleLayer('main.js', packed);
    const content = packed.reduce((n, f) => n + f.bytes.length, 0);
    expect(bytes.length - content).toBeLessThanOrEqual(2048);
  });

  it('refuses an entrypoint that is not packed and duplicate paths', async () => {
    await expect(generateModuleLayer('nope.js', files)).rejects.toThrow(/entrypoint "nope\.js" is not among the packed files/);
    await expect(generateModuleLayer('main.js', [...files, files[0]!])).rejects.toThrow(/packed twice/);
  });
});
