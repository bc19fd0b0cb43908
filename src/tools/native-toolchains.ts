import { NATIVE_TOOLCHAIN } from './cargo-wasm.js';
import { C_TOOLCHAIN, compatId } from './clang-wasm.js';

/**
 * Both pinned toolchains that build Python extensions for wasm32-wasi, as a built wheel's key
 * names them: which one an sdist needs shows only once it is unpacked, so the key names both, and
 * a change to either, or to fabricks' own headers for them (build-tools/wasi-include), is a new
 * key (gc removes the wheels of the old one).
 */
export const nativeToolchainsId = () => `${NATIVE_TOOLCHAIN.id} | ${C_TOOLCHAIN.id}; fabricks' headers ${compatId}`;
