import { FabricksError } from '../util/errors.js';

export interface PackedFile {
  /** '/'-separated, relative to [source] path. */
  path: string;
  bytes: Uint8Array;
}

/** The interface the module layer exports; runtimes import it (guest/node/wit/deps/fabricks-app). */
export const SOURCE_INTERFACE = 'fabricks:app/source@0.1.0';

/**
 * Generates the module layer: a component whose core module keeps every file in a data segment
 * and answers `entrypoint`, `list` and `read` with canonical-ABI results pointing into them.
 * Files are laid out in sorted order, so the same files give the same bytes.
 */
export async function generateModuleLayer(entrypoint: string, files: PackedFile[]): Promise<Uint8Array> {
  const { parse } = await import('@bytecodealliance/jco-transpile/wasm-tools');
  const bytes = await parse(moduleLayerText(entrypoint, files));
  return bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes as ArrayBuffer);
}

export function moduleLayerText(entrypoint: string, files: PackedFile[]): string {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.path === sorted[i - 1]!.path) {
      throw new FabricksError('SOURCE_INVALID', `"${sorted[i]!.path}" would be packed twice`);
    }
  }
  if (!sorted.some((f) => f.path === entrypoint)) {
    throw new FabricksError('SOURCE_INVALID', `the entrypoint "${entrypoint}" is not among the packed files`);
  }
  const enc = new TextEncoder();
  const segments: string[] = [];
  let offset = 8; // keep address 0 unused
  const place = (bytes: Uint8Array): number => {
    const at = offset;
    if (bytes.length > 0) segments.push(`(data (i32.const ${at}) "${escapeBytes(bytes)}")`);
    offset = align(offset + bytes.length, 4);
    return at;
  };

  const entryBytes = enc.encode(entrypoint);
  const entryAt = place(entryBytes);
  // One row a file: path ptr, path len, content ptr, content len.
  const rows = sorted.map((f) => {
    const p = enc.encode(f.path);
    return [place(p), p.length, place(f.bytes), f.bytes.length] as const;
  });

  // Static return areas and tables, in one segment of little-endian words.
  const words: number[] = [];
  const entryRet = offset; // (ptr, len) of the entrypoint string
  words.push(entryAt, entryBytes.length);
  const listArray = offset + 8; // list<string> elements
  for (const r of rows) words.push(r[0], r[1]);
  const listRet = listArray + rows.length * 8; // (ptr, len) of that list
  words.push(listArray, rows.length);
  const table = listRet + 8; // the file rows
  for (const r of rows) words.push(...r);
  const wordBytes = new Uint8Array(words.length * 4);
  const view = new DataView(wordBytes.buffer);
  words.forEach((w, i) => view.setUint32(i * 4, w, true));
  segments.push(`(data (i32.const ${offset}) "${escapeBytes(wordBytes)}")`);
  offset += wordBytes.length;
  const readRet = offset; // option<list<u8>>: tag at +0, ptr at +4, len at +8
  const heap = align(offset + 12, 8);
  const pages = Math.ceil((heap + 65536) / 65536);

  return `(component
  (core module $files
    (memory (export "memory") ${pages})
    (global $heap (mut i32) (i32.const ${heap}))
    ${segments.join('\n    ')}
    (func (export "entrypoint") (result i32) (i32.const ${entryRet}))
    (func (export "list") (result i32) (i32.const ${listRet}))
    (func (export "read") (param $p i32) (param $n i32) (result i32)
      (local $i i32) (local $row i32) (local $k i32)
      ;; the path was lowered into the heap; the next call may reuse it
      (global.set $heap (i32.const ${heap}))
      (block $absent
        (loop $rows
          (br_if $absent (i32.ge_u (local.get $i) (i32.const ${rows.length})))
          (local.set $row (i32.add (i32.const ${table}) (i32.shl (local.get $i) (i32.const 4))))
          (block $next
            (br_if $next (i32.ne (i32.load offset=4 (local.get $row)) (local.get $n)))
            (local.set $k (i32.const 0))
            (block $same
              (loop $bytes
                (br_if $same (i32.ge_u (local.get $k) (local.get $n)))
                (br_if $next (i32.ne
                  (i32.load8_u (i32.add (i32.load (local.get $row)) (local.get $k)))
                  (i32.load8_u (i32.add (local.get $p) (local.get $k)))))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br $bytes)))
            (i32.store8 (i32.const ${readRet}) (i32.const 1))
            (i32.store offset=4 (i32.const ${readRet}) (i32.load offset=8 (local.get $row)))
            (i32.store offset=8 (i32.const ${readRet}) (i32.load offset=12 (local.get $row)))
            (return (i32.const ${readRet})))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $rows)))
      (i32.store8 (i32.const ${readRet}) (i32.const 0))
      (i32.const ${readRet}))
    ;; a bump allocator over the heap, for the one string argument of read
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
      (local $at i32)
      (local.set $at (i32.and
        (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get 2))))
      (global.set $heap (i32.add (local.get $at) (local.get 3)))
      (if (i32.gt_u (global.get $heap) (i32.shl (memory.size) (i32.const 16)))
        (then
          (if (i32.eq
                (memory.grow (i32.sub
                  (i32.shr_u (i32.add (global.get $heap) (i32.const 65535)) (i32.const 16))
                  (memory.size)))
                (i32.const -1))
            (then unreachable))))
      (local.get $at)))
  (core instance $i (instantiate $files))
  (type $contents (option (list u8)))
  (func $entrypoint (result string)
    (canon lift (core func $i "entrypoint") (memory (core memory $i "memory"))))
  (func $list (result (list string))
    (canon lift (core func $i "list") (memory (core memory $i "memory"))))
  (func $read (param "path" string) (result $contents)
    (canon lift (core func $i "read") (memory (core memory $i "memory")) (realloc (core func $i "cabi_realloc"))))
  (instance $source
    (export "entrypoint" (func $entrypoint))
    (export "list" (func $list))
    (export "read" (func $read)))
  (export "${SOURCE_INTERFACE}" (instance $source))
)`;
}

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/** WAT string escapes: printable ASCII as is, everything else as \hh. */
function escapeBytes(bytes: Uint8Array): string {
  let out = '';
  let run = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    run += b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : `\\${HEX[b]}`;
    if (run.length > 8192) {
      out += run;
      run = '';
    }
  }
  return out + run;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
