import { FabricksError } from '../util/errors.js';

/** The names a component imports and exports at its top level: its WIT world, as names. */
export interface ComponentWorld {
  imports: string[];
  exports: string[];
}

const MAGIC = [0x00, 0x61, 0x73, 0x6d];

/** True when the bytes are a component (not a core module), judged by the preamble. */
export function isComponent(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && MAGIC.every((b, i) => bytes[i] === b) && bytes[6] === 0x01 && bytes[7] === 0x00;
}

/**
 * Reads the top-level import and export sections of a component binary (component-model
 * binary format). Nested components and core modules are skipped by their section sizes.
 */
export function readComponentWorld(bytes: Uint8Array, what = 'component'): ComponentWorld {
  if (!isComponent(bytes)) {
    throw new FabricksError('COMPONENT_INVALID', `${what} is not a WebAssembly component (bad preamble)`);
  }
  const r = new Reader(bytes, 8);
  const imports: string[] = [];
  const exports: string[] = [];
  try {
    while (r.pos < bytes.length) {
      const id = r.byte();
      const size = r.u32();
      const end = r.pos + size;
      if (id === 10) {
        for (let n = r.u32(); n > 0; n--) {
          imports.push(r.externName());
          r.externDesc();
        }
      } else if (id === 11) {
        for (let n = r.u32(); n > 0; n--) {
          exports.push(r.externName());
          r.sortIdx();
          if (r.byte() === 0x01) r.externDesc();
        }
      }
      r.pos = end;
    }
  } catch (cause) {
    throw new FabricksError('COMPONENT_INVALID', `${what} is not a well-formed component`, { cause });
  }
  return { imports, exports };
}

class Reader {
  constructor(
    readonly bytes: Uint8Array,
    public pos: number,
  ) {}

  byte(): number {
    if (this.pos >= this.bytes.length) throw new Error('unexpected end');
    return this.bytes[this.pos++]!;
  }

  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
  }

  /** Any LEB128 value whose value we do not need (s33 type indices and the like). */
  leb(): void {
    while (this.byte() & 0x80);
  }

  name(): string {
    const len = this.u32();
    const s = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s;
  }

  externName(): string {
    const kind = this.byte();
    const name = this.name();
    if (kind === 0x01) this.name(); // legacy version suffix
    return name;
  }

  sortIdx(): void {
    if (this.byte() === 0x00) this.byte(); // core sort
    this.u32();
  }

  externDesc(): void {
    const kind = this.byte();
    switch (kind) {
      case 0x00: // core module: 0x11 typeidx
        this.byte();
        this.u32();
        return;
      case 0x02: // value bound
      case 0x03: // type bound
        if (this.byte() === 0x00) this.u32();
        else if (kind === 0x02) this.leb();
        return;
      default: // func, component, instance: typeidx
        this.u32();
    }
  }
}
